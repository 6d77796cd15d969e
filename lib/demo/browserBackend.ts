/**
 * What '../backend/index' resolves to in the demo's browser bundle (lib/demo/bundle.ts): the same
 * `tf` namespace and embedding lookup lib/generate imports, without the Node-only backend choice
 * (native kernels, wasm threads, Dawn). `startBrowserBackend` starts tfjs's wasm backend (SIMD, one
 * thread) from the binary demo-wasm.js carries as base64, served to it as a blob: URL because a
 * page opened from file:// cannot fetch() a file beside it; where that fails it uses the cpu backend.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { base64ToBytes } from './payload';

export { tf };
export { embeddingLookup } from '../backend/embedding';
export { gatedGelu, gelu, logSoftmaxRows, oneHotRows, rmsNorm, softmaxCrossEntropy } from '../backend/fusedOps';

/**
 * The page runs on wasm or cpu, never on Dawn, so the yields long loops make for webgpu
 * (lib/backend/deviceYield.ts) have nothing to release here: the same interface, returning at once.
 */
export class DeviceYield {
  constructor(_opts: { dispatches?: number } = {}) {}
  async tick(): Promise<void> {}
  async now(): Promise<void> {}
}

export type BrowserBackend = 'wasm' | 'cpu';

export interface BrowserBackendResult {
  name: string;
  /** Why wasm is not used, when it is not. */
  fallback?: string;
}

export async function startBrowserBackend(wasmBase64: string | undefined, want: BrowserBackend = 'wasm'): Promise<BrowserBackendResult> {
  let fallback: string | undefined;
  if (want === 'wasm' && !wasmBase64) fallback = 'demo-wasm.js did not load';
  else if (want === 'wasm') {
    try {
      const bytes = base64ToBytes(wasmBase64!, 'demo-wasm.js');
      const url = URL.createObjectURL(new Blob([bytes], { type: 'application/wasm' }));
      // Threads need cross-origin isolation, which a file:// page never has: only the SIMD binary.
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      setWasmPaths({ 'tfjs-backend-wasm.wasm': url, 'tfjs-backend-wasm-simd.wasm': url, 'tfjs-backend-wasm-threaded-simd.wasm': url });
      if (await tf.setBackend('wasm')) {
        await tf.ready();
        return { name: tf.getBackend() };
      }
      fallback = 'the wasm backend did not start';
    } catch (err) {
      fallback = `the wasm backend failed: ${(err as Error).message}`;
    }
  }
  if (!(await tf.setBackend('cpu'))) throw new Error('demo: neither the tfjs wasm nor the cpu backend started');
  await tf.ready();
  return { name: tf.getBackend(), fallback };
}
