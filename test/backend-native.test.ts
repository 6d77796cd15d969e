/**
 * The native OpenBLAS kernels (lib/backend/nativeMatMul.ts) against the wasm kernels they replace
 * and against a float64 brute-force matmul: transposes, batch broadcasting, dims of 1, odd sizes,
 * empty batches, the fused epilogue, gradients (also by finite differences), errors and leaks.
 * Without the addon (not built, or SID_NATIVE=0) only the wasm-side checks run, and the test of the
 * registry checks that the wasm kernels are the ones in place.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { initBackend, isNativeKernel, nativeCallCount, nativeKernelsInstalled, setNativeEnabled, tf } from '../lib/backend';
import { loadNative, nativeAddonPath } from '../lib/backend/native';
import { Rng } from '../lib/util/random';
import { referenceMatMul } from './helpers/referenceMatMul';
import { assertSame, bothPaths, maxRelDiff, randomTensor } from './helpers/nativePaths';

const expectNative = process.env.SID_NATIVE !== '0' && fs.existsSync(nativeAddonPath());
let active = false;

before(async () => {
  await initBackend({ backend: 'wasm', threads: 1 });
  active = nativeKernelsInstalled('wasm').length > 0;
});

/** float64 reference of one (possibly transposed, broadcast) batched product. */
function reference(a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean): Float64Array {
  return referenceMatMul({ shape: a.shape, data: a.dataSync() }, { shape: b.shape, data: b.dataSync() }, ta, tb).data;
}

/**
 * tfjs's wasm BatchMatMul broadcasts only a batch of one against any batch, or equal batch shapes
 * (its output batch is the larger of the two flattened batches); elsewhere only the float64
 * reference is a reference.
 */
function wasmBroadcasts(aBatch: number[], bBatch: number[]): boolean {
  const size = (s: number[]) => s.reduce((p, d) => p * d, 1);
  return size(aBatch) === 1 || size(bBatch) === 1 || JSON.stringify(aBatch) === JSON.stringify(bBatch);
}

function stored(shape: number[], transposed: boolean): number[] {
  const s = shape.slice();
  if (transposed) [s[s.length - 2], s[s.length - 1]] = [s[s.length - 1], s[s.length - 2]];
  return s;
}

const FLAGS: Array<[boolean, boolean]> = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

// Batch dims of a and b, then logical M, K, N.
const LAYOUTS: Array<[number[], number[], number, number, number]> = [
  [[], [], 37, 29, 23],
  [[], [], 1, 17, 1],
  [[], [], 64, 1, 33],
  [[3], [], 7, 19, 11],
  [[], [4], 6, 17, 10],
  [[3], [3], 8, 12, 6],
  [[2, 3], [1], 5, 13, 9],
  [[1, 1], [2, 2], 3, 8, 5],
  [[2, 1, 3], [4, 1], 4, 6, 5],
  [[2, 2], [2, 2], 24, 32, 24],
  [[0], [], 5, 4, 3],
  [[0, 3], [1, 3], 2, 3, 2],
  [[], [], 0, 5, 4],
  [[2], [2], 3, 0, 4],
];

test('the native kernels are registered and used when the addon is built (wasm kernels otherwise)', () => {
  assert.equal(tf.getBackend(), 'wasm');
  const batch = tf.getKernel('BatchMatMul', 'wasm');
  const fused = tf.getKernel('_FusedMatMul', 'wasm');
  assert.equal(active, expectNative, `native kernels installed: ${active}, addon expected: ${expectNative}`);
  assert.equal(isNativeKernel(batch?.kernelFunc), expectNative);
  assert.equal(isNativeKernel(fused?.kernelFunc), expectNative);
  if (!expectNative) return;
  assert.deepEqual(nativeKernelsInstalled('wasm'), [
    'BatchMatMul', '_FusedMatMul', 'Transpose', 'Identity', 'Cast', 'Add', 'Sub', 'Multiply', 'RealDiv', 'Sum', 'GatherV2', 'Concat',
    'SidGeluGate', 'SidGeluGateGrad', 'SidRmsNorm', 'SidRmsNormGrad', 'SidAdamW', 'SidSoftmaxXent', 'SidSoftmaxXentGrad', 'SidLogSoftmax',
  ]);
  const callsBefore = nativeCallCount();
  tf.tidy(() => {
    tf.matMul(tf.ones([4, 3]), tf.ones([3, 2])).dataSync();
    tf.fused.matMul({ a: tf.ones([4, 3]), b: tf.ones([3, 2]), bias: tf.ones([2]), activation: 'relu' }).dataSync();
  });
  assert.equal(nativeCallCount(), callsBefore + 2, 'both products went through the addon');
});

