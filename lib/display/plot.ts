/**
 * Plotly figures that draw both live in Jupyter (tslab) and offline in the HTML reports.
 *
 * A figure is displayed as a <div> plus a small script calling Plotly.newPlot; the library itself is
 * never fetched from the network:
 * - live (default): the first plot of a kernel also displays the whole plotly.js inline (once per
 *   kernel), so the notebook page has `window.Plotly`;
 * - headless report runs set SID_PLOTLY_INLINE=0: figures omit the library; each HTML page with a
 *   plot loads the report folder's one copy of plotly.js, and the executed .ipynb gets a static PNG
 *   of each figure beside it (see notebooks.ts and figure-images.ts).
 */
import { emitDisplay, MimeBundle } from './display';
import { escapeHtml, jsonForScript } from './html';
import { PLOT_DIV_CLASS, plotlyLibraryScript, plotlyVersion } from './plotly-lib';
import { hashString32 } from '../util/random';

/** A plotly figure: traces, layout and (optionally) the plotly config object. */
export interface Figure {
  data: any[];
  layout?: any;
  config?: any;
}

export interface PlotOptions {
  /** Height of the plot in pixels (default: layout.height, else 420). */
  height?: number;
  /** Width in pixels (default: the full width of the output area). */
  width?: number;
  /** Stable element id; by default derived from the figure and a per-process counter. */
  id?: string;
}

export { PLOT_DIV_CLASS };

let plotCounter = 0;
let libraryShown = false;

/** Whether figures should carry the library inline (false in headless report runs). */
function inlineLibrary(): boolean {
  return process.env.SID_PLOTLY_INLINE !== '0';
}

function validateFigure(figure: Figure): void {
  if (!figure || typeof figure !== 'object' || !Array.isArray(figure.data)) {
    throw new Error('showPlot: expected a figure { data: trace[], layout?: {...} } with data an array');
  }
  figure.data.forEach((t, i) => {
    if (!t || typeof t !== 'object') throw new Error(`showPlot: figure.data[${i}] is not a trace object`);
  });
}

/** Plain-text summary of a figure: what an executed .ipynb shows when read as text. */
export function describeFigure(figure: Figure): string {
  const title = figure.layout?.title;
  const titleText = typeof title === 'string' ? title : title?.text;
  const traces = figure.data.map((t, i) => {
    const n = Array.isArray(t.x) || ArrayBuffer.isView(t.x) ? t.x.length : Array.isArray(t.y) || ArrayBuffer.isView(t.y) ? t.y.length : Array.isArray(t.values) ? t.values.length : undefined;
    return `  ${i}: ${t.type ?? 'scatter'}${t.name ? ` "${t.name}"` : ''}${n !== undefined ? `, ${n} points` : ''}`;
  });
  return [`[plotly figure${titleText ? `: ${titleText}` : ''}; ${figure.data.length} trace${figure.data.length === 1 ? '' : 's'}]`, ...traces].join('\n');
}

/** The HTML of one figure: a div and the script that draws into it (needs window.Plotly). */
export function figureHtml(figure: Figure, opts: PlotOptions = {}): string {
  validateFigure(figure);
  plotCounter += 1;
  const payload = jsonForScript({ data: figure.data, layout: figure.layout ?? {}, config: { responsive: true, displaylogo: false, ...(figure.config ?? {}) } });
  const id = opts.id ?? `sid-plot-${(hashString32(payload) >>> 0).toString(16)}-${plotCounter}`;
  if (!/^[A-Za-z][\w-]*$/.test(id)) throw new Error(`showPlot: id "${id}" must start with a letter and contain only letters, digits, _ or -`);
  const height = opts.height ?? figure.layout?.height ?? 420;
  const width = opts.width ?? figure.layout?.width;
  const style = `width:${width ? `${width}px` : '100%'};height:${height}px;`;
  return (
    `<div id="${escapeHtml(id)}" class="${PLOT_DIV_CLASS}" style="${style}"></div>\n` +
    `<script type="text/javascript">\n(function () {\n` +
    `  var el = document.getElementById(${JSON.stringify(id)});\n` +
    `  var fig = ${payload};\n` +
    `  if (!el) return;\n` +
    `  if (!window.Plotly) {\n` +
    `    el.style.height = 'auto';\n` +
    `    el.textContent = 'plotly.js is not loaded in this page: re-run the notebook, or open its HTML report.';\n` +
    `    return;\n  }\n` +
    `  window.Plotly.newPlot(el, fig.data, fig.layout, fig.config);\n` +
    `})();\n</script>`
  );
}

/** A figure as displayed by `figureHtml`, read back with its size (for static images). */
export interface DisplayedFigure {
  figure: Figure;
  /** Width in pixels, when the figure has a fixed one (else it fills the output area). */
  width?: number;
  height: number;
}

/** The figure inside `figureHtml`'s output, or undefined when `html` holds none. */
export function figureFromHtml(html: string): DisplayedFigure | undefined {
  if (!html.includes(`class="${PLOT_DIV_CLASS}"`)) return undefined;
  const payload = /\n  var fig = (\{.*\});\n  if \(!el\) return;/.exec(html)?.[1];
  const size = /style="width:(?:(\d+(?:\.\d+)?)px|100%);height:(\d+(?:\.\d+)?)px;"/.exec(html);
  if (!payload || !size) return undefined;
  try {
    const fig = JSON.parse(payload);
    return { figure: fig, width: size[1] ? Number(size[1]) : undefined, height: Number(size[2]) };
  } catch {
    return undefined; // not our format: no static image
  }
}

/**
 * Displays the plotly library once per kernel (live notebooks); a no-op in headless report runs
 * and after the first call.
 */
export function ensurePlotlyLoaded(): void {
  if (libraryShown || !inlineLibrary()) return;
  emitDisplay({ 'text/html': plotlyLibraryScript(), 'text/plain': `[plotly.js ${plotlyVersion()} loaded]` });
  libraryShown = true;
}

/** Both representations of a figure; `showPlot` displays them. */
export function renderPlot(figure: Figure, opts: PlotOptions = {}): MimeBundle {
  return { 'text/html': figureHtml(figure, opts), 'text/plain': describeFigure(figure) };
}

/** Displays a plotly figure (interactive in Jupyter and in the HTML report, summary as text). */
export function showPlot(figure: Figure, opts: PlotOptions = {}): void {
  const bundle = renderPlot(figure, opts);
  ensurePlotlyLoaded();
  emitDisplay(bundle);
}
