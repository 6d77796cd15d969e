/**
 * What '@tensorflow/tfjs' resolves to in the demo's browser bundle (lib/demo/bundle.ts): tfjs-core's
 * ops with the pure-JS cpu backend, without the layers, converter and data packages the demo never
 * uses (gradients are not registered: the page only decodes). The cpu backend needs no .wasm file, which a page opened from file:// could not fetch.
 */
import '@tensorflow/tfjs-backend-cpu';
// tensor.reshape() and the other chained ops, which '@tensorflow/tfjs' registers in Node.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
export * from '@tensorflow/tfjs-core';
