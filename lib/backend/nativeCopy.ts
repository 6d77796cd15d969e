/**
 * `GatherV2` and `Concat` for the wasm backend as block copies on the wasm heap: every gathered
 * slice, and every input's part of an output row, is one contiguous run of bytes, copied with
 * `copyWithin`. Beam search reorders and extends its decoder cache with these each step
 * ([rows, heads, steps, dh] tensors), where the wasm kernels' per-element index arithmetic was
 * most of a decoding step. Any dtype of 4 bytes (float32, int32); others, and batched gathers, go
 * to the kernel registered before.
 */
import { countNativeCall, heapOf, nativeEnabled, offsetOf, type KernelArgs, type KernelFn, type TensorInfo, type WasmBackendLike } from './nativeRegistry';

const product = (xs: number[]) => xs.reduce((p, d) => p * d, 1);
const fourBytes = (t: TensorInfo) => t.dtype === 'float32' || t.dtype === 'int32';

function normalizeAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

export function nativeGather(fallback: KernelFn): KernelFn {
  return (args: KernelArgs) => {
    const x = args.inputs.x as TensorInfo;
    const indices = args.inputs.indices as TensorInfo;
    const batchDims = Number(args.attrs?.batchDims ?? 0);
    if (!nativeEnabled() || !fourBytes(x) || indices.dtype !== 'int32' || batchDims !== 0 || x.shape.length === 0) return fallback(args);
    const axis = normalizeAxis(Number(args.attrs?.axis ?? 0), x.shape.length);
    const axisLen = x.shape[axis];
    const outer = product(x.shape.slice(0, axis));
    const inner = product(x.shape.slice(axis + 1)) * 4;
    const n = product(indices.shape);
    const backend = args.backend as WasmBackendLike;
    if (n > 0) {
      const idx = new Int32Array(heapOf(backend).buffer, offsetOf(backend, indices), n);
      for (let i = 0; i < n; i++) {
        if (!(idx[i] >= 0 && idx[i] < axisLen)) throw new Error(`GatherV2: indices[${i}] = ${idx[i]} is not in [0, ${axisLen - 1}]`);
      }
    }
    const out = backend.makeOutput([...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)], x.dtype);
    countNativeCall();
    if (n === 0 || outer === 0 || inner === 0) return out;
    // The output's allocation may have grown the heap: views are taken after it.
    const heap = heapOf(backend);
    const idx = new Int32Array(heap.buffer, offsetOf(backend, indices), n);
    const src = offsetOf(backend, x);
    let dst = offsetOf(backend, out);
    for (let o = 0; o < outer; o++) {
      const base = src + o * axisLen * inner;
      for (let i = 0; i < n; i++, dst += inner) heap.copyWithin(dst, base + idx[i] * inner, base + idx[i] * inner + inner);
    }
    return out;
  };
}

export function nativeConcat(fallback: KernelFn): KernelFn {
  return (args: KernelArgs) => {
    const inputs = Object.values(args.inputs) as TensorInfo[];
    if (!nativeEnabled() || inputs.length === 0 || !inputs.every((t) => fourBytes(t) && t.dtype === inputs[0].dtype)) return fallback(args);
    const rank = inputs[0].shape.length;
    const axis = normalizeAxis(Number(args.attrs?.axis ?? 0), rank);
    if (rank === 0 || !inputs.every((t) => t.shape.length === rank && t.shape.every((d, i) => i === axis || d === inputs[0].shape[i]))) return fallback(args);
    const outShape = inputs[0].shape.slice();
    outShape[axis] = inputs.reduce((s, t) => s + t.shape[axis], 0);
    const backend = args.backend as WasmBackendLike;
    const out = backend.makeOutput(outShape, inputs[0].dtype);
    const outer = product(outShape.slice(0, axis));
    // Bytes of each input per outer index: its slice along the axis and everything after it.
    const parts = inputs.map((t) => product(t.shape.slice(axis)) * 4);
    countNativeCall();
    if (outer === 0 || product(outShape) === 0) return out;
    const heap = heapOf(backend);
    const srcs = inputs.map((t) => (product(t.shape) ? offsetOf(backend, t) : 0));
    let dst = offsetOf(backend, out);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inputs.length; j++) {
        const len = parts[j];
        if (len === 0) continue;
        heap.copyWithin(dst, srcs[j] + o * len, srcs[j] + o * len + len);
        dst += len;
      }
    }
    return out;
  };
}
