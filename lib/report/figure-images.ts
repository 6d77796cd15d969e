/**
 * Static images of plotly figures, so that notebook viewers that run no scripts (GitHub, VS Code
 * without plotly) show each figure: the figures are drawn by plotly.js in one headless Chromium
 * page without network, exported with Plotly.toImage, and added to the executed notebook as
 * `image/png` outputs right after the interactive ones.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { dumpDom, findChromium } from './chromium';
import { jsonForScript } from '../display/html';
import { DisplayedFigure, figureFromHtml } from '../display/plot';
import { plotlyLibraryPath } from '../display/plotly-lib';

/** Width of the image of a figure that fills its output area. */
const DEFAULT_WIDTH = 900;

/** Metadata key marking an output as the static image of the figure before it. */
const STATIC_IMAGE_KEY = 'sid_static_image';

function joinText(text: unknown): string {
  return Array.isArray(text) ? text.join('') : typeof text === 'string' ? text : '';
}

/** The page that draws every figure and writes their PNG data URLs into <pre id="sid-images">. */
function renderPage(figures: DisplayedFigure[]): string {
  const specs = figures.map((f) => ({ data: f.figure.data, layout: f.figure.layout ?? {}, width: f.width ?? DEFAULT_WIDTH, height: f.height }));
  return `<!DOCTYPE html><html><head><meta charset="utf-8">
<script src="${pathToFileURL(plotlyLibraryPath()).href}"></script></head><body>
<script>
(async function () {
  var specs = ${jsonForScript(specs)};
  var out = [];
  for (var i = 0; i < specs.length; i++) {
    var s = specs[i];
    var gd = document.createElement('div');
    document.body.appendChild(gd);
    try {
      var layout = Object.assign({}, s.layout, { width: s.width, height: s.height });
      await Plotly.newPlot(gd, s.data, layout, { staticPlot: true });
      out.push(await Plotly.toImage(gd, { format: 'png', width: s.width, height: s.height }));
    } catch (e) {
      out.push('error: ' + e);
    }
    Plotly.purge(gd);
    gd.remove();
  }
  var pre = document.createElement('pre');
  pre.id = 'sid-images';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script></body></html>`;
}

/** PNG images (base64, no data: prefix) of `figures`, in order, drawn by headless Chromium. */
async function renderFigureImages(figures: DisplayedFigure[], chromium = findChromium()): Promise<string[]> {
  if (figures.length === 0) return [];
  if (!chromium) throw new Error('renderFigureImages: no Chromium found (install Debian chromium or set SID_CHROMIUM)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-figures-'));
  try {
    const page = path.join(dir, 'figures.html');
    fs.writeFileSync(page, renderPage(figures));
    const dom = await dumpDom(page, { chromium, timeoutMs: 120_000, virtualTimeBudgetMs: 5000 + 2000 * figures.length });
    const raw = /<pre id="sid-images">([^<]*)<\/pre>/.exec(dom)?.[1];
    if (raw === undefined) throw new Error('renderFigureImages: the page did not finish drawing the figures');
    const urls = JSON.parse(raw.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as string[];
    return urls.map((u, i) => {
      const m = /^data:image\/png;base64,(.+)$/.exec(u);
      if (!m) throw new Error(`renderFigureImages: figure ${i + 1} was not drawn: ${u.slice(0, 200)}`);
      return m[1];
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Adds, after every plotly output of an executed notebook (nbformat 4, edited in place), a
 * display_data output holding the figure's PNG. Earlier static images are replaced. Returns how
 * many images were added.
 */
export async function addStaticImages(nb: any, chromium = findChromium()): Promise<number> {
  const found: { cell: any; output: any; figure: DisplayedFigure }[] = [];
  for (const cell of nb.cells ?? []) {
    if (cell.cell_type !== 'code' || !Array.isArray(cell.outputs)) continue;
    cell.outputs = cell.outputs.filter((o: any) => !o.metadata?.[STATIC_IMAGE_KEY]);
    for (const output of cell.outputs) {
      const html = output.data?.['text/html'];
      const figure = html === undefined ? undefined : figureFromHtml(joinText(html));
      if (figure) found.push({ cell, output, figure });
    }
  }
  const images = await renderFigureImages(
    found.map((f) => f.figure),
    chromium,
  );
  found.forEach(({ cell, output, figure }, i) => {
    const width = figure.width ?? DEFAULT_WIDTH;
    const image = {
      output_type: 'display_data',
      data: { 'image/png': images[i], 'text/plain': ['[static image of the plotly figure above]'] },
      metadata: { 'image/png': { width, height: figure.height }, [STATIC_IMAGE_KEY]: true },
    };
    cell.outputs.splice(cell.outputs.indexOf(output) + 1, 0, image);
  });
  return found.length;
}
