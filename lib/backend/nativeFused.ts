/**
 * Kernels the wasm backend does not have, on the native addon's fused loops (native/fused.c): the
 * (gated) GELU and its gradient, RMSNorm and its gradient, one AdamW update per parameter, and the
 * softmax cross-entropy over integer labels with its gradient. They
 * are registered under their own names (FUSED_KERNELS, nativeRegistry.ts); lib/backend/fusedOps.ts calls them where
 * they are registered and composes the same maths from tfjs kernels everywhere else.
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from './native';
import { countNativeCall, FUSED_KERNELS, heapOf, offsetOf, type KernelArgs, type TensorInfo, type WasmBackendLike } from './nativeRegistry';

type Kernel = (args: KernelArgs) => TensorInfo | TensorInfo[];

function float32Input(args: KernelArgs, name: string, kernel: string): TensorInfo {
  const t = args.inputs[name];
  if (!t) throw new Error(`${kernel}: input '${name}' is missing`);
  if (t.dtype !== 'float32') throw new Error(`${kernel}: input '${name}' must be float32, got ${t.dtype}`);
  return t;
}

function sizeOf(shape: number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

function sameShape(a: TensorInfo, b: TensorInfo, kernel: string): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${kernel}: shapes ${JSON.stringify(a.shape)} and ${JSON.stringify(b.shape)} must match`);
  }
}

/** Byte offset of an optional operand (-1 when absent). */
function offsetOrNone(backend: WasmBackendLike, t: TensorInfo | undefined): number {
  return t ? offsetOf(backend, t) : -1;
}

function geluGate(addon: NativeAddon): Kernel {
  return (args) => {
    const k = FUSED_KERNELS.geluGate;
    const a = float32Input(args, 'a', k);
    const b = args.inputs.b ? float32Input(args, 'b', k) : undefined;
    if (b) sameShape(a, b, k);
    const backend = args.backend as WasmBackendLike;
    const out = backend.makeOutput(a.shape, 'float32');
    const n = sizeOf(a.shape);
    if (n === 0) return out;
    addon.geluGate(heapOf(backend), offsetOf(backend, a), offsetOrNone(backend, b), offsetOf(backend, out), n);
    countNativeCall();
    return out;
  };
}

function geluGateGrad(addon: NativeAddon): Kernel {
  return (args) => {
    const k = FUSED_KERNELS.geluGateGrad;
    const dy = float32Input(args, 'dy', k);
    const a = float32Input(args, 'a', k);
    const b = args.inputs.b ? float32Input(args, 'b', k) : undefined;
    sameShape(dy, a, k);
    if (b) sameShape(a, b, k);
    const backend = args.backend as WasmBackendLike;
    const da = backend.makeOutput(a.shape, 'float32');
    const db = b ? backend.makeOutput(a.shape, 'float32') : undefined;
    const n = sizeOf(a.shape);
    if (n > 0) {
      addon.geluGateGrad(heapOf(backend), offsetOf(backend, dy), offsetOf(backend, a), offsetOrNone(backend, b), offsetOf(backend, da), offsetOrNone(backend, db), n);
      countNativeCall();
    }
    return db ? [da, db] : [da];
  };
}

/** Rows and width of x [..., d] normalised over its last axis with a gain of d values. */
function normSizes(x: TensorInfo, gain: TensorInfo, kernel: string): { rows: number; d: number } {
  const d = x.shape[x.shape.length - 1];
  if (x.shape.length === 0 || gain.shape.length !== 1 || gain.shape[0] !== d) {
    throw new Error(`${kernel}: gain of shape ${JSON.stringify(gain.shape)} must be [${d ?? '?'}] for x of shape ${JSON.stringify(x.shape)}`);
  }
  return { rows: d === 0 ? 0 : sizeOf(x.shape) / d, d };
}

function rmsNorm(addon: NativeAddon): Kernel {
  return (args) => {
    const k = FUSED_KERNELS.rmsNorm;
    const x = float32Input(args, 'x', k);
    const gain = float32Input(args, 'gain', k);
    const { rows, d } = normSizes(x, gain, k);
    const backend = args.backend as WasmBackendLike;
    const out = backend.makeOutput(x.shape, 'float32');
    if (rows === 0) return out;
    addon.rmsNorm(heapOf(backend), offsetOf(backend, x), offsetOf(backend, gain), offsetOf(backend, out), rows, d, Number(args.attrs?.eps));
    countNativeCall();
    return out;
  };
}

function rmsNormGrad(addon: NativeAddon): Kernel {
  return (args) => {
    const k = FUSED_KERNELS.rmsNormGrad;
    const dy = float32Input(args, 'dy', k);
    const x = float32Input(args, 'x', k);
    const gain = float32Input(args, 'gain', k);
    sameShape(dy, x, k);
    const { rows, d } = normSizes(x, gain, k);
    const backend = args.backend as WasmBackendLike;
    const dx = backend.makeOutput(x.shape, 'float32');
    const dgain = backend.makeOutput(gain.shape, 'float32');
    if (rows === 0 || d === 0) {
      if (d > 0) heapOf(backend).fill(0, offsetOf(backend, dgain), offsetOf(backend, dgain) + 4 * d);
      return [dx, dgain];
    }
    addon.rmsNormGrad(heapOf(backend), offsetOf(backend, dy), offsetOf(backend, x), offsetOf(backend, gain), offsetOf(backend, dx), offsetOf(backend, dgain), rows, d, Number(args.attrs?.eps));
    countNativeCall();
    return [dx, dgain];
  };
}

