/**
 * Element-wise float32 Add, Sub, Multiply, RealDiv (with tfjs's broadcasting) and Sum over one
 * contiguous block of axes, for the wasm backend on the native addon. Other dtypes and other
 * reductions go to the kernels registered before.
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from './native';
import { countNativeCall, heapOf, nativeEnabled, offsetOf, type KernelArgs, type KernelFn, type TensorInfo, type WasmBackendLike } from './nativeRegistry';

export const BINARY_OPS: Readonly<Record<string, number>> = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3 };

function rowMajorStrides(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/**
 * Output shape and per-operand element strides (0 on broadcast axes), with size-1 output axes
 * dropped and neighbouring axes merged where both operands walk them as one.
 */
function broadcastLayout(aShape: number[], bShape: number[]): { outShape: number[]; shape: number[]; aStrides: number[]; bStrides: number[] } {
  const outShape = tf.broadcast_util.assertAndGetBroadcastShape(aShape, bShape);
  const r = outShape.length;
  const strides = (s: number[]) => {
    const padded = [...new Array(r - s.length).fill(1), ...s];
    const st = rowMajorStrides(padded);
    return padded.map((d, i) => (d === 1 ? 0 : st[i]));
  };
  const sa = strides(aShape);
  const sb = strides(bShape);
  const shape: number[] = [];
  const aStrides: number[] = [];
  const bStrides: number[] = [];
  for (let i = 0; i < r; i++) {
    if (outShape[i] === 1) continue;
    const k = shape.length - 1;
    if (k >= 0 && aStrides[k] === sa[i] * outShape[i] && bStrides[k] === sb[i] * outShape[i]) {
      shape[k] *= outShape[i];
      aStrides[k] = sa[i];
      bStrides[k] = sb[i];
    } else {
      shape.push(outShape[i]);
      aStrides.push(sa[i]);
      bStrides.push(sb[i]);
    }
  }
  if (!shape.length) return { outShape, shape: [1], aStrides: [1], bStrides: [1] };
  return { outShape, shape, aStrides, bStrides };
}

export function nativeBinary(addon: NativeAddon, op: number): (fallback: KernelFn) => KernelFn {
  return (fallback) => (args: KernelArgs) => {
    const a = args.inputs.a as TensorInfo;
    const b = args.inputs.b as TensorInfo;
    if (!nativeEnabled() || a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(args);
    const backend = args.backend as WasmBackendLike;
    const L = broadcastLayout(a.shape, b.shape);
    const out = backend.makeOutput(L.outShape, 'float32');
    addon.binary(
      heapOf(backend), op, offsetOf(backend, a), offsetOf(backend, b), offsetOf(backend, out),
      Float64Array.from(L.shape), Float64Array.from(L.aStrides), Float64Array.from(L.bStrides),
    );
    countNativeCall();
    return out;
  };
}

/** [A, R, B] when the reduced axes (ignoring size-1 axes) form one contiguous block, else null. */
function reductionBlock(shape: number[], axes: number[]): [number, number, number] | null {
  const reduced = new Set(axes);
  let A = 1;
  let R = 1;
  let B = 1;
  let phase = 0; // 0: before the block, 1: inside, 2: after
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const isReduced = reduced.has(i);
    if (phase === 0 && isReduced) phase = 1;
    else if (phase === 1 && !isReduced) phase = 2;
    else if (phase === 2 && isReduced) return null;
    if (phase === 0) A *= shape[i];
    else if (phase === 1) R *= shape[i];
    else B *= shape[i];
  }
  return [A, R, B];
}

export function nativeSum(addon: NativeAddon): (fallback: KernelFn) => KernelFn {
  return (fallback) => (args: KernelArgs) => {
    const x = args.inputs.x as TensorInfo;
    if (!nativeEnabled() || x.dtype !== 'float32' || x.shape.length === 0) return fallback(args);
    const axes = tf.util.parseAxisParam((args.attrs?.axis as number | number[]) ?? [], x.shape);
    const block = axes.length ? reductionBlock(x.shape, axes) : null;
    if (!block) return fallback(args);
    const keepDims = Boolean(args.attrs?.keepDims);
    const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
    const backend = args.backend as WasmBackendLike;
    const out = backend.makeOutput(outShape, 'float32');
    addon.sumMiddle(heapOf(backend), offsetOf(backend, x), offsetOf(backend, out), block[0], block[1], block[2]);
    countNativeCall();
    return out;
  };
}
