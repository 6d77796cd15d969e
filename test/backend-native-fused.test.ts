/**
 * The fused kernels (native/fused.c through lib/backend/nativeFused.ts) against the same maths
 * composed from wasm kernels (lib/backend/fusedOps.ts with the native kernels off): GELU, gated
 * GELU, RMSNorm, the softmax cross-entropy and their gradients (also by finite differences), and the
 * AdamW update; and the embedding-bag kernels (native/rows.c) against the JS loops of
 * lib/embed/sparseTable.ts; odd sizes, dims of 1, empty tensors, bad shapes and leaks. Without the addon only the composed path runs and
 * is checked against float64 references.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { adamwUpdate, gatedGelu, gelu, initBackend, nativeCallCount, nativeKernelsInstalled, nativeRowKernels, rmsNorm, setNativeEnabled, softmaxCrossEntropy, logSoftmaxRows, tf } from '../lib/backend';
import { nativeAddonPath } from '../lib/backend/native';
import { FUSED_KERNELS } from '../lib/backend/nativeRegistry';
import { SparseEmbeddingTable } from '../lib/embed/sparseTable';
import { Rng } from '../lib/util/random';
import { assertSame, maxRelDiff, randomTensor } from './helpers/nativePaths';

const expectNative = process.env.SID_NATIVE !== '0' && fs.existsSync(nativeAddonPath());
let active = false;

before(async () => {
  await initBackend({ backend: 'wasm', threads: 1 });
  active = nativeKernelsInstalled('wasm').includes(FUSED_KERNELS.geluGate);
});

const SHAPES: number[][] = [[1], [7], [3, 5], [2, 3, 17], [4, 1, 9], [6, 128], [0], [2, 0, 4]];

function scaled(shape: number[], rng: Rng, spread: number): tf.Tensor {
  return tf.tidy(() => tf.mul(randomTensor(shape, rng), spread));
}

/** float64 gelu (tanh form) and its derivative. */
function geluRef(x: number): [number, number] {
  const c = Math.sqrt(2 / Math.PI);
  const u = c * (x + 0.044715 * x ** 3);
  const t = Math.tanh(u);
  return [0.5 * x * (1 + t), 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)];
}

test('the fused kernels are registered when the addon is built, and used by the ops', () => {
  assert.equal(active, expectNative, `fused kernels installed: ${active}, addon expected: ${expectNative}`);
  for (const name of Object.values(FUSED_KERNELS)) assert.equal(tf.getKernel(name, 'wasm') !== undefined, expectNative, name);
  const before = nativeCallCount();
  tf.tidy(() => {
    const x = tf.ones([4, 8]);
    rmsNorm(x, tf.ones([8])).dataSync();
    gelu(x).dataSync();
    gatedGelu(x, x).dataSync();
  });
  // Composed, the three would run about ten native element-wise kernels; fused, exactly three.
  if (expectNative) assert.equal(nativeCallCount(), before + 3);
  const off = setNativeEnabled(false);
  const mid = nativeCallCount();
  tf.tidy(() => rmsNorm(tf.ones([4, 8]), tf.ones([8])).dataSync());
  setNativeEnabled(off);
  assert.equal(nativeCallCount(), mid, 'with native kernels off nothing reaches the addon');
});

