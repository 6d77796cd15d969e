/**
 * Kernels the wasm backend does not have, on the native addon's fused loops (native/fused.c): the
 * (gated) GELU and its gradient, RMSNorm and its gradient, and one AdamW update per parameter. They
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

/** Registers the fused kernels on `backendName`; returns their names (none when the addon lacks them). */
export function registerFusedKernels(addon: NativeAddon, backendName: string): string[] {
  if (typeof addon.geluGate !== 'function' || typeof addon.adamw !== 'function') return [];
  const table: Array<[string, Kernel]> = [
    [FUSED_KERNELS.geluGate, geluGate(addon)],
    [FUSED_KERNELS.geluGateGrad, geluGateGrad(addon)],
    [FUSED_KERNELS.rmsNorm, rmsNorm(addon)],
    [FUSED_KERNELS.rmsNormGrad, rmsNormGrad(addon)],
    [FUSED_KERNELS.adamw, adamw(addon)],
  ];
  for (const [kernelName, fn] of table) {
    if (!tf.getKernel(kernelName, backendName)) tf.registerKernel({ kernelName, backendName, kernelFunc: fn as unknown as tf.KernelFunc });
  }
  return table.map(([name]) => name);
}
