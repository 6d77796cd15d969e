import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../lib/backend';
import { Rng } from '../lib/util/random';
import { embeddingBag, matMulFast } from '../lib/embed/bagOps';
import { SparseEmbeddingTable } from '../lib/embed/sparseTable';
import { TextTower } from '../lib/embed/textTower';
import { buildBags, hashedFeatureIds, resolveHashing, selectBags, type BagBatch } from '../lib/embed/textFeatures';

before(async () => {
  await initBackend({ threads: 1 });
});

function randTensor(rng: Rng, shape: number[]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => rng.normal()), shape);
}

/** Central finite difference of a scalar function of a Float64 vector (computed in float64 in JS). */
function numericGrad(f: (x: Float64Array) => number, x: Float64Array, h = 1e-3): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const o = x[i];
    x[i] = o + h;
    const fp = f(x);
    x[i] = o - h;
    const fm = f(x);
    x[i] = o;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

test('matMulFast: value and gradient match tf.matMul and finite differences', () => {
  const rng = new Rng(1);
  const a = randTensor(rng, [5, 4]) as tf.Tensor2D;
  const b = randTensor(rng, [4, 3]) as tf.Tensor2D;
  const c = randTensor(rng, [5, 3]);
  const before = tf.memory().numTensors;
  const loss = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(matMulFast(x as tf.Tensor2D, y as tf.Tensor2D), c));
  const [ga, gb] = tf.grads(loss)([a, b]);
  const av = Float64Array.from(a.dataSync());
  const bv = Float64Array.from(b.dataSync());
  const cv = c.dataSync();
  const ref = (x: Float64Array, y: Float64Array) => {
    let s = 0;
    for (let i = 0; i < 5; i++) for (let j = 0; j < 3; j++) {
      let m = 0;
      for (let k = 0; k < 4; k++) m += x[i * 4 + k] * y[k * 3 + j];
      s += m * cv[i * 3 + j];
    }
    return s;
  };
  assertClose(ga.dataSync(), numericGrad((x) => ref(x, bv), av), 1e-3, 'dA');
  assertClose(gb.dataSync(), numericGrad((y) => ref(av, y), bv), 1e-3, 'dB');
  const v1 = tf.tidy(() => matMulFast(a, b).dataSync());
  const v2 = tf.tidy(() => tf.matMul(a, b).dataSync());
  assertClose(v1, v2, 1e-5, 'value');
  tf.dispose([ga, gb]);
  assert.equal(tf.memory().numTensors, before, 'no leaked tensors');
  tf.dispose([a, b, c]);
});

function smallBags(): BagBatch {
  // Bag 0: ids 1,3,1 (a duplicate id); bag 1: id 0; bag 2: ids 2,3.
  return {
    offsets: Int32Array.from([0, 3, 4, 6]),
    ids: Int32Array.from([1, 3, 1, 0, 2, 3]),
    weights: Float32Array.from([0.5, 0.25, 0.25, 1, 0.7, 0.3]),
  };
}

test('embeddingBag (tf custom gradient, scatter-add): value and gradient vs finite differences', () => {
  const rng = new Rng(2);
  const V = 5;
  const D = 3;
  const bags = smallBags();
  const table = randTensor(rng, [V, D]) as tf.Tensor2D;
  const c = randTensor(rng, [3, D]);
  const cv = c.dataSync();
  const ref = (t: ArrayLike<number>) => {
    let s = 0;
    for (let b = 0; b < 3; b++) for (let p = bags.offsets[b]; p < bags.offsets[b + 1]; p++) {
      for (let k = 0; k < D; k++) s += bags.weights[p] * t[bags.ids[p] * D + k] * cv[b * D + k];
    }
    return s;
  };
  const before = tf.memory().numTensors;
  const [g] = tf.grads((t: tf.Tensor) => tf.sum(tf.mul(embeddingBag(t as tf.Tensor2D, bags), c)))([table]);
  const tv = Float64Array.from(table.dataSync());
  assertClose(g.dataSync(), numericGrad(ref, tv), 1e-3, 'dTable');
  const out = tf.tidy(() => tf.sum(tf.mul(embeddingBag(table, bags), c)).dataSync()[0]);
  assert.ok(Math.abs(out - ref(tv)) < 1e-4);
  // Row 4 is never used: its gradient is exactly zero.
  assert.deepEqual(Array.from(g.dataSync().slice(4 * D)), [0, 0, 0]);
  g.dispose();
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => embeddingBag(table, { offsets: Int32Array.from([0, 1]), ids: Int32Array.from([9]), weights: Float32Array.from([1]) }), /outside the table's 5 rows/);
  tf.dispose([table, c]);
});

