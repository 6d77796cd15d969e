/**
 * What the native kernels share: the run-time on/off switch, the registry of their kernel functions
 * (so tests can tell a native kernel from a wasm one), a call counter, and access to the wasm heap.
 */
import * as tf from '@tensorflow/tfjs';

export type TensorInfo = tf.TensorInfo;
export type KernelArgs = { inputs: Record<string, TensorInfo | undefined>; backend: unknown; attrs?: Record<string, unknown> };
export type KernelFn = (args: KernelArgs) => TensorInfo | TensorInfo[];

/** The parts of tfjs-backend-wasm 4.22.0's BackendWasm the native kernels use. */
export interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array; wasmMemory?: { buffer: ArrayBufferLike } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  incRef(dataId: object): void;
}

/** Names of the fused kernels the addon adds (nativeFused.ts registers them, fusedOps.ts calls them). */
export const FUSED_KERNELS = {
  geluGate: 'SidGeluGate',
  geluGateGrad: 'SidGeluGateGrad',
  rmsNorm: 'SidRmsNorm',
  rmsNormGrad: 'SidRmsNormGrad',
  adamw: 'SidAdamW',
  softmaxXent: 'SidSoftmaxXent',
  softmaxXentGrad: 'SidSoftmaxXentGrad',
  logSoftmax: 'SidLogSoftmax',
} as const;

const nativeFns = new WeakSet<object>();
let calls = 0;
let enabled = true;

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

export function nativeEnabled(): boolean {
  return enabled;
}

/** True when `fn` is one of the native kernel functions (what tests check on the registry). */
export function isNativeKernel(fn: unknown): boolean {
  return typeof fn === 'function' && nativeFns.has(fn);
}

/** How many kernel calls the addon has computed in this process (tests check it moves). */
export function nativeCallCount(): number {
  return calls;
}

export function countNativeCall(): void {
  calls++;
}

/**
 * Replaces `kernelName` on `backendName` by `make(previous)`, keeping the previous kernel's setup
 * and dispose functions (the previous kernel stays usable as the fallback). False when there is no
 * such kernel.
 */
export function replaceKernel(kernelName: string, backendName: string, make: (previous: KernelFn) => KernelFn): boolean {
  const prev = tf.getKernel(kernelName, backendName);
  if (!prev) return false;
  const fn = make(prev.kernelFunc as unknown as KernelFn);
  nativeFns.add(fn);
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ ...prev, kernelFunc: fn as unknown as tf.KernelFunc });
  return true;
}

/** A byte view of the whole wasm memory, valid after any allocation (the memory may have grown). */
export function heapOf(backend: WasmBackendLike): Uint8Array {
  const w = backend.wasm;
  const mem = w.wasmMemory;
  // Threaded builds refresh their views lazily: read the shared memory's current buffer directly.
  if (mem && w.HEAPU8.buffer !== mem.buffer) return new Uint8Array(mem.buffer);
  return w.HEAPU8;
}

export function offsetOf(backend: WasmBackendLike, t: TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data || data.memoryOffset == null) throw new Error('native kernel: tensor has no wasm heap storage');
  return data.memoryOffset;
}
