/**
 * demo.html in a real headless Chromium (Debian's, driven by playwright-core; no browser is ever
 * downloaded), opened from file:// with every network request refused:
 * - it loads with no console error and asks for nothing but its own files;
 * - parity: for the exported sample of test queries and users, with plain and diverse beams, on
 *   tfjs's wasm backend (the page's default) and its cpu backend, the page ranks the same items in
 *   the same order as Node's decoding (`decodeExamples`, what sid eval runs), scores within 1e-3;
 * - a hostile title is shown as text, never run.
 * The model is the tiny profile's multi-task one, from the test cache the tiny reproduction shares.
 * Skipped, with a message, where no Chromium is installed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { DEMO_DATA_FILE, DEMO_HTML_FILE } from '../lib/demo/html';
import type { DemoPayload } from '../lib/demo/payload';
import { findChromium } from '../lib/report/chromium';
import { projectRoot } from '../lib/util/fs';

const root = projectRoot();
const chromium = findChromium();
const skip = chromium ? false : 'no Chromium (install Debian chromium or set SID_CHROMIUM): the browser demo tests need one';
const cacheDir = process.env.SID_TEST_CACHE_DIR ?? path.join(root, '.cache', 'artifacts-test');
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-demo-'));
const HOSTILE = '<img src=x onerror="window.__pwned = 1">';
let browser: Browser | undefined;

function readPayload(dir: string): DemoPayload {
  const src = fs.readFileSync(path.join(dir, DEMO_DATA_FILE), 'utf8');
  const prefix = 'window.SID_DEMO = ';
  assert.ok(src.startsWith(prefix), `${DEMO_DATA_FILE} does not start with ${prefix}`);
  return JSON.parse(src.slice(prefix.length).trim().replace(/;$/, ''));
}

interface Opened {
  page: Page;
  backend: { backend: string; fallback: string | null };
  errors: string[];
  requests: string[];
}

/** Opens a demo page offline: anything but a file:// URL is aborted and recorded. */
async function open(dir: string, query = ''): Promise<Opened> {
  const context = await browser!.newContext({ offline: true });
  const errors: string[] = [];
  const requests: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    requests.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  await page.goto(pathToFileURL(path.join(dir, DEMO_HTML_FILE)).href + query);
  await page.waitForFunction(() => (window as unknown as { sidDemo?: { ready?: unknown } }).sidDemo?.ready, undefined, { timeout: 60_000 });
  const backend = await page.evaluate(() => (window as unknown as { sidDemo: { ready: Promise<Opened['backend']> } }).sidDemo.ready);
  return { page, backend, errors, requests };
}

before(async () => {
  if (skip) return;
  const res = spawnSync(process.execPath, [path.join(root, 'bin', 'sid.mjs'), 'export', '--profile', 'tiny', '--out', out], {
    cwd: root,
    env: { ...process.env, SID_CACHE_DIR: cacheDir, SID_QUIET: '1' },
    encoding: 'utf8',
  });
  assert.equal(res.status, 0, `sid export exited with ${res.status}:\n${(res.stderr ?? '').split('\n').slice(-20).join('\n')}`);
  const { chromium: pw } = await import('playwright-core');
  browser = await pw.launch({
    executablePath: chromium,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--proxy-server=127.0.0.1:9', '--host-resolver-rules=MAP * ~NOTFOUND'],
  });
});

after(async () => {
  await browser?.close();
  fs.rmSync(out, { recursive: true, force: true });
});

test('demo.html loads from file:// offline, without console errors, and is linked from index.html', { skip, timeout: 180_000 }, async () => {
  const index = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
  assert.ok(index.includes('href="demo.html"'), 'index.html does not link demo.html');
  const { page, backend, errors, requests } = await open(out);
  try {
    // tfjs's wasm binary reaches the page from demo-wasm.js, not by fetch.
    assert.deepEqual(backend, { backend: 'wasm', fallback: null, items: 400 });
    const state = await page.evaluate(() => ({
      meta: document.getElementById('meta')!.textContent,
      rows: document.querySelectorAll('#results tbody tr').length,
      plot: document.querySelectorAll('#id-space .main-svg').length,
      users: document.querySelectorAll('#user-select option').length,
      scripts: Array.from(document.scripts, (s) => s.src),
    }));
    assert.match(state.meta ?? '', /Profile tiny .* model multitask\/rq-kmeans\/shared/);
    assert.ok(state.rows > 0, 'the first query decoded into no rows');
    assert.ok(state.plot > 0, 'the ID-space plot was not drawn');
    assert.ok(state.users > 1, 'no test users to pick');
    for (const s of state.scripts) assert.ok(s.startsWith('file:'), `script ${s} is not a local file`);
    // The UI path: pick a test user, switch to diverse beams.
    await page.selectOption('#user-select', '1');
    await page.check('#mode-diverse');
    const rec = await page.evaluate(() => ({ title: document.getElementById('results-title')!.textContent, rows: document.querySelectorAll('#results tbody tr').length, status: document.getElementById('status')!.textContent }));
    assert.match(rec.title ?? '', /Recommendations after \d+ items/);
    assert.ok(rec.rows > 0);
    assert.match(rec.status ?? '', /diverse/);
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, []);
  } finally {
    await page.context().close();
  }
});

