/** Unit tests of the report helpers: formatting, tables, figures, displays, page post-processing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { escapeHtml, formatNumber, formatValue, jsonForScript } from '../lib/display/html';
import { extractHeadStyles, injectIntoHead, removeRemoteScripts, renderIndexPage } from '../lib/report/pages';
import { renderTable, dataFrameToRows, showTable } from '../lib/display/table';
import { describeFigure, figureFromHtml, figureHtml, showPlot } from '../lib/display/plot';
import { MimeBundle, setDisplaySink, showMarkdown } from '../lib/display/display';
import { PLOT_DIV_CLASS, PLOTLY_BUNDLE_FILE, PLOTLY_LIB_MARKER, plotlyBundleSource, plotlyLibraryPath, plotlyLibraryScript, plotlyVersion } from '../lib/display/plotly-lib';
import { finishReportHtml, selectNotebooks, cellErrorText, writePlotlyBundle, writeReportIndex } from '../lib/report/notebooks';
import { insertToc, pageHeadings, TOC_CLASS } from '../lib/report/toc';
import { injectParameters, notebookParameters, parseParamPairs } from '../lib/report/parameters';

function capture(fn: () => void): MimeBundle[] {
  const got: MimeBundle[] = [];
  const previous = setDisplaySink((b) => got.push(b));
  try {
    fn();
  } finally {
    setDisplaySink(previous);
  }
  return got;
}

test('escapeHtml escapes the five special characters', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('formatNumber: integers grouped, decimals fixed, tiny and huge values in exponent form', () => {
  assert.equal(formatNumber(100836), '100,836');
  assert.equal(formatNumber(-9742), '-9,742');
  assert.equal(formatNumber(0.046213), '0.046');
  assert.equal(formatNumber(0.046213, 4), '0.0462');
  assert.equal(formatNumber(12345.678, 1), '12,345.7');
  assert.equal(formatNumber(0.00001234, 3), '1.23e-5');
  assert.equal(formatNumber(0), '0');
  assert.equal(formatNumber(NaN), 'NaN');
  assert.equal(formatNumber(-Infinity), '-inf');
  assert.throws(() => formatNumber(1, -1), /digits must be an integer/);
  assert.equal(formatValue([1, 0.5, 'a', null]), '1, 0.500, a, ');
  assert.equal(formatValue(new Float32Array([0.25])), '0.250');
  assert.equal(formatValue({ a: 1 }), '{"a":1}');
});

test('jsonForScript cannot close the script element and round-trips', () => {
  const value = { s: '</script><script>alert(1)</script>', t: '<!--', u: 'a\u2028b' };
  const js = jsonForScript(value);
  assert.ok(!/<\/script/i.test(js) && !js.includes('<!--'));
  assert.deepEqual(JSON.parse(js), value);
  assert.throws(() => jsonForScript(undefined), /not JSON-serialisable/);
});

test('renderTable: HTML and aligned text hold the same escaped cells; numeric columns right-aligned', () => {
  const rows = [
    { method: 'search-based', recall: 0.0721, n: 1200 },
    { method: 'rec <b>', recall: 0.004, n: 35 },
    { method: 'multi-task', n: 7, extra: true },
  ];
  const b = renderTable(rows, { title: 'Recall@30', digits: 3 });
  const html = b['text/html'];
  assert.match(html, /<caption[^>]*>Recall@30<\/caption>/);
  assert.equal((html.match(/<tr>/g) ?? []).length, 4);
  assert.ok(html.includes('rec &lt;b&gt;') && !html.includes('rec <b>'));
  assert.match(html, /<th style="text-align:right">recall<\/th>/);
  assert.match(html, /<th style="text-align:left">method<\/th>/);
  assert.match(html, /<td style="text-align:right">1,200<\/td>/);
  const lines = b['text/plain'].split('\n');
  assert.deepEqual(lines.slice(0, 2), ['Recall@30', 'method        recall      n  extra']);
  assert.equal(lines[3], 'search-based   0.072  1,200');
  assert.equal(lines[4], 'rec <b>        0.004     35');
  assert.equal(lines[5], 'multi-task                7  true');
  assert.throws(() => renderTable([1 as any]), /row 0 is not an object/);
  const many = renderTable(Array.from({ length: 12 }, (_, i) => ({ i })), { maxRows: 10 });
  assert.match(many['text/plain'], /\(2 more rows not shown\)$/);
});

test('renderTable accepts a danfo-shaped DataFrame (default and custom index)', () => {
  const df = { columns: ['a', 'b'], values: [[1, 'x'], [2, 'y']], index: [0, 1], shape: [2, 2] };
  assert.deepEqual(dataFrameToRows(df), [{ a: 1, b: 'x' }, { a: 2, b: 'y' }]);
  const named = { ...df, index: ['r1', 'r2'] };
  assert.deepEqual(dataFrameToRows(named), [{ index: 'r1', a: 1, b: 'x' }, { index: 'r2', a: 2, b: 'y' }]);
  assert.match(renderTable(named)['text/plain'], /^index  a  b$/m);
});

test('figureHtml: a div and a Plotly.newPlot call with the figure as data', () => {
  const fig = { data: [{ type: 'bar', name: 'hits', x: ['a', 'b'], y: [3, 4] }], layout: { title: { text: 'T</script>' }, height: 300 } };
  const html = figureHtml(fig, { id: 'p1' });
  assert.match(html, new RegExp(`<div id="p1" class="${PLOT_DIV_CLASS}" style="width:100%;height:300px;"></div>`));
  assert.match(html, /window\.Plotly\.newPlot\(el, fig\.data, fig\.layout, fig\.config\)/);
  assert.equal((html.match(/<\/script>/g) ?? []).length, 1, 'the title must not close the script');
  const json = /var fig = (.*);\n/.exec(html)![1];
  assert.deepEqual(JSON.parse(json).data, fig.data);
  assert.equal(describeFigure(fig), '[plotly figure: T</script>; 1 trace]\n  0: bar "hits", 2 points');
  assert.throws(() => figureHtml({ data: 'x' } as any), /data an array/);
  assert.throws(() => figureHtml(fig, { id: '1 bad' }), /must start with a letter/);
  assert.notEqual(figureHtml(fig).match(/id="([^"]+)"/)![1], figureHtml(fig).match(/id="([^"]+)"/)![1], 'ids are unique per call');
});

test('showPlot inlines the library once per kernel, and never when SID_PLOTLY_INLINE=0', () => {
  const fig = { data: [{ x: [1, 2], y: [3, 4] }] };
  const saved = process.env.SID_PLOTLY_INLINE;
  try {
    process.env.SID_PLOTLY_INLINE = '0';
    const headless = capture(() => showPlot(fig));
    assert.equal(headless.length, 1);
    assert.ok(!headless[0]['text/html'].includes(PLOTLY_LIB_MARKER));
    delete process.env.SID_PLOTLY_INLINE;
    const live = capture(() => {
      showPlot(fig);
      showPlot(fig);
    });
    assert.equal(live.length, 3);
    assert.ok(live[0]['text/html'].includes(PLOTLY_LIB_MARKER));
    assert.equal(live[0]['text/plain'], `[plotly.js ${plotlyVersion()} loaded]`);
    assert.ok(live.slice(1).every((b) => b['text/html'].includes(PLOT_DIV_CLASS) && b['text/plain'].startsWith('[plotly figure')));
  } finally {
    if (saved === undefined) delete process.env.SID_PLOTLY_INLINE;
    else process.env.SID_PLOTLY_INLINE = saved;
  }
});

test('showTable and showMarkdown send one bundle with a text/plain fallback', () => {
  const got = capture(() => {
    showTable([{ a: 1 }]);
    showMarkdown('**bold** 0.5');
  });
  assert.equal(got.length, 2);
  assert.deepEqual(Object.keys(got[0]).sort(), ['text/html', 'text/plain']);
  assert.deepEqual(got[1], { 'text/markdown': '**bold** 0.5', 'text/plain': '**bold** 0.5' });
});

test('the plotly library script shields require.js and contains the whole library', () => {
  const lib = fs.readFileSync(plotlyLibraryPath(), 'utf8');
  const script = plotlyLibraryScript();
  assert.match(plotlyVersion(), /^\d+\.\d+\.\d+$/);
  assert.ok(script.startsWith(`<script type="text/javascript" ${PLOTLY_LIB_MARKER}=`));
  assert.ok(script.includes('(function (define, module, exports) {'));
  assert.ok(script.length > lib.length);
  assert.equal((script.match(/<\/script/gi) ?? []).length, 1);
});

test('finishReportHtml removes remote scripts, loads the folder plotly.min.js once (only in pages with plots) and never inlines it', () => {
  const page = (body: string) =>
    `<html><head><script src="https://cdn.example.org/require.min.js"></script>` +
    `<script src='//cdn.example.org/x.js'></script><script src="local.js"></script></head><body>${body}</body></html>`;
  const withPlot = finishReportHtml(page(figureHtml({ data: [] }, { id: 'q' })));
  assert.ok(!/<script[^>]*\ssrc=["']?(https?:)?\/\//i.test(withPlot));
  assert.ok(withPlot.includes('<script src="local.js"></script>'));
  const head = withPlot.slice(0, withPlot.indexOf('</head>'));
  assert.equal(head.split(PLOTLY_LIB_MARKER).length - 1, 1);
  assert.match(head, new RegExp(`<script type="text/javascript" src="${PLOTLY_BUNDLE_FILE.replace('.', '\\.')}" ${PLOTLY_LIB_MARKER}="\\d+\\.\\d+\\.\\d+"></script>`));
  assert.ok(withPlot.length < 20_000, 'the library is loaded by <script src>, not inlined');
  assert.equal(finishReportHtml(withPlot).split(PLOTLY_LIB_MARKER).length - 1, 1, 'idempotent');
  assert.ok(!finishReportHtml(page('<p>no plot</p>')).includes(PLOTLY_LIB_MARKER));
  assert.throws(() => injectIntoHead('<p>x</p>', 'y'), /no <\/head>/);
  assert.equal(removeRemoteScripts('<script src="http://a/b.js" defer></script>x'), 'x');
  assert.equal(removeRemoteScripts('<script src="file:///usr/share/javascript/mathjax/MathJax.js?config=TeX"></script>y'), 'y');
});

test('extractHeadStyles moves the <head> styles, in order, behind one <link>', () => {
  const page = '<html><head><meta charset="utf-8"><style type="text/css">a{}</style><script>x</script><style>b{}</style></head><body><style>c{}</style></body></html>';
  const { html, css } = extractHeadStyles(page, (c) => `s-${c.length}.css`);
  assert.equal(css, 'a{}\nb{}');
  assert.equal(html, '<html><head><meta charset="utf-8"><link rel="stylesheet" href="s-7.css"><script>x</script></head><body><style>c{}</style></body></html>');
  assert.deepEqual(extractHeadStyles('<html><head></head></html>', () => 'x'), { html: '<html><head></head></html>', css: '' });
});

test('writePlotlyBundle writes the wrapped library once and leaves an identical copy alone', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-bundle-'));
  try {
    const file = writePlotlyBundle(dir);
    assert.equal(file, path.join(dir, PLOTLY_BUNDLE_FILE));
    const text = fs.readFileSync(file, 'utf8');
    assert.equal(text, plotlyBundleSource());
    assert.ok(text.startsWith('(function (define, module, exports) {'));
    const before = fs.statSync(file).mtimeMs;
    fs.utimesSync(file, new Date(0), new Date(0));
    writePlotlyBundle(dir);
    assert.equal(fs.statSync(file).mtimeMs, 0, 'an identical copy is not rewritten');
    fs.writeFileSync(file, 'stale');
    writePlotlyBundle(dir);
    assert.equal(fs.readFileSync(file, 'utf8'), text);
    assert.ok(before > 0);
    assert.deepEqual(fs.readdirSync(dir), [PLOTLY_BUNDLE_FILE]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the table of contents lists the h1-h3 headings with links, nested, at the top of <main>', () => {
  const body =
    `<main><h1 id="Data-&amp;-splits">Data &amp; splits<a class="anchor-link" href="#Data-&amp;-splits">¶</a></h1>` +
    `<h2 id="Counts">Counts <code>x</code><a class="anchor-link" href="#Counts">¶</a></h2><h4 id="deep">deep</h4><h2>no id</h2></main>`;
  const headings = pageHeadings(body);
  assert.deepEqual(headings, [
    { level: 1, id: 'Data-&-splits', text: 'Data & splits' },
    { level: 2, id: 'Counts', text: 'Counts x' },
  ]);
  const html = insertToc(`<html><head></head><body>${body}</body></html>`);
  const nav = html.slice(html.indexOf('<main>'), html.indexOf('<h1'));
  assert.match(nav, new RegExp(`<nav class="${TOC_CLASS}"`));
  assert.match(nav, /<li class="sid-toc-l1"><a href="#Data-%26-splits">Data &amp; splits<\/a><\/li>/);
  assert.match(nav, /<li class="sid-toc-l2"><a href="#Counts">Counts x<\/a><\/li>/);
  assert.ok(!nav.includes('deep'));
  assert.equal(insertToc('<html><body><p>no headings</p></body></html>'), '<html><body><p>no headings</p></body></html>');
});

test('figureFromHtml reads back the figure and size that figureHtml wrote', () => {
  const fig = { data: [{ type: 'bar', x: ['a', '</script>'], y: [1, 2] }], layout: { title: { text: 't' } } };
  assert.deepEqual(figureFromHtml(figureHtml(fig, { height: 300, width: 500 })), {
    figure: { data: fig.data, layout: fig.layout, config: { responsive: true, displaylogo: false } },
    width: 500,
    height: 300,
  });
  assert.equal(figureFromHtml(figureHtml(fig))?.width, undefined);
  assert.equal(figureFromHtml('<table></table>'), undefined);
});

test('notebook parameters: parsed from the parameters cell, values from --param, injected after the cell', () => {
  const cell = (source: string, tags?: string[]) => ({ cell_type: 'code', metadata: tags ? { tags } : {}, outputs: [], execution_count: null, source });
  const nb = {
    cells: [
      cell('import x'),
      cell("// the profile\nconst profileName: string | undefined = undefined;\nconst seed = 42; // seed\nlet label = process.env.X ?? 'a';", ['parameters']),
      cell('use(seed)'),
    ],
  };
  assert.deepEqual(notebookParameters(nb), [
    { name: 'profileName', type: 'string | undefined', default: 'undefined' },
    { name: 'seed', default: '42' },
    { name: 'label', default: "process.env.X ?? 'a'" },
  ]);
  assert.deepEqual(parseParamPairs(['seed=7', 'profileName=tiny', 'label="7"', 'x=true', 'y=a=b', 'z=']), { seed: 7, profileName: 'tiny', label: '7', x: true, y: 'a=b', z: '' });
  assert.throws(() => parseParamPairs(['seed']), /name=value/);
  assert.throws(() => parseParamPairs(['seed=1', 'seed=2']), /more than once/);
  const injected = injectParameters(nb, { seed: 7, profileName: 'tiny' });
  assert.equal(injected.cells.length, 4);
  assert.deepEqual(injected.cells[2].metadata.tags, ['injected-parameters']);
  assert.equal(injected.cells[2].source, "// Injected parameters\nconst seed = 7;\nconst profileName = \"tiny\";");
  assert.equal(injected.cells[3].source, 'use(seed)');
  assert.equal(nb.cells.length, 3, 'the source notebook is not changed');
  assert.throws(() => injectParameters(nb, { sede: 1 }), /has no parameter sede \(its parameters: profileName, seed, label\)/);
  assert.throws(() => notebookParameters({ cells: [cell('x')] }), /expected one code cell tagged "parameters", found 0/);
});

test('selectNotebooks: sorted NN_name notebooks, 90+ only when named, clear error for unknown names', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-nbs-'));
  for (const f of ['01_b.ipynb', '00_a.ipynb', '99_smoke.ipynb', 'scratch.ipynb', '02_c.txt']) fs.writeFileSync(path.join(dir, f), '{}');
  assert.deepEqual(selectNotebooks(dir), ['00_a', '01_b']);
  assert.deepEqual(selectNotebooks(dir, ['99_smoke.ipynb', '00_a']), ['99_smoke', '00_a']);
  assert.throws(() => selectNotebooks(dir, ['03_x']), /notebook "03_x" not found .* available: 00_a, 01_b, 99_smoke/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('cellErrorText joins error outputs and stderr streams without ANSI codes', () => {
  const cell = {
    outputs: [
      { output_type: 'stream', name: 'stdout', text: ['fine\n'] },
      { output_type: 'stream', name: 'stderr', text: ['\u001b[31mReferenceError: profile is not defined\u001b[0m\n'] },
      { output_type: 'error', ename: 'Error', evalue: 'boom', traceback: ['Error: boom', '  at x'] },
    ],
  };
  assert.equal(cellErrorText(cell), 'ReferenceError: profile is not defined\n\nError: boom');
});

test('the index page links every report in the folder with its notebook title', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-index-'));
  fs.writeFileSync(path.join(dir, '00_data.html'), '<html></html>');
  fs.writeFileSync(path.join(dir, '00_data.ipynb'), JSON.stringify({ cells: [{ cell_type: 'markdown', source: ['# Data <at> a glance\n'] }], metadata: { sid: { seconds: 6.5 } } }));
  fs.writeFileSync(path.join(dir, '04_task tradeoff.html'), '<html></html>');
  const html = fs.readFileSync(writeReportIndex(dir, 'tiny'), 'utf8');
  assert.match(html, /<a href="00_data.html">00_data<\/a><\/td><td>Data &lt;at&gt; a glance<\/td><td><a href="00_data.ipynb">.ipynb<\/a>/);
  assert.match(html, /6\.5 s/);
  assert.match(html, /<a href="04_task%20tradeoff.html">04_task tradeoff<\/a>/);
  assert.equal((html.match(/<tr>/g) ?? []).length, 3);
  assert.ok(!/<script/i.test(html));
  assert.match(renderIndexPage({ profile: 'x', entries: [] }), /0 reports/);
  fs.rmSync(dir, { recursive: true, force: true });
});
