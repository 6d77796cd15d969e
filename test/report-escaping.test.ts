/**
 * Strings from the data (titles, tags, genres, queries) cannot run script in a report: a catalogue
 * with hostile titles goes through the display helpers the notebooks use (Markdown, tables, plots),
 * nbconvert exports the notebook to HTML as a headless run does, and the page holds no live script
 * or event handler other than the report's own plot scripts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { safeMarkdown, setDisplaySink, showMarkdown, type MimeBundle } from '../lib/display/display';
import { showTable } from '../lib/display/table';
import { showPlot } from '../lib/display/plot';
import { finishReportHtml } from '../lib/report/notebooks';

const HOSTILE = [
  '<img src=x onerror=alert(1)>',
  '<script>alert(2)</script>',
  '"><svg onload=alert(3)>',
  "'><iframe src=javascript:alert(4)>",
  '[click](javascript:alert(5))',
  '<a href="javascript:alert(6)">x</a>',
  '</script><script>alert(7)</script>',
  '<!-- <script>alert(8)</script> -->',
];

/** The page's markup with the text of its scripts and styles taken out (that text is not markup). */
function markupOnly(html: string): { markup: string; scripts: string[] } {
  const scripts: string[] = [];
  const markup = html
    .replace(/<script\b[^>]*>([\s\S]*?)<\/script\s*>/gi, (_m, body: string) => {
      scripts.push(body);
      return '<script></script>';
    })
    .replace(/<style\b[^>]*>[\s\S]*?<\/style\s*>/gi, '<style></style>');
  return { markup, scripts };
}

test('safeMarkdown leaves no tag and no script link, keeps emphasis and code', () => {
  for (const h of HOSTILE) {
    const md = safeMarkdown(`Query: **"${h}"**`);
    assert.doesNotMatch(md, /<[a-z!/]/i, md);
    assert.doesNotMatch(md, /\]\(\s*javascript:/i, md);
  }
  assert.equal(safeMarkdown('**bold** and `<code>`'), '**bold** and `<code>`');
  assert.equal(safeMarkdown('[ok](https://example.org)'), '[ok](https://example.org)');
});

test('a report rendered from hostile titles and queries has no live script or handler', () => {
  const outputs: MimeBundle[] = [];
  const previous = setDisplaySink((b) => outputs.push(b));
  try {
    const items = HOSTILE.map((title, i) => ({ item: i, title, genres: `Drama|${title}`, tags: title, query: `movies like ${title}` }));
    // As notebook 03 writes its worked examples, and the others their tables and figures.
    for (const it of items) showMarkdown(`Query: **"${it.query}"** (style: ${it.tags}); the target is **${it.title}**.`);
    showTable(items, { title: HOSTILE[0], columns: ['title', 'genres', 'tags', 'query', 'item'] });
    showPlot({
      data: [{ type: 'bar', x: items.map((i) => i.title), y: items.map((i) => i.item), text: items.map((i) => i.genres), name: HOSTILE[2] }],
      layout: { title: { text: HOSTILE[0] }, xaxis: { title: { text: HOSTILE[1] } } },
    });
  } finally {
    setDisplaySink(previous);
  }
  const plotScripts = outputs.filter((o) => /class="[^"]*" style=[\s\S]*<script/.test(o['text/html'] ?? '') && /newPlot/.test(o['text/html'] ?? '')).length;
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'sid-ts', display_name: 'TypeScript', language: 'typescript' }, language_info: { name: 'typescript' } },
    cells: [
      {
        cell_type: 'code',
        id: 'c1',
        metadata: {},
        execution_count: 1,
        source: 'views',
        outputs: outputs.map((data) => ({ output_type: 'display_data', data, metadata: {} })),
      },
    ],
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-escape-'));
  const file = path.join(dir, 'r.ipynb');
  fs.writeFileSync(file, JSON.stringify(nb));
  const py = [
    'import sys, nbformat',
    'from nbconvert import HTMLExporter',
    'nb = nbformat.read(sys.argv[1], as_version=4)',
    'body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)',
    'sys.stdout.write(body)',
  ].join('\n');
  const html = finishReportHtml(execFileSync(process.env.SID_JUPYTER_PYTHON ?? '/usr/bin/python3', ['-c', py, file], { encoding: 'utf8', maxBuffer: 64 << 20 }));
  fs.writeFileSync(path.join(dir, 'r.html'), html);

  const { markup, scripts } = markupOnly(html);
  // No event-handler attribute and no element the data could have brought in.
  assert.doesNotMatch(markup, /<[a-z][^>]*\son[a-z]+\s*=/i, 'an on*= handler is live');
  assert.doesNotMatch(markup, /<(img|svg|iframe)\b/i, 'an element from the data is live');
  assert.doesNotMatch(markup, /<[a-z][^>]*\bhref\s*=\s*["']?\s*javascript:/i, 'a javascript: link is live');
  // The only scripts are nbconvert's and the report's own (one per plot); none carries the data raw.
  for (const s of scripts) {
    assert.ok(!/alert\(\d\)<\/script/i.test(s) && !s.includes('</script'), 'a script was closed early by the data');
  }
  const withAlert = scripts.filter((s) => /alert\(\d\)/.test(s));
  assert.equal(withAlert.length, plotScripts, 'data reached a script other than the plot payload');
  for (const s of withAlert) assert.doesNotMatch(s, /<(img|script|svg|iframe)/i, 'raw markup inside a plot payload');
  // The text itself still reads as written.
  assert.ok(markup.includes('&lt;img src=x onerror=alert(1)&gt;') || markup.includes('&lt;img src=x onerror=alert(1)>'));
});
