/**
 * The plotly.js library (npm `plotly.js-dist-min`) as an inline <script>, so that pages and notebook
 * outputs draw plots without any network access.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { projectRoot } from '../util/fs';

/** CSS class of every plot <div>; the report writer and tests look for it. */
export const PLOT_DIV_CLASS = 'sid-plotly';

/** Marker attribute on the inline library script, used to avoid injecting it twice into a page. */
export const PLOTLY_LIB_MARKER = 'data-sid-plotly-lib';

/** Absolute path of plotly.min.js, resolved from the project's node_modules. */
export function plotlyLibraryPath(): string {
  const req = createRequire(path.join(projectRoot(), 'package.json'));
  try {
    return req.resolve('plotly.js-dist-min/plotly.min.js');
  } catch {
    throw new Error(`plotly.js-dist-min is not installed under ${projectRoot()}/node_modules: run npm ci`);
  }
}

let cachedScript: { path: string; html: string; version: string } | undefined;

/** The plotly.js version of the installed library, read from its banner. */
export function plotlyVersion(): string {
  return loadScript().version;
}

/**
 * An inline <script> element that defines `window.Plotly`. The library is evaluated in a function
 * whose `define`, `module` and `exports` parameters are undefined: the classic Jupyter Notebook
 * loads require.js, and plotly's UMD wrapper would otherwise register an anonymous AMD module and
 * leave `window.Plotly` unset.
 */
export function plotlyLibraryScript(): string {
  return loadScript().html;
}

function loadScript(): { path: string; html: string; version: string } {
  const file = plotlyLibraryPath();
  if (cachedScript && cachedScript.path === file) return cachedScript;
  const source = fs.readFileSync(file, 'utf8');
  const version = /plotly\.js v(\d+\.\d+\.\d+)/.exec(source.slice(0, 400))?.[1] ?? 'unknown';
  // `</script` cannot occur inside an inline script element; the minified library has none, but a
  // future version might, and `<\/` means the same thing inside JS strings and regex literals.
  const safe = source.replace(/<\/script/gi, '<\\/script');
  const html =
    `<script type="text/javascript" ${PLOTLY_LIB_MARKER}="${version}">\n` +
    `(function (define, module, exports) {\n${safe}\n}).call(window);\n` +
    `</script>`;
  cachedScript = { path: file, html, version };
  return cachedScript;
}
