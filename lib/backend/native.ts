/**
 * The optional native addon (native/sid_native.c, built by environment/setup.sh into native/build/):
 * matmuls (oneDNN or OpenBLAS), block copies and fused element-wise loops on the wasm heap. Its absence is normal (no compiler or OpenBLAS on the machine):
 * the wasm kernels are used then. `SID_NATIVE=0` turns it off even when built.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot } from '../util/fs';
import { projectRequire } from './resolve';

/** Activation codes of the fused epilogue, as native/sid_native.c numbers them. */
export const NATIVE_ACTIVATIONS: Readonly<Record<string, number>> = {
  linear: 0,
  relu: 1,
  relu6: 2,
  sigmoid: 3,
  leakyrelu: 4,
  elu: 5,
  prelu: 6,
};

export interface NativeAddon {
  /**
   * C_i = op(A_i) op(B_i) for every batch entry i, row-major float32, in place on `heap`.
   * `offsets` holds byte offsets [A_0, B_0, C_0, A_1, ...]; `epilogue` is
   * [biasOffset or -1, biasLength (1 or N), activation code, alpha, preluOffset or -1, preluLength].
   */
  sgemm(heap: Uint8Array, transA: boolean, transB: boolean, m: number, n: number, k: number, offsets: Float64Array, epilogue?: Float64Array): void;
  /** out = x permuted by `perm` (4-byte elements); `shape` is x's, byte offsets as above. */
  transpose(heap: Uint8Array, xOffset: number, outOffset: number, shape: Float64Array, perm: Float64Array): void;
  /** out = a op b (0 add, 1 sub, 2 mul, 3 div), float32, element strides per operand over `shape`. */
  binary(heap: Uint8Array, op: number, aOffset: number, bOffset: number, outOffset: number, shape: Float64Array, aStrides: Float64Array, bStrides: Float64Array): void;
  /** out[a, b] = sum over r of x[a, r, b], float32. */
  sumMiddle(heap: Uint8Array, xOffset: number, outOffset: number, a: number, r: number, b: number): void;
  /** out = gelu(a) * b (bOffset -1: gelu(a)) over n float32 values; gelu as lib/backend/fusedOps.ts defines it. */
  geluGate(heap: Uint8Array, aOffset: number, bOffset: number, outOffset: number, n: number): void;
  /** da = dy * b * gelu'(a) and db = dy * gelu(a) (bOffset and dbOffset -1: da = dy * gelu'(a)). */
  geluGateGrad(heap: Uint8Array, dyOffset: number, aOffset: number, bOffset: number, daOffset: number, dbOffset: number, n: number): void;
  /** out = x / sqrt(mean(x^2) + eps) * gain over each of `rows` rows of d values. */
  rmsNorm(heap: Uint8Array, xOffset: number, gainOffset: number, outOffset: number, rows: number, d: number, eps: number): void;
  /** dx and dgain (summed over rows) of rmsNorm for upstream dy. */
  rmsNormGrad(heap: Uint8Array, dyOffset: number, xOffset: number, gainOffset: number, dxOffset: number, dgainOffset: number, rows: number, d: number, eps: number): void;
  /**
   * One AdamW update of n values: offsets [x, grad, m, v, xOut, mOut, vOut, scale or -1], params
   * [lr, beta1, 1 - beta1, beta2, 1 - beta2, eps, biasCorrection1, biasCorrection2, decayFactor or -1].
   */
  adamw(heap: Uint8Array, offsets: Float64Array, n: number, params: Float64Array): void;
  /** loss = logsumexp(z) - z[label] per row of v logits (int32 labels, -1: no loss); lse receives logsumexp. */
  softmaxXent(heap: Uint8Array, logitsOffset: number, labelsOffset: number, lossOffset: number, lseOffset: number, rows: number, v: number): void;
  /** dz = dy * (softmax(z) - onehot(label)) per row, from the forward pass's lse (rows with label -1: 0). */
  softmaxXentGrad(heap: Uint8Array, dyOffset: number, logitsOffset: number, labelsOffset: number, lseOffset: number, dzOffset: number, rows: number, v: number): void;
  /** out[b] += sum over p in bag b of weights[p] * table[ids[p]] (JS typed arrays, not the heap). */
  bagSum(table: Float32Array, d: number, offsets: Int32Array, ids: Int32Array, weights: Float32Array, out: Float32Array): void;
  /**
   * Adds weights[p] * dOut[b] into the gradient slot of row ids[p]; rows first seen in `epoch` get
   * the next slot and are appended to `touched`. Returns the new number of touched rows.
   */
  bagAccumulate(grad: Float32Array, d: number, offsets: Int32Array, ids: Int32Array, weights: Float32Array, dOut: Float32Array,
    mark: Int32Array, slot: Int32Array, touched: Int32Array, count: number, epoch: number): number;
  /** Adam on the `count` touched rows of `weights`; mv holds [m(d), v(d)] per row; params [beta1, 1 - beta1, beta2, 1 - beta2, lr, eps]. */
  sparseAdam(weights: Float32Array, mv: Float32Array, grad: Float32Array, touched: Int32Array, count: number, d: number, params: Float64Array): void;
  /** out = z - logsumexp(z) per row of the [rows, v] float32 at xOffset. */
  logSoftmax(heap: Uint8Array, xOffset: number, outOffset: number, rows: number, v: number): void;
  setThreads(n: number): void;
  getThreads(): number;
  /** Where the larger products go: oneDNN's sgemm (when the addon was built with it) or OpenBLAS. */
  setGemmLibrary(name: 'onednn' | 'openblas'): void;
  gemmLibrary(): 'onednn' | 'openblas';
  /** out[o, i, :] = x[o, indices[i], :]; args [xOffset, indicesOffset, outOffset, outer, axisLength, count, inner] (4-byte elements). */
  gatherBlocks(heap: Uint8Array, args: Float64Array): void;
  /** out[o, :] = the inputs' rows o side by side; widths in 4-byte elements per outer index. */
  concatBlocks(heap: Uint8Array, outOffset: number, outer: number, offsets: Float64Array, widths: Float64Array): void;
  /** Whether sgemm computes small products (at most 64^3 multiply-adds) in its own loops rather than through BLAS. */
  setSmallGemm(on: boolean): void;
  /** OpenBLAS's build description (version, core, threading). */
  config(): string;
}

