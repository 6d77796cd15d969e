/** SASRec: causal masking, history exclusion, and learning a planted next-item rule with early stopping. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../lib/backend';
import { SasRecModel, SASREC_DEFAULTS, leftPadded, sasRecRankings, trainSasRec } from '../lib/baselines/sasrec';
import type { RecExample, UserSequence } from '../lib/types';
import { Rng } from '../lib/util/random';

before(async () => {
  await initBackend();
});

const N = 16;

/** Users walk the cycle 0 -> 1 -> ... -> N-1 -> 0 from a random start: the next item is always +1. */
function cycleData(users: number, len: number, seed: number): { train: UserSequence[]; valid: RecExample[] } {
  const rng = new Rng(seed);
  const train: UserSequence[] = [];
  const valid: RecExample[] = [];
  for (let u = 0; u < users; u++) {
    const start = rng.int(N);
    const items = Int32Array.from({ length: len }, (_, i) => (start + i) % N);
    train.push({ user: u, items, timestamps: Float64Array.from(items, (_, i) => i) });
    valid.push({ user: u, history: items, target: (start + len) % N });
  }
  return { train, valid };
}

test('leftPadded keeps the last maxLen items as ids item + 1, padding with 0', () => {
  const out = new Int32Array(8).fill(9);
  leftPadded([4, 5], 4, out, 0);
  leftPadded([1, 2, 3, 4, 5], 4, out, 4);
  assert.deepEqual([...out], [0, 0, 5, 6, 3, 4, 5, 6]);
});

test('SASRec attention is causal: changing a later item leaves earlier positions unchanged', () => {
  const model = new SasRecModel(N, { ...SASREC_DEFAULTS, maxLen: 6, dim: 8, heads: 2, layers: 2, seed: 3 });
  const a = Int32Array.of(0, 0, 3, 4, 5, 6);
  const b = Int32Array.of(0, 0, 3, 4, 9, 2);
  const ha = model.hidden(a, 1).arraySync()[0];
  const hb = model.hidden(b, 1).arraySync()[0];
  for (let t = 2; t < 4; t++) for (let j = 0; j < 8; j++) assert.ok(Math.abs(ha[t][j] - hb[t][j]) < 1e-5, `position ${t}`);
  assert.ok(ha[5].some((x, j) => Math.abs(x - hb[5][j]) > 1e-4), 'the last position does see the change');
  // Padding is masked: leading pads do not change real positions.
  const c = Int32Array.of(0, 0, 0, 0, 3, 4);
  const d = Int32Array.of(0, 0, 0, 0, 3, 4);
  assert.deepEqual(model.hidden(c, 1).arraySync(), model.hidden(d, 1).arraySync());
  model.dispose();
});

test('SASRec learns a planted next-item rule, stops early on validation, never ranks history items', async () => {
  const { train, valid } = cycleData(60, 6, 1);
  const before = tf.memory().numTensors;
  const r = await trainSasRec(train, valid, N, { maxLen: 6, dim: 16, heads: 2, layers: 1, batchSize: 16, learningRate: 5e-3, maxEpochs: 40, patience: 3, validK: 1, seed: 2 });
  assert.ok(r.validRecall.length === r.epochs && r.epochs <= 40);
  assert.equal(r.validRecall[r.bestEpoch], Math.max(...r.validRecall));
  assert.ok(Math.max(...r.validRecall) >= 0.9, `validation Recall@1 ${r.validRecall.map((x) => x.toFixed(2)).join(' ')}`);
  // Rankings from the kept weights reproduce the best epoch's validation recall.
  const top1 = sasRecRankings(r.model, valid, 1);
  const hit = top1.filter((t, i) => t[0] === valid[i].target).length / valid.length;
  assert.equal(hit, r.validRecall[r.bestEpoch]);
  // History items are excluded even when they score highest.
  const ranked = sasRecRankings(r.model, valid, N - 6);
  ranked.forEach((row, i) => {
    const h = new Set(valid[i].history);
    assert.equal(row.length, N - 6);
    for (const it of row) assert.ok(!h.has(it));
  });
  // Against a full sort of the last position's scores (score descending, ties to the lower item).
  const L = r.model.cfg.maxLen;
  valid.slice(0, 8).forEach((e, i) => {
    const ids = new Int32Array(L);
    leftPadded(e.history, L, ids, 0);
    const scores = tf.tidy(() => r.model.scores(tf.reshape(tf.slice(r.model.hidden(ids, 1), [0, L - 1, 0], [1, 1, r.model.cfg.dim]), [1, r.model.cfg.dim]) as tf.Tensor2D)).dataSync();
    const seen = new Set(e.history);
    const sorted = Array.from({ length: N }, (_, j) => j).filter((j) => !seen.has(j)).sort((x, y) => scores[y] - scores[x] || x - y);
    assert.deepEqual([...ranked[i]], sorted.slice(0, N - 6));
  });
  r.model.dispose();
  assert.ok(tf.memory().numTensors - before < 10, `tensors left: ${tf.memory().numTensors - before}`);
});

