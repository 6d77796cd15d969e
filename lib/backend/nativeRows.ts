/**
 * The native addon's embedding-bag kernels (native/rows.c) for tables kept in JS typed arrays
 * (lib/embed/sparseTable.ts): the same arithmetic as the JS loops, so both give the same bits.
 * Null when the addon is absent, lacks them, or native kernels are off (SID_NATIVE=0, or
 * setNativeEnabled(false) as the benches' wasm runs do).
 */
import { loadNative, type NativeAddon } from './native';
import { countNativeCall, nativeEnabled } from './nativeRegistry';

export type RowKernels = Pick<NativeAddon, 'bagSum' | 'bagAccumulate' | 'sparseAdam'>;

let kernels: RowKernels | null | undefined;

export function nativeRowKernels(): RowKernels | null {
  if (kernels === undefined) {
    const addon = loadNative().addon;
    kernels = addon && typeof addon.bagSum === 'function' && typeof addon.sparseAdam === 'function'
      ? {
        bagSum: (...a) => { addon.bagSum(...a); countNativeCall(); },
        bagAccumulate: (...a) => { const n = addon.bagAccumulate(...a); countNativeCall(); return n; },
        sparseAdam: (...a) => { addon.sparseAdam(...a); countNativeCall(); },
      }
      : null;
  }
  return kernels && nativeEnabled() ? kernels : null;
}
