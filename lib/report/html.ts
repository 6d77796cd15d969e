/**
 * Small HTML helpers for reports: escaping, number formatting, editing nbconvert's output and the
 * index page of a report folder. Pure string functions, no I/O.
 */

/** Escapes text for use in HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * JSON that is safe inside an inline <script>: `</script>` and `<!--` cannot end or comment the
 * element, and U+2028/U+2029 (valid in JSON, historically not in JS strings) are escaped.
 */
export function jsonForScript(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new Error('jsonForScript: value is not JSON-serialisable (undefined or a function)');
  return json
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Inserts thousands separators into a string of digits (with optional sign). */
function groupThousands(intPart: string): string {
  const sign = intPart.startsWith('-') ? '-' : '';
  const digits = sign ? intPart.slice(1) : intPart;
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * Formats a number for a table: integers with thousands separators (9,742); other values with
 * `digits` decimals (0.0462), switching to exponent notation when fixed notation would show only
 * zeros or be very long. Non-finite values print as NaN, inf, -inf.
 */
export function formatNumber(x: number, digits = 3): string {
  if (!Number.isInteger(digits) || digits < 0 || digits > 20) {
    throw new Error(`formatNumber: digits must be an integer in 0..20, got ${digits}`);
  }
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return groupThousands(x.toFixed(0));
  const ax = Math.abs(x);
  if (ax >= 1e15 || (ax < 0.5 * Math.pow(10, -digits) && ax > 0)) {
    return x.toExponential(Math.max(1, Math.min(digits, 3) - 1));
  }
  const fixed = x.toFixed(digits);
  const [intPart, frac] = fixed.split('.');
  return frac === undefined ? groupThousands(intPart) : `${groupThousands(intPart)}.${frac}`;
}

/** Formats any cell value as plain text: numbers via formatNumber, arrays joined, objects as JSON. */
export function formatValue(value: unknown, digits = 3): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return formatNumber(value, digits);
  if (typeof value === 'bigint') return groupThousands(value.toString());
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    return Array.from(value as ArrayLike<unknown>, (v) => formatValue(v, digits)).join(', ');
  }
  return JSON.stringify(value);
}

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
