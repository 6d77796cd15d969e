import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../lib/backend';
import { plantedData } from './helpers/plantedData';
import { trainBiEncoder, type BiEncoderOptions } from '../lib/embed/biencoder';
import { buildCfEmbeddings, interactionsFromSequences, trainAls } from '../lib/embed/cf';
import { buildEmbeddings, buildSeparate, EMBEDDING_STRATEGIES } from '../lib/embed/index';
import { getProfile } from '../lib/pipeline/profiles';
import { fusedConcat, fusedSvd } from '../lib/embed/fusion';
import { evaluateRetrieval } from '../lib/eval/retrieval';
import { selectTopK, topKCosine, userVectors } from '../lib/embed/denseRanking';
import { TextTower } from '../lib/embed/textTower';
import { Rng } from '../lib/util/random';

process.env.SID_QUIET = '1';
const data = plantedData({ numItems: 160, users: 240, seed: 7 });
const small: BiEncoderOptions = { dim: 32, hashing: { buckets: 4096 }, batchSize: 64, epochs: 6, stepsPerEpoch: 25, validExamples: 160, seed: 3 };

before(async () => {
  await initBackend({ threads: 1 });
});

const r10 = (x: { overall: Record<string, { mean: number }> } | null) => x!.overall['recall@10'].mean;

test('search objective lifts search recall far above random; rec objective lifts rec recall', async () => {
  const random = 10 / data.dataset.items.length;
  const search = await trainBiEncoder(data, 'search', small);
  const rs = await evaluateRetrieval(search, data, { bootstrapIterations: 50 });
  assert.ok(r10(rs.search) > 8 * random, `search R@10 ${r10(rs.search)} vs random ${random}`);
  // Each test query's stored rank gives back the summary's Recall@10 and Recall@30.
  const ranks = rs.searchRanks!;
  assert.equal(ranks.length, data.queries.test.length);
  for (const k of [10, 30]) assert.ok(Math.abs(ranks.filter((r) => r >= 0 && r < k).length / ranks.length - rs.search!.overall[`recall@${k}`].mean) < 1e-12);
  const rec = await trainBiEncoder(data, 'rec', small);
  const rr = await evaluateRetrieval(rec, data, { bootstrapIterations: 50 });
  assert.ok(r10(rr.rec) > 5 * random, `rec R@10 ${r10(rr.rec)} vs random ${random}`);
  // Each objective is what lifts its own task: the planted aliases are invisible to the rec objective.
  assert.ok(r10(rs.search) > 3 * r10(rr.search), 'search objective beats rec objective on search');
  assert.ok(r10(rr.rec) > 2 * r10(rs.rec), 'rec objective beats search objective on rec');
  const info = search.info as { epochs: Array<{ validSearch: number }>; bestEpoch: number; stepSeconds: number; seconds: number };
  assert.ok(info.epochs[info.bestEpoch].validSearch > info.epochs[0].validSearch, 'validation improved over the untrained tower');
  // The steps' own seconds (what a smoke run's cost per step comes from) leave validation out.
  assert.ok(info.stepSeconds > 0 && info.stepSeconds < info.seconds, `step seconds ${info.stepSeconds} of ${info.seconds}`);
});

test('multi-task training serves both tasks; same seed gives the same vectors', async () => {
  const random = 10 / data.dataset.items.length;
  const a = await trainBiEncoder(data, 'multitask', { ...small, epochs: 3 });
  const b = await trainBiEncoder(data, 'multitask', { ...small, epochs: 3 });
  assert.deepEqual(Array.from(a.vectors), Array.from(b.vectors));
  const r = await evaluateRetrieval(a, data, { bootstrapIterations: 50 });
  assert.ok(r10(r.search) > 5 * random && r10(r.rec) > 3 * random, `multitask search ${r10(r.search)} rec ${r10(r.rec)}`);
  const c = await trainBiEncoder(data, 'multitask', { ...small, epochs: 1, batchMix: 'mixed', seed: 4 });
  assert.notDeepEqual(Array.from(c.vectors.slice(0, 32)), Array.from(a.vectors.slice(0, 32)));
  await assert.rejects(trainBiEncoder(data, 'multitask', { ...small, batchMix: 'both' as never }), /batchMix must be 'alternating' or 'mixed'/);
});

