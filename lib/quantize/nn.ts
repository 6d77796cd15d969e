/**
 * Small neural-network pieces for the learned tokenizers (RQ-VAE, ResidualLFQ): seeded dense layers
 * whose matmul gradient materialises the transposes (the wasm matmul is only fast without transpose
 * flags, and tfjs's own matMul gradient uses them), and weight export to plain arrays.
 */
import { tf } from '../backend/index';
import { Rng } from '../util/random';

/** a @ w with a gradient that uses plain (untransposed-flag) matmuls. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const fastMatMul = tf.customGrad(((a: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, w]);
  return {
    value: tf.matMul(a as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
      tf.matMul(dy as tf.Tensor2D, tf.transpose(saved[1]) as tf.Tensor2D),
      tf.matMul(tf.transpose(saved[0]) as tf.Tensor2D, dy as tf.Tensor2D),
    ],
  };
}) as any) as unknown as (a: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

export function matMul(a: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return fastMatMul(a, w);
}

export interface Dense {
  w: tf.Variable;
  b: tf.Variable | null;
}

/** Glorot-uniform weights drawn from `rng` (times `scale`), zero bias. */
export function denseLayer(rng: Rng, inDim: number, outDim: number, name: string, bias = true, scale = 1): Dense {
  const lim = scale * Math.sqrt(6 / (inDim + outDim));
  const w = Float32Array.from({ length: inDim * outDim }, () => (2 * rng.next() - 1) * lim);
  return {
    w: tf.tidy(() => tf.variable(tf.tensor2d(w, [inDim, outDim]), true, `${name}_w_${rng.nextU32()}`)),
    b: bias ? tf.tidy(() => tf.variable(tf.zeros([outDim]), true, `${name}_b_${rng.nextU32()}`)) : null,
  };
}

export function applyDense(x: tf.Tensor2D, layer: Dense, relu: boolean): tf.Tensor2D {
  let y = matMul(x, layer.w as unknown as tf.Tensor2D);
  if (layer.b) y = tf.add(y, layer.b);
  return relu ? tf.relu(y) : y;
}

export function disposeDense(layers: Dense[]): void {
  for (const l of layers) {
    l.w.dispose();
    if (l.b) l.b.dispose();
  }
}

/** Weights as plain arrays (JSON-able with Array.from), for models kept after training. */
export interface DenseWeights {
  inDim: number;
  outDim: number;
  w: Float32Array;
  b: Float32Array | null;
}

export function exportDense(l: Dense): DenseWeights {
  const [inDim, outDim] = l.w.shape;
  return { inDim, outDim, w: l.w.dataSync() as Float32Array, b: l.b ? (l.b.dataSync() as Float32Array) : null };
}

/** Forward pass of exported weights (inside the caller's tidy). */
export function applyWeights(x: tf.Tensor2D, l: DenseWeights, relu: boolean): tf.Tensor2D {
  let y: tf.Tensor2D = tf.matMul(x, tf.tensor2d(l.w, [l.inDim, l.outDim]));
  if (l.b) y = tf.add(y, tf.tensor1d(l.b));
  return relu ? tf.relu(y) : y;
}

/** Row index batches of one epoch, in a seeded order. */
export function epochBatches(n: number, batchSize: number, rng: Rng): Int32Array[] {
  const perm = rng.permutation(n);
  const out: Int32Array[] = [];
  for (let s = 0; s < n; s += batchSize) out.push(perm.subarray(s, Math.min(n, s + batchSize)));
  return out;
}

/** Rows of a row-major Float32Array as a [m, d] tensor. */
export function rowsTensor(data: Float32Array, d: number, rows: ArrayLike<number>): tf.Tensor2D {
  const out = new Float32Array(rows.length * d);
  for (let r = 0; r < rows.length; r++) out.set(data.subarray(rows[r] * d, rows[r] * d + d), r * d);
  return tf.tensor2d(out, [rows.length, d]);
}

/** Identity in the forward pass, zero gradient (tfjs has no stop_gradient op). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const stopGrad = tf.customGrad(((x: tf.Tensor) => ({ value: tf.clone(x), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) })) as any) as unknown as (x: tf.Tensor) => tf.Tensor;

export function stopGradient<T extends tf.Tensor>(x: T): T {
  return stopGrad(x) as T;
}
