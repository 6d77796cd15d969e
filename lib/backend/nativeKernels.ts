/**
 * Installs the native kernels on the wasm backend: BatchMatMul and _FusedMatMul on oneDNN or OpenBLAS
 * (nativeMatMul.ts), Transpose (nativeTranspose.ts), copy-free Identity and same-dtype Cast
 * (nativeIdentity.ts), float32 Add / Sub / Multiply / RealDiv and Sum (nativeElementwise.ts), and
 * GatherV2 and Concat as block copies (nativeCopy.ts). Each replaces the kernel registered before it
 * and falls back to it for what it does not cover. The fused GELU, RMSNorm, softmax cross-entropy,
 * log-softmax and AdamW kernels (nativeFused.ts) are new kernels beside them. Without the addon (not built, or SID_NATIVE=0) nothing is replaced or added.
 */
import { loadNative } from './native';
import { nativeBatchMatMul, nativeFusedMatMul } from './nativeMatMul';
import { nativeTranspose } from './nativeTranspose';
import { sharedCast, sharedIdentity } from './nativeIdentity';
import { BINARY_OPS, nativeBinary, nativeSum } from './nativeElementwise';
import { registerFusedKernels } from './nativeFused';
import { nativeConcat, nativeGather } from './nativeCopy';
import { replaceKernel, type KernelArgs, type KernelFn, type TensorInfo } from './nativeRegistry';

export { isNativeKernel, nativeCallCount, setNativeEnabled } from './nativeRegistry';

export interface NativeInstall {
  /** Kernels now running natively (empty when the addon is absent or off). */
  kernels: string[];
  /** Why no kernel was installed, when `kernels` is empty. */
  reason?: string;
  /** BLAS threads set. */
  threads?: number;
  /** The library the larger products run on: 'onednn' or 'openblas'. */
  gemm?: string;
}

const installed = new Map<string, string[]>();

/** Kernels replaced by native ones on `backendName` (empty when none). */
export function nativeKernelsInstalled(backendName = 'wasm'): string[] {
  return installed.get(backendName) ?? [];
}

/**
 * Registers the native kernels on `backendName` (wasm only) and sets the BLAS thread pool to
 * `threads`, the same setting the wasm thread pool gets. Idempotent.
 */
export function installNativeKernels(backendName: string, threads: number): NativeInstall {
  const done = installed.get(backendName);
  if (done) return { kernels: done, threads: loadNative().addon?.getThreads(), gemm: loadNative().addon?.gemmLibrary() };
  if (backendName !== 'wasm') return { kernels: [], reason: `native kernels target the wasm backend, not ${backendName}` };
  const { addon, reason } = loadNative();
  if (!addon) return { kernels: [], reason };
  addon.setThreads(threads);
  const table: Array<[string, (prev: KernelFn) => KernelFn]> = [
    ['BatchMatMul', (prev) => (args: KernelArgs) => nativeBatchMatMul(args, addon, prev) as TensorInfo],
    ['_FusedMatMul', (prev) => (args: KernelArgs) => nativeFusedMatMul(args, addon, prev) as TensorInfo],
    ['Transpose', nativeTranspose(addon)],
    ['Identity', sharedIdentity],
    ['Cast', sharedCast],
    ...Object.entries(BINARY_OPS).map(([name, op]): [string, (prev: KernelFn) => KernelFn] => [name, nativeBinary(addon, op)]),
    ['Sum', nativeSum(addon)],
    ['GatherV2', nativeGather(addon)],
    ['Concat', nativeConcat(addon)],
  ];
  const kernels = table.filter(([name, make]) => replaceKernel(name, backendName, make)).map(([name]) => name);
  kernels.push(...registerFusedKernels(addon, backendName));
  installed.set(backendName, kernels);
  return { kernels, threads: addon.getThreads(), gemm: addon.gemmLibrary() };
}

/**
 * Runs `fn` with the native BLAS on `threads` threads, then puts the previous count back (nothing to
 * do without the addon). A product split over several threads may add its terms in another order,
 * so work whose cached result must not depend on where it ran (a worker, `sid train`, a notebook)
 * runs on one fixed count.
 */
export async function withBlasThreads<T>(threads: number, fn: () => Promise<T>): Promise<T> {
  const addon = loadNative().addon;
  if (!addon) return fn();
  const before = addon.getThreads();
  addon.setThreads(threads);
  try {
    return await fn();
  } finally {
    addon.setThreads(before);
  }
}
