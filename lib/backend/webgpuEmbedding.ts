/**
 * Embedding lookup for the GPU backends: the table stays on the device. The forward pass is a gather
 * and the table's gradient an unsorted segment sum of the upstream rows by id (a scatter-add), both
 * kernels of tfjs-backend-webgpu, so a training step reads nothing back to the CPU. (The wasm path in
 * embedding.ts copies rows in JS instead, because there those kernels are missing or slow.)
 */
import * as tf from '@tensorflow/tfjs';

/** Rows `ids` of `table` ([numRows, dim]) shaped `shape`, with a scatter-add gradient. */
export function deviceEmbeddingLookup(table: tf.Tensor, ids: Int32Array, shape: number[]): tf.Tensor {
  const [numRows, dim] = table.shape as [number, number];
  const idx = tf.tensor1d(ids, 'int32');
  const lookup = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const t = inputs[0] as tf.Tensor;
    const save = inputs[1] as tf.GradSaveFunc;
    save([idx]);
    return {
      value: tf.reshape(tf.gather(t, idx), shape),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.unsortedSegmentSum(tf.reshape(dy, [ids.length, dim]), saved[0] as tf.Tensor1D, numRows),
    };
  });
  const out = lookup(table);
  // The tape keeps its own copy of saved tensors for the backward pass.
  idx.dispose();
  return out;
}