test('gelu and gated gelu: fused equals composed and a float64 reference, values and gradients', () => {
  const rng = new Rng(31);
  for (const shape of SHAPES) {
    const a = scaled(shape, rng, 6);
    const b = scaled(shape, rng, 2);
    const dy = randomTensor(shape, rng);
    const what = JSON.stringify(shape);
    assertSame(() => gelu(a), `gelu ${what}`);
    assertSame(() => gatedGelu(a, b), `gatedGelu ${what}`);
    assertSame(() => tf.grads((x: tf.Tensor) => tf.sum(tf.mul(gelu(x), dy)))([a]), `gelu grad ${what}`);
    assertSame(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(gatedGelu(x, y), dy)))([a, b]), `gatedGelu grads ${what}`);
    tf.tidy(() => {
      const av = a.dataSync();
      const bv = b.dataSync();
      const dv = dy.dataSync();
      const out = gatedGelu(a, b).dataSync();
      const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(gatedGelu(x, y), dy)))([a, b]).map((g) => g.dataSync());
      const ref = (i: number) => geluRef(av[i]);
      const want = Array.from(av, (_, i) => ref(i)[0] * bv[i]);
      assert.ok(maxRelDiff(out, want) < 1e-5, `gatedGelu ${what} vs float64`);
      assert.ok(maxRelDiff(da, Array.from(av, (_, i) => dv[i] * bv[i] * ref(i)[1])) < 1e-5, `d/da ${what} vs float64`);
      assert.ok(maxRelDiff(db, Array.from(av, (_, i) => dv[i] * ref(i)[0])) < 1e-5, `d/db ${what} vs float64`);
    });
    tf.dispose([a, b, dy]);
  }
  // The tails: the clamped exponential keeps gelu exact far out on both sides.
  tf.tidy(() => {
    const x = tf.tensor1d([-200, -90, -30, -10, 0, 10, 30, 90, 200]);
    const y = gelu(x).dataSync();
    const want = [-0, -0, -0, -0, 0, 10, 30, 90, 200];
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(y[i] - want[i]) < 1e-5 * (1 + Math.abs(want[i])), `gelu(${x.dataSync()[i]}) = ${y[i]}`);
  });
});

test('rmsNorm: fused equals composed and a float64 reference, values and both gradients', () => {
  const rng = new Rng(32);
  const shapes = [[1, 1], [5, 1], [3, 7], [2, 4, 33], [6144 / 48, 128], [0, 5]];
  for (const shape of shapes) {
    const d = shape[shape.length - 1];
    const x = scaled(shape, rng, 3);
    const gain = tf.tidy(() => tf.add(randomTensor([d], rng), 1));
    const dy = randomTensor(shape, rng);
    const what = JSON.stringify(shape);
    const loss = (xs: tf.Tensor, gs: tf.Tensor) => tf.sum(tf.mul(rmsNorm(xs, gs), dy));
    assertSame(() => rmsNorm(x, gain), `rmsNorm ${what}`);
    assertSame(() => tf.grads(loss)([x, gain]), `rmsNorm grads ${what}`, 2e-5);
    tf.tidy(() => {
      const xv = x.dataSync();
      const gv = gain.dataSync();
      const y = rmsNorm(x, gain).dataSync();
      const want = new Float64Array(xv.length);
      for (let r = 0; r * d < xv.length; r++) {
        let ss = 0;
        for (let j = 0; j < d; j++) ss += xv[r * d + j] ** 2;
        const inv = 1 / Math.sqrt(ss / d + 1e-6);
        for (let j = 0; j < d; j++) want[r * d + j] = xv[r * d + j] * inv * gv[j];
      }
      assert.ok(maxRelDiff(y, want) < 1e-5, `rmsNorm ${what} vs float64`);
      // Central differences at a few coordinates of x and of the gain.
      if (xv.length === 0) return;
      const [gx, gg] = tf.grads(loss)([x, gain]).map((g) => g.dataSync());
      const h = 1e-2;
      for (const [which, base, g] of [['x', xv, gx], ['gain', gv, gg]] as const) {
        for (let t = 0; t < 3; t++) {
          const idx = Math.floor(rng.next() * base.length);
          const at = (s: number) => {
            const copy = Float32Array.from(base);
            copy[idx] += s;
            const shifted = tf.tensor(copy, which === 'x' ? x.shape : gain.shape);
            return (which === 'x' ? loss(shifted, gain) : loss(x, shifted)).dataSync()[0];
          };
          const fd = (at(h) - at(-h)) / (2 * h);
          assert.ok(Math.abs(fd - g[idx]) <= 5e-3 * (1 + Math.abs(fd)), `${what} d${which}[${idx}]: ${g[idx]} vs finite difference ${fd}`);
        }
      }
    });
    tf.dispose([x, gain, dy]);
  }
});

