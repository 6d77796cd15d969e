/**
 * Tensor operations of the seq2seq model, written around the tfjs-wasm speed traps (DESIGN.md §2):
 * matmul gradients materialise their transposes (XNNPACK only runs untransposed rank-2 products),
 * GELU uses sigmoid instead of tanh, and embedding rows come from the backend's JS lookup with a
 * scatter-add gradient (the wasm backend has no fast gather gradient).
 */
import { embeddingLookup, tf } from '../backend/index';

type GradFn = (...args: Array<tf.Tensor | ((ts: tf.Tensor[]) => void)>) => {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];
};

/** [N, din] x [din, dout] whose gradient uses plain (untransposed) rank-2 matmuls only. */
const matMul2d = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, save: (ts: tf.Tensor[]) => void) => {
  save([x, w]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as tf.Tensor2D[];
      const wT = tf.transpose(ws);
      const xT = tf.transpose(xs);
      return [tf.matMul(dy as tf.Tensor2D, wT), tf.matMul(xT, dy as tf.Tensor2D)];
    },
  };
}) as unknown as GradFn) as unknown as (x: tf.Tensor, w: tf.Tensor) => tf.Tensor;

/** x [..., din] times w [din, dout] -> [..., dout]. */
export function linear(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  const din = w.shape[0];
  const dout = w.shape[1] as number;
  if (x.shape[x.shape.length - 1] !== din) {
    throw new Error(`linear: input's last dimension ${x.shape[x.shape.length - 1]} != weight rows ${din}`);
  }
  const lead = x.shape.slice(0, -1);
  const y = matMul2d(x.rank === 2 ? x : x.reshape([-1, din]), w);
  return x.rank === 2 ? y : y.reshape([...lead, dout]);
}

/** RMSNorm (T5 LayerNorm): x / rms(x) * gain, no mean subtraction, no bias. */
export function rmsNorm(x: tf.Tensor, gain: tf.Tensor, eps = 1e-6): tf.Tensor {
  const ms = tf.mean(tf.mul(x, x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), gain);
}

const GELU_C = 2 * Math.sqrt(2 / Math.PI);

/** GELU (tanh form) written exactly as a * sigmoid(2c(a + 0.044715 a^3)): tanh is slow on wasm. */
export function gelu(a: tf.Tensor): tf.Tensor {
  const a3 = tf.mul(tf.mul(a, a), a);
  return tf.mul(a, tf.sigmoid(tf.mul(tf.add(a, tf.mul(a3, 0.044715)), GELU_C)));
}

/**
 * Rows of `table` [V, d] at `ids` (any shape flattened), reshaped to `outShape` (last dim d): the
 * backend's embedding lookup (rows copied in JS, dense scatter-add gradient).
 */
export function embedRows(table: tf.Tensor, ids: Int32Array, outShape: number[]): tf.Tensor {
  return embeddingLookup(table as tf.Tensor2D, ids, outShape);
}

/** One-hot float matrix [ids.length, depth] built in JS (no gather kernels). */
export function oneHotRows(ids: ArrayLike<number>, depth: number): tf.Tensor2D {
  const out = new Float32Array(ids.length * depth);
  for (let i = 0; i < ids.length; i++) if (ids[i] >= 0) out[i * depth + ids[i]] = 1;
  return tf.tensor2d(out, [ids.length, depth]);
}