test('native matMul equals the wasm kernel and a float64 reference: every transpose, broadcasting, dims of 1, empty', () => {
  const rng = new Rng(21);
  for (const [aB, bB, M, K, N] of LAYOUTS) {
    for (const [ta, tb] of FLAGS) {
      const what = `a${JSON.stringify(aB)} b${JSON.stringify(bB)} M=${M} K=${K} N=${N} ta=${ta} tb=${tb}`;
      // General broadcasting and empty operands are the native kernel's alone (tfjs's wasm kernel
      // gets the first wrong and fails on the second).
      const empty = [...aB, ...bB, M, K, N].includes(0);
      if (!active && (empty || !wasmBroadcasts(aB, bB))) continue;
      const a = randomTensor(stored([...aB, M, K], ta), rng);
      const b = randomTensor(stored([...bB, K, N], tb), rng);
      // tfjs's wasm kernels fail on empty operands ("divide by zero"): those have the float64 reference only.
      const wasmComparable = wasmBroadcasts(aB, bB) && a.size > 0 && b.size > 0;
      if (wasmComparable) assertSame(() => tf.matMul(a, b, ta, tb), what);
      const { native, shapes, nativeShapes } = bothPaths(() => tf.matMul(a, b, ta, tb), wasmComparable);
      const ref = reference(a, b, ta, tb);
      assert.equal(native[0].length, ref.length, `${what}: size`);
      assert.ok(maxRelDiff(native[0], ref) < 1e-5, `${what}: against float64`);
      const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(aB, bB);
      assert.deepEqual(nativeShapes[0], [...outBatch, M, N], `${what}: shape`);
      if (wasmComparable) assert.deepEqual(shapes[0], [...outBatch, M, N], `${what}: wasm shape`);
      a.dispose();
      b.dispose();
    }
  }
});

test('native matMul on random shapes equals the wasm kernel', () => {
  const rng = new Rng(22);
  for (let trial = 0; trial < 40; trial++) {
    const dim = () => 1 + Math.floor(rng.next() * 70);
    const [M, K, N] = [dim(), dim(), dim()];
    const batch = Math.floor(rng.next() * 3);
    const aB = batch === 0 ? [] : [1 + Math.floor(rng.next() * 4)];
    const bB = rng.next() < 0.5 ? [] : aB.length ? (rng.next() < 0.5 ? [1] : aB) : [2];
    const ta = rng.next() < 0.5;
    const tb = rng.next() < 0.5;
    const a = randomTensor(stored([...aB, M, K], ta), rng);
    const b = randomTensor(stored([...bB, K, N], tb), rng);
    assertSame(() => tf.matMul(a, b, ta, tb), `trial ${trial}: a${JSON.stringify(a.shape)} b${JSON.stringify(b.shape)} ta=${ta} tb=${tb}`);
    a.dispose();
    b.dispose();
  }
});

test('fused matMul: bias (per column, scalar) and every epilogue activation equal unfused wasm ops', () => {
  const rng = new Rng(23);
  const activations = ['linear', 'relu', 'relu6', 'sigmoid', 'leakyrelu', 'elu', 'prelu'] as const;
  const unfused = (y: tf.Tensor, activation: (typeof activations)[number], prelu?: tf.Tensor): tf.Tensor => {
    switch (activation) {
      case 'relu': return tf.relu(y);
      case 'relu6': return tf.relu6(y);
      case 'sigmoid': return tf.sigmoid(y);
      case 'leakyrelu': return tf.leakyRelu(y, 0.3);
      case 'elu': return tf.elu(y);
      case 'prelu': return tf.prelu(y, prelu as tf.Tensor);
      default: return y;
    }
  };
  for (const [ta, tb] of FLAGS) {
    for (const aB of [[], [3]]) {
      for (const activation of activations) {
        // A bias of shape [1] is the native kernel's alone (tfjs's wasm kernel reads N values).
        for (const biasShape of (active ? [null, [7], [1]] : [null, [7]]) as Array<number[] | null>) {
          const a = randomTensor(stored([...aB, 9, 14], ta), rng);
          const b = randomTensor(stored([14, 7], tb), rng);
          const bias = biasShape ? randomTensor(biasShape, rng) : undefined;
          const prelu = activation === 'prelu' ? randomTensor([7], rng) : undefined;
          const what = `fused ${activation} bias=${JSON.stringify(biasShape)} a${JSON.stringify(a.shape)} ta=${ta} tb=${tb}`;
          const before = tf.memory().numTensors;
          const got = tf.tidy(() =>
            tf.fused.matMul({
              a: a as tf.Tensor2D,
              b: b as tf.Tensor2D,
              transposeA: ta,
              transposeB: tb,
              bias,
              activation,
              preluActivationWeights: prelu,
              leakyreluAlpha: 0.3,
            }).dataSync(),
          );
          const prev = setNativeEnabled(false);
          const expected = tf.tidy(() => {
            const y = tf.matMul(a, b, ta, tb);
            return unfused(bias ? tf.add(y, bias) : y, activation, prelu).dataSync();
          });
          setNativeEnabled(prev);
          const d = maxRelDiff(got, expected);
          assert.ok(d <= 1e-5, `${what}: max relative difference ${d}`);
          assert.equal(tf.memory().numTensors, before, `${what}: tensor leak`);
          tf.dispose([a, b, ...(bias ? [bias] : []), ...(prelu ? [prelu] : [])]);
        }
      }
    }
  }
});

