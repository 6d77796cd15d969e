/**
 * Rich output for notebooks: one Jupyter `display_data` message carrying several representations
 * (text/html for the page, text/plain so that an executed .ipynb reads well as text).
 *
 * tslab's public `display.html()` sends one MIME type per message, so the bundle goes through the
 * same process-wide writer that `display` uses (`lastWriteDisplayData` of tslab's jupyter module,
 * set while a cell executes). Outside a kernel (scripts, tests) the text/plain part is printed.
 */
import * as tslabJupyter from 'tslab/dist/jupyter';

/** MIME type -> representation, e.g. { 'text/html': '<table>…', 'text/plain': '…' }. */
export type MimeBundle = Record<string, string>;

/** Receives every bundle instead of the kernel or stdout (tests, collecting outputs). */
export type DisplaySink = (bundle: MimeBundle) => void;

let sink: DisplaySink | undefined;

/**
 * Routes displays to `next` (or back to the default when undefined); returns the previous sink so a
 * caller can restore it.
 */
export function setDisplaySink(next: DisplaySink | undefined): DisplaySink | undefined {
  const previous = sink;
  sink = next;
  return previous;
}

/** True while code runs inside a tslab kernel cell (so displays reach Jupyter). */
export function insideKernel(): boolean {
  return typeof tslabJupyter.lastWriteDisplayData === 'function';
}

/** Sends one display_data message with every representation in `bundle`. */
export function emitDisplay(bundle: MimeBundle): void {
  if (!bundle['text/plain']) throw new Error('emitDisplay: every bundle needs a text/plain representation');
  if (sink) {
    sink(bundle);
    return;
  }
  const write = tslabJupyter.lastWriteDisplayData;
  if (typeof write === 'function') {
    write({ data: { ...bundle }, metadata: {}, transient: {} }, false);
    return;
  }
  process.stdout.write(bundle['text/plain'].replace(/\n?$/, '\n'));
}

/** URL schemes that run code when a link is followed. */
const SCRIPT_SCHEME = /^(\s*)(javascript|vbscript|data|file)(\s*):/i;

/**
 * Markdown with no live HTML: Markdown passes raw HTML through (nbconvert's export does not sanitise
 * it), so a movie title or query such as `<img src=x onerror=...>` would run in the report. Outside
 * code spans, `<` becomes `&lt;` (the text reads the same), and link targets with a script scheme
 * are broken up. Markdown emphasis and links to http(s) still work.
 */
export function safeMarkdown(md: string): string {
  const parts = md.split(/(`+[^`]*?`+)/);
  return parts
    .map((part, i) => {
      if (i % 2 === 1) return part; // a code span: shown literally by every renderer
      return part
        .replace(/</g, '&lt;')
        .replace(/\]\(([^)]*)\)/g, (m, target: string) => (SCRIPT_SCHEME.test(target) ? `]\\(${target.replace(SCRIPT_SCHEME, '$1$2$3\\:')})` : m))
        .replace(/^(\s*\[[^\]]*\]:)(\s*)(javascript|vbscript|data|file)(\s*):/gim, '$1$2$3$4\\:');
    })
    .join('');
}

/**
 * Displays Markdown (rendered by Jupyter and by nbconvert's HTML export), with the Markdown source
 * as the plain-text form. Use for conclusions computed from results. Strings from the data may be
 * interpolated freely: see `safeMarkdown`.
 */
export function showMarkdown(md: string): void {
  if (typeof md !== 'string') throw new Error(`showMarkdown: expected a Markdown string, got ${typeof md}`);
  emitDisplay({ 'text/markdown': safeMarkdown(md), 'text/plain': md });
}