for (const which of ['wasm', 'cpu'] as const) test(`parity on the ${which} backend: the page ranks what Node decodes (same items, same order, scores within 1e-3)`, { skip, timeout: 300_000 }, async (t) => {
  const payload = readPayload(out);
  assert.ok(payload.reference.search.length >= 20 && payload.reference.rec.length >= 20, 'the export holds too small a reference sample');
  const { page, backend, errors } = await open(out, which === 'cpu' ? '?backend=cpu' : '');
  try {
    assert.equal(backend.backend, which);
    // The cpu backend is several times slower: every fourth example of the sample.
    const step = which === 'cpu' ? 4 : 1;
    const got = await page.evaluate((step) => {
      type Api = { search(q: string, m: string): R; recommend(h: number[], m: string): R };
      type R = { items: number[]; scores: number[]; milliseconds: number };
      const w = window as unknown as { sidDemo: Api; SID_DEMO: DemoPayload };
      return {
        search: w.SID_DEMO.reference.search.filter((_, i) => i % step === 0).map((r) => w.sidDemo.search(r.query!, r.mode)),
        rec: w.SID_DEMO.reference.rec.filter((_, i) => i % step === 0).map((r) => w.sidDemo.recommend(w.SID_DEMO.users[r.user!].history, r.mode)),
      };
    }, step);
    let maxDiff = 0;
    let ms = 0;
    for (const task of ['search', 'rec'] as const) {
      const wanted = payload.reference[task].filter((_, i) => i % step === 0);
      assert.equal(got[task].length, wanted.length);
      wanted.forEach((want, i) => {
        const g = got[task][i];
        const what = `${task} ${want.mode} ${task === 'search' ? JSON.stringify(want.query) : `user ${payload.users[want.user!].user}`}`;
        assert.ok(want.items.length > 0, `${what}: Node decoded nothing`);
        assert.deepEqual(g.items, want.items, `${what}: ranked items differ`);
        g.scores.forEach((s, k) => {
          maxDiff = Math.max(maxDiff, Math.abs(s - want.scores[k]));
          assert.ok(Math.abs(s - want.scores[k]) <= 1e-3, `${what}: score of rank ${k + 1} is ${s}, Node's ${want.scores[k]}`);
        });
        ms += g.milliseconds;
      });
    }
    const n = got.search.length + got.rec.length;
    t.diagnostic(`${which}: ${n} decodings equal Node's; largest score difference ${maxDiff.toExponential(2)}; ${(ms / n).toFixed(1)} ms per decoding in the page`);
    assert.deepEqual(errors, []);
  } finally {
    await page.context().close();
  }
});

test('a hostile title is shown as text, never run as markup', { skip, timeout: 180_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-demo-hostile-'));
  try {
    for (const f of fs.readdirSync(out)) fs.copyFileSync(path.join(out, f), path.join(dir, f));
    const payload = readPayload(out);
    // The page decodes its first sample query on load: make that query's top item hostile.
    const top = payload.reference.search.find((r) => r.mode === payload.decode.chosen && r.query === payload.queries[0])!.items[0];
    payload.items[top] = { ...payload.items[top], title: HOSTILE, genres: ['<b>bold</b>'] };
    payload.queries[1] = `<script>window.__pwned = 2</script>`;
    fs.writeFileSync(path.join(dir, DEMO_DATA_FILE), `window.SID_DEMO = ${JSON.stringify(payload)};\n`);
    const { page, errors } = await open(dir);
    try {
      await page.fill('#title-search', 'img src');
      const state = await page.evaluate(() => ({
        pwned: (window as unknown as { __pwned?: number }).__pwned,
        imgs: document.querySelectorAll('img').length,
        bold: document.querySelectorAll('#results b').length,
        firstRow: document.querySelector('#results tbody tr')?.textContent ?? '',
        titleList: document.getElementById('title-results')!.textContent,
        chips: document.getElementById('sample-queries')!.textContent,
      }));
      assert.equal(state.pwned, undefined);
      assert.equal(state.imgs, 0);
      assert.equal(state.bold, 0);
      assert.ok(state.firstRow.includes(HOSTILE), `first row shows ${JSON.stringify(state.firstRow)}`);
      assert.ok(state.firstRow.includes('<b>bold</b>'));
      assert.ok(state.titleList?.includes(HOSTILE));
      assert.ok(state.chips?.includes('<script>window.__pwned = 2</script>'));
      assert.deepEqual(errors, []);
    } finally {
      await page.context().close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