test('gradients through native matMul equal the wasm ones and finite differences', () => {
  const rng = new Rng(24);
  const cases: Array<[number[], number[]]> = [
    [[12, 9], [9, 7]],
    [[3, 6, 9], [9, 5]],
    [[3, 6, 9], [3, 9, 5]],
    [[2, 1, 4, 6], [3, 6, 5]],
  ];
  for (const [aShape, bShape] of cases) {
    for (const [ta, tb] of FLAGS) {
      const a = randomTensor(stored(aShape, ta), rng);
      const b = randomTensor(stored(bShape, tb), rng);
      const yShape = tf.tidy(() => tf.matMul(a, b, ta, tb).shape);
      const w = randomTensor(yShape, rng);
      const loss = (x: tf.Tensor, z: tf.Tensor) => tf.sum(tf.mul(w, tf.sigmoid(tf.matMul(x, z, ta, tb))));
      const what = `a${JSON.stringify(a.shape)} b${JSON.stringify(b.shape)} ta=${ta} tb=${tb}`;
      if (!active && !wasmBroadcasts(aShape.slice(0, -2), bShape.slice(0, -2))) {
        tf.dispose([a, b, w]);
        continue;
      }
      if (wasmBroadcasts(aShape.slice(0, -2), bShape.slice(0, -2))) assertSame(() => tf.grads(loss)([a, b]), `grads ${what}`);
      // Central differences of the native path at a few coordinates of each input.
      tf.tidy(() => {
        const [ga, gb] = tf.grads(loss)([a, b]).map((g) => g.dataSync());
        const h = 1e-2;
        for (const [which, x, g] of [['a', a, ga], ['b', b, gb]] as const) {
          const base = x.dataSync();
          for (let t = 0; t < 3; t++) {
            const idx = Math.floor(rng.next() * base.length);
            const shifted = (s: number) => {
              const copy = Float32Array.from(base);
              copy[idx] += s;
              const xt = tf.tensor(copy, x.shape);
              return which === 'a' ? loss(xt, b).dataSync()[0] : loss(a, xt).dataSync()[0];
            };
            const fd = (shifted(h) - shifted(-h)) / (2 * h);
            assert.ok(Math.abs(fd - g[idx]) <= 2e-3 * (1 + Math.abs(fd)), `${what} d${which}[${idx}]: ${g[idx]} vs finite difference ${fd}`);
          }
        }
      });
      tf.dispose([a, b, w]);
    }
  }
});