test('SparseEmbeddingTable: JS bag forward/backward equal the tf embeddingBag op; lazy Adam touches only used rows', () => {
  const rng = new Rng(4);
  const V = 5;
  const D = 3;
  const bags = smallBags();
  const t = new SparseEmbeddingTable(V, D, rng);
  const out = t.bagForward(bags);
  const dOut = Float32Array.from({ length: 3 * D }, () => rng.normal());
  const table = tf.tensor2d(t.weights, [V, D]);
  const dy = tf.tensor2d(dOut, [3, D]);
  const [g] = tf.grads((x: tf.Tensor) => tf.sum(tf.mul(embeddingBag(x as tf.Tensor2D, bags), dy)))([table]);
  const tfOut = tf.tidy(() => embeddingBag(table, bags).dataSync());
  assertClose(out, tfOut, 1e-6, 'forward');
  t.accumulate(bags, dOut);
  const gv = g.dataSync();
  for (let r = 0; r < V; r++) assertClose(t.gradientRow(r), gv.slice(r * D, (r + 1) * D), 1e-6, `grad row ${r}`);
  const w0 = t.weights.slice();
  const updated = t.adamStep({ learningRate: 0.1 });
  assert.equal(updated, 4, 'rows 0..3 were touched');
  assert.deepEqual(Array.from(t.weights.slice(4 * D)), Array.from(w0.slice(4 * D)), 'untouched row unchanged');
  // First Adam step moves each touched coordinate by lr * sign(g) (bias-corrected).
  for (let i = 0; i < 4 * D; i++) assert.ok(Math.abs(Math.abs(t.weights[i] - w0[i]) - 0.1) < 1e-4 || gv[i] === 0);
  tf.dispose([table, dy, g]);
});

test('text tower: gradient w.r.t. the bag inputs of the full contrastive loss vs finite differences', () => {
  // The trainer feeds JS bag outputs into tf and scatters tf's gradient back: check that gradient
  // through projection, layer norm, L2 norm, masked symmetric in-batch softmax.
  const rng = new Rng(5);
  const V = 12;
  const D = 4;
  const tower = new TextTower({ rows: V, dim: D, temperature: 0.5, symmetric: true, seed: 3 });
  const keysP = Int32Array.from([10, 11, 10]); // pairs 0 and 2 share a positive: masked
  const mask = TextTower.maskBias(null, keysP);
  assert.equal(mask[0 * 3 + 2], -1e4);
  assert.equal(mask[2 * 3 + 0], -1e4);
  assert.equal(mask[0 * 3 + 1], 0);
  const snap = tower.snapshot();
  const xa = Float32Array.from({ length: 3 * D }, () => rng.normal());
  const xp = Float32Array.from({ length: 3 * D }, () => rng.normal());
  const lossOf = (a: ArrayLike<number>) =>
    tf.tidy(() => {
      const dense = [tf.tensor2d(snap.dense[0], [D, D]), ...snap.dense.slice(1).map((x) => tf.tensor1d(x))];
      const m = tf.tensor2d(mask, [3, 3]);
      const priv = tower as unknown as { head: TextTower['head']; contrastiveLoss(a: tf.Tensor2D, p: tf.Tensor2D, m: tf.Tensor2D): tf.Scalar };
      const ha = priv.head(tf.tensor2d(Float32Array.from(a), [3, D]), dense[0], dense[1], dense[2], dense[3]);
      const hp = priv.head(tf.tensor2d(xp, [3, D]), dense[0], dense[1], dense[2], dense[3]);
      return priv.contrastiveLoss(ha, hp, m).dataSync()[0];
    });
  const analytic = tf.tidy(() => {
    const dense = [tf.tensor2d(snap.dense[0], [D, D]), ...snap.dense.slice(1).map((x) => tf.tensor1d(x))];
    const m = tf.tensor2d(mask, [3, 3]);
    const priv = tower as unknown as { head: TextTower['head']; contrastiveLoss(a: tf.Tensor2D, p: tf.Tensor2D, m: tf.Tensor2D): tf.Scalar };
    const [g] = tf.grads((a: tf.Tensor) =>
      priv.contrastiveLoss(priv.head(a as tf.Tensor2D, dense[0], dense[1], dense[2], dense[3]), priv.head(tf.tensor2d(xp, [3, D]), dense[0], dense[1], dense[2], dense[3]), m),
    )([tf.tensor2d(xa, [3, D])]);
    return g.dataSync();
  });
  const numeric = numericGrad((x) => lossOf(x), Float64Array.from(xa), 1e-2);
  assertClose(analytic, numeric, 2e-2, 'dLoss/dBag');
  tower.dispose();
});

test('hashed features: unigrams, bigrams and char 3-grams, deduplicated and capped; bags average', () => {
  const h = resolveHashing({ buckets: 1 << 20 });
  const ids = hashedFeatureIds('Toy Story toy', h);
  // words: toy, story (toy repeated) ; bigrams: toy story, story toy ; trigrams of #toy# (3) + #story# (5)
  assert.equal(ids.length, 2 + 2 + 3 + 5);
  const capped = hashedFeatureIds('Toy Story toy', resolveHashing({ buckets: 1 << 20, maxIdsPerText: 4 }));
  assert.deepEqual(capped, ids.slice(0, 4));
  const bags = buildBags(['a b', ''], h, [7, -1]);
  assert.equal(bags.offsets[2] - bags.offsets[1], 0, 'empty text gives an empty bag');
  const w = Array.from(bags.weights.slice(bags.offsets[0], bags.offsets[1]));
  assert.equal(bags.ids[bags.offsets[1] - 1], 7, 'extra id appended');
  assert.equal(w[w.length - 1], 1);
  assert.ok(Math.abs(w.slice(0, -1).reduce((s, x) => s + x, 0) - 1) < 1e-6, 'text ids average to 1');
  const sel = selectBags(bags, [1, 0]);
  assert.equal(sel.offsets[1], 0);
  assert.deepEqual(Array.from(sel.ids), Array.from(bags.ids));
  assert.throws(() => resolveHashing({ buckets: 1 }), /buckets must be an integer >= 2/);
});