test('SASRec dropout: only while training, seeded, the expected rate, and the recipe still learns the planted rule', async () => {
  const model = new SasRecModel(N, { ...SASREC_DEFAULTS, maxLen: 6, dim: 8, heads: 2, layers: 1, dropout: 0.5, seed: 3 });
  const ids = Int32Array.of(0, 0, 3, 4, 5, 6);
  const plain = model.hidden(ids, 1).arraySync();
  // Inference reads no dropout: the same input gives the same states, as does a stream of rate 0.
  assert.deepEqual(model.hidden(ids, 1).arraySync(), plain);
  assert.deepEqual(model.hidden(ids, 1, { rate: 0, nextSeed: () => 1 }).arraySync(), plain);
  // In training the masks follow the seeds: the same seeds give the same states, others differ.
  const seeded = (start: number) => {
    let s = start;
    return model.hidden(ids, 1, { rate: 0.5, nextSeed: () => s++ }).arraySync();
  };
  assert.deepEqual(seeded(10), seeded(10));
  assert.notDeepEqual(seeded(10), seeded(20));
  assert.notDeepEqual(seeded(10), plain);
  model.dispose();
  // tf.dropout as used: about `rate` of the entries zeroed, the kept ones scaled by 1 / (1 - rate).
  const x = tf.ones([4000]);
  const kept = tf.dropout(x, 0.3, undefined, 5).dataSync();
  const zeros = kept.filter((v) => v === 0).length / kept.length;
  assert.ok(Math.abs(zeros - 0.3) < 0.03, `zeroed ${zeros}`);
  assert.ok(kept.every((v) => v === 0 || Math.abs(v - 1 / 0.7) < 1e-5));
  x.dispose();
  // With dropout and the published betas, the planted rule is still learned.
  const { train, valid } = cycleData(60, 6, 1);
  const r = await trainSasRec(train, valid, N, { maxLen: 6, dim: 16, heads: 2, layers: 1, batchSize: 16, learningRate: 5e-3, maxEpochs: 60, patience: 10, validK: 1, dropout: 0.2, beta2: 0.98, seed: 2 });
  assert.ok(Math.max(...r.validRecall) >= 0.9, `validation Recall@1 ${r.validRecall.map((v) => v.toFixed(2)).join(' ')}`);
  // Patience 10: it stops 10 epochs after its best, or at the cap.
  assert.ok(r.epochs === 60 || r.epochs === r.bestEpoch + 11, `${r.epochs} epochs, best ${r.bestEpoch + 1}`);
  r.model.dispose();
});

test('the Adam betas reach the optimizer: another beta2 gives other weights after the same steps', async () => {
  const { train, valid } = cycleData(20, 6, 4);
  const weights = async (beta2: number) => {
    const r = await trainSasRec(train, valid, N, { maxLen: 6, dim: 8, heads: 2, layers: 1, batchSize: 8, learningRate: 5e-3, maxEpochs: 2, patience: 5, validK: 1, beta2, seed: 2 });
    const w = Array.from(r.model.items.dataSync());
    r.model.dispose();
    return w;
  };
  const [a, b, c] = [await weights(0.98), await weights(0.98), await weights(0.999)];
  assert.deepEqual(a, b);
  assert.ok(a.some((v, i) => Math.abs(v - c[i]) > 1e-6));
});

test('the SASRec grid enumerates every setting in order, and an absent axis keeps the base value', async () => {
  const { sasrecGridSettings } = await import('../lib/baselines/sasrec');
  const base = { ...SASREC_DEFAULTS, learningRate: 1e-3, dropout: 0.2, dim: 64 };
  const g = sasrecGridSettings(base, { learningRate: [1e-3, 3e-3], dim: [64, 128] });
  assert.deepEqual(g.map((c) => [c.learningRate, c.dropout, c.dim]), [[1e-3, 0.2, 64], [1e-3, 0.2, 128], [3e-3, 0.2, 64], [3e-3, 0.2, 128]]);
  assert.ok(g.every((c) => c.maxLen === base.maxLen && c.seed === base.seed));
  assert.deepEqual(sasrecGridSettings(base), [base]);
});
