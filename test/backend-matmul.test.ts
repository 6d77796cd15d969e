/**
 * The wasm matmul kernels re-registered by lib/backend/fastMatMul: values and gradients against a
 * brute-force float64 matmul for every transpose flag combination and batch layout.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fastMatMulInstalled, initBackend, tf } from '../lib/backend';
import { Rng } from '../lib/util/random';
import { referenceMatMul } from './helpers/referenceMatMul';

before(async () => {
  await initBackend({ backend: 'wasm', threads: 1 });
});

interface Dense {
  shape: number[];
  data: Float64Array;
}

function randomDense(shape: number[], rng: Rng): Dense {
  const size = shape.reduce((p, d) => p * d, 1);
  const data = new Float64Array(size);
  // Values exactly representable in float32 so the reference sees what the backend sees.
  for (let i = 0; i < size; i++) data[i] = Math.fround(rng.next() * 2 - 1);
  return { shape, data };
}

/** The float64 reference product of two dense arrays. */
function brute(a: Dense, b: Dense, ta: boolean, tb: boolean): Dense {
  return referenceMatMul(a, b, ta, tb);
}

function toTensor(d: Dense): tf.Tensor {
  return tf.tensor(Float32Array.from(d.data), d.shape, 'float32');
}

function assertClose(actual: tf.Tensor, expected: Dense, what: string, tol = 1e-4): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const got = actual.dataSync();
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const err = Math.abs(got[i] - expected.data[i]) / (1 + Math.abs(expected.data[i]));
    if (err > worst) worst = err;
  }
  assert.ok(worst < tol, `${what}: max relative error ${worst}`);
}

function storedShape(logical: number[], transposed: boolean): number[] {
  const s = logical.slice();
  if (transposed) [s[s.length - 2], s[s.length - 1]] = [s[s.length - 1], s[s.length - 2]];
  return s;
}

// [batch dims of a] x [batch dims of b], logical (untransposed) M, K, N.
const LAYOUTS: Array<{ name: string; aBatch: number[]; bBatch: number[]; M: number; K: number; N: number }> = [
  { name: 'rank 2', aBatch: [], bBatch: [], M: 37, K: 29, N: 23 },
  { name: 'batched a, rank-2 b (folded)', aBatch: [3], bBatch: [], M: 7, K: 19, N: 11 },
  { name: 'rank-4 a, batch-1 b', aBatch: [2, 3], bBatch: [1], M: 5, K: 13, N: 9 },
  { name: 'rank-2 a, batched b (widened)', aBatch: [], bBatch: [4], M: 6, K: 17, N: 10 },
  { name: 'batch-1 a, rank-4 b', aBatch: [1, 1], bBatch: [2, 2], M: 3, K: 8, N: 5 },
  { name: 'both batched', aBatch: [3], bBatch: [3], M: 8, K: 12, N: 6 },
  { name: 'both batched, rank 4', aBatch: [2, 2], bBatch: [2, 2], M: 4, K: 6, N: 5 },
];
const FLAGS: Array<[boolean, boolean]> = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

test('the fast matmul kernels are registered on wasm', () => {
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(fastMatMulInstalled('wasm'), true);
});

test('tf.matMul equals a brute-force matmul for all transpose flags and batch layouts', () => {
  const rng = new Rng(11);
  for (const L of LAYOUTS) {
    for (const [ta, tb] of FLAGS) {
      const a = randomDense(storedShape([...L.aBatch, L.M, L.K], ta), rng);
      const b = randomDense(storedShape([...L.bBatch, L.K, L.N], tb), rng);
      const expected = brute(a, b, ta, tb);
      tf.tidy(() => {
        const got = tf.matMul(toTensor(a), toTensor(b), ta, tb);
        assertClose(got, expected, `${L.name} ta=${ta} tb=${tb}`);
      });
    }
  }
});