test('no tensor leak across training steps (sparse and dense table updates)', () => {
  const rng = new Rng(8);
  const mk = (n: number, per: number, vocab: number) => ({
    offsets: Int32Array.from({ length: n + 1 }, (_, i) => i * per),
    ids: Int32Array.from({ length: n * per }, () => rng.int(vocab)),
    weights: new Float32Array(n * per).fill(1 / per),
  });
  for (const tableUpdate of ['sparse', 'dense'] as const) {
    const tower = new TextTower({ rows: 500, dim: 16, tableUpdate, seed: 1 });
    const batch = { anchors: mk(32, 5, 500), positives: mk(32, 5, 500), keysA: null, keysP: Int32Array.from({ length: 32 }, (_, i) => i) };
    tower.trainStep(batch); // optimizer state is created on the first step
    const n0 = tf.memory().numTensors;
    const losses: number[] = [];
    for (let s = 0; s < 15; s++) losses.push(tower.trainStep(batch));
    tower.encode(batch.anchors);
    assert.equal(tf.memory().numTensors, n0, `${tableUpdate}: tensors stable across steps`);
    assert.ok(losses[14] < losses[0], `${tableUpdate}: loss decreases on a fixed batch (${losses[0]} -> ${losses[14]})`);
    tower.dispose();
  }
});

test('sparse and dense table updates follow the same trajectory', () => {
  const rng = new Rng(9);
  const mk = (n: number, per: number, vocab: number) => ({
    offsets: Int32Array.from({ length: n + 1 }, (_, i) => i * per),
    ids: Int32Array.from({ length: n * per }, () => rng.int(vocab)),
    weights: new Float32Array(n * per).fill(1 / per),
  });
  const batch = { anchors: mk(16, 4, 50), positives: mk(16, 4, 50), keysA: null, keysP: Int32Array.from({ length: 16 }, (_, i) => i) };
  const s = new TextTower({ rows: 50, dim: 8, tableUpdate: 'sparse', seed: 2 });
  const d = new TextTower({ rows: 50, dim: 8, tableUpdate: 'dense', seed: 2 });
  // With every row touched, lazy Adam equals dense Adam; here some rows are untouched, where dense
  // Adam also leaves them in place on the first steps (zero gradient, zero moments).
  for (let i = 0; i < 3; i++) {
    const ls = s.trainStep(batch);
    const ld = d.trainStep(batch);
    assert.ok(Math.abs(ls - ld) < 1e-3, `step ${i}: loss ${ls} vs ${ld}`);
  }
  const es = s.encode(batch.anchors);
  const ed = d.encode(batch.anchors);
  for (let i = 0; i < es.length; i++) assert.ok(Math.abs(es[i] - ed[i]) < 2e-3);
  s.dispose();
  d.dispose();
});

test('implicit ALS: objective decreases, rec recall far above random, deterministic', () => {
  const x = interactionsFromSequences(data.rec.train.map((s) => s.items), data.dataset.items.length);
  const f = trainAls(x, { dim: 16, iterations: 6, seed: 2 });
  for (let i = 1; i < f.loss.length; i++) assert.ok(f.loss[i] <= f.loss[i - 1] + 1e-6 * Math.abs(f.loss[0]), `sweep ${i}: ${f.loss[i]} > ${f.loss[i - 1]}`);
  const m = buildCfEmbeddings(data, { dim: 16, iterations: 6, seed: 2 });
  const m2 = buildCfEmbeddings(data, { dim: 16, iterations: 6, seed: 2 });
  assert.deepEqual(Array.from(m.vectors), Array.from(m2.vectors));
  assert.equal(m.encodeQueries, undefined);
  return evaluateRetrieval(m, data, { bootstrapIterations: 50 }).then((r) => {
    assert.equal(r.search, null);
    assert.match(r.searchMissing!, /no text side/);
    assert.ok(r10(r.rec) > 5 * (10 / data.dataset.items.length), `cf rec R@10 ${r10(r.rec)}`);
  });
});