function adamw(addon: NativeAddon): Kernel {
  return (args) => {
    const k = FUSED_KERNELS.adamw;
    const [x, g, m, v] = ['x', 'grad', 'm', 'v'].map((name) => float32Input(args, name, k));
    for (const t of [g, m, v]) sameShape(x, t, k);
    const scale = args.inputs.scale ? float32Input(args, 'scale', k) : undefined;
    if (scale && sizeOf(scale.shape) !== 1) throw new Error(`${k}: scale must hold one value, got shape ${JSON.stringify(scale.shape)}`);
    const params = args.attrs?.params as number[] | undefined;
    if (!params || params.length !== 9) throw new Error(`${k}: attrs.params must hold 9 numbers`);
    const backend = args.backend as WasmBackendLike;
    const outs = [0, 1, 2].map(() => backend.makeOutput(x.shape, 'float32'));
    const n = sizeOf(x.shape);
    if (n === 0) return outs;
    const offsets = Float64Array.from([x, g, m, v, ...outs].map((t) => offsetOf(backend, t)).concat(offsetOrNone(backend, scale)));
    addon.adamw(heapOf(backend), offsets, n, Float64Array.from(params));
    countNativeCall();
    return outs;
  };
}

/** logits [N, V] float32 and labels [N] int32: the row and class counts. */
function xentSizes(logits: TensorInfo, labels: TensorInfo, kernel: string): { rows: number; v: number } {
  if (labels.dtype !== 'int32') throw new Error(`${kernel}: labels must be int32, got ${labels.dtype}`);
  if (logits.shape.length !== 2 || labels.shape.length !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new Error(`${kernel}: logits ${JSON.stringify(logits.shape)} must be [N, V] and labels ${JSON.stringify(labels.shape)} [N]`);
  }
  return { rows: logits.shape[0], v: logits.shape[1] };
}

function softmaxXent(addon: NativeAddon): Kernel {
  return (args) => {
    const k = FUSED_KERNELS.softmaxXent;
    const logits = float32Input(args, 'logits', k);
    const labels = args.inputs.labels;
    if (!labels) throw new Error(`${k}: input 'labels' is missing`);
    const { rows, v } = xentSizes(logits, labels, k);
    const backend = args.backend as WasmBackendLike;
    const loss = backend.makeOutput([rows], 'float32');
    const lse = backend.makeOutput([rows], 'float32');
    if (rows === 0) return [loss, lse];
    if (v === 0) throw new Error(`${k}: logits have no classes`);
    addon.softmaxXent(heapOf(backend), offsetOf(backend, logits), offsetOf(backend, labels), offsetOf(backend, loss), offsetOf(backend, lse), rows, v);
    countNativeCall();
    return [loss, lse];
  };
}

function logSoftmax(addon: NativeAddon): Kernel {
  return (args) => {
    const k = FUSED_KERNELS.logSoftmax;
    const x = float32Input(args, 'x', k);
    if (x.shape.length !== 2) throw new Error(`${k}: expected [rows, classes], got ${JSON.stringify(x.shape)}`);
    const [rows, v] = x.shape;
    const backend = args.backend as WasmBackendLike;
    const out = backend.makeOutput(x.shape, 'float32');
    if (rows === 0 || v === 0) return out;
    addon.logSoftmax(heapOf(backend), offsetOf(backend, x), offsetOf(backend, out), rows, v);
    countNativeCall();
    return out;
  };
}

function softmaxXentGrad(addon: NativeAddon): Kernel {
  return (args) => {
    const k = FUSED_KERNELS.softmaxXentGrad;
    const dy = float32Input(args, 'dy', k);
    const logits = float32Input(args, 'logits', k);
    const lse = float32Input(args, 'lse', k);
    const labels = args.inputs.labels;
    if (!labels) throw new Error(`${k}: input 'labels' is missing`);
    const { rows, v } = xentSizes(logits, labels, k);
    sameShape(dy, labels, k);
    sameShape(lse, labels, k);
    const backend = args.backend as WasmBackendLike;
    const dz = backend.makeOutput(logits.shape, 'float32');
    if (rows === 0 || v === 0) return dz;
    addon.softmaxXentGrad(heapOf(backend), offsetOf(backend, dy), offsetOf(backend, logits), offsetOf(backend, labels), offsetOf(backend, lse), offsetOf(backend, dz), rows, v);
    countNativeCall();
    return dz;
  };
}

/** Registers the fused kernels on `backendName`; returns their names (none when the addon lacks them). */
export function registerFusedKernels(addon: NativeAddon, backendName: string): string[] {
  if (typeof addon.geluGate !== 'function' || typeof addon.softmaxXent !== 'function') return [];
  const table: Array<[string, Kernel]> = [
    [FUSED_KERNELS.geluGate, geluGate(addon)],
    [FUSED_KERNELS.geluGateGrad, geluGateGrad(addon)],
    [FUSED_KERNELS.rmsNorm, rmsNorm(addon)],
    [FUSED_KERNELS.rmsNormGrad, rmsNormGrad(addon)],
    [FUSED_KERNELS.adamw, adamw(addon)],
    [FUSED_KERNELS.softmaxXent, softmaxXent(addon)],
    [FUSED_KERNELS.softmaxXentGrad, softmaxXentGrad(addon)],
    [FUSED_KERNELS.logSoftmax, logSoftmax(addon)],
  ];
  for (const [kernelName, fn] of table) {
    if (!tf.getKernel(kernelName, backendName)) tf.registerKernel({ kernelName, backendName, kernelFunc: fn as unknown as tf.KernelFunc });
  }
  return table.map(([name]) => name);
}