test('bad shapes give the same errors as the wasm kernels', () => {
  const bad: Array<[number[], number[], RegExp]> = [
    [[2, 3], [4, 5], /inner shapes \(3\) and \(4\)/],
    [[2, 2, 3], [3, 3, 5], /could not be broadcast/],
  ];
  for (const [as, bs, pattern] of bad) {
    const messages: string[] = [];
    for (const on of [true, false]) {
      const prev = setNativeEnabled(on);
      try {
        const before = tf.memory().numTensors;
        tf.tidy(() => {
          const a = tf.zeros(as);
          const b = tf.zeros(bs);
          // The op checks shapes first; runKernel reaches the kernel's own checks.
          assert.throws(() => tf.matMul(a, b), pattern);
          try {
            tf.engine().runKernel('BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
            assert.fail(`kernel accepted a${JSON.stringify(as)} b${JSON.stringify(bs)}`);
          } catch (err) {
            messages.push((err as Error).message);
          }
        });
        assert.equal(tf.memory().numTensors, before, 'tensor leak after an error');
      } finally {
        setNativeEnabled(prev);
      }
    }
    assert.match(messages[0], pattern);
    assert.equal(messages[0], messages[1], 'native and wasm kernel errors');
  }
  assert.throws(() => tf.tidy(() => tf.matMul(tf.zeros([2, 3], 'int32'), tf.zeros([3, 2], 'int32'))), /float32|non-float32/);
});

test('no tensors or backend buffers leak through the native kernels', () => {
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const a = tf.randomNormal([4, 6, 5], 0, 1, 'float32', 1);
  const b = tf.randomNormal([6, 7], 0, 1, 'float32', 2);
  const tensors = tf.memory().numTensors;
  const ids = backend.numDataIds();
  for (let i = 0; i < 3; i++) {
    tf.tidy(() => {
      tf.matMul(a, tf.randomNormal([4, 6, 7]), true, false).dataSync();
      tf.matMul(tf.randomNormal([5, 6]), tf.randomNormal([3, 6, 7])).dataSync();
      tf.fused.matMul({ a: tf.randomNormal([3, 6]), b: tf.randomNormal([6, 2]), bias: tf.ones([2]), activation: 'relu' }).dataSync();
      tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.matMul(x, y, true, false)))([a, b]);
    });
  }
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal(backend.numDataIds(), ids);
  tf.dispose([a, b]);
});

/** float64 reference of a transpose. */
function transposeReference(data: ArrayLike<number>, shape: number[], perm: number[]): number[] {
  const r = shape.length;
  const inStride = new Array(r).fill(1);
  for (let i = r - 2; i >= 0; i--) inStride[i] = inStride[i + 1] * shape[i + 1];
  const outShape = perm.map((p) => shape[p]);
  const size = shape.reduce((p, d) => p * d, 1);
  const out: number[] = new Array(size);
  for (let o = 0; o < size; o++) {
    let rem = o;
    let src = 0;
    for (let ax = r - 1; ax >= 0; ax--) {
      const idx = rem % outShape[ax];
      rem = (rem - idx) / outShape[ax];
      src += idx * inStride[perm[ax]];
    }
    out[o] = data[src];
  }
  return out;
}

test('native Transpose equals the wasm kernel and a reference: random ranks, permutations, size-1 and empty axes', () => {
  const rng = new Rng(25);
  assert.equal(isNativeKernel(tf.getKernel('Transpose', 'wasm')?.kernelFunc), expectNative);
  const fixed: Array<[number[], number[]]> = [
    [[6144 / 64, 512 / 8], [1, 0]],
    [[33, 65], [1, 0]],
    [[2, 3, 24, 32], [0, 1, 3, 2]],
    [[4, 24, 4, 32], [0, 2, 1, 3]],
    [[4, 24, 1, 32], [0, 2, 1, 3]],
    [[3, 1, 5], [2, 1, 0]],
    [[1, 1], [1, 0]],
    [[7], [0]],
    [[0, 3], [1, 0]],
    [[2, 0, 3], [2, 0, 1]],
  ];
  const cases = [...fixed];
  for (let t = 0; t < 30; t++) {
    const r = 1 + Math.floor(rng.next() * 5);
    const shape = Array.from({ length: r }, () => 1 + Math.floor(rng.next() * 6));
    const perm = Array.from(rng.permutation(r));
    cases.push([shape, perm]);
  }
  for (const [shape, perm] of cases) {
    for (const dtype of ['float32', 'int32'] as const) {
      const size = shape.reduce((p, d) => p * d, 1);
      const values = Array.from({ length: size }, () => Math.floor(rng.next() * 2000) - 1000);
      const x = tf.tensor(values, shape, dtype);
      const what = `transpose ${JSON.stringify(shape)} by ${JSON.stringify(perm)} (${dtype})`;
      const run = (on: boolean) => {
        const prev = setNativeEnabled(on);
        try {
          return tf.tidy(() => {
            const y = tf.transpose(x, perm);
            return { shape: y.shape, data: Array.from(y.dataSync()) };
          });
        } finally {
          setNativeEnabled(prev);
        }
      };
      const before = tf.memory().numTensors;
      const native = run(true);
      assert.deepEqual(native.shape, perm.map((p) => shape[p]), `${what}: shape`);
      assert.deepEqual(native.data, transposeReference(values, shape, perm), `${what}: values`);
      if (size > 0) assert.deepEqual(native.data, run(false).data, `${what}: against wasm`);
      assert.equal(tf.memory().numTensors, before, `${what}: tensor leak`);
      x.dispose();
    }
  }
});

