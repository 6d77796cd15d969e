/**
 * `Transpose` for the wasm backend on the native addon: tiled 2-D (and batched 2-D) transposes and
 * a strided copy for other permutations, on the wasm heap. 4-byte dtypes only (float32, int32);
 * others go to the kernel registered before.
 */
import type { NativeAddon } from './native';
import { countNativeCall, heapOf, nativeEnabled, offsetOf, type KernelArgs, type KernelFn, type TensorInfo, type WasmBackendLike } from './nativeRegistry';

/**
 * Drops size-1 axes and merges axes that stay adjacent and in order, so [B,L,1,D] with [0,2,1,3]
 * becomes a copy and [B,H,L,D] with [0,1,3,2] a batch of 2-D transposes.
 */
function simplifyPermutation(shape: number[], perm: number[]): { shape: number[]; perm: number[] } {
  const keep = shape.map((d, i) => i).filter((i) => shape[i] !== 1);
  // Axes of the input in output order, without size-1 ones.
  const order = perm.filter((p) => shape[p] !== 1);
  const groups: number[][] = [];
  for (const p of order) {
    const last = groups[groups.length - 1];
    const prevAxis = last ? last[last.length - 1] : -2;
    // Next input axis that is kept, after prevAxis.
    const nextKept = keep[keep.indexOf(prevAxis) + 1];
    if (last && nextKept === p) last.push(p);
    else groups.push([p]);
  }
  const byInput = [...groups].sort((a, b) => a[0] - b[0]);
  const newShape = byInput.map((g) => g.reduce((x, a) => x * shape[a], 1));
  const newPerm = groups.map((g) => byInput.indexOf(g));
  return newShape.length ? { shape: newShape, perm: newPerm } : { shape: [1], perm: [0] };
}

export function nativeTranspose(addon: NativeAddon): (fallback: KernelFn) => KernelFn {
  return (fallback) => (args: KernelArgs) => {
    const x = args.inputs.x as TensorInfo;
    const perm = (args.attrs?.perm as number[] | undefined) ?? [];
    if (!nativeEnabled() || (x.dtype !== 'float32' && x.dtype !== 'int32') || perm.length !== x.shape.length || perm.length === 0) {
      return fallback(args);
    }
    const backend = args.backend as WasmBackendLike;
    const outShape = perm.map((p) => x.shape[p]);
    const s = simplifyPermutation(x.shape, perm);
    if (s.perm.every((p, i) => p === i)) {
      // Only size-1 axes move: the same buffer under the new shape, as Reshape does.
      backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: outShape, dtype: x.dtype };
    }
    const out = backend.makeOutput(outShape, x.dtype);
    addon.transpose(heapOf(backend), offsetOf(backend, x), offsetOf(backend, out), Float64Array.from(s.shape), Float64Array.from(s.perm));
    countNativeCall();
    return out;
  };
}
