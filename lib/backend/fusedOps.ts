/**
 * Element-wise blocks of the models that run as one fused kernel where the backend has it (the native
 * addon's, lib/backend/nativeFused.ts) and as the same maths composed from tfjs kernels everywhere
 * else (other backends, the browser demo, SID_NATIVE=0). Both paths compute the same float32
 * operations; the fused one reads and writes each tensor once instead of once per operation.
 */
import * as tf from '@tensorflow/tfjs';
import { FUSED_KERNELS, nativeEnabled } from './nativeRegistry';

const GELU_C = 2 * Math.sqrt(2 / Math.PI);

/** True when `kernel` is registered for the active backend and native kernels are on. */
function fusedAvailable(kernel: string): boolean {
  return nativeEnabled() && tf.getKernel(kernel, tf.getBackend()) !== undefined;
}

function run(kernel: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown> = {}): tf.Tensor | tf.Tensor[] {
  return tf.engine().runKernel(kernel, inputs as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
}

/** GELU (tanh form) written exactly as a * sigmoid(2c(a + 0.044715 a^3)), c = sqrt(2/pi): tanh is slow on wasm. */
function geluComposed(a: tf.Tensor): tf.Tensor {
  const a3 = tf.mul(tf.mul(a, a), a);
  return tf.mul(a, tf.sigmoid(tf.mul(tf.add(a, tf.mul(a3, 0.044715)), GELU_C)));
}

type Saver = (ts: tf.Tensor[]) => void;
type CustomOp = (...inputs: tf.Tensor[]) => tf.Tensor;
/** tf.customGrad with the loose typing its overloads need here. */
export function customOp(f: (inputs: tf.Tensor[], save: Saver) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] }): CustomOp {
  const g = tf.customGrad(((...args: Array<tf.Tensor | Saver>) => f(args.slice(0, -1) as tf.Tensor[], args[args.length - 1] as Saver)) as unknown as Parameters<typeof tf.customGrad>[0]);
  return g as unknown as CustomOp;
}

const fusedGelu = customOp(([a], save) => {
  save([a]);
  return { value: run(FUSED_KERNELS.geluGate, { a }) as tf.Tensor, gradFunc: (dy, [x]) => run(FUSED_KERNELS.geluGateGrad, { dy, a: x }) as tf.Tensor[] };
});

const fusedGeluGate = customOp(([a, b], save) => {
  save([a, b]);
  return { value: run(FUSED_KERNELS.geluGate, { a, b }) as tf.Tensor, gradFunc: (dy, [x, y]) => run(FUSED_KERNELS.geluGateGrad, { dy, a: x, b: y }) as tf.Tensor[] };
});

/** gelu(a), elementwise. */
export function gelu(a: tf.Tensor): tf.Tensor {
  return fusedAvailable(FUSED_KERNELS.geluGate) && a.dtype === 'float32' ? fusedGelu(a) : geluComposed(a);
}

/** gelu(a) * b, the gated GELU of a T5 feed-forward block (a and b of one shape). */
export function gatedGelu(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (fusedAvailable(FUSED_KERNELS.geluGate) && a.dtype === 'float32' && b.dtype === 'float32' && tf.util.arraysEqual(a.shape, b.shape)) {
    return fusedGeluGate(a, b);
  }
  return tf.mul(geluComposed(a), b);
}

const fusedRmsNorm = (eps: number) => customOp(([x, gain], save) => {
  save([x, gain]);
  return {
    value: run(FUSED_KERNELS.rmsNorm, { x, gain }, { eps }) as tf.Tensor,
    gradFunc: (dy, [xs, gs]) => run(FUSED_KERNELS.rmsNormGrad, { dy, x: xs, gain: gs }, { eps }) as tf.Tensor[],
  };
});

/** RMSNorm (T5 LayerNorm) over the last axis: x / sqrt(mean(x^2) + eps) * gain, no mean subtraction, no bias. */
export function rmsNorm(x: tf.Tensor, gain: tf.Tensor, eps = 1e-6): tf.Tensor {
  const d = x.shape[x.shape.length - 1];
  if (fusedAvailable(FUSED_KERNELS.rmsNorm) && x.dtype === 'float32' && gain.rank === 1 && gain.shape[0] === d) {
    return fusedRmsNorm(eps)(x, gain);
  }
  const ms = tf.mean(tf.mul(x, x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), gain);
}

/** One-hot float matrix [ids.length, depth] built in JS (no gather kernels); ids of -1 give a zero row. */
export function oneHotRows(ids: ArrayLike<number>, depth: number): tf.Tensor2D {
  const out = new Float32Array(ids.length * depth);
  for (let i = 0; i < ids.length; i++) if (ids[i] >= 0) out[i * depth + ids[i]] = 1;
  return tf.tensor2d(out, [ids.length, depth]);
}

const fusedSoftmaxXent = (labels: Int32Array) => customOp(([logits], save) => {
  const lab = tf.tensor1d(labels, 'int32');
  const [loss, lse] = run(FUSED_KERNELS.softmaxXent, { logits, labels: lab }) as tf.Tensor[];
  save([logits, lab, lse]);
  return {
    value: loss,
    gradFunc: (dy, [z, l, m]) => [run(FUSED_KERNELS.softmaxXentGrad, { dy, logits: z, labels: l, lse: m }) as tf.Tensor],
  };
});

