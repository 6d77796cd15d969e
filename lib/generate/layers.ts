/**
 * Tensor operations of the seq2seq model, written around the tfjs-wasm speed traps (DESIGN.md §2):
 * rank-2 matmuls (the backend runs their transposed gradient products on BLAS flags, or materialises
 * the transposes where XNNPACK needs it), GELU through sigmoid instead of tanh and RMSNorm as fused
 * kernels where the native addon has them (lib/backend/fusedOps.ts), and embedding rows from the
 * backend's JS lookup with a scatter-add gradient (the wasm backend has no fast gather gradient).
 */
import { embeddingLookup, tf } from '../backend/index';

export { gatedGelu, gelu, oneHotRows, rmsNorm, softmaxCrossEntropy } from '../backend/index';

/** x [..., din] times w [din, dout] -> [..., dout]. */
export function linear(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  const din = w.shape[0];
  const dout = w.shape[1] as number;
  if (x.shape[x.shape.length - 1] !== din) {
    throw new Error(`linear: input's last dimension ${x.shape[x.shape.length - 1]} != weight rows ${din}`);
  }
  const lead = x.shape.slice(0, -1);
  const y = tf.matMul(x.rank === 2 ? x : x.reshape([-1, din]), w as tf.Tensor2D);
  return x.rank === 2 ? y : y.reshape([...lead, dout]);
}

/**
 * Rows of `table` [V, d] at `ids` (any shape flattened), reshaped to `outShape` (last dim d): the
 * backend's embedding lookup (rows copied in JS, dense scatter-add gradient).
 */
export function embedRows(table: tf.Tensor, ids: Int32Array, outShape: number[]): tf.Tensor {
  return embeddingLookup(table as tf.Tensor2D, ids, outShape);
}
