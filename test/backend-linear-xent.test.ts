/**
 * The chunked output-layer cross-entropy (lib/backend/linearCrossEntropy.ts): its loss and its
 * gradients in h and w equal the direct form's and a float64 reference, for chunks of one row, of a
 * size that does not divide the rows, and of all rows; padded rows (label -1) add nothing; no tensor
 * is left behind; bad input is refused.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, setNativeEnabled, tf } from '../lib/backend';
import { linearSoftmaxCrossEntropySum } from '../lib/backend/linearCrossEntropy';
import { Rng } from '../lib/util/random';
import { maxRelDiff, randomTensor } from './helpers/nativePaths';

before(async () => {
  await initBackend({ backend: 'wasm', threads: 1 });
});

const N = 11;
const D = 5;
const V = 23;

function labelsOf(rng: Rng): Int32Array {
  // Rows 2 and 7 are padding.
  return Int32Array.from({ length: N }, (_, i) => (i === 2 || i === 7 ? -1 : rng.int(V)));
}

/** Loss and its gradients in h and w, by tf.grads. */
function lossAndGrads(h: tf.Tensor2D, w: tf.Tensor2D, labels: Int32Array, maxLogitFloats: number): { loss: number; dh: Float32Array; dw: Float32Array } {
  return tf.tidy(() => {
    const f = (a: tf.Tensor, b: tf.Tensor) => linearSoftmaxCrossEntropySum(a as tf.Tensor2D, b as tf.Tensor2D, labels, maxLogitFloats);
    const { value, grads } = tf.valueAndGrads(f)([h, w]);
    return { loss: value.dataSync()[0], dh: grads[0].dataSync() as Float32Array, dw: grads[1].dataSync() as Float32Array };
  });
}

/** Float64 reference: loss = sum_r lse(z_r) - z_r[label], dz = softmax - onehot, dh = dz w, dw = dzᵀ h. */
function reference(h: Float32Array, w: Float32Array, labels: Int32Array): { loss: number; dh: Float64Array; dw: Float64Array } {
  let loss = 0;
  const dh = new Float64Array(N * D);
  const dw = new Float64Array(V * D);
  for (let r = 0; r < N; r++) {
    if (labels[r] < 0) continue;
    const z = new Float64Array(V);
    for (let j = 0; j < V; j++) for (let k = 0; k < D; k++) z[j] += h[r * D + k] * w[j * D + k];
    const m = Math.max(...z);
    let s = 0;
    for (let j = 0; j < V; j++) s += Math.exp(z[j] - m);
    const lse = m + Math.log(s);
    loss += lse - z[labels[r]];
    for (let j = 0; j < V; j++) {
      const g = Math.exp(z[j] - lse) - (j === labels[r] ? 1 : 0);
      for (let k = 0; k < D; k++) {
        dh[r * D + k] += g * w[j * D + k];
        dw[j * D + k] += g * h[r * D + k];
      }
    }
  }
  return { loss, dh, dw };
}

for (const native of [true, false]) {
  test(`chunked cross-entropy equals the direct form and a float64 reference (native kernels ${native ? 'on' : 'off'})`, () => {
    const prev = setNativeEnabled(native);
    try {
      const rng = new Rng(5);
      const h = tf.tidy(() => tf.mul(randomTensor([N, D], rng), 2)) as tf.Tensor2D;
      const w = tf.tidy(() => tf.mul(randomTensor([V, D], rng), 2)) as tf.Tensor2D;
      const labels = labelsOf(rng);
      const ref = reference(h.dataSync() as Float32Array, w.dataSync() as Float32Array, labels);
      const before = tf.memory().numTensors;
      const direct = lossAndGrads(h, w, labels, N * V);
      // Chunks of 1 row, of 4 rows (11 = 4 + 4 + 3), and just under all rows.
      for (const rows of [1, 4, N - 1]) {
        const chunked = lossAndGrads(h, w, labels, rows * V + (V - 1));
        assert.ok(Math.abs(chunked.loss - direct.loss) <= 1e-5 * Math.abs(direct.loss), `loss, ${rows}-row chunks: ${chunked.loss} vs ${direct.loss}`);
        assert.ok(maxRelDiff(chunked.dh, direct.dh) < 1e-5, `dh, ${rows}-row chunks`);
        assert.ok(maxRelDiff(chunked.dw, direct.dw) < 1e-5, `dw, ${rows}-row chunks`);
      }
      assert.ok(Math.abs(direct.loss - ref.loss) <= 1e-5 * ref.loss, `loss ${direct.loss} vs float64 ${ref.loss}`);
      assert.ok(maxRelDiff(direct.dh, ref.dh) < 1e-5, 'dh vs float64');
      assert.ok(maxRelDiff(direct.dw, ref.dw) < 1e-5, 'dw vs float64');
      // The padded rows get no gradient.
      for (const r of [2, 7]) for (let k = 0; k < D; k++) assert.equal(direct.dh[r * D + k], 0);
      assert.equal(tf.memory().numTensors, before, 'tensors left behind');
      h.dispose();
      w.dispose();
    } finally {
      setNativeEnabled(prev);
    }
  });
}

test('chunked cross-entropy scales its gradients by the upstream gradient', () => {
  const rng = new Rng(8);
  const h = randomTensor([N, D], rng) as tf.Tensor2D;
  const w = randomTensor([V, D], rng) as tf.Tensor2D;
  const labels = labelsOf(rng);
  const plain = lossAndGrads(h, w, labels, 3 * V);
  const scaled = tf.tidy(() => {
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.mul(linearSoftmaxCrossEntropySum(a as tf.Tensor2D, b as tf.Tensor2D, labels, 3 * V), -2.5);
    return tf.grads(f)([h, w]).map((g) => g.dataSync() as Float32Array);
  });
  assert.ok(maxRelDiff(scaled[0], plain.dh.map((x) => -2.5 * x)) < 1e-6);
  assert.ok(maxRelDiff(scaled[1], plain.dw.map((x) => -2.5 * x)) < 1e-6);
  h.dispose();
  w.dispose();
});

test('chunked cross-entropy refuses mismatched shapes and labels outside -1..V-1', () => {
  const h = tf.zeros([3, 4]) as tf.Tensor2D;
  const w = tf.zeros([6, 4]) as tf.Tensor2D;
  assert.throws(() => linearSoftmaxCrossEntropySum(h, tf.zeros([6, 3]) as tf.Tensor2D, Int32Array.of(0, 1, 2)), /hidden width 4 != output table width 3/);
  assert.throws(() => linearSoftmaxCrossEntropySum(h, w, Int32Array.of(0, 1)), /2 labels for 3 rows/);
  assert.throws(() => linearSoftmaxCrossEntropySum(h, w, Int32Array.of(0, 6, 1), 6), /label 6 at row 1 is outside -1..5/);
  assert.throws(() => linearSoftmaxCrossEntropySum(h, w, Int32Array.of(0, 1, 2), 0), /maxLogitFloats must be an integer >= 1/);
  tf.dispose([h, w]);
});