test('fusion: concat and SVD shapes, norms and query encoders', async () => {
  const s = await trainBiEncoder(data, 'search', { ...small, epochs: 2 });
  const r = buildCfEmbeddings(data, { dim: 16, iterations: 4 });
  const c = fusedConcat(s, r);
  assert.equal(c.dim, 48);
  const n0 = c.vectors.slice(0, 32).reduce((a, x) => a + x * x, 0);
  const n1 = c.vectors.slice(32, 48).reduce((a, x) => a + x * x, 0);
  assert.ok(Math.abs(n0 - 1) < 1e-4 && Math.abs(n1 - 1) < 1e-4);
  const q = c.encodeQueries!(['hello world']);
  assert.equal(q.length, 48);
  assert.deepEqual(Array.from(q.slice(32)), new Array(16).fill(0), 'CF side has no query part');
  const v = fusedSvd(s, r);
  assert.equal(v.dim, 16);
  assert.equal(v.encodeQueries!(['a', 'b']).length, 32);
  assert.ok((v.info.retainedEnergy as number) > 0 && (v.info.retainedEnergy as number) <= 1 + 1e-9);
  // Search through the fused space still beats random clearly (the text side carries the query).
  const ev = await evaluateRetrieval(v, data, { bootstrapIterations: 20 });
  assert.ok(r10(ev.search) > 3 * (10 / data.dataset.items.length));
});

test('buildEmbeddings: every strategy on the tiny profile gives finite [N, dim] vectors; bad strategy rejected', async () => {
  const opts = { ...getProfile('tiny').embed, seed: 5 };
  opts.biencoder = { ...opts.biencoder, epochs: 1, maxStepsPerEpoch: 5 };
  const sep = await buildSeparate(data, opts);
  for (const strategy of EMBEDDING_STRATEGIES) {
    const m = await buildEmbeddings(data, strategy, { ...opts, parts: sep });
    assert.equal(m.vectors.length, m.dim * data.dataset.items.length, strategy);
    assert.equal(m.strategy, strategy);
  }
  await assert.rejects(buildEmbeddings(data, 'nope' as never), /strategy must be one of/);
});

test('retrieval helpers: top-k selection, exclusion, user vectors and bucket split', async () => {
  assert.deepEqual(Array.from(selectTopK(Float32Array.from([0.1, 0.9, -Infinity, 0.5, 0.9]), 3)), [1, 4, 3]);
  const items = Float32Array.from([1, 0, 0, 1, 0.7, 0.7]);
  const top = topKCosine(Float32Array.from([2, 0.1]), items, 2, 3, () => [0]);
  assert.deepEqual(Array.from(top[0]), [2, 1]);
  const uv = userVectors(items, 2, [{ user: 0, history: Int32Array.from([0, 1]), target: 2 }], { historyLength: 1 });
  assert.deepEqual(Array.from(uv), [0, 1], 'only the last item with H=1');
  const cf = buildCfEmbeddings(data, { dim: 8, iterations: 2 });
  const n0 = tf.memory().numTensors;
  const rep = await evaluateRetrieval(cf, data, { bootstrapIterations: 20, ks: [5] });
  assert.equal(tf.memory().numTensors, n0, 'evaluation releases its tensors');
  assert.deepEqual(Object.keys(rep.rec.byBucket), data.buckets.names);
  const n = Object.values(rep.rec.byBucket).reduce((s, m) => s + m['recall@5'].n, 0);
  assert.equal(n, rep.rec.n);
});
