/**
 * `GatherV2` and `Concat` for the wasm backend as block copies on the wasm heap (native/copy.c):
 * every gathered slice, and every input's part of an output row, is one contiguous run. Beam search
 * reorders and extends its decoder cache with these each step ([rows, heads, steps, dh] tensors),
 * where the wasm kernels' per-element index arithmetic was most of a decoding step. Any dtype of 4
 * bytes (float32, int32); others, and batched gathers, go to the kernel registered before.
 */
import type { NativeAddon } from './native';
import { countNativeCall, heapOf, nativeEnabled, offsetOf, type KernelArgs, type KernelFn, type TensorInfo, type WasmBackendLike } from './nativeRegistry';

const product = (xs: number[]) => xs.reduce((p, d) => p * d, 1);
const fourBytes = (t: TensorInfo) => t.dtype === 'float32' || t.dtype === 'int32';

function normalizeAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

export function nativeGather(addon: NativeAddon): (fallback: KernelFn) => KernelFn {
  return (fallback) => (args: KernelArgs) => {
    const x = args.inputs.x as TensorInfo;
    const indices = args.inputs.indices as TensorInfo;
    const batchDims = Number(args.attrs?.batchDims ?? 0);
    if (!nativeEnabled() || !fourBytes(x) || indices.dtype !== 'int32' || batchDims !== 0 || x.shape.length === 0) return fallback(args);
    const axis = normalizeAxis(Number(args.attrs?.axis ?? 0), x.shape.length);
    const axisLen = x.shape[axis];
    const n = product(indices.shape);
    const backend = args.backend as WasmBackendLike;
    // Indices are checked before anything is allocated, so a bad one leaves nothing behind.
    if (n > 0) {
      const idx = new Int32Array(heapOf(backend).buffer, offsetOf(backend, indices), n);
      for (let i = 0; i < n; i++) {
        if (!(idx[i] >= 0 && idx[i] < axisLen)) throw new Error(`GatherV2: indices[${i}] = ${idx[i]} is not in [0, ${axisLen - 1}]`);
      }
    }
    const out = backend.makeOutput([...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)], x.dtype);
    countNativeCall();
    const outer = product(x.shape.slice(0, axis));
    const inner = product(x.shape.slice(axis + 1));
    if (n === 0 || outer === 0 || inner === 0) return out;
    addon.gatherBlocks(heapOf(backend), Float64Array.of(offsetOf(backend, x), offsetOf(backend, indices), offsetOf(backend, out), outer, axisLen, n, inner));
    return out;
  };
}

export function nativeConcat(addon: NativeAddon): (fallback: KernelFn) => KernelFn {
  return (fallback) => (args: KernelArgs) => {
    const inputs = Object.values(args.inputs) as TensorInfo[];
    if (!nativeEnabled() || inputs.length === 0 || inputs.length > 4096 || !inputs.every((t) => fourBytes(t) && t.dtype === inputs[0].dtype)) return fallback(args);
    const rank = inputs[0].shape.length;
    const axis = normalizeAxis(Number(args.attrs?.axis ?? 0), rank);
    if (rank === 0 || !inputs.every((t) => t.shape.length === rank && t.shape.every((d, i) => i === axis || d === inputs[0].shape[i]))) return fallback(args);
    const outShape = inputs[0].shape.slice();
    outShape[axis] = inputs.reduce((s, t) => s + t.shape[axis], 0);
    const backend = args.backend as WasmBackendLike;
    const out = backend.makeOutput(outShape, inputs[0].dtype);
    countNativeCall();
    const outer = product(outShape.slice(0, axis));
    if (outer === 0 || product(outShape) === 0) return out;
    // Elements of each input per outer index: its slice along the axis and everything after it.
    const widths = Float64Array.from(inputs, (t) => product(t.shape.slice(axis)));
    const offsets = Float64Array.from(inputs, (t, j) => (widths[j] ? offsetOf(backend, t) : 0));
    addon.concatBlocks(heapOf(backend), offsetOf(backend, out), outer, offsets, widths);
    return out;
  };
}
