/**
 * `BatchMatMul` and `_FusedMatMul` for the wasm backend on the addon (lib/backend/native.ts): small
 * products in its own loops, larger ones on oneDNN or OpenBLAS.
 *
 * The kernels read the operands where the wasm backend keeps them (its heap) and write the product
 * into an output the backend allocated, so nothing is copied; transposes and batch broadcasting are
 * BLAS flags and per-batch offsets, so no transpose is ever materialised. What they do not cover
 * (non-float32 inputs, a bias or PReLU slopes neither per column nor one value) goes to the kernel registered
 * before them (lib/backend/fastMatMul.ts's, or tfjs's own), which also reports tfjs's errors. The
 * fused kernel also takes a scalar bias of shape [1], which tfjs 4.22.0's wasm kernel reads as if it
 * had one value per column.
 */
import * as tf from '@tensorflow/tfjs';
import { NATIVE_ACTIVATIONS, type NativeAddon } from './native';
import { countNativeCall, heapOf, nativeEnabled, offsetOf, type KernelArgs, type KernelFn, type TensorInfo, type WasmBackendLike } from './nativeRegistry';

interface Plan {
  outShape: number[];
  m: number;
  n: number;
  k: number;
  /** Stride in elements between consecutive batch matrices of a and of b, 0 where broadcast. */
  aBatchDims: number[];
  bBatchDims: number[];
  outBatchDims: number[];
}

/** Shapes and broadcasting, with the same checks and messages as tfjs's wasm BatchMatMul. */
function plan(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): Plan {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const innerA = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const innerB = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  const aBatchDims = a.shape.slice(0, -2);
  const bBatchDims = b.shape.slice(0, -2);
  const outBatchDims = tf.broadcast_util.assertAndGetBroadcastShape(aBatchDims, bBatchDims);
  tf.util.assert(
    innerA === innerB,
    () =>
      `Error in matMul: inner shapes (${innerA}) and (${innerB}) of Tensors with shapes ${a.shape} and ` +
      `${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
  );
  return { outShape: [...outBatchDims, m, n], m, n, k: innerA, aBatchDims, bBatchDims, outBatchDims };
}

/**
 * Byte offsets [A_i, B_i, C_i] for every output batch entry, broadcasting a and b over the output's
 * batch shape (numpy rules). Consecutive batches of a non-transposed a against one b fold into a
 * single taller product.
 */
function batchOffsets(p: Plan, aBase: number, bBase: number, cBase: number, transposeA: boolean): { offsets: Float64Array; m: number } {
  const aMat = p.m * p.k * 4;
  const bMat = p.k * p.n * 4;
  const cMat = p.m * p.n * 4;
  const r = p.outBatchDims.length;
  const batch = p.outBatchDims.reduce((x, d) => x * d, 1);
  const batchA = p.aBatchDims.reduce((x, d) => x * d, 1);
  const batchB = p.bBatchDims.reduce((x, d) => x * d, 1);
  if (batchB === 1 && batchA === batch && !transposeA && batch > 0) {
    return { offsets: Float64Array.of(aBase, bBase, cBase), m: p.m * batch };
  }
  const pad = (s: number[]) => [...new Array(r - s.length).fill(1), ...s];
  const pa = pad(p.aBatchDims);
  const pb = pad(p.bBatchDims);
  const offsets = new Float64Array(3 * batch);
  for (let i = 0; i < batch; i++) {
    let rem = i;
    let ia = 0;
    let ib = 0;
    let sa = 1;
    let sb = 1;
    for (let ax = r - 1; ax >= 0; ax--) {
      const d = p.outBatchDims[ax];
      const idx = rem % d;
      rem = (rem - idx) / d;
      if (pa[ax] !== 1) ia += idx * sa;
      if (pb[ax] !== 1) ib += idx * sb;
      sa *= pa[ax];
      sb *= pb[ax];
    }
    offsets[3 * i] = aBase + ia * aMat;
    offsets[3 * i + 1] = bBase + ib * bMat;
    offsets[3 * i + 2] = cBase + i * cMat;
  }
  return { offsets, m: p.m };
}

function run(
  args: KernelArgs,
  addon: NativeAddon,
  transposeA: boolean,
  transposeB: boolean,
  epilogue?: (backend: WasmBackendLike, n: number) => Float64Array,
): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const a = args.inputs.a as TensorInfo;
  const b = args.inputs.b as TensorInfo;
  const p = plan(a, b, transposeA, transposeB);
  const out = backend.makeOutput(p.outShape, 'float32');
  const { offsets, m } = batchOffsets(p, offsetOf(backend, a), offsetOf(backend, b), offsetOf(backend, out), transposeA);
  const ep = epilogue?.(backend, p.n);
  const heap = heapOf(backend);
  if (ep) addon.sgemm(heap, transposeA, transposeB, m, p.n, p.k, offsets, ep);
  else addon.sgemm(heap, transposeA, transposeB, m, p.n, p.k, offsets);
  countNativeCall();
  return out;
}

function sizeOf(t: TensorInfo): number {
  return t.shape.reduce((x, d) => x * d, 1);
}

/** BatchMatMul on the addon; `fallback` takes what it does not cover. */
export function nativeBatchMatMul(args: KernelArgs, addon: NativeAddon, fallback: KernelFn): TensorInfo {
  const a = args.inputs.a as TensorInfo;
  const b = args.inputs.b as TensorInfo;
  if (!nativeEnabled() || a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) {
    return fallback(args) as TensorInfo;
  }
  return run(args, addon, Boolean(args.attrs?.transposeA), Boolean(args.attrs?.transposeB));
}

/** _FusedMatMul on the addon (product, then bias and activation in one pass); `fallback` takes the rest. */
export function nativeFusedMatMul(args: KernelArgs, addon: NativeAddon, fallback: KernelFn): TensorInfo {
  const a = args.inputs.a as TensorInfo;
  const b = args.inputs.b as TensorInfo;
  const bias = args.inputs.bias;
  const attrs = args.attrs ?? {};
  const activation = String(attrs.activation ?? 'linear');
  const code = NATIVE_ACTIVATIONS[activation];
  const n = Boolean(attrs.transposeB) ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
  const prelu = args.inputs.preluActivationWeights;
  // What the epilogue can apply row by row: one value, or one per output column.
  const rowwise = (t: TensorInfo | undefined) =>
    !t || (t.dtype === 'float32' && (sizeOf(t) === 1 || (sizeOf(t) === n && t.shape[t.shape.length - 1] === n)));
  if (
    !nativeEnabled() || a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2 ||
    code === undefined || (activation === 'prelu' && !prelu) || !rowwise(bias) || !rowwise(prelu)
  ) {
    return fallback(args) as TensorInfo;
  }
  const alpha = Number(attrs.leakyreluAlpha ?? 0.2);
  const epilogue = bias || code !== 0
    ? (backend: WasmBackendLike) => Float64Array.of(
        bias ? offsetOf(backend, bias) : -1, bias ? sizeOf(bias) : 0, code, alpha,
        prelu && activation === 'prelu' ? offsetOf(backend, prelu) : -1, prelu ? sizeOf(prelu) : 0,
      )
    : undefined;
  return run(args, addon, Boolean(attrs.transposeA), Boolean(attrs.transposeB), epilogue);
}
