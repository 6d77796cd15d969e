/**
 * Editing nbconvert's HTML into a shareable report page, and the index page of a report folder.
 * Pure string functions, no I/O.
 */
import { escapeHtml, formatNumber } from '../display/html';

/**
 * Removes every <script src> element that points off the page's folder: http(s)://, protocol-relative
 * //, or an absolute file: URL. nbconvert adds require.js and MathJax that way (from a CDN upstream,
 * from /usr/share/javascript in Debian's build); neither is needed for the reports, and neither is
 * there for a reader on another machine or offline.
 */
export function removeRemoteScripts(html: string): string {
  return html.replace(/<script\b[^>]*\bsrc\s*=\s*["']?(?:(?:https?:)?\/\/|file:)[^>]*>\s*<\/script\s*>/gi, '');
}

/** Inserts `snippet` just before </head>; throws when the document has no head. */
export function injectIntoHead(html: string, snippet: string): string {
  const at = html.search(/<\/head\s*>/i);
  if (at < 0) throw new Error('injectIntoHead: the HTML document has no </head> tag');
  return html.slice(0, at) + snippet + '\n' + html.slice(at);
}

/**
 * Moves every <style> element of the <head> into one stylesheet (in order), leaving a
 * <link rel="stylesheet" href="`href(css)`"> where the first one was. nbconvert's template styles
 * are most of a report page and the same in every page, so a folder can share one copy.
 */
export function extractHeadStyles(html: string, href: (css: string) => string): { html: string; css: string } {
  const headEnd = html.search(/<\/head\s*>/i);
  if (headEnd < 0) return { html, css: '' };
  const head = html.slice(0, headEnd);
  const parts: string[] = [];
  let first = -1;
  const stripped = head.replace(/<style\b[^>]*>([\s\S]*?)<\/style\s*>/gi, (_m, css: string, offset: number) => {
    if (first < 0) first = offset;
    parts.push(css);
    return '';
  });
  if (parts.length === 0) return { html, css: '' };
  const css = parts.join('\n');
  const link = `<link rel="stylesheet" href="${escapeHtml(href(css))}">`;
  return { html: stripped.slice(0, first) + link + stripped.slice(first) + html.slice(headEnd), css };
}

/** One entry of a report folder's index page. */
export interface IndexEntry {
  /** File name of the HTML report, relative to the index page. */
  href: string;
  /** Notebook name, e.g. `04_task_tradeoff`. */
  name: string;
  /** Title (the notebook's first heading), when it has one. */
  title?: string;
  /** File name of the executed notebook beside the report, when present. */
  notebookHref?: string;
  /** When the report was written. */
  modified?: Date;
  /** Execution time of the notebook in seconds, when known. */
  seconds?: number;
}

/** A self-contained index page (no scripts, no remote resources) linking the reports of one profile. */
export function renderIndexPage(opts: { profile: string; entries: IndexEntry[]; generated?: Date }): string {
  const rows = opts.entries
    .map((e) => {
      const cells = [
        `<td><a href="${escapeHtml(encodeURI(e.href))}">${escapeHtml(e.name)}</a></td>`,
        `<td>${escapeHtml(e.title ?? '')}</td>`,
        `<td>${e.notebookHref ? `<a href="${escapeHtml(encodeURI(e.notebookHref))}">.ipynb</a>` : ''}</td>`,
        `<td>${e.modified ? escapeHtml(e.modified.toISOString().replace('T', ' ').slice(0, 19)) : ''}</td>`,
        `<td class="num">${e.seconds !== undefined ? escapeHtml(formatNumber(e.seconds, 1)) + ' s' : ''}</td>`,
      ];
      return `<tr>${cells.join('')}</tr>`;
    })
    .join('\n');
  const generated = (opts.generated ?? new Date()).toISOString().replace('T', ' ').slice(0, 19);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Reports: ${escapeHtml(opts.profile)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.35em 0.8em; border-bottom: 1px solid #ddd; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
</style>
</head>
<body>
<h1>Reports for profile <code>${escapeHtml(opts.profile)}</code></h1>
<p>${opts.entries.length} report${opts.entries.length === 1 ? '' : 's'}, index written ${escapeHtml(generated)} UTC.
Every report opens offline: plots are drawn by <code>plotly.min.js</code> and pages styled by a <code>report-*.css</code> in this folder (copy the folder as a whole).</p>
<table>
<thead><tr><th>notebook</th><th>title</th><th>executed</th><th>written (UTC)</th><th>run time</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</body>
</html>
`;
}
