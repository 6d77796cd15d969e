/**
 * Running one computation on the native kernels and again on the wasm kernels they replace, in one
 * process (setNativeEnabled), and comparing the two: what the native-kernel tests share.
 */
import assert from 'node:assert/strict';
import { setNativeEnabled, tf } from '../../lib/backend';
import { Rng } from '../../lib/util/random';

export function randomTensor(shape: number[], rng: Rng): tf.Tensor {
  const size = shape.reduce((p, d) => p * d, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = rng.next() * 2 - 1;
  return tf.tensor(data, shape, 'float32');
}

/** Runs `fn` with the native kernels on, then off; both results as plain arrays. */
export function bothPaths(fn: () => tf.Tensor | tf.Tensor[], wasmToo = true): { native: Float32Array[]; wasm: Float32Array[]; shapes: number[][]; nativeShapes: number[][] } {
  const run = (on: boolean) => {
    const prev = setNativeEnabled(on);
    try {
      return tf.tidy(() => {
        const out = fn();
        const list = Array.isArray(out) ? out : [out];
        return list.map((t) => ({ shape: t.shape, data: t.dataSync() as Float32Array }));
      });
    } finally {
      setNativeEnabled(prev);
    }
  };
  const n = run(true);
  const w = wasmToo ? run(false) : n;
  return { native: n.map((x) => x.data), wasm: w.map((x) => x.data), shapes: w.map((x) => x.shape), nativeShapes: n.map((x) => x.shape) };
}

export function maxRelDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  assert.equal(x.length, y.length, 'lengths');
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    const e = Math.abs(x[i] - y[i]) / (1 + Math.abs(y[i]));
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
  }
  return worst;
}

export function assertSame(fn: () => tf.Tensor | tf.Tensor[], what: string, tol = 1e-5): void {
  const before = tf.memory().numTensors;
  const { native, wasm } = bothPaths(fn);
  for (let i = 0; i < wasm.length; i++) {
    const d = maxRelDiff(native[i], wasm[i]);
    assert.ok(d <= tol, `${what} [output ${i}]: native vs wasm max relative difference ${d}`);
  }
  assert.equal(tf.memory().numTensors, before, `${what}: tensor leak`);
}

