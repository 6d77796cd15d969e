/**
 * A table of contents for a report page, built from the headings nbconvert rendered from the
 * notebook's Markdown (each carries an id and a "¶" anchor link). Pure string functions.
 */
import { escapeHtml } from '../display/html';

/** CSS class of the table of contents <nav>; tests look for it. */
export const TOC_CLASS = 'sid-toc';

export interface TocEntry {
  level: number;
  id: string;
  text: string;
}

function decodeEntities(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&amp;/g, '&');
}

/** Headings of levels 1..maxLevel that have an id, in page order. */
export function pageHeadings(html: string, maxLevel = 3): TocEntry[] {
  const out: TocEntry[] = [];
  const re = /<h([1-6])\b[^>]*\bid="([^"]+)"[^>]*>([\s\S]*?)<\/h\1\s*>/gi;
  for (let m = re.exec(html); m; m = re.exec(html)) {
    const level = Number(m[1]);
    if (level > maxLevel) continue;
    const inner = m[3].replace(/<a\b[^>]*class="anchor-link"[^>]*>[\s\S]*?<\/a>/gi, '').replace(/<[^>]*>/g, '');
    const text = decodeEntities(inner).replace(/\s+/g, ' ').trim();
    if (text) out.push({ level, id: decodeEntities(m[2]), text });
  }
  return out;
}

/** The <nav> (with its style) listing `entries` as nested links; empty for no entries. */
function renderToc(entries: TocEntry[]): string {
  if (entries.length === 0) return '';
  const top = Math.min(...entries.map((e) => e.level));
  const items = entries
    .map((e) => `<li class="${TOC_CLASS}-l${e.level - top + 1}"><a href="#${escapeHtml(encodeURIComponent(e.id))}">${escapeHtml(e.text)}</a></li>`)
    .join('\n');
  return `<style>
nav.${TOC_CLASS} { margin: 1em auto; padding: 0.6em 1.2em; max-width: 70em; border: 1px solid #ddd; border-radius: 4px; background: #fafafa; font-family: system-ui, sans-serif; font-size: 0.95em; }
nav.${TOC_CLASS} ul { list-style: none; margin: 0.3em 0; padding: 0; }
nav.${TOC_CLASS} li.${TOC_CLASS}-l2 { padding-left: 1.2em; }
nav.${TOC_CLASS} li.${TOC_CLASS}-l3 { padding-left: 2.4em; }
</style>
<nav class="${TOC_CLASS}" aria-label="Contents"><strong>Contents</strong>
<ul>
${items}
</ul>
</nav>`;
}

/** Inserts a table of contents at the top of the page body (inside <main> when there is one). */
export function insertToc(html: string): string {
  const toc = renderToc(pageHeadings(html));
  if (!toc) return html;
  const at = /<main\b[^>]*>/i.exec(html) ?? /<body\b[^>]*>/i.exec(html);
  if (!at) throw new Error('insertToc: the HTML document has no <body> tag');
  const end = at.index + at[0].length;
  return html.slice(0, end) + '\n' + toc + '\n' + html.slice(end);
}
