/**
 * embeddingLookup (values, scatter-add gradient, finite differences), GELU, and SparseRowAdam.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { embeddingLookup, initBackend, SparseRowAdam, tf } from '../lib/backend/index';
import { gelu } from '../lib/generate/layers';
import { Rng } from '../lib/util/random';

/** The textbook tanh form, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
function geluTanhReference(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
}

before(async () => {
  await initBackend({ backend: 'wasm', threads: 1 });
});

function randomTable(rows: number, dim: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(rows * dim);
  for (let i = 0; i < out.length; i++) out[i] = rng.next() * 2 - 1;
  return out;
}

test('embeddingLookup returns the rows tf.gather returns, in the requested shape', () => {
  const table = tf.tensor2d(randomTable(50, 6, 1), [50, 6]);
  const ids = Int32Array.from([3, 0, 49, 3, 17, 8]);
  tf.tidy(() => {
    const got = embeddingLookup(table, ids, [2, 3, 6]);
    assert.deepEqual(got.shape, [2, 3, 6]);
    const ref = tf.gather(table, tf.tensor1d(ids, 'int32'));
    assert.deepEqual(Array.from(got.dataSync()), Array.from(ref.dataSync()));
    assert.deepEqual(embeddingLookup(table, ids).shape, [6, 6]);
  });
  assert.throws(() => embeddingLookup(table, Int32Array.from([0, 50])), /ids\[1\] = 50 is outside the table's rows 0\.\.49/);
  assert.throws(() => embeddingLookup(table, Int32Array.from([1, 2]), [2, 5]), /outShape \[2,5\] must end with the table width 6/);
  table.dispose();
});

test('the table gradient is a scatter-add (duplicates summed) and matches finite differences', () => {
  const V = 12;
  const D = 4;
  const values = randomTable(V, D, 2);
  const ids = Int32Array.from([5, 1, 5, 11, 0, 5, 7]); // 5 three times; rows 2,3,4,6,8,9,10 unused
  const w = tf.tensor2d(randomTable(ids.length, D, 3), [ids.length, D]);
  // A non-linear loss so the upstream gradient differs per row.
  const loss = (t: tf.Tensor) => tf.sum(tf.mul(w, tf.sin(embeddingLookup(t as tf.Tensor2D, ids))));
  const table = tf.variable(tf.tensor2d(values, [V, D]));
  const before = tf.memory().numTensors;
  const grad = tf.tidy(() => tf.grad(loss)(table));
  const g = grad.dataSync();
  // Brute force: dL/dtable[r] = sum over positions i with ids[i] = r of w[i] * cos(table[r]).
  const wv = w.dataSync();
  for (let r = 0; r < V; r++) {
    for (let j = 0; j < D; j++) {
      let expected = 0;
      for (let i = 0; i < ids.length; i++) if (ids[i] === r) expected += wv[i * D + j] * Math.cos(values[r * D + j]);
      assert.ok(Math.abs(g[r * D + j] - expected) < 1e-5, `row ${r} col ${j}: ${g[r * D + j]} vs ${expected}`);
    }
  }
  // Central finite differences in float64 on the same loss.
  const f64 = (tab: Float64Array) => {
    let s = 0;
    for (let i = 0; i < ids.length; i++) for (let j = 0; j < D; j++) s += wv[i * D + j] * Math.sin(tab[ids[i] * D + j]);
    return s;
  };
  const eps = 1e-4;
  for (const [r, j] of [[5, 0], [5, 3], [1, 2], [11, 1], [2, 2]]) {
    const plus = Float64Array.from(values);
    const minus = Float64Array.from(values);
    plus[r * D + j] += eps;
    minus[r * D + j] -= eps;
    const fd = (f64(plus) - f64(minus)) / (2 * eps);
    assert.ok(Math.abs(g[r * D + j] - fd) < 1e-4, `finite difference at (${r},${j}): ${g[r * D + j]} vs ${fd}`);
  }
  // Finite differences through the backend itself (float32, so a loose tolerance).
  const lossAt = (tab: Float32Array) => tf.tidy(() => loss(tf.tensor2d(tab, [V, D])).dataSync()[0]);
  const h = 1e-2;
  for (const [r, j] of [[5, 1], [0, 3]]) {
    const plus = Float32Array.from(values);
    const minus = Float32Array.from(values);
    plus[r * D + j] += h;
    minus[r * D + j] -= h;
    const fd = (lossAt(plus) - lossAt(minus)) / (2 * h);
    assert.ok(Math.abs(g[r * D + j] - fd) < 2e-3 * (1 + Math.abs(fd)), `backend finite difference at (${r},${j}): ${g[r * D + j]} vs ${fd}`);
  }
  grad.dispose();
  assert.equal(tf.memory().numTensors, before);
  table.dispose();
  w.dispose();
});

test('an optimizer training loop through embeddingLookup changes only used rows and leaks no tensors', () => {
  const V = 30;
  const D = 5;
  const table = tf.variable(tf.tensor2d(randomTable(V, D, 4), [V, D]));
  const start = Float32Array.from(table.dataSync());
  const opt = tf.train.sgd(0.1);
  const ids = Int32Array.from([2, 9, 9, 20]);
  const target = tf.ones([ids.length, D]);
  const step = () => {
    const l = opt.minimize(() => tf.mean(tf.square(tf.sub(embeddingLookup(table, ids), target))), true, [table]);
    l?.dispose();
  };
  step();
  const n0 = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) step();
  assert.equal(tf.memory().numTensors, n0, 'tensor leak in the training loop');
  const now = table.dataSync();
  for (let r = 0; r < V; r++) {
    const used = r === 2 || r === 9 || r === 20;
    let changed = false;
    for (let j = 0; j < D; j++) if (now[r * D + j] !== start[r * D + j]) changed = true;
    assert.equal(changed, used, `row ${r}`);
  }
  opt.dispose();
  target.dispose();
  table.dispose();
});

test('gelu (sigmoid form) equals the tanh form, values and gradients', () => {
  tf.tidy(() => {
    const x = tf.linspace(-6, 6, 241);
    const a = gelu(x).dataSync();
    const b = geluTanhReference(x).dataSync();
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5, `x index ${i}: ${a[i]} vs ${b[i]}`);
    // Known values of the tanh approximation.
    const known = gelu(tf.tensor1d([0, 1, -1, 3])).dataSync();
    const expect = [0, 0.8411920071, -0.1588079929, 2.9963625073];
    for (let i = 0; i < expect.length; i++) assert.ok(Math.abs(known[i] - expect[i]) < 1e-5, `gelu(${i}) = ${known[i]}`);
    const ga = tf.grad((t: tf.Tensor) => tf.sum(gelu(t)))(x).dataSync();
    const gb = tf.grad((t: tf.Tensor) => tf.sum(geluTanhReference(t)))(x).dataSync();
    for (let i = 0; i < ga.length; i++) assert.ok(Math.abs(ga[i] - gb[i]) < 1e-4, `grad at index ${i}: ${ga[i]} vs ${gb[i]}`);
  });
});

test('SparseRowAdam equals dense Adam when every row is used, and leaves unused rows alone', () => {
  const V = 6;
  const D = 3;
  const init = randomTable(V, D, 5);
  const config = { learningRate: 0.05, beta1: 0.9, beta2: 0.99, epsilon: 1e-7 };
  const sparse = new SparseRowAdam(Float32Array.from(init), D, config);
  const dense = tf.variable(tf.tensor2d(init, [V, D]));
  const adam = tf.train.adam(config.learningRate, config.beta1, config.beta2, config.epsilon);
  const ids = Int32Array.from([0, 1, 2, 3, 4, 5, 2, 4]); // every row, 2 and 4 twice
  const target = tf.tensor2d(randomTable(ids.length, D, 6), [ids.length, D]);
  const lossOf = (rows: tf.Tensor) => tf.sum(tf.square(tf.sub(rows, target)));
  for (let s = 0; s < 4; s++) {
    // Sparse: gradient with respect to the looked-up rows, then a row-wise step.
    tf.tidy(() => {
      const rows = sparse.lookup(ids);
      const g = tf.grad(lossOf)(rows);
      sparse.applyGradients(ids, g);
    });
    adam.minimize(() => lossOf(embeddingLookup(dense, ids)) as tf.Scalar, false, [dense]);
  }
  const dv = dense.dataSync();
  for (let i = 0; i < dv.length; i++) assert.ok(Math.abs(dv[i] - sparse.values[i]) < 1e-5, `index ${i}: ${dv[i]} vs ${sparse.values[i]}`);
  assert.equal(sparse.steps, 4);

  // Lazy semantics: rows absent from a step keep their values and moments.
  const lazy = new SparseRowAdam(Float32Array.from(init), D, config);
  lazy.applyGradients(Int32Array.from([1, 1]), Float32Array.from([1, 2, 3, 1, 2, 3]));
  for (let r = 0; r < V; r++) {
    for (let j = 0; j < D; j++) {
      const moved = lazy.values[r * D + j] !== init[r * D + j];
      assert.equal(moved, r === 1, `row ${r}`);
    }
  }
  // First Adam step moves each used coordinate by learningRate * sign(g) (up to epsilon).
  for (let j = 0; j < D; j++) assert.ok(Math.abs(init[D + j] - lazy.values[D + j] - config.learningRate) < 1e-5);
  assert.throws(() => lazy.applyGradients(Int32Array.from([0]), new Float32Array(2)), /gradient has 2 values, expected 1 x 3/);
  assert.throws(() => lazy.lookup(Int32Array.from([6])), /ids\[0\] = 6 is outside rows 0\.\.5/);
  adam.dispose();
  dense.dispose();
  target.dispose();
});