test('Identity and same-dtype Cast share the buffer safely; other casts still convert', () => {
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const ids = backend.numDataIds();
  const x = tf.tensor([1.5, -2.25, 3], [3]);
  const c = tf.clone(x);
  const same = tf.cast(x, 'float32');
  const toInt = tf.cast(x, 'int32');
  assert.equal(isNativeKernel(tf.getKernel('Identity', 'wasm')?.kernelFunc), expectNative);
  assert.equal(isNativeKernel(tf.getKernel('Cast', 'wasm')?.kernelFunc), expectNative);
  x.dispose();
  assert.deepEqual(Array.from(c.dataSync()), [1.5, -2.25, 3], 'clone outlives its source');
  assert.deepEqual(Array.from(same.dataSync()), [1.5, -2.25, 3]);
  assert.equal(toInt.dtype, 'int32');
  assert.deepEqual(Array.from(toInt.dataSync()), [1, -2, 3]);
  tf.tidy(() => assert.equal(tf.cast(tf.tensor([0, 2], [2], 'int32'), 'bool').dtype, 'bool'));
  tf.dispose([c, same, toInt]);
  assert.equal(backend.numDataIds(), ids, 'backend buffers are released');
  // Gradients through the mul gradient's float32 casts are unchanged.
  assertSame(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.mul(a, b), a)))([tf.tensor([1, 2, 3]), tf.tensor([4, 5, 6])]), 'mul gradient');
});

test('native Add / Sub / Multiply / RealDiv equal the wasm kernels under broadcasting', () => {
  const rng = new Rng(26);
  const pairs: Array<[number[], number[]]> = [
    [[256, 24, 16], [256, 24, 16]],
    [[6, 5, 16], [16]],
    [[6, 5, 16], [6, 5, 1]],
    [[6, 1, 16], [1, 5, 1]],
    [[7, 9], []],
    [[], [4, 3]],
    [[1], [1]],
    [[2, 3, 1, 4], [3, 5, 1]],
    [[0, 3], [3]],
  ];
  for (let t = 0; t < 20; t++) {
    const r = 1 + Math.floor(rng.next() * 4);
    const out = Array.from({ length: r }, () => 1 + Math.floor(rng.next() * 5));
    const drop = (s: number[]) => s.map((d) => (rng.next() < 0.3 ? 1 : d)).slice(Math.floor(rng.next() * 2));
    pairs.push([drop(out), drop(out)]);
  }
  const ops: Array<[string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor]> = [
    ['add', tf.add], ['sub', tf.sub], ['mul', tf.mul], ['div', tf.div],
  ];
  for (const [as, bs] of pairs) {
    const a = randomTensor(as, rng);
    // Away from zero, so division is well conditioned.
    const b = tf.tidy(() => tf.add(randomTensor(bs, rng), tf.scalar(3)));
    for (const [name, op] of ops) {
      const what = `${name} ${JSON.stringify(as)} ${JSON.stringify(bs)}`;
      const { native, wasm, shapes, nativeShapes } = bothPaths(() => op(a, b), a.size > 0);
      assert.deepEqual(nativeShapes[0], shapes[0], `${what}: shape`);
      assert.ok(maxRelDiff(native[0], wasm[0]) <= 1e-6, `${what}: native vs wasm`);
    }
    tf.dispose([a, b]);
  }
  assert.equal(tf.tidy(() => tf.add(tf.tensor([1, 2], [2], 'int32'), tf.tensor([3, 4], [2], 'int32')).dtype), 'int32');
});