test('matMul gradients equal the brute-force dA = dY B^T and dB = A^T dY (rank 2 and batched)', () => {
  const rng = new Rng(12);
  const cases = [
    { aShape: [24, 16], bShape: [16, 20] },
    { aShape: [3, 10, 16], bShape: [16, 12] },
    { aShape: [3, 10, 16], bShape: [3, 16, 12] },
  ];
  for (const c of cases) {
    for (const [ta, tb] of FLAGS) {
      const a = randomDense(storedShape(c.aShape, ta), rng);
      const b = randomDense(storedShape(c.bShape, tb), rng);
      const y = brute(a, b, ta, tb);
      const w = randomDense(y.shape, rng); // loss = sum(W * matMul(A, B)) so dY = W
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const A = toTensor(a);
        const B = toTensor(b);
        const W = toTensor(w);
        const [gA, gB] = tf.grads((x: tf.Tensor, z: tf.Tensor) => tf.sum(tf.mul(W, tf.matMul(x, z, ta, tb))))([A, B]);
        // dA (logical) = W B^T, dB (logical) = A^T W; stored transposed when the flag is set.
        const bLogicalIsT = !tb; // brute(W, b, false, x) reads b transposed when x is true
        const dALogical = brute(w, b, false, bLogicalIsT);
        const dBLogical = brute(a, w, !ta, false);
        const batchedB = c.bShape.length === 3;
        const expectA = ta ? transposeLast2(dALogical) : dALogical;
        let expectB = tb ? transposeLast2(dBLogical) : dBLogical;
        // B broadcast over a's batch: its gradient sums over that batch.
        if (!batchedB && expectB.shape.length === 3) expectB = sumBatch(expectB);
        assertClose(gA, expectA, `dA ${JSON.stringify(c)} ta=${ta} tb=${tb}`);
        assertClose(gB, expectB, `dB ${JSON.stringify(c)} ta=${ta} tb=${tb}`);
      });
      assert.equal(tf.memory().numTensors, before, 'tensor leak');
    }
  }
});

function transposeLast2(x: Dense): Dense {
  const r = x.shape.length;
  const R = x.shape[r - 2];
  const C = x.shape[r - 1];
  const batches = x.data.length / (R * C);
  const out = new Float64Array(x.data.length);
  for (let bi = 0; bi < batches; bi++) {
    for (let i = 0; i < R; i++) for (let j = 0; j < C; j++) out[bi * R * C + j * R + i] = x.data[bi * R * C + i * C + j];
  }
  return { shape: [...x.shape.slice(0, -2), C, R], data: out };
}

function sumBatch(x: Dense): Dense {
  const [B, R, C] = x.shape;
  const out = new Float64Array(R * C);
  for (let bi = 0; bi < B; bi++) for (let i = 0; i < R * C; i++) out[i] += x.data[bi * R * C + i];
  return { shape: [R, C], data: out };
}

test('fused matMul (bias + relu) with transposes and a batched left operand matches brute force', () => {
  const rng = new Rng(13);
  for (const [ta, tb] of FLAGS) {
    for (const aBatch of [[], [3]]) {
      const M = 9;
      const K = 14;
      const N = 7;
      const a = randomDense(storedShape([...aBatch, M, K], ta), rng);
      const b = randomDense(storedShape([K, N], tb), rng);
      const bias = randomDense([N], rng);
      const mm = brute(a, b, ta, tb);
      const expected: Dense = { shape: mm.shape, data: mm.data.map((v, i) => Math.max(0, v + bias.data[i % N])) };
      tf.tidy(() => {
        const got = tf.fused.matMul({
          a: toTensor(a) as tf.Tensor2D,
          b: toTensor(b) as tf.Tensor2D,
          transposeA: ta,
          transposeB: tb,
          bias: toTensor(bias) as tf.Tensor1D,
          activation: 'relu',
        });
        assertClose(got, expected, `fused aBatch=${JSON.stringify(aBatch)} ta=${ta} tb=${tb}`);
      });
    }
  }
});

test('no tensors or backend buffers leak through the wrapped kernels', () => {
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const a = tf.randomNormal([4, 6, 5], 0, 1, 'float32', 1);
  const b = tf.randomNormal([6, 7], 0, 1, 'float32', 2);
  const tensors = tf.memory().numTensors;
  const ids = backend.numDataIds();
  for (let i = 0; i < 5; i++) {
    tf.tidy(() => {
      tf.matMul(a, tf.randomNormal([4, 6, 7]), true, false).dataSync();
      tf.matMul(tf.randomNormal([5, 6]), tf.randomNormal([3, 6, 7])).dataSync();
      tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.matMul(x, y, true, false)))([a, b]);
    });
  }
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal(backend.numDataIds(), ids);
  a.dispose();
  b.dispose();
});