test('adamwUpdate: fused equals composed, with and without scale and weight decay, and a float64 step', () => {
  const rng = new Rng(33);
  for (const shape of [[1], [3, 5], [257, 3], [0, 4]]) {
    const [x, g, m] = [0, 1, 2].map(() => randomTensor(shape, rng));
    const v = tf.tidy(() => tf.abs(randomTensor(shape, rng)));
    const scale = tf.scalar(0.37);
    for (const withScale of [false, true]) {
      for (const decayFactor of [null, 1 - 1e-3 * 0.01]) {
        const u = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, biasCorrection1: 1 - 0.9 ** 3, biasCorrection2: 1 - 0.999 ** 3, decayFactor };
        const what = `${JSON.stringify(shape)} scale=${withScale} decay=${decayFactor !== null}`;
        assertSame(() => adamwUpdate(x, g, m, v, withScale ? scale : null, u), `adamw ${what}`, 1e-6);
        tf.tidy(() => {
          const [xn, mn, vn] = adamwUpdate(x, g, m, v, withScale ? scale : null, u).map((t) => t.dataSync());
          const [xv, gv, mv, vv] = [x, g, m, v].map((t) => t.dataSync());
          const s = withScale ? 0.37 : 1;
          for (let i = 0; i < xv.length; i++) {
            const gi = gv[i] * s;
            const mi = 0.9 * mv[i] + 0.1 * gi;
            const vi = 0.999 * vv[i] + 0.001 * gi * gi;
            const xi = xv[i] * (decayFactor ?? 1) - 1e-3 * (mi / u.biasCorrection1) / (Math.sqrt(vi / u.biasCorrection2) + 1e-8);
            assert.ok(Math.abs(mn[i] - mi) < 1e-6 && Math.abs(vn[i] - vi) < 1e-6 && Math.abs(xn[i] - xi) < 1e-6, `${what} [${i}]`);
          }
        });
      }
    }
    tf.dispose([x, g, m, v, scale]);
  }
});

test('softmaxCrossEntropy: fused equals composed and a float64 reference, with padding labels, values and gradients', () => {
  const rng = new Rng(36);
  for (const [n, v] of [[1, 1], [3, 5], [7, 17], [40, 513], [0, 4]]) {
    const logits = scaled([n, v], rng, 8) as tf.Tensor2D;
    const labels = Int32Array.from({ length: n }, (_, i) => (i % 3 === 2 ? -1 : rng.int(v)));
    const dy = randomTensor([n], rng);
    const what = `[${n}, ${v}]`;
    assertSame(() => softmaxCrossEntropy(logits, labels), `xent ${what}`);
    assertSame(() => tf.grads((z: tf.Tensor) => tf.sum(tf.mul(softmaxCrossEntropy(z as tf.Tensor2D, labels), dy)))([logits]), `xent grad ${what}`);
    tf.tidy(() => {
      const z = logits.dataSync();
      const dv = dy.dataSync();
      const loss = softmaxCrossEntropy(logits, labels).dataSync();
      const [g] = tf.grads((t: tf.Tensor) => tf.sum(tf.mul(softmaxCrossEntropy(t as tf.Tensor2D, labels), dy)))([logits]).map((t) => t.dataSync());
      for (let r = 0; r < n; r++) {
        const row = Array.from(z.subarray(r * v, (r + 1) * v));
        const mx = Math.max(...row);
        const lse = mx + Math.log(row.reduce((a, x) => a + Math.exp(x - mx), 0));
        const want = labels[r] < 0 ? 0 : lse - row[labels[r]];
        assert.ok(Math.abs(loss[r] - want) < 1e-5 * (1 + Math.abs(want)), `${what} loss[${r}] ${loss[r]} vs ${want}`);
        for (let j = 0; j < v; j++) {
          const gw = labels[r] < 0 ? 0 : dv[r] * (Math.exp(row[j] - lse) - (j === labels[r] ? 1 : 0));
          assert.ok(Math.abs(g[r * v + j] - gw) < 1e-5, `${what} grad[${r}, ${j}] ${g[r * v + j]} vs ${gw}`);
        }
      }
    });
    tf.dispose([logits, dy]);
  }
  tf.tidy(() => {
    assert.throws(() => softmaxCrossEntropy(tf.zeros([2, 3]) as tf.Tensor2D, Int32Array.from([0, 3])), /label 3 at row 1 is outside -1..2/);
    assert.throws(() => softmaxCrossEntropy(tf.zeros([2, 3]) as tf.Tensor2D, Int32Array.from([0])), /1 labels for 2 rows/);
  });
});

