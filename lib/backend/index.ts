/**
 * tfjs backend selection (first version: wasm, else cpu). To be extended with tfjs-node(-gpu),
 * wasm threads and the fast transposed-matmul path.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export { tf };

export interface BackendInfo {
  name: string;
  threads: number;
}

let ready: Promise<BackendInfo> | null = null;

export function initBackend(): Promise<BackendInfo> {
  if (!ready) {
    ready = (async () => {
      const ok = await tf.setBackend('wasm').catch(() => false);
      if (!ok) await tf.setBackend('cpu');
      await tf.ready();
      return { name: tf.getBackend(), threads: 1 };
    })();
  }
  return ready;
}