test('native Sum over a contiguous block of axes equals a float64 reference and the wasm kernel', () => {
  const rng = new Rng(27);
  const cases: Array<[number[], number | number[], boolean]> = [
    [[256, 24, 32], [0, 1], false],
    [[64, 24, 32], -1, true],
    [[6, 5, 7], 1, false],
    [[6, 1, 5, 7], [1, 2], true],
    [[6, 5, 7], [0, 2], false],
    [[9], 0, false],
    [[3, 2000], 1, false],
    [[4, 0, 3], 1, false],
  ];
  for (const [shape, axis, keepDims] of cases) {
    // tfjs's wasm Sum leaves the output of an empty reduction unwritten: the native kernel's case only.
    if (!active && shape.includes(0)) continue;
    const x = randomTensor(shape, rng);
    const what = `sum ${JSON.stringify(shape)} axis ${JSON.stringify(axis)} keepDims ${keepDims}`;
    const { native, wasm, shapes, nativeShapes } = bothPaths(() => tf.sum(x, axis, keepDims), x.size > 0);
    assert.deepEqual(nativeShapes[0], shapes[0], `${what}: shape`);
    assert.ok(maxRelDiff(native[0], wasm[0]) <= 1e-4, `${what}: native vs wasm`);
    // float64 reference
    const axes = tf.util.parseAxisParam(axis, shape);
    const xs = x.dataSync();
    const ref = new Float64Array(native[0].length);
    const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const outStrides = outShape.map((_, i) => outShape.slice(i + 1).reduce((p, d) => p * d, 1));
    const inStrides = shape.map((_, i) => shape.slice(i + 1).reduce((p, d) => p * d, 1));
    for (let e = 0; e < xs.length; e++) {
      let o = 0;
      for (let i = 0; i < shape.length; i++) {
        const idx = Math.floor(e / inStrides[i]) % shape[i];
        if (!axes.includes(i)) o += idx * outStrides[i];
      }
      ref[o] += xs[e];
    }
    assert.ok(maxRelDiff(native[0], ref) <= 1e-5, `${what}: against float64`);
    x.dispose();
  }
});

type ProductShape = [batch: number[], M: number, K: number, N: number];

/**
 * For every shape and transpose, the product under each addon setting (`settings` switches it) against
 * a float64 reference, within float32 rounding that grows with the inner dimension (about sqrt(K)).
 */
function productsAgainstReference(shapes: ProductShape[], seed: number, settings: Record<string, () => void>): void {
  const rng = new Rng(seed);
  for (const [batch, M, K, N] of shapes) {
    for (const [ta, tb] of FLAGS) {
      const what = `batch ${JSON.stringify(batch)} M=${M} K=${K} N=${N} ta=${ta} tb=${tb}`;
      const a = randomTensor(stored([...batch, M, K], ta), rng);
      const b = randomTensor(stored([...batch, K, N], tb), rng);
      const ref = reference(a, b, ta, tb);
      for (const [name, set] of Object.entries(settings)) {
        set();
        const err = maxRelDiff(tf.tidy(() => tf.matMul(a, b, ta, tb).dataSync().slice()), ref);
        assert.ok(err < 1e-5 * Math.max(1, Math.sqrt(K / 64)), `${what}: ${name} against float64 (${err})`);
      }
      a.dispose();
      b.dispose();
    }
  }
}

test('small products in the addon\'s own loops equal BLAS and a float64 reference: attention shapes, every transpose, at the size limit', { skip: expectNative ? false : 'native addon not built' }, () => {
  const addon = loadNative().addon!;
  // The attention's products at the small profile's sizes ([B, H, L, dh] x [B, H, dh, L] and back),
  // one at 64^3 multiply-adds (the last size sent to the small loops) and one just above it (BLAS).
  const shapes: ProductShape[] = [[[16, 4], 31, 16, 31], [[16, 4], 31, 31, 16], [[8, 4], 3, 16, 31], [[2], 64, 64, 64], [[2], 65, 64, 64]];
  try {
    productsAgainstReference(shapes, 23, { 'small loops': () => addon.setSmallGemm(true), BLAS: () => addon.setSmallGemm(false) });
  } finally {
    addon.setSmallGemm(process.env.SID_SMALL_GEMM !== '0');
  }
});

test('oneDNN\'s and OpenBLAS\'s products equal a float64 reference: every transpose, batched, tall and wide', { skip: expectNative ? false : 'native addon not built' }, (t) => {
  const addon = loadNative().addon!;
  const before = addon.gemmLibrary();
  try {
    addon.setGemmLibrary('onednn');
  } catch (err) {
    t.skip(`addon built without oneDNN: ${(err as Error).message}`);
    return;
  }
  const shapes: ProductShape[] = [[[], 1984, 64, 64], [[], 64, 1984, 256], [[3], 70, 90, 110], [[], 1, 300, 538]];
  try {
    productsAgainstReference(shapes, 24, { oneDNN: () => addon.setGemmLibrary('onednn'), OpenBLAS: () => addon.setGemmLibrary('openblas') });
  } finally {
    addon.setGemmLibrary(before);
  }
});