test('the fused kernels reject bad shapes with a clear error and leak nothing', { skip: !expectNative && 'the native addon is not built' }, () => {
  const before = tf.memory().numTensors;
  const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown> = {}) =>
    tf.tidy(() => tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap));
  tf.tidy(() => {
    assert.throws(() => run(FUSED_KERNELS.geluGate, { a: tf.ones([2, 3]), b: tf.ones([3, 2]) }), /SidGeluGate: shapes \[2,3\] and \[3,2\] must match/);
    assert.throws(() => run(FUSED_KERNELS.geluGate, { a: tf.ones([2], 'int32') }), /input 'a' must be float32, got int32/);
    assert.throws(() => run(FUSED_KERNELS.rmsNorm, { x: tf.ones([2, 3]), gain: tf.ones([4]) }, { eps: 1e-6 }), /gain of shape \[4\] must be \[3\]/);
    assert.throws(() => run(FUSED_KERNELS.rmsNormGrad, { dy: tf.ones([2, 3]), x: tf.ones([3, 3]), gain: tf.ones([3]) }, { eps: 1e-6 }), /must match/);
    assert.throws(() => run(FUSED_KERNELS.adamw, { x: tf.ones([2]), grad: tf.ones([2]), m: tf.ones([2]), v: tf.ones([3]) }, { params: new Array(9).fill(0.5) }), /must match/);
    assert.throws(() => run(FUSED_KERNELS.adamw, { x: tf.ones([2]), grad: tf.ones([2]), m: tf.ones([2]), v: tf.ones([2]) }, { params: [1] }), /params must hold 9 numbers/);
  });
  // The ops themselves, many times, inside gradients: no tensor left behind.
  const rng = new Rng(34);
  const x = randomTensor([5, 16], rng);
  const gain = tf.ones([16]);
  const labels = Int32Array.from([3, -1, 0, 15, 7]);
  for (let i = 0; i < 5; i++) {
    tf.tidy(() => tf.grads((a: tf.Tensor, g: tf.Tensor) =>
      tf.sum(softmaxCrossEntropy(gatedGelu(rmsNorm(a, g), gelu(a)) as tf.Tensor2D, labels)))([x, gain]).forEach((t) => t.dataSync()));
  }
  tf.dispose([x, gain]);
  assert.equal(tf.memory().numTensors, before);
});

