/**
 * End-to-end tests of headless notebook runs: notebooks/99_smoke.ipynb executed on the sid-ts kernel
 * through runNotebooks with a parameter, the executed notebook (with its figure's image) and the HTML
 * report checked, the report rendered by headless Chromium without network; progress lines kept
 * out of an executed notebook, code cells hidden; a failing notebook; stored notebooks stripped;
 * the notebooks CLI's parameter options.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkKernel, runNotebooks, NotebookRun } from '../lib/report/notebooks';
import { dumpDom, findChromium } from '../lib/report/chromium';
import { PLOT_DIV_CLASS, PLOTLY_BUNDLE_FILE, PLOTLY_LIB_MARKER, plotlyLibraryScript } from '../lib/display/plotly-lib';
import { TOC_CLASS } from '../lib/report/toc';
import { checkCommandLine } from '../lib/cli/specs';
import { figureHtml } from '../lib/display/plot';
import { formatNumber } from '../lib/display/html';
import { Rng } from '../lib/util/random';
import { projectRoot } from '../lib/util/fs';

const root = projectRoot();

function kernelMissing(): string | false {
  try {
    checkKernel(root);
  } catch (err) {
    return `notebook runs unavailable: ${(err as Error).message}`;
  }
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import nbconvert, nbclient'], { encoding: 'utf8' });
  return probe.status === 0 ? false : 'notebook runs unavailable: /usr/bin/python3 cannot import nbconvert (run environment/setup.sh)';
}

const skipRun = kernelMissing();
const chromium = findChromium();
const skipChromium = chromium ? false : 'chromium not found (/usr/bin/chromium): report rendering not checked';

function joinText(t: unknown): string {
  return Array.isArray(t) ? t.join('') : String(t ?? '');
}

function cellById(nb: any, id: string): any {
  const cell = nb.cells.find((c: any) => c.id === id);
  assert.ok(cell, `cell ${id} missing`);
  return cell;
}

function outputText(cell: any, mime: string): string[] {
  return cell.outputs.filter((o: any) => o.data?.[mime] !== undefined).map((o: any) => joinText(o.data[mime]));
}

describe('smoke notebook through runNotebooks', { skip: skipRun }, () => {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-report-'));
  const profile = 'ci-smoke';
  let run: NotebookRun;
  let nb: any;
  let html: string;

  before(async () => {
    // seed=11 overrides the parameters cell's `const seed = 7`.
    const runs = await runNotebooks({ names: ['99_smoke.ipynb'], profile, outDir, timeoutSec: 120, params: { seed: 11 } });
    assert.equal(runs.length, 1);
    run = runs[0];
    nb = JSON.parse(fs.readFileSync(run.notebook, 'utf8'));
    html = fs.readFileSync(run.html, 'utf8');
  });
  after(() => fs.rmSync(outDir, { recursive: true, force: true }));

  it('writes the executed notebook, the report and the index, and nothing else', () => {
    assert.equal(run.notebook, path.join(outDir, '99_smoke.ipynb'));
    assert.equal(run.html, path.join(outDir, '99_smoke.html'));
    const files = fs.readdirSync(outDir).sort();
    const css = files.filter((f) => /^report-[0-9a-f]{16}\.css$/.test(f));
    assert.equal(css.length, 1, `one shared stylesheet: ${files.join(', ')}`);
    assert.deepEqual(files, ['99_smoke.html', '99_smoke.ipynb', 'index.html', PLOTLY_BUNDLE_FILE, css[0]].sort());
    const index = fs.readFileSync(path.join(outDir, 'index.html'), 'utf8');
    assert.match(index, /<a href="99_smoke.html">99_smoke<\/a><\/td><td>Smoke test of the report tooling<\/td>/);
    assert.equal(nb.metadata.sid.profile, profile);
  });

  it('executed every code cell without errors, with the profile from SID_PROFILE and the injected parameter', () => {
    const code = nb.cells.filter((c: any) => c.cell_type === 'code');
    assert.equal(code.length, 5);
    for (const id of ['table', 'plot']) assert.ok(cellById(nb, id).outputs.length > 0, `cell ${id} has no output`);
    assert.deepEqual(code.map((c: any) => c.execution_count), [1, 2, 3, 4, 5]);
    const params = nb.cells.findIndex((c: any) => (c.metadata?.tags ?? []).includes('parameters'));
    assert.deepEqual(nb.cells[params + 1].metadata.tags, ['injected-parameters']);
    assert.match(joinText(nb.cells[params + 1].source), /^const seed = 11;$/m);
    assert.deepEqual(nb.metadata.sid.params, { seed: 11 });
    for (const c of code) {
      for (const o of c.outputs) {
        assert.notEqual(o.output_type, 'error', `cell ${c.id}: ${JSON.stringify(o)}`);
        assert.ok(!(o.output_type === 'stream' && o.name === 'stderr'), `cell ${c.id} wrote to stderr: ${joinText(o.text)}`);
      }
    }
    // The table holds the profile and the draws seeded by the injected seed, computed here independently.
    const rng = new Rng(11);
    const ys = Array.from({ length: 5 }, () => rng.next());
    const [text] = outputText(cellById(nb, 'table'), 'text/plain');
    const lines = text.split('\n');
    assert.equal(lines[0], `profile ${profile}`);
    assert.equal(lines.length, 3 + 5);
    ys.forEach((y, i) => assert.match(lines[3 + i], new RegExp(`^${profile}\\s+${i}\\s+${formatNumber(y, 4).replace('.', '\\.')}$`)));
    const [tableHtml] = outputText(cellById(nb, 'table'), 'text/html');
    assert.equal((tableHtml.match(new RegExp(`<td style="text-align:left">${profile}</td>`, 'g')) ?? []).length, 5);
  });

  it('the plot cell holds the figure (not the library), its PNG image and readable fallbacks', () => {
    const plot = cellById(nb, 'plot');
    const [figHtml] = outputText(plot, 'text/html');
    assert.ok(figHtml.includes(`class="${PLOT_DIV_CLASS}"`) && figHtml.includes('Plotly.newPlot'));
    assert.ok(!figHtml.includes(PLOTLY_LIB_MARKER), 'headless runs keep plotly.js out of the notebook');
    const texts = outputText(plot, 'text/plain');
    assert.equal(texts[0], `[plotly figure: smoke plot (${profile}); 1 trace]\n  0: scatter "random walk", 5 points`);
    const mean = (() => {
      const rng = new Rng(11);
      return Array.from({ length: 5 }, () => rng.next()).reduce((a, b) => a + b, 0) / 5;
    })();
    assert.deepEqual(outputText(plot, 'text/markdown'), [`The mean of the 5 draws is **${mean.toFixed(3)}**.`]);
    // A static image right after the interactive figure, for viewers that run no scripts.
    const figAt = plot.outputs.findIndex((o: any) => o.data?.['text/html'] !== undefined);
    const image = plot.outputs[figAt + 1];
    assert.equal(image.output_type, 'display_data');
    const png = Buffer.from(joinText(image.data['image/png']), 'base64');
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG file');
    assert.ok(png.length > 2000, 'the image has content');
    assert.deepEqual(image.metadata['image/png'], { width: 900, height: 420 });
    // Every figure of the notebook has its image.
    const figures = nb.cells.flatMap((c: any) => c.outputs ?? []).filter((o: any) => joinText(o.data?.['text/html']).includes(`class="${PLOT_DIV_CLASS}"`));
    const images = nb.cells.flatMap((c: any) => c.outputs ?? []).filter((o: any) => o.data?.['image/png'] !== undefined);
    assert.equal(images.length, figures.length);
  });

  it('the HTML report loads the folder plotly.min.js once in <head>, inlines no plotly and loads no remote script', () => {
    const headEnd = html.indexOf('</head>');
    assert.ok(headEnd > 0);
    assert.equal(html.split(PLOTLY_LIB_MARKER).length - 1, 1);
    assert.ok(html.indexOf(PLOTLY_LIB_MARKER) < headEnd);
    assert.match(html.slice(0, headEnd), new RegExp(`<script type="text/javascript" src="${PLOTLY_BUNDLE_FILE}" ${PLOTLY_LIB_MARKER}=`));
    assert.ok(!html.includes('plotly.js v'), 'no inlined plotly.js (its banner) in the page');
    assert.ok(html.length < 100_000, `the page carries neither the library nor the template styles (${html.length} characters)`);
    assert.match(html.slice(0, headEnd), /<link rel="stylesheet" href="report-[0-9a-f]{16}\.css">/);
    assert.ok(!/<style/i.test(html.slice(0, headEnd)), 'template styles moved to the shared stylesheet');
    assert.equal(fs.readdirSync(outDir).filter((f) => f.endsWith('.js')).length, 1, 'one script file in the folder');
    assert.ok(html.slice(headEnd).includes(`class="${PLOT_DIV_CLASS}"`));
    assert.ok(html.includes('window.Plotly.newPlot('));
    const remote = html.match(/<script[^>]*\ssrc\s*=\s*["']?((https?:)?\/\/|file:)[^>]*>/gi) ?? [];
    assert.deepEqual(remote, []);
    assert.ok(html.includes(`profile ${profile}</caption>`));
  });

  it('the HTML report opens with a table of contents linking the headings', () => {
    const nav = /<nav class="([^"]+)"[^>]*>([\s\S]*?)<\/nav>/.exec(html);
    assert.ok(nav && nav[1] === TOC_CLASS, 'no table of contents');
    const link = /<a href="#([^"]+)">Smoke test of the report tooling<\/a>/.exec(nav[2]);
    assert.ok(link, nav[2]);
    assert.ok(html.includes(`id="${decodeURIComponent(link[1])}"`), 'the link targets a heading');
    assert.ok(html.indexOf('<nav') < html.indexOf('<h1'));
    // Code is shown by default.
    assert.ok(html.includes('showTable'));
  });

  it('headless Chromium draws the plot from the file without network', { skip: skipChromium }, async () => {
    const dom = await dumpDom(run.html, { chromium });
    assert.ok(dom.includes('class="main-svg"'), 'plotly did not draw (no main-svg)');
    assert.equal((dom.match(/class="point"/g) ?? []).length, 5, 'five markers expected');
    assert.match(dom, new RegExp(`<text class="gtitle"[^>]*>smoke plot \\(${profile}\\)</text>`));
  });
});

describe('plots in a live notebook page', () => {
  it('the inline library draws even where require.js defines an AMD `define`', { skip: skipChromium }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-live-'));
    const file = path.join(dir, 'live.html');
    // As in the classic Notebook: require.js is loaded, and an anonymous define() would be an error.
    const amd = `<script>window.define = function () { document.title = 'AMD define called'; }; window.define.amd = {};</script>`;
    const fig = figureHtml({ data: [{ type: 'bar', x: ['a', 'b', 'c'], y: [1, 3, 2] }] }, { id: 'live' });
    fs.writeFileSync(file, `<!DOCTYPE html><html><head><title>live</title></head><body>${amd}\n${plotlyLibraryScript()}\n${fig}</body></html>`);
    try {
      const dom = await dumpDom(file, { chromium });
      assert.ok(dom.includes('<title>live</title>'), 'plotly must not register through define()');
      assert.ok(dom.includes('class="main-svg"'));
      assert.equal((dom.match(/<g class="point"><path d="M/g) ?? []).length, 3, 'three bars expected');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('progress lines and hidden code', { skip: skipRun }, () => {
  it('keeps progress out of the executed notebook (to the runner), warnings in it, and code out of the --no-code report', async () => {
    const nbDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-nbquiet-'));
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-report-quiet-'));
    const cell = (id: string, source: string, tags?: string[]) => ({ cell_type: 'code', id, metadata: tags ? { tags } : {}, execution_count: null, outputs: [], source });
    const notebook = {
      cells: [
        { cell_type: 'markdown', id: 'title', metadata: {}, source: '# Quiet run\n\n## First part' },
        // The kernel starts in the project root, wherever the notebook is.
        cell('imports', "import { Progress } from './lib/util/progress';"),
        cell('parameters', 'const steps = 3;', ['parameters']),
        cell(
          'work',
          "const p = new Progress({ label: 'quiet-test', total: steps, intervalMs: 0 });\n" +
            'for (let i = 0; i < steps; i++) p.tick();\n' +
            "p.finish();\nprocess.stderr.write('warning: kept in the report\\n');\nconsole.log('visible result 17');",
        ),
      ],
      metadata: { kernelspec: { name: 'sid-ts', display_name: 'TypeScript (sid)', language: 'typescript' } },
      nbformat: 4,
      nbformat_minor: 5,
    };
    fs.writeFileSync(path.join(nbDir, '96_quiet.ipynb'), JSON.stringify(notebook));
    const progress: string[] = [];
    try {
      const [run] = await runNotebooks({ names: ['96_quiet'], profile: 'quiet', outDir, notebooksDir: nbDir, timeoutSec: 60, noCode: true, onProgress: (nb, line) => progress.push(`${nb}: ${line}`) });
      const executed = JSON.parse(fs.readFileSync(run.notebook, 'utf8'));
      const streams = executed.cells.flatMap((c: any) => c.outputs ?? []).filter((o: any) => o.output_type === 'stream');
      const stderr = streams.filter((o: any) => o.name === 'stderr').map((o: any) => joinText(o.text)).join('');
      assert.doesNotMatch(stderr, /quiet-test/, 'progress lines were captured into the notebook');
      assert.match(stderr, /warning: kept in the report/);
      assert.ok(progress.some((l) => /^96_quiet: \[quiet-test\] 3\/3 .*done in/.test(l)), progress.join('\n'));
      const page = fs.readFileSync(run.html, 'utf8');
      assert.ok(page.includes('visible result 17'), 'outputs stay in the report');
      assert.ok(!page.includes('p.tick()') && !page.includes('new Progress'), 'code cells are hidden');
      assert.match(page, /<a href="#First-part">First part<\/a>/);
      assert.ok(!page.includes(PLOTLY_LIB_MARKER), 'no plot, no library');
      assert.ok(!fs.existsSync(path.join(outDir, PLOTLY_BUNDLE_FILE)));
    } finally {
      fs.rmSync(nbDir, { recursive: true, force: true });
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  });
});

describe('notebooks CLI: list and --param', () => {
  const sid = (args: string[]) => spawnSync(process.execPath, [path.join(root, 'bin', 'sid.mjs'), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, SID_QUIET: '1' } });

  it('--param may be repeated; other options may not', () => {
    checkCommandLine('notebooks run', ['99_smoke', '--param', 'seed=1', '--param=profile="x"']);
    assert.throws(() => checkCommandLine('notebooks run', ['--jobs', '1', '--jobs', '2']), /more than once/);
  });

  it('lists each notebook with its parameters', () => {
    const r = sid(['notebooks', 'list', '99_smoke', '00_data']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "99_smoke  (test notebook: runs only when named)\n  profile = process.env.SID_PROFILE ?? 'tiny'\n  seed = 7\n00_data\n  profileName: string | undefined = undefined\n");
  });

  it('a parameter the notebook does not declare is a usage error before anything runs', () => {
    const r = sid(['notebooks', 'run', '99_smoke', '--profile', 'tiny', '--param', 'sede=3', '--out', fs.mkdtempSync(path.join(os.tmpdir(), 'sid-badparam-'))]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /notebook 99_smoke has no parameter sede \(its parameters: profile, seed\)/);
  });
});

describe('a failing notebook', { skip: skipRun }, () => {
  it('throws naming the notebook, the cell and its error, and leaves no output behind', async () => {
    const nbDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-nbfail-'));
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-report-fail-'));
    const cell = (id: string, source: string, tags?: string[]) => ({ cell_type: 'code', id, metadata: tags ? { tags } : {}, execution_count: null, outputs: [], source });
    const failing = {
      cells: [
        cell('parameters', "const profile = process.env.SID_PROFILE ?? 'tiny';", ['parameters']),
        cell('ok', 'console.log(`running ${profile}`);'),
        cell('boom', "throw new Error('deliberate failure 42 in ' + profile);"),
        cell('never', "console.log('not reached');"),
      ],
      metadata: { kernelspec: { name: 'sid-ts', display_name: 'TypeScript (sid)', language: 'typescript' } },
      nbformat: 4,
      nbformat_minor: 5,
    };
    fs.writeFileSync(path.join(nbDir, '98_fail.ipynb'), JSON.stringify(failing));
    // A report of an earlier run must not survive a failed run.
    fs.writeFileSync(path.join(outDir, '98_fail.html'), '<html>old</html>');
    try {
      await assert.rejects(
        runNotebooks({ names: ['98_fail'], profile: 'failing', outDir, notebooksDir: nbDir, timeoutSec: 60 }),
        (err: Error) => {
          assert.match(err.message, /^notebook 98_fail \(.*98_fail\.ipynb\) failed in cell 3 of 4 \(id boom\)/);
          assert.match(err.message, /deliberate failure 42 in failing/);
          return true;
        },
      );
      assert.deepEqual(fs.readdirSync(outDir), ['index.html']);
      assert.doesNotMatch(fs.readFileSync(path.join(outDir, 'index.html'), 'utf8'), /98_fail/);
    } finally {
      fs.rmSync(nbDir, { recursive: true, force: true });
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  });
});

describe('reusing executed notebooks', { skip: skipRun }, () => {
  it('skips a notebook only while its source and the reuse key are unchanged', async () => {
    const nbDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-nbreuse-'));
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-report-reuse-'));
    const cell = (id: string, source: string, tags?: string[]) => ({ cell_type: 'code', id, metadata: tags ? { tags } : {}, execution_count: null, outputs: [], source });
    const write = (cells: object[]) =>
      fs.writeFileSync(
        path.join(nbDir, '97_reuse.ipynb'),
        JSON.stringify({ cells, metadata: { kernelspec: { name: 'sid-ts', display_name: 'TypeScript (sid)', language: 'typescript' } }, nbformat: 4, nbformat_minor: 5 }),
      );
    const cells = [cell('parameters', "const profile = process.env.SID_PROFILE ?? 'tiny';", ['parameters']), cell('draw', 'console.log(`draw ${Math.random()}`);')];
    const run = (reuseKey: string) => runNotebooks({ names: ['97_reuse'], profile: 'reuse', outDir, notebooksDir: nbDir, timeoutSec: 60, reuseKey });
    const drawn = () => JSON.stringify(cellById(JSON.parse(fs.readFileSync(path.join(outDir, '97_reuse.ipynb'), 'utf8')), 'draw').outputs);
    try {
      write(cells);
      const [first] = await run('key-a');
      assert.ok(!first.reused);
      const firstDraw = drawn();
      assert.match(firstDraw, /draw 0\.\d+/);
      const [second] = await run('key-a');
      assert.equal(second.reused, true);
      assert.equal(drawn(), firstDraw);
      const [third] = await run('key-b');
      assert.ok(!third.reused);
      assert.notEqual(drawn(), firstDraw);
      const thirdDraw = drawn();
      write([...cells, cell('more', "console.log('changed');")]);
      const [fourth] = await run('key-b');
      assert.ok(!fourth.reused);
      assert.notEqual(drawn(), thirdDraw);
    } finally {
      fs.rmSync(nbDir, { recursive: true, force: true });
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  });
});

describe('stored notebooks', () => {
  const dir = path.join(root, 'notebooks');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ipynb'));
  const script = path.join(root, 'environment', 'strip-notebooks.mjs');

  it('are stored without outputs, with exactly one `parameters` code cell and the sid-ts kernel', () => {
    assert.ok(files.includes('99_smoke.ipynb'));
    for (const f of files) {
      const nb = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
      const params = nb.cells.filter((c: any) => (c.metadata?.tags ?? []).includes('parameters'));
      assert.equal(params.length, 1, `${f}: cells tagged parameters`);
      assert.equal(params[0].cell_type, 'code', `${f}: parameters cell type`);
      if (f === '99_smoke.ipynb') {
        assert.match(joinText(params[0].source), /process\.env\.SID_PROFILE/, `${f}: the parameters cell reads SID_PROFILE`);
      } else {
        // The profile is read through getProfile only (which falls back to SID_PROFILE, then small).
        const code = nb.cells.filter((c: any) => c.cell_type === 'code').map((c: any) => joinText(c.source).replace(/\/\/.*$/gm, '')).join('\n');
        assert.match(joinText(params[0].source), /const profileName\b/, `${f}: the parameters cell declares profileName`);
        assert.match(code, /getProfile\(profileName\)/, `${f}: the profile comes from getProfile(profileName)`);
        assert.doesNotMatch(code, /SID_PROFILE/, `${f}: reads SID_PROFILE itself instead of through getProfile`);
      }
      for (const c of nb.cells.filter((c: any) => c.cell_type === 'code')) {
        assert.deepEqual(c.outputs, [], `${f}: cell ${c.id} has outputs`);
        assert.equal(c.execution_count, null, `${f}: cell ${c.id} has an execution count`);
      }
      assert.equal(nb.metadata?.kernelspec?.name, 'sid-ts', `${f}: kernel`);
    }
  });

  it('strip-notebooks.mjs detects and removes outputs', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-strip-'));
    try {
      const src = JSON.parse(fs.readFileSync(path.join(dir, '99_smoke.ipynb'), 'utf8'));
      const dirty = JSON.parse(JSON.stringify(src));
      dirty.cells[3].outputs = [{ output_type: 'stream', name: 'stdout', text: ['x\n'] }];
      dirty.cells[3].execution_count = 4;
      dirty.cells[3].metadata.execution = { 'iopub.status.busy': '2025-01-01T00:00:00Z' };
      dirty.metadata.sid = { profile: 'tiny', seconds: 1 };
      // The cell a run with --param adds after the parameters cell.
      dirty.cells.splice(3, 0, { cell_type: 'code', id: 'injected-parameters', metadata: { tags: ['injected-parameters'] }, execution_count: 3, outputs: [], source: 'const seed = 11;' });
      const file = path.join(tmp, '99_smoke.ipynb');
      fs.writeFileSync(file, JSON.stringify(dirty));
      const check = spawnSync(process.execPath, [script, '--check', tmp], { encoding: 'utf8' });
      assert.equal(check.status, 1);
      assert.match(check.stderr, /cell 5 has 1 output\(s\)/);
      assert.match(check.stderr, /injected-parameters/);
      assert.match(execFileSync(process.execPath, [script, tmp], { encoding: 'utf8' }), /stripped .*99_smoke\.ipynb/);
      assert.equal(spawnSync(process.execPath, [script, '--check', tmp]).status, 0);
      // Stripping restores the stored form byte for byte.
      assert.equal(fs.readFileSync(file, 'utf8'), fs.readFileSync(path.join(dir, '99_smoke.ipynb'), 'utf8'));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
