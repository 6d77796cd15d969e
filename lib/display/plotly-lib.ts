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

/** Marker attribute on the library's <script> element, used to avoid adding it twice to a page. */
export const PLOTLY_LIB_MARKER = 'data-sid-plotly-lib';

/** File name of the one copy of the library in a report folder, loaded by every page there. */
export const PLOTLY_BUNDLE_FILE = 'plotly.min.js';

/** Absolute path of plotly.min.js, resolved from the project's node_modules. */
export function plotlyLibraryPath(): string {
  const req = createRequire(path.join(projectRoot(), 'package.json'));
  try {
    return req.resolve('plotly.js-dist-min/plotly.min.js');
  } catch {
    throw new Error(`plotly.js-dist-min is not installed under ${projectRoot()}/node_modules: run npm ci`);
  }
}

let cachedScript: { path: string; html: string; source: string; version: string } | undefined;

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

/**
 * The library as a stand-alone script file for a report folder, wrapped as the inline script is
 * (define, module and exports hidden), so it behaves the same beside require.js.
 */
export function plotlyBundleSource(): string {
  return loadScript().source;
}

/** A <script src> element loading the folder's copy of the library (a relative URL: works offline). */
export function plotlyBundleScriptTag(): string {
  return `<script type="text/javascript" src="${PLOTLY_BUNDLE_FILE}" ${PLOTLY_LIB_MARKER}="${loadScript().version}"></script>`;
}

function loadScript(): { path: string; html: string; source: string; version: string } {
  const file = plotlyLibraryPath();
  if (cachedScript && cachedScript.path === file) return cachedScript;
  const source = fs.readFileSync(file, 'utf8');
  const version = /plotly\.js v(\d+\.\d+\.\d+)/.exec(source.slice(0, 400))?.[1] ?? 'unknown';
  // `</script` cannot occur inside an inline script element; the minified library has none, but a
  // future version might, and `<\/` means the same thing inside JS strings and regex literals.
  const safe = source.replace(/<\/script/gi, '<\\/script');
  const wrapped = `(function (define, module, exports) {\n${safe}\n}).call(window);\n`;
  const html = `<script type="text/javascript" ${PLOTLY_LIB_MARKER}="${version}">\n${wrapped}</script>`;
  cachedScript = { path: file, html, source: wrapped, version };
  return cachedScript;
}
