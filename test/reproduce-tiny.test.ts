/**
 * End to end on the `tiny` profile (synthetic catalogue): `sid reproduce` builds every stage in
 * worker processes, writes results.json / results.md, and executes every notebook headlessly. The
 * assertions read results.json: every table complete, values in range, and, since the synthetic
 * catalogue has planted structure, the multi-task Semantic IDs clearly above random on both tasks.
 * The run is first interrupted in its notebook step (test/signals.test.ts signals the other steps).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ResultsDocument } from '../lib/pipeline/collect';
import { TABLES, TABLE_NAMES } from '../lib/pipeline/tables';
import { projectRoot } from '../lib/util/fs';
import { comparableResults, sidFromShell, stopAndCheck, until } from './helpers/stopRuns';

const root = projectRoot();
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-reproduce-'));
// CI starts from an empty cache; a developer's run reuses the project cache unless SID_CACHE_DIR is set.
const cacheDir = process.env.SID_TEST_CACHE_DIR ?? path.join(root, '.cache', 'artifacts-test');

test('sid reproduce --profile tiny writes complete tables and executed notebooks; SIGINT in the notebook step stops it, the rerun finishes', { timeout: 60 * 60 * 1000 }, async () => {
  const args = ['reproduce', '--profile', 'tiny', '--jobs', '2', '--out', out];
  const env = { SID_CACHE_DIR: cacheDir };
  // Interrupted once the notebooks run (the tables are written by then): no kernel starts after the
  // signal, no notebook's report or temporary folder is left.
  const first = sidFromShell(args, env);
  await until(first, 'the notebook step', () => /\[notebooks\] \d+\/\d+ \S+: running/.test(first.output()));
  await stopAndCheck(first, 'SIGINT');
  assert.deepEqual(fs.readdirSync(out).filter((f) => f.startsWith('.run-') || /^0\d_.*\.(html|ipynb)$/.test(f)), []);
  const interrupted = comparableResults(path.join(out, 'results.json'));

  const rerun = sidFromShell(args, env);
  const code = await rerun.exited;
  if (code !== 0) assert.fail(`reproduce exited with ${code}:\n${rerun.output().split('\n').slice(-40).join('\n')}`);
  assert.match(rerun.output(), /\[reproduce\] \d+\/\d+ experiments cached; 0 to train/);
  assert.deepEqual(comparableResults(path.join(out, 'results.json')), interrupted);
  const doc: ResultsDocument = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
  assert.equal(doc.profile, 'tiny');
  assert.ok(fs.readFileSync(path.join(out, 'results.md'), 'utf8').includes('## task-tradeoff'));

  // Every table row present for both tasks, overall, at Recall@30 and NDCG@10.
  for (const t of TABLE_NAMES) {
    for (const r of TABLES[t]) {
      for (const task of ['search', 'rec']) {
        for (const metric of ['recall@30', 'ndcg@10']) {
          const row = doc.rows.find((x) => x.table === t && x.method === r.method && x.task === task && x.metric === metric && x.bucket === 'all');
          assert.ok(row, `missing ${t} / ${r.method} / ${task} / ${metric}`);
        }
      }
    }
  }
  // Head/torso rows carry every bucket.
  assert.ok(doc.rows.some((r) => r.table === 'head-torso' && r.bucket === 'head'));
  assert.ok(doc.rows.some((r) => r.table === 'head-torso' && r.bucket === 'torso'));
  for (const r of doc.rows) {
    assert.ok(r.value >= 0 && r.value <= 1, `${r.table}/${r.method}/${r.task}/${r.metric} value ${r.value} out of [0, 1]`);
    if (r.n > 0) assert.ok(r.lo <= r.value + 1e-12 && r.value <= r.hi + 1e-12, `interval of ${r.method} does not contain its value`);
  }

  // Planted structure: multi-task IDs clearly above random (K / items) on both tasks.
  const random = 30 / doc.counts.items;
  for (const task of ['search', 'rec'] as const) {
    const row = doc.rows.find((x) => x.table === 'task-tradeoff' && x.method === 'Multi-task' && x.task === task && x.metric === 'recall@30' && x.bucket === 'all')!;
    assert.ok(row.lo > random, `multi-task ${task} Recall@30 ${row.value.toFixed(3)} [${row.lo.toFixed(3)}, ${row.hi.toFixed(3)}] not above random ${random.toFixed(3)}`);
  }

  // Seeds: every generative overall row is the mean of the profile's replicates; each training is listed.
  const replicates = 2;
  for (const r of doc.rows.filter((x) => x.model === 'generative' && x.bucket === 'all')) {
    assert.equal(r.replicates?.length, replicates, `${r.table}/${r.method}/${r.task}/${r.metric} has ${r.replicates?.length} replicate values`);
    const mean = r.replicates!.reduce((a, b) => a + b, 0) / replicates;
    assert.ok(Math.abs(mean - r.value) < 1e-9, `${r.method}: value ${r.value} is not the mean of its replicates ${r.replicates}`);
  }
  assert.ok(doc.experiments.some((e) => e.id === 'multitask/rq-kmeans/shared/r1' && e.replicate === 1));
  for (const e of doc.experiments) assert.ok(e.stop === 'cap' || e.stop === 'plateau', `${e.id} stop ${e.stop}`);
  // Paired comparisons: each table's reference row against every other row, on both tasks.
  for (const [t, ref] of [['task-tradeoff', 'Multi-task'], ['quantizers', 'RQ-KMeans'], ['shared-vs-separate', 'Multi-task, shared tokens'], ['last-n', 'Multi-task']] as const) {
    const others = TABLES[t].filter((r) => r.method !== ref);
    const got = doc.comparisons.filter((c) => c.table === t);
    assert.equal(got.length, 2 * others.length, `${t}: ${got.length} comparisons`);
    for (const c of got) {
      assert.equal(c.a, ref);
      assert.ok(c.difference.lo <= c.difference.mean + 1e-12 && c.difference.mean <= c.difference.hi + 1e-12);
      const a = doc.rows.find((x) => x.table === t && x.method === c.a && x.task === c.task && x.metric === c.metric && x.bucket === 'all')!;
      const b = doc.rows.find((x) => x.table === t && x.method === c.b && x.task === c.task && x.metric === c.metric && x.bucket === 'all')!;
      assert.ok(Math.abs(c.difference.mean - (a.value - b.value)) < 1e-9, `${t}: ${c.a} - ${c.b} on ${c.task}`);
    }
  }
  // The leave-last-N-out table: several rec test examples per user, with its own baselines.
  assert.ok(doc.lastN && doc.lastN.targets === 3 && doc.lastN.recTest > 2 * doc.counts.recTest, JSON.stringify(doc.lastN));
  const lastRec = doc.rows.find((x) => x.table === 'last-n' && x.method === 'Multi-task' && x.task === 'rec' && x.metric === 'recall@30' && x.bucket === 'all')!;
  assert.equal(lastRec.n, doc.lastN!.recTest);
  for (const m of ['Popularity', 'Co-occurrence', 'SASRec']) {
    assert.ok(doc.rows.some((x) => x.table === 'last-n' && x.method === m && x.model === 'baseline' && x.n === doc.lastN!.recTest), `last-n baseline ${m}`);
  }

  // Every notebook executed, with an HTML report and an index.
  const notebooks = fs.readdirSync(path.join(root, 'notebooks')).filter((f) => /^0\d_.*\.ipynb$/.test(f));
  assert.ok(notebooks.length >= 9, `expected notebooks 00-08, found ${notebooks.join(', ')}`);
  for (const nb of notebooks) {
    const name = nb.replace(/\.ipynb$/, '');
    const executed = JSON.parse(fs.readFileSync(path.join(out, `${name}.ipynb`), 'utf8'));
    const errors = executed.cells.flatMap((c: { outputs?: { output_type: string }[] }) => (c.outputs ?? []).filter((o) => o.output_type === 'error'));
    assert.equal(errors.length, 0, `${name} has error outputs`);
    assert.ok(fs.statSync(path.join(out, `${name}.html`)).size > 1000, `${name}.html missing or empty`);
  }
  const index = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
  for (const nb of notebooks) assert.ok(index.includes(nb.replace(/\.ipynb$/, '.html')), `index.html does not link ${nb}`);

  // The live demo of the multi-task model (test/demo-browser.test.ts opens it in Chromium).
  assert.ok(index.includes('href="demo.html"'), 'index.html does not link demo.html');
  for (const f of ['demo.html', 'demo-data.js', 'demo-runtime.js']) assert.ok(fs.statSync(path.join(out, f)).size > 1000, `${f} missing or empty`);
  assert.match(fs.readFileSync(path.join(out, 'demo-data.js'), 'utf8').slice(0, 200), /^window\.SID_DEMO = \{"format":"sid-demo-1","profile":"tiny"/);
});
