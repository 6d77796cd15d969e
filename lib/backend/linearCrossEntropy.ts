/**
 * Cross-entropy over a large output vocabulary without the full logits matrix: the sum over rows of
 * softmaxCrossEntropy(h · wᵀ, labels) for hidden states h [N, d] and an output table w [V, d].
 *
 * The direct form holds N x V logits and as many gradients at once (SASRec on a 62k-item catalogue:
 * 3,200 positions x 62k items x 4 B = 0.8 GB each, most of the 4 GB wasm heap). Here rows go in chunks
 * of at most `maxLogitFloats / V`; the forward pass keeps only each row's loss, and the backward pass
 * recomputes each chunk's logits, so at most one chunk's logits and gradient are alive. The price is
 * one more [chunk, d] x [d, V] product per chunk. Where N x V is within `maxLogitFloats` the direct
 * form runs, so results at that size are the same bit for bit.
 */
import * as tf from '@tensorflow/tfjs';
import { customOp, softmaxCrossEntropy, softmaxCrossEntropyGrad } from './fusedOps';

/** 2^25 floats (128 MB) of logits per chunk. */
const DEFAULT_MAX_LOGIT_FLOATS = 1 << 25;

/** Row ranges [start, count] of at most `rows` rows each, covering 0..n-1. */
function rowChunks(n: number, rows: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let s = 0; s < n; s += rows) out.push([s, Math.min(n, s + rows) - s]);
  return out;
}

/** One chunk of rows h[s..s+c), its logits against w, and its labels (call inside a tidy). */
function chunkOf(h: tf.Tensor2D, w: tf.Tensor2D, labels: Int32Array, [s, c]: [number, number]): { rows: tf.Tensor2D; logits: tf.Tensor2D; labels: Int32Array } {
  const rows = tf.slice(h, [s, 0], [c, h.shape[1]]);
  return { rows, logits: tf.matMul(rows, w, false, true) as tf.Tensor2D, labels: labels.subarray(s, s + c) };
}

/**
 * Sum over rows of -log softmax(h · wᵀ)[label], 0 for rows labelled -1 (padding); differentiable in
 * h and w. Throws on mismatched shapes or a label outside -1..V-1.
 */
export function linearSoftmaxCrossEntropySum(h: tf.Tensor2D, w: tf.Tensor2D, labels: Int32Array, maxLogitFloats = DEFAULT_MAX_LOGIT_FLOATS): tf.Scalar {
  const [n, d] = h.shape;
  const [v, dw] = w.shape;
  if (dw !== d) throw new Error(`linearSoftmaxCrossEntropySum: hidden width ${d} != output table width ${dw}`);
  if (labels.length !== n) throw new Error(`linearSoftmaxCrossEntropySum: ${labels.length} labels for ${n} rows`);
  if (!(Number.isInteger(maxLogitFloats) && maxLogitFloats >= 1)) {
    throw new Error(`linearSoftmaxCrossEntropySum: maxLogitFloats must be an integer >= 1, got ${maxLogitFloats}`);
  }
  for (let i = 0; i < n; i++) {
    if (!(labels[i] >= -1 && labels[i] < v)) throw new Error(`linearSoftmaxCrossEntropySum: label ${labels[i]} at row ${i} is outside -1..${v - 1}`);
  }
  if (n * v <= maxLogitFloats) return tf.tidy(() => tf.sum(softmaxCrossEntropy(tf.matMul(h, w, false, true), labels)));
  const chunks = rowChunks(n, Math.max(1, Math.floor(maxLogitFloats / v)));
  const op = customOp(([hIn, wIn], save) => {
    const hs = hIn as tf.Tensor2D;
    const ws = wIn as tf.Tensor2D;
    save([hs, ws]);
    // Each chunk's logits are released by its own tidy; only its summed loss survives.
    const parts = chunks.map((chunk) => tf.tidy(() => {
      const part = chunkOf(hs, ws, labels, chunk);
      return tf.sum(softmaxCrossEntropy(part.logits, part.labels));
    }));
    const total = tf.addN(parts) as tf.Scalar;
    tf.dispose(parts);
    return {
      value: total,
      gradFunc: (dy, saved) => {
        const [hS, wS] = saved as tf.Tensor2D[];
        const dhParts: tf.Tensor[] = [];
        let dW: tf.Tensor = tf.zeros([v, d]);
        for (const chunk of chunks) {
          const [dh, nextDW] = tf.tidy(() => {
            const part = chunkOf(hS, wS, labels, chunk);
            const dz = softmaxCrossEntropyGrad(part.logits, part.labels);
            return [tf.matMul(dz, wS), tf.add(dW, tf.matMul(dz, part.rows, true, false))];
          });
          dW.dispose();
          dW = nextDW;
          dhParts.push(dh);
        }
        return tf.tidy(() => {
          const grads = [tf.mul(tf.concat(dhParts, 0), dy), tf.mul(dW, dy)];
          for (const t of dhParts) t.dispose();
          dW.dispose();
          return grads;
        });
      },
    };
  });
  return op(h, w) as tf.Scalar;
}
