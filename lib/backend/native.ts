/**
 * The optional native addon (native/sid_native.c, built by environment/setup.sh into native/build/):
 * OpenBLAS matmuls on the wasm heap. Its absence is normal (no compiler or OpenBLAS on the machine):
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
  setThreads(n: number): void;
  getThreads(): number;
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

/** Loads the addon once; `SID_NATIVE=0` (or a missing or broken build) gives `addon: null`. */
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
    cached = { addon };
  } catch (err) {
    cached = { addon: null, reason: `native addon failed to load: ${(err as Error).message.split('\n')[0]}` };
  }
  return cached;
}
