/**
 * `BatchMatMul` and `_FusedMatMul` for the wasm backend on OpenBLAS (lib/backend/native.ts).
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
import { loadNative, NATIVE_ACTIVATIONS, type NativeAddon } from './native';

type TensorInfo = tf.TensorInfo;
type KernelArgs = { inputs: Record<string, TensorInfo | undefined>; backend: unknown; attrs?: Record<string, unknown> };
type KernelFn = (args: KernelArgs) => TensorInfo | TensorInfo[];

/** The parts of tfjs-backend-wasm 4.22.0's BackendWasm these kernels use. */
interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array; wasmMemory?: WebAssembly.Memory };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
}

export const NATIVE_KERNEL_NAMES = ['BatchMatMul', '_FusedMatMul'] as const;

export interface NativeInstall {
  /** Kernels now running on the addon (empty when it is absent or off). */
  kernels: string[];
  /** Why no kernel was installed, when `kernels` is empty. */
  reason?: string;
  /** BLAS threads set. */
  threads?: number;
}

const installed = new Map<string, string[]>();
const nativeFns = new WeakSet<object>();
let calls = 0;
let enabled = true;

/** Kernels registered on the addon for `backendName` (empty when none). */
export function nativeKernelsInstalled(backendName = 'wasm'): string[] {
  return installed.get(backendName) ?? [];
}

/** True when `fn` is one of this module's kernel functions (what tests check on the registry). */
export function isNativeKernel(fn: unknown): boolean {
  return typeof fn === 'function' && nativeFns.has(fn);
}

/** How many products the addon has computed in this process (tests check it moves). */
export function nativeCallCount(): number {
  return calls;
}

/**
 * Turns the installed native kernels on or off at run time (off: they pass every call to the
 * kernels they replaced). For comparing both paths in one process (benches, tests); returns the
 * previous setting.
 */
export function setNativeEnabled(on: boolean): boolean {
  const before = enabled;
  enabled = on;
  return before;
}

/**
 * Registers the native kernels on `backendName` (wasm only) over the ones registered now, which
 * stay as their fallback, and sets the BLAS thread pool to `threads`. Idempotent.
 */
export function installNativeKernels(backendName: string, threads: number): NativeInstall {
  const done = installed.get(backendName);
  if (done) return { kernels: done, threads: loadNative().addon?.getThreads() };
  if (backendName !== 'wasm') return { kernels: [], reason: `native kernels target the wasm backend, not ${backendName}` };
  const { addon, reason } = loadNative();
  if (!addon) return { kernels: [], reason };
  addon.setThreads(threads);
  const batch = tf.getKernel('BatchMatMul', backendName);
  const fused = tf.getKernel('_FusedMatMul', backendName);
  if (!batch || !fused) return { kernels: [], reason: `${backendName} has no BatchMatMul/_FusedMatMul kernels` };
  const prevBatch = batch.kernelFunc as unknown as KernelFn;
  const prevFused = fused.kernelFunc as unknown as KernelFn;
  const batchFn = (args: KernelArgs) => nativeBatchMatMul(args, addon, prevBatch);
  const fusedFn = (args: KernelArgs) => nativeFusedMatMul(args, addon, prevFused);
  nativeFns.add(batchFn);
  nativeFns.add(fusedFn);
  tf.unregisterKernel('BatchMatMul', backendName);
  tf.registerKernel({ ...batch, kernelFunc: batchFn as unknown as tf.KernelFunc });
  tf.unregisterKernel('_FusedMatMul', backendName);
  tf.registerKernel({ ...fused, kernelFunc: fusedFn as unknown as tf.KernelFunc });
  const kernels = [...NATIVE_KERNEL_NAMES];
  installed.set(backendName, kernels);
  return { kernels, threads: addon.getThreads() };
}

/** A byte view of the whole wasm memory, valid after any allocation (the memory may have grown). */
function heapOf(backend: WasmBackendLike): Uint8Array {
  const w = backend.wasm;
  const mem = w.wasmMemory;
  // Threaded builds refresh their views lazily: read the shared memory's current buffer directly.
  if (mem && w.HEAPU8.buffer !== mem.buffer) return new Uint8Array(mem.buffer);
  return w.HEAPU8;
}

function offsetOf(backend: WasmBackendLike, t: TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data || data.memoryOffset == null) throw new Error('native matMul: tensor has no wasm heap storage');
  return data.memoryOffset;
}

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
  calls++;
  return out;
}

function sizeOf(t: TensorInfo): number {
  return t.shape.reduce((x, d) => x * d, 1);
}

function nativeBatchMatMul(args: KernelArgs, addon: NativeAddon, fallback: KernelFn): TensorInfo {
  const a = args.inputs.a as TensorInfo;
  const b = args.inputs.b as TensorInfo;
  if (!enabled || a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) {
    return fallback(args) as TensorInfo;
  }
  return run(args, addon, Boolean(args.attrs?.transposeA), Boolean(args.attrs?.transposeB));
}

function nativeFusedMatMul(args: KernelArgs, addon: NativeAddon, fallback: KernelFn): TensorInfo {
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
    !enabled || a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2 ||
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
