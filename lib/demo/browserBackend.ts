/**
 * What '../backend/index' resolves to in the demo's browser bundle (lib/demo/bundle.ts): the same
 * `tf` namespace and embedding lookup lib/generate imports, without the Node-only backend choice
 * (native kernels, wasm threads, Dawn). `startBrowserBackend` selects tfjs's cpu backend.
 */
import * as tf from '@tensorflow/tfjs';

export { tf };
export { embeddingLookup } from '../backend/embedding';

export async function startBrowserBackend(): Promise<string> {
  if (!(await tf.setBackend('cpu'))) throw new Error('demo: the tfjs cpu backend did not start');
  await tf.ready();
  return tf.getBackend();
}
