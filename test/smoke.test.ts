/**
 * The smoke budget (lib/pipeline/budget.ts), the stage meter and the smoke run (lib/pipeline/smoke.ts):
 * the budget keeps every size and cuts only repeated work, exactly in proportion to its level; the
 * work counts match what the stages really do; the fit recovers a known cost; the meter's peak RSS is
 * the stage's own; and a smoke run of tiny measures every stage and leaves no cache behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { prepareData } from '../lib/data/index';
import { examplesPerFullEpoch, selectProfile, selectorArgs, smokeProfile, stageWork } from '../lib/pipeline/budget';
import { getProfile } from '../lib/pipeline/profiles';
import { linearCost, removeAbandonedCaches, runSmoke } from '../lib/pipeline/smoke';
import { meterStage } from '../lib/pipeline/stageMeter';
import { initBackend } from '../lib/backend/index';
import { buildIdVocabulary } from '../lib/quantize/vocabulary';
import { makeSemanticIds } from '../lib/quantize/ids';
import { recTrainingWindows } from '../lib/generate/jointModel';
import { PromptEncoder } from '../lib/generate/prompts';
import { WordTokenizer } from '../lib/generate/textTokenizer';
import { projectRoot } from '../lib/util/fs';

const tiny = getProfile('tiny');

test('linearCost recovers a fixed cost and a cost per unit, and never goes below zero', () => {
  assert.deepEqual(linearCost([40, 80], [3, 5]), { fixed: 1, perUnit: 0.05 });
  // A smaller second time (noise) gives no negative slope: the fixed cost is the larger time.
  assert.deepEqual(linearCost([1, 2], [5, 4]), { fixed: 5, perUnit: 0 });
  // A negative intercept becomes zero, with all of the larger run's time per unit.
  assert.deepEqual(linearCost([10, 20], [1, 4]), { fixed: 0, perUnit: 0.2 });
  assert.deepEqual(linearCost([3, 3], [2, 6]), { fixed: 6, perUnit: 0 });
});

test('the smoke budget keeps the data and every size, and cuts the repeated work in proportion to its level', () => {
  const data = prepareData(tiny.data);
  const [one, two] = [smokeProfile(tiny, 1), smokeProfile(tiny, 2)];
  for (const p of [one, two]) {
    assert.equal(p.budget, 'smoke');
    assert.deepEqual(p.data, tiny.data);
    assert.deepEqual(p.ids, tiny.ids);
    assert.deepEqual(p.generate.train.model, tiny.generate.train.model);
    assert.equal(p.embed.biencoder?.dim, tiny.embed.biencoder?.dim);
    assert.equal(p.generate.replicates, 1);
    assert.equal(p.generate.train.patience, undefined);
  }
  const [w1, w2] = [stageWork(one, data), stageWork(two, data)];
  // Every unit the stage kinds and the training name, each counted and doubled by the second level.
  assert.deepEqual(Object.keys(w1).sort(), ['alsIterations', 'evalDecodes', 'multitaskSteps', 'sasrecEpochs', 'searchSteps', 'trainExamples', 'validationDecodes']);
  for (const k of Object.keys(w1)) {
    assert.ok(w1[k] > 0, `${k} is counted`);
    assert.equal(w2[k], 2 * w1[k], `${k} doubles from level 1 to 2`);
  }
  // The full profile's counts, by hand: 8 epochs of 3,000 examples; 6 epochs of at most 40 steps.
  const full = stageWork(tiny, data);
  assert.equal(full.trainExamples, 8 * 3000);
  assert.equal(full.multitaskSteps, 6 * 40);
  assert.equal(full.searchSteps, 6 * Math.min(40, Math.ceil(data.queries.train.length / 64)));
  assert.equal(full.alsIterations, 8);
  const e = tiny.generate.eval;
  const sel = e.selectionLimit!;
  assert.equal(full.evalDecodes, 2 * (Math.min(sel, data.queries.valid.length) + Math.min(sel, data.rec.valid.length)) + Math.min(e.limit!, data.queries.test.length) + Math.min(e.limit!, data.rec.test.length));
  assert.equal(full.validationDecodes, 8 * (Math.min(60, data.queries.valid.length) + Math.min(60, data.rec.valid.length)));
  // Unknown budgets, and a data folder for a profile that generates its data, are refused by name.
  assert.throws(() => selectProfile({ name: 'tiny', budget: 'huge' }), /--budget must be one of full, smoke, got "huge"/);
  assert.throws(() => selectProfile({ name: 'tiny', datasetDir: os.tmpdir() }), /--dataset-dir: profile "tiny" generates its data/);
  assert.throws(() => selectProfile({ name: 'small', datasetDir: os.tmpdir() }), /no movies\.csv there/);
  assert.deepEqual(selectorArgs(selectProfile({ name: 'tiny', budget: 'smoke' })), ['--profile', 'tiny', '--budget', 'smoke']);
});

test('examplesPerFullEpoch counts every search pair and rec window the trainer builds', () => {
  const data = prepareData(tiny.data);
  const codes = new Int32Array(data.dataset.items.length * 2).map((_, i) => (i % 2 ? i % 7 : (i >> 1) % 5));
  const ids = makeSemanticIds(codes, data.dataset.items.length, [5, 7], { collisions: 'extra-level' });
  const vocab = buildIdVocabulary([{ name: 'shared', ids }]);
  const space = vocab.spaces[0];
  const prompts = new PromptEncoder(WordTokenizer.build(data.queries.train.map((q) => q.text)), vocab.size, {});
  for (const cap of [Infinity, 3]) {
    const windows = recTrainingWindows(prompts, space, data.rec.train, cap).length;
    assert.equal(examplesPerFullEpoch(data, cap), data.queries.train.length + windows);
  }
});

test('the stage meter reports each stage its own peak RSS, and the artifact it wrote', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-meter-'));
  try {
    const big = await meterStage('big', async () => {
      const b = Buffer.alloc(256 * 2 ** 20, 1);
      fs.writeFileSync(path.join(dir, 'a.bin'), b.subarray(0, 4096));
      return b[12345];
    }, () => [dir]);
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 50));
    const small = await meterStage('small', async () => 1);
    assert.equal(big.measurement.artifactBytes, 4096);
    assert.equal(small.measurement.artifactBytes, 0);
    if (big.measurement.peakRssScope === 'stage') {
      assert.ok(big.measurement.peakRssBytes - small.measurement.peakRssBytes > 128 * 2 ** 20, `peaks ${big.measurement.peakRssBytes} and ${small.measurement.peakRssBytes}`);
    }
    assert.ok(big.measurement.seconds > 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a smoke run of tiny measures every stage at two levels, extrapolates the full run and leaves no cache', async () => {
  await initBackend();
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-smoke-'));
  try {
    // A folder that does not exist yet (as the first size of a sweep writes into).
    const dir = path.join(out, 'items-400');
    const logged: string[] = [];
    const r = await runSmoke(tiny, { outDir: dir, tables: ['shared-vs-separate'], jobs: [1, 2, 4], log: (l) => logged.push(l) });
    // One unmeasured training runs before level 1's, so that neither level pays the first training's costs.
    assert.equal(logged.filter((l) => /warm-up training/.test(l)).length, 1, logged.join('\n'));
    assert.ok(logged.findIndex((l) => /warm-up training/.test(l)) < logged.findIndex((l) => /level 1 training/.test(l)));
    const names = r.stages.map((s) => s.stage);
    for (const s of ['data', 'embeddings search', 'embeddings rec', 'embeddings multitask', 'IDs multitask/rq-kmeans', 'IDs search/rq-kmeans', 'IDs rec/rq-kmeans', 'baselines', 'SASRec', 'training (one row, one seed)']) {
      assert.ok(names.includes(s), `${s} measured (got ${names.join(', ')})`);
    }
    const search = r.stages.find((s) => s.stage === 'embeddings search')!;
    assert.equal(search.unit, 'searchSteps');
    assert.equal(search.work!.smoke[1], 2 * search.work!.smoke[0]);
    assert.ok(search.work!.full > search.work!.smoke[1]);
    // Its per-step cost comes from the training loop's own seconds, the rest of the stage is fixed.
    const [la, lb] = search.loopSeconds!;
    assert.ok(la > 0 && lb > 0 && la <= search.levels[0].seconds && lb <= search.levels[1].seconds, `loop seconds ${la}, ${lb}`);
    const fit = linearCost(search.work!.smoke, [la, lb]);
    const loop = fit.perUnit > 0 ? fit : { fixed: 0, perUnit: lb / search.work!.smoke[1] };
    const rest = (search.levels[0].seconds - la + search.levels[1].seconds - lb) / 2;
    assert.ok(Math.abs(search.fullSeconds - (Math.max(0, rest) + loop.fixed + loop.perUnit * search.work!.full)) < 1e-9);
    assert.ok(r.stages.find((s) => s.stage === 'embeddings rec')!.loopSeconds, 'ALS reports its sweeps\' seconds');
    // Level 2 reruns what the budget scales and reuses level 1 for the rest.
    assert.notDeepEqual(search.levels[1], search.levels[0]);
    for (const name of ['IDs search/rq-kmeans', 'IDs rec/rq-kmeans', 'baselines', 'data']) {
      const s = r.stages.find((x) => x.stage === name)!;
      assert.deepEqual(s.levels[1], s.levels[0], `${name} measured once`);
      assert.equal(s.fullSeconds, s.levels[0].seconds);
    }
    const trained = r.stages.find((x) => x.stage === 'IDs multitask/rq-kmeans')!;
    assert.notDeepEqual(trained.levels[1], trained.levels[0], 'the training\'s ID set is built again at level 2');
    const training = r.stages.at(-1)!;
    // The shared-vs-separate table has 3 rows, each trained twice on tiny.
    assert.equal(training.runs, 3 * tiny.generate.replicates);
    assert.equal(training.work!.full, 8 * 3000);
    // Its rate comes from its epochs' own seconds, a part of each training stage's time.
    const [ta, tb] = training.loopSeconds!;
    assert.ok(ta > 0 && tb > 0 && ta < training.levels[0].seconds && tb < training.levels[1].seconds, `epoch seconds ${ta}, ${tb}`);
    assert.ok(training.fullSeconds > training.levels[1].seconds, 'the full training costs more than the smoke one');
    for (const s of r.stages) for (const l of s.levels) assert.ok(l.peakRssBytes > 0 && l.seconds >= 0);
    assert.ok(r.fullRunSecondsWithJobs[0].seconds >= r.fullRunSecondsWithJobs[1].seconds && r.fullRunSecondsWithJobs[1].seconds >= r.fullRunSecondsWithJobs[2].seconds);
    assert.ok(Math.abs(r.fullRunSecondsWithJobs[0].seconds - r.fullRunSeconds) < 1e-6 * r.fullRunSeconds + 1e-9);
    // The worker totals say how many threads each worker is assumed to have: the ones measured on.
    const { threads } = await initBackend();
    assert.ok(r.fullRunSecondsWithJobs.every((j) => j.threads === threads));
    assert.deepEqual(fs.readdirSync(dir).sort(), ['stages.json', 'stages.md']);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'stages.json'), 'utf8')).stages.length, r.stages.length);
    assert.match(fs.readFileSync(path.join(dir, 'stages.md'), 'utf8'), /\| training \(one row, one seed\) \| 6 \|/);
    assert.match(fs.readFileSync(path.join(dir, 'stages.md'), 'utf8'), new RegExp(`with 2 workers of ${threads} thread`));
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('a smoke run removes the private caches of runs that were killed, and only those', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-smoke-'));
  try {
    // The id of a process that has exited.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    for (const name of [`.smoke-cache-${dead}-a1b2c3`, `.smoke-cache-${process.pid}-d4e5f6`, '.smoke-cache-notapid', 'stages.json']) {
      fs.mkdirSync(path.join(out, name, 'level-1'), { recursive: true });
    }
    assert.deepEqual(removeAbandonedCaches(out), [`.smoke-cache-${dead}-a1b2c3`]);
    assert.deepEqual(fs.readdirSync(out).sort(), ['.smoke-cache-notapid', `.smoke-cache-${process.pid}-d4e5f6`, 'stages.json'].sort());
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('sid reproduce --budget smoke refuses options that do not apply, naming them', () => {
  const res = spawnSync(process.execPath, [path.join(projectRoot(), 'bin', 'sid.mjs'), 'reproduce', '--profile', 'tiny', '--budget', 'smoke', '--jobs', '2'], { encoding: 'utf8', timeout: 60_000 });
  assert.notEqual(res.status, 0);
  assert.match(res.stderr, /--jobs does not apply to --budget smoke/);
  const bad = spawnSync(process.execPath, [path.join(projectRoot(), 'bin', 'sid.mjs'), 'reproduce', '--profile', 'tiny', '--budget', 'tiny'], { encoding: 'utf8', timeout: 60_000 });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /--budget must be one of full, smoke, got "tiny"/);
});

test('--queries: the profile reads that file, its workers and notebooks are told of it, its reports get their own folder, and its key follows the content', async () => {
  const { createContext, dataStage } = await import('../lib/pipeline/stages');
  const { dataSourceEnvironment, reportName } = await import('../lib/pipeline/profiles');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-queries-'));
  try {
    const items = prepareData(tiny.data).dataset.items;
    const lines = items.slice(0, 40).flatMap((it, i) => [0, 1, 2, 3].map((j) => JSON.stringify({ item_id: it.id, style: j % 2 ? 'plot' : 'title', query: `query ${j} about item ${i}` }))).join('\n');
    const [a, b] = [path.join(dir, 'my set.jsonl'), path.join(dir, 'copy.jsonl')];
    fs.writeFileSync(a, lines + '\n');
    fs.writeFileSync(b, lines + '\n');
    const p = selectProfile({ name: 'tiny', queries: a });
    assert.equal(p.data.queryFile, a);
    assert.equal(reportName(p), 'tiny-my-set');
    assert.equal(reportName(tiny), 'tiny');
    assert.deepEqual(selectorArgs(p), ['--profile', 'tiny', '--queries', a]);
    assert.deepEqual(dataSourceEnvironment(p), { SID_QUERIES: a });
    assert.throws(() => selectProfile({ name: 'tiny', queries: path.join(dir, 'none.jsonl') }), /--queries .*none\.jsonl: no such file/);
    // A notebook's kernel gets the profile from the environment the run passes it.
    const saved = process.env.SID_QUERIES;
    process.env.SID_QUERIES = a;
    try {
      assert.equal(getProfile('tiny').data.queryFile, a);
    } finally {
      if (saved === undefined) delete process.env.SID_QUERIES;
      else process.env.SID_QUERIES = saved;
    }
    // The same queries under another name key the same data; another content keys other data.
    const keyOf = async (file: string) => (await dataStage(createContext(selectProfile({ name: 'tiny', queries: file })))).key;
    const [ka, kb] = [await keyOf(a), await keyOf(b)];
    assert.equal(ka, kb);
    const prepared = (await dataStage(createContext(p))).data;
    assert.equal(prepared.queries.train.length + prepared.queries.valid.length + prepared.queries.test.length, 160);
    fs.appendFileSync(b, JSON.stringify({ item_id: items[0].id, style: 'plot', query: 'one more query' }) + '\n');
    assert.notEqual(await keyOf(b), ka);
    assert.notEqual((await dataStage(createContext(tiny))).key, ka);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