test('embedding-bag kernels: native bag sum, gradient scatter and sparse Adam give the JS loops\' bits', () => {
  const rows = 300;
  const d = 19;
  const train = (native: boolean) => {
    const prev = setNativeEnabled(native);
    try {
      const rng = new Rng(35);
      const table = new SparseEmbeddingTable(rows, d, rng);
      const outs: Float32Array[] = [];
      for (let step = 0; step < 4; step++) {
        // Bags of 0 to 6 ids with repeats, so rows recur within and across bags.
        const sizes = Array.from({ length: 23 }, () => rng.int(7));
        const offsets = Int32Array.from([0, ...sizes.map((_, i) => sizes.slice(0, i + 1).reduce((a, b) => a + b, 0))]);
        const ids = Int32Array.from({ length: offsets[offsets.length - 1] }, () => rng.int(step % 2 ? 40 : rows));
        const weights = Float32Array.from(ids, () => rng.next());
        const bags = { offsets, ids, weights };
        const out = table.bagForward(bags);
        outs.push(out.slice());
        table.accumulate(bags, Float32Array.from(out, (x) => Math.sin(x * 7)));
        table.accumulate(bags, out);
        outs.push(table.gradientRow(ids[0] ?? 0));
        table.adamStep({ learningRate: 0.05 });
      }
      outs.push(table.snapshot());
      return outs;
    } finally {
      setNativeEnabled(prev);
    }
  };
  const before = nativeCallCount();
  const native = train(true);
  assert.equal(nativeCallCount() > before, expectNative, 'the native loops ran where the addon is built');
  const js = train(false);
  assert.equal(native.length, js.length);
  native.forEach((a, i) => assert.deepEqual(a, js[i], `output ${i}`));
  // The trained table moved away from its initialisation, so the comparison covered real updates.
  const init = new SparseEmbeddingTable(rows, d, new Rng(35)).snapshot();
  assert.ok(maxRelDiff(js[js.length - 1], init) > 1e-3);
});

test('embedding-bag kernels reject ids outside the table and malformed offsets', { skip: !expectNative && 'the native addon is not built' }, () => {
  const k = nativeRowKernels()!;
  const table = new Float32Array(4 * 3);
  const out = new Float32Array(2 * 3);
  const w = new Float32Array(3).fill(1);
  assert.throws(() => k.bagSum(table, 3, Int32Array.from([0, 1, 3]), Int32Array.from([0, 4, 1]), w, out), /bagSum: an id lies outside the table/);
  assert.throws(() => k.bagSum(table, 3, Int32Array.from([0, 2, 1]), Int32Array.from([0, 1, 1]), w, out), /offsets must ascend/);
  assert.throws(() => k.bagSum(table, 3, Int32Array.from([0, 1, 3]), Int32Array.from([0, 1, 1]), w, new Float32Array(5)), /out must hold B x d/);
  const mark = new Int32Array(4);
  assert.throws(() => k.bagAccumulate(new Float32Array(3), 3, Int32Array.from([0, 2]), Int32Array.from([0, 1]), w, out, mark, new Int32Array(4), new Int32Array(4), 0, 1), /no room for another row/);
  assert.throws(() => k.sparseAdam(table, new Float32Array(24), new Float32Array(3), Int32Array.from([9]), 1, 3, new Float64Array(6)), /touched row lies outside/);
});

test('logSoftmaxRows: fused equals composed and a float64 reference, values and gradients', () => {
  const rng = new Rng(37);
  for (const [n, v] of [[1, 1], [3, 5], [7, 17], [60, 538], [0, 4]]) {
    const logits = scaled([n, v], rng, 8) as tf.Tensor2D;
    const dy = randomTensor([n, v], rng);
    const what = `[${n}, ${v}]`;
    assertSame(() => logSoftmaxRows(logits), `log-softmax ${what}`);
    assertSame(() => tf.grads((z: tf.Tensor) => tf.sum(tf.mul(logSoftmaxRows(z as tf.Tensor2D), dy)))([logits]), `log-softmax grad ${what}`);
    tf.tidy(() => {
      const z = logits.dataSync();
      const out = logSoftmaxRows(logits).dataSync();
      for (let r = 0; r < n; r++) {
        const row = Array.from(z.subarray(r * v, (r + 1) * v));
        const mx = Math.max(...row);
        const lse = mx + Math.log(row.reduce((a, x) => a + Math.exp(x - mx), 0));
        for (let j = 0; j < v; j++) assert.ok(Math.abs(out[r * v + j] - (row[j] - lse)) < 1e-5 * (1 + Math.abs(row[j] - lse)), `${what} [${r}, ${j}]`);
      }
    });
    tf.dispose([logits, dy]);
  }
});
