/**
 * Kernel fixes for tfjs-backend-webgpu 4.22.0.
 *
 * AddN binds every input as its own storage buffer in one shader, so a sum of more inputs than the
 * device's `maxStorageBuffersPerShaderStage` (8 by default) fails pipeline validation. tfjs emits
 * AddN when it accumulates the gradient of a tensor used many times (a weight shared by 30 positions,
 * for instance). The wrapper sums at most `limit - 1` inputs per call, then the partial sums.
 */
import * as tf from '@tensorflow/tfjs';

type KernelArgs = { inputs: tf.TensorInfo[]; backend: unknown; attrs?: Record<string, unknown> };
type KernelFn = (args: KernelArgs) => tf.TensorInfo;
interface BackendWithDevice {
  device: { limits: { maxStorageBuffersPerShaderStage: number } };
  disposeData(dataId: object, force?: boolean): boolean;
}

let installed = false;

function chunkedAddN(args: KernelArgs, orig: KernelFn): tf.TensorInfo {
  const backend = args.backend as BackendWithDevice;
  // One binding is the output.
  const perCall = Math.max(2, backend.device.limits.maxStorageBuffersPerShaderStage - 1);
  let level = args.inputs;
  const temps: tf.TensorInfo[] = [];
  while (level.length > perCall) {
    const next: tf.TensorInfo[] = [];
    for (let i = 0; i < level.length; i += perCall) {
      const group = level.slice(i, i + perCall);
      if (group.length === 1) {
        next.push(group[0]);
        continue;
      }
      const partial = orig({ ...args, inputs: group });
      temps.push(partial);
      next.push(partial);
    }
    level = next;
  }
  const out = orig({ ...args, inputs: level });
  for (const t of temps) backend.disposeData(t.dataId);
  return out;
}

/** Re-registers AddN on 'webgpu' with the chunking wrapper. Idempotent. */
export function installWebGpuKernelFixes(): void {
  if (installed) return;
  const addN = tf.getKernel('AddN', 'webgpu');
  if (!addN) return;
  const orig = addN.kernelFunc as unknown as KernelFn;
  tf.unregisterKernel('AddN', 'webgpu');
  tf.registerKernel({
    kernelName: 'AddN',
    backendName: 'webgpu',
    setupFunc: addN.setupFunc,
    disposeFunc: addN.disposeFunc,
    kernelFunc: ((args: KernelArgs) => chunkedAddN(args, orig)) as unknown as tf.KernelFunc,
  });
  installed = true;
}
