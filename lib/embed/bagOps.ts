/**
 * tf ops with hand-written gradients used by the text tower:
 * - `matMulFast`: a plain rank-2 matmul whose gradient materialises the transposes, so every matmul
 *   (forward and backward) reaches the wasm backend's fast XNNPACK path (tfjs's own matMul gradient
 *   uses transposeA/B flags, which fall back to a slow scalar loop on wasm).
 * - `embeddingBag`: weighted sum of table rows per bag, with a scatter-add gradient (tf.scatterND
 *   sums duplicate indices). tfjs's gather gradient needs UnsortedSegmentSum, which wasm lacks.
 */
import { tf } from '../backend/index';
import type { BagBatch } from './textFeatures';

/** a [m,k] x b [k,n] with a transpose-free gradient. */
export function matMulFast(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const f = tf.customGrad(((x: tf.Tensor, y: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x, y]);
    return {
      value: tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ys] = saved as tf.Tensor2D[];
        return [
          tf.matMul(dy as tf.Tensor2D, tf.transpose(ys)),
          tf.matMul(tf.transpose(xs), dy as tf.Tensor2D),
        ];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(a, b) as tf.Tensor2D;
}

/** Pads a CSR bag batch to [B, L] ids and weights (padding: id 0 with weight 0). */
function padBags(bags: BagBatch): { ids: Int32Array; weights: Float32Array; rows: number; width: number } {
  const rows = bags.offsets.length - 1;
  let width = 1;
  for (let b = 0; b < rows; b++) width = Math.max(width, bags.offsets[b + 1] - bags.offsets[b]);
  const ids = new Int32Array(rows * width);
  const weights = new Float32Array(rows * width);
  for (let b = 0; b < rows; b++) {
    const a = bags.offsets[b];
    const n = bags.offsets[b + 1] - a;
    ids.set(bags.ids.subarray(a, a + n), b * width);
    weights.set(bags.weights.subarray(a, a + n), b * width);
  }
  return { ids, weights, rows, width };
}

/**
 * out[b] = sum_j weights[b,j] * table[ids[b,j]]: [B, D]. Gradient w.r.t. the table is a dense
 * [V, D] scatter-add (use the sparse trainer in `sparseTable.ts` when the table is large).
 */
export function embeddingBag(table: tf.Tensor2D, bags: BagBatch): tf.Tensor2D {
  const [vocab, dim] = table.shape;
  const p = padBags(bags);
  for (let i = 0; i < p.ids.length; i++) {
    if (p.ids[i] < 0 || p.ids[i] >= vocab) {
      throw new Error(`embeddingBag: id ${p.ids[i]} outside the table's ${vocab} rows`);
    }
  }
  const f = tf.customGrad(((t: tf.Tensor, save: tf.GradSaveFunc) => {
    const idsT = tf.tensor1d(p.ids, 'int32');
    const wT = tf.tensor3d(p.weights, [p.rows, p.width, 1]);
    save([idsT, wT]);
    const rows = tf.reshape(tf.gather(t, idsT), [p.rows, p.width, dim]);
    return {
      value: tf.sum(tf.mul(rows, wT), 1),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [ids, w] = saved;
        const upd = tf.reshape(tf.mul(tf.reshape(dy, [p.rows, 1, dim]), w), [p.rows * p.width, dim]);
        return [tf.scatterND(tf.reshape(ids, [p.rows * p.width, 1]), upd, [vocab, dim])];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(table) as tf.Tensor2D;
}
