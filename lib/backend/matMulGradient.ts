/**
 * A BatchMatMul gradient that handles broadcast batch dimensions. tfjs 4.22.0's own gradient returns
 * the per-batch products unreduced, so `tf.matMul` of [B,M,K] by [K,N] fails in backprop ("The
 * gradient of input 'b' has shape 'B,K,N', which does not match ..."). This one computes the same
 * products and then sums them over the axes where the input was broadcast.
 */
import * as tf from '@tensorflow/tfjs';

let installed = false;

/** Sums `g` down to `shape` over leading and size-1 (broadcast) axes. */
function reduceTo(g: tf.Tensor, shape: number[]): tf.Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  return tf.reshape(axes.length ? tf.sum(g, axes) : g, shape);
}

export function installBroadcastMatMulGradient(): void {
  if (installed) return;
  tf.registerGradient({
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const d = dy as tf.Tensor;
      const [a, b] = saved;
      const ta = Boolean(attrs.transposeA);
      const tb = Boolean(attrs.transposeB);
      let ga: () => tf.Tensor;
      let gb: () => tf.Tensor;
      if (!ta && !tb) {
        ga = () => tf.matMul(d, b, false, true);
        gb = () => tf.matMul(a, d, true, false);
      } else if (!ta && tb) {
        ga = () => tf.matMul(d, b, false, false);
        gb = () => tf.matMul(d, a, true, false);
      } else if (ta && !tb) {
        ga = () => tf.matMul(b, d, false, true);
        gb = () => tf.matMul(a, d, false, false);
      } else {
        ga = () => tf.matMul(b, d, true, true);
        gb = () => tf.matMul(d, a, true, true);
      }
      return { a: () => reduceTo(ga(), a.shape), b: () => reduceTo(gb(), b.shape) };
    },
  });
  installed = true;
}
