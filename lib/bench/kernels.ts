/**
 * Runs a benchmark once per kernel set, native (OpenBLAS, lib/backend/nativeMatMul.ts) and wasm, in
 * one process, so `sid bench` reports both figures measured back to back on the same data.
 */
import { nativeKernelsInstalled, setNativeEnabled } from '../backend/index';

export type KernelSet = 'native' | 'wasm';
const KERNEL_SETS: readonly KernelSet[] = ['native', 'wasm'];

/** The sets to run: `choice` ('native' | 'wasm' | 'both', default both), less native where it is not installed. */
export function kernelSets(choice: string | undefined): KernelSet[] {
  const c = choice ?? 'both';
  if (c !== 'both' && !(KERNEL_SETS as readonly string[]).includes(c)) {
    throw new Error(`--kernels: expected native, wasm or both, got '${c}'`);
  }
  const have = nativeKernelsInstalled('wasm').length > 0;
  if (c === 'native' && !have) throw new Error('--kernels native: the native kernels are not installed (see the [backend] line)');
  const wanted = c === 'both' ? [...KERNEL_SETS] : [c as KernelSet];
  return wanted.filter((k) => k === 'wasm' || have);
}

/** `run` with the given kernel set in place; the previous setting is restored after. */
export async function withKernels<T>(set: KernelSet, run: () => Promise<T> | T): Promise<T> {
  const before = setNativeEnabled(set === 'native');
  try {
    return await run();
  } finally {
    setNativeEnabled(before);
  }
}