export interface NativeLoad {
  addon: NativeAddon | null;
  /** Why there is no addon, when `addon` is null. */
  reason?: string;
}

let cached: NativeLoad | null = null;

/** Path of the built addon in this checkout. */
export function nativeAddonPath(): string {
  let root: string;
  try {
    root = projectRoot();
  } catch {
    root = process.cwd();
  }
  return path.join(root, 'native', 'build', 'sid_native.node');
}

/** Loads the addon once; `SID_NATIVE=0` (or a missing, stale or broken build) gives `addon: null`. */
export function loadNative(): NativeLoad {
  if (cached) return cached;
  if (process.env.SID_NATIVE === '0') {
    cached = { addon: null, reason: 'SID_NATIVE=0' };
    return cached;
  }
  const file = nativeAddonPath();
  if (!fs.existsSync(file)) {
    cached = { addon: null, reason: `${path.relative(process.cwd(), file) || file} is not built (bash native/build.sh)` };
    return cached;
  }
  try {
    const addon = projectRequire()(file) as NativeAddon;
    if (typeof addon.sgemm !== 'function') throw new Error('no sgemm export');
    if (typeof addon.setSmallGemm !== 'function' || typeof addon.setGemmLibrary !== 'function' || typeof addon.logSoftmax !== 'function' || typeof addon.concatBlocks !== 'function') throw new Error('built from older sources: rebuild with bash native/build.sh');
    // SID_SMALL_GEMM=0 sends every product to the library; SID_GEMM=openblas keeps oneDNN out.
    addon.setSmallGemm(process.env.SID_SMALL_GEMM !== '0');
    const gemm = process.env.SID_GEMM;
    if (gemm === 'onednn' || gemm === 'openblas') {
      try {
        addon.setGemmLibrary(gemm);
      } catch (err) {
        process.stderr.write(`SID_GEMM=${gemm}: ${(err as Error).message}; using ${addon.gemmLibrary()}\n`);
      }
    } else if (gemm !== undefined && gemm !== '') {
      process.stderr.write(`SID_GEMM must be onednn or openblas, got "${gemm}"; using ${addon.gemmLibrary()}\n`);
    }
    cached = { addon };
  } catch (err) {
    cached = { addon: null, reason: `native addon failed to load: ${(err as Error).message.split('\n')[0]}` };
  }
  return cached;
}