/**
 * Cross-entropy of softmax(logits) [N, V] against integer labels [N] per row: logsumexp(z) - z[label],
 * 0 where the label is -1 (padding). Fused, the gradient softmax(z) - onehot is written in one pass
 * and no one-hot matrix is built.
 */
export function softmaxCrossEntropy(logits: tf.Tensor2D, labels: Int32Array): tf.Tensor1D {
  const [n, v] = logits.shape;
  if (labels.length !== n) throw new Error(`softmaxCrossEntropy: ${labels.length} labels for ${n} rows of logits`);
  for (let i = 0; i < labels.length; i++) {
    if (!(labels[i] >= -1 && labels[i] < v)) throw new Error(`softmaxCrossEntropy: label ${labels[i]} at row ${i} is outside -1..${v - 1}`);
  }
  if (fusedAvailable(FUSED_KERNELS.softmaxXent) && logits.dtype === 'float32' && v > 0) return fusedSoftmaxXent(labels)(logits) as tf.Tensor1D;
  return tf.tidy(() => tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), oneHotRows(labels, v)), 1)) as tf.Tensor1D);
}

const fusedLogSoftmax = customOp(([x], save) => {
  const y = run(FUSED_KERNELS.logSoftmax, { x }) as tf.Tensor;
  save([y]);
  // d/dx of log-softmax: dy - softmax(x) * sum(dy) per row.
  return { value: y, gradFunc: (dy, [ys]) => [tf.sub(dy, tf.mul(tf.exp(ys), tf.sum(dy, -1, true)))] };
});

/** log-softmax over the last axis of [rows, classes] logits: one pass per row where fused (beam search's every step). */
export function logSoftmaxRows(logits: tf.Tensor2D): tf.Tensor2D {
  if (fusedAvailable(FUSED_KERNELS.logSoftmax) && logits.dtype === 'float32' && logits.rank === 2) return fusedLogSoftmax(logits) as tf.Tensor2D;
  return tf.logSoftmax(logits);
}

/**
 * The gradient of sum(softmaxCrossEntropy(logits, labels)) with respect to the logits, computed
 * outside a gradient tape: softmax(z) - onehot(label) per row, 0 on rows labelled -1. For ops that
 * recompute logits in their own backward pass (lib/backend/linearCrossEntropy.ts).
 */
export function softmaxCrossEntropyGrad(logits: tf.Tensor2D, labels: Int32Array): tf.Tensor2D {
  const [n, v] = logits.shape;
  if (labels.length !== n) throw new Error(`softmaxCrossEntropyGrad: ${labels.length} labels for ${n} rows of logits`);
  if (fusedAvailable(FUSED_KERNELS.softmaxXent) && logits.dtype === 'float32' && v > 0) {
    return tf.tidy(() => {
      const lab = tf.tensor1d(labels, 'int32');
      const [, lse] = run(FUSED_KERNELS.softmaxXent, { logits, labels: lab }) as tf.Tensor[];
      return run(FUSED_KERNELS.softmaxXentGrad, { dy: tf.ones([n]), logits, labels: lab, lse }) as tf.Tensor2D;
    });
  }
  return tf.tidy(() => {
    const mask = tf.tensor2d(Float32Array.from(labels, (l) => (l >= 0 ? 1 : 0)), [n, 1]);
    return tf.mul(tf.sub(tf.softmax(logits), oneHotRows(labels, v)), mask) as tf.Tensor2D;
  });
}

export interface AdamWUpdate {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 1 - beta1^t and 1 - beta2^t. */
  biasCorrection1: number;
  biasCorrection2: number;
  /** 1 - lr * weightDecay, or null for a parameter without weight decay. */
  decayFactor: number | null;
}

/**
 * One AdamW step of one parameter: the new [x, m, v] for gradient `grad` (times `scale`, a scalar
 * tensor, when given). The caller assigns them.
 */
export function adamwUpdate(x: tf.Tensor, grad: tf.Tensor, m: tf.Tensor, v: tf.Tensor, scale: tf.Tensor | null, u: AdamWUpdate): [tf.Tensor, tf.Tensor, tf.Tensor] {
  if (fusedAvailable(FUSED_KERNELS.adamw) && [x, grad, m, v].every((t) => t.dtype === 'float32')) {
    const inputs: Record<string, tf.Tensor> = { x, grad, m, v };
    if (scale) inputs.scale = scale;
    const params = [u.lr, u.beta1, 1 - u.beta1, u.beta2, 1 - u.beta2, u.eps, u.biasCorrection1, u.biasCorrection2, u.decayFactor ?? -1];
    return run(FUSED_KERNELS.adamw, inputs, { params }) as [tf.Tensor, tf.Tensor, tf.Tensor];
  }
  return tf.tidy(() => {
    const g = scale ? tf.mul(grad, scale) : grad;
    const mNew = tf.add(tf.mul(m, u.beta1), tf.mul(g, 1 - u.beta1));
    const vNew = tf.add(tf.mul(v, u.beta2), tf.mul(tf.mul(g, g), 1 - u.beta2));
    const update = tf.div(tf.div(mNew, u.biasCorrection1), tf.add(tf.sqrt(tf.div(vNew, u.biasCorrection2)), u.eps));
    const decayed = u.decayFactor === null ? x : tf.mul(x, u.decayFactor);
    return [tf.sub(decayed, tf.mul(update, u.lr)), mNew, vNew];
  });
}
