/**
 * Synchronous reads (`dataSync`, `arraySync`) on tfjs's WebGPU backend in Node.
 *
 * tfjs-backend-webgpu 4.22.0 reads synchronously by drawing the buffer into an OffscreenCanvas, which
 * Node lacks ("OffscreenCanvas is not defined"). This replaces `readSync` with the path its async
 * `read` takes (copy into a MAP_READ staging buffer, map it), waiting for the mapping by running
 * Dawn's event processing until the buffer is mapped. The library reads small results synchronously
 * in many places (losses, beam scores, codebook assignments); each such read waits for the GPU
 * queue, so hot loops should still prefer few reads.
 */
import * as tf from '@tensorflow/tfjs';
import { pumpDawnEvents } from './webgpuDawn';

interface StagingBuffer {
  readonly size: number;
  readonly mapState: 'unmapped' | 'pending' | 'mapped';
  mapAsync(mode: number): Promise<void>;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
}
interface CommandEncoder {
  copyBufferToBuffer(src: StagingBuffer, srcOffset: number, dst: StagingBuffer, dstOffset: number, size: number): void;
}
interface TensorData {
  values: unknown;
  dtype: string;
  resource: unknown;
}
/** The members of tfjs-backend-webgpu's WebGPUBackend (4.22.0) that the read uses. */
interface WebGpuBackendInternals {
  tensorMap: { get(dataId: object): TensorData | undefined };
  bufferManager: { acquireBuffer(size: number, usage: number): StagingBuffer; releaseBuffer(b: StagingBuffer): void };
  commandEncoder: CommandEncoder | null;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  convertAndCacheOnCPU(dataId: object, values: unknown): unknown;
}
type ReadSync = (this: WebGpuBackendInternals, dataId: object) => unknown;

const patched = new WeakSet<object>();
let deviceError: string | null = null;

/**
 * Records the device's first uncaptured error (a kernel whose pipeline failed validation, say): Dawn
 * only logs those, and the results of such a kernel are garbage. The next synchronous read throws it.
 */
export function watchDeviceErrors(device: object): void {
  (device as { onuncapturederror: ((ev: { error?: { message?: string } }) => void) | null }).onuncapturederror = (ev) => {
    deviceError ??= ev.error?.message?.split('\n')[0] ?? 'unknown device error';
  };
}

function throwDeviceError(): void {
  if (deviceError === null) return;
  const message = deviceError;
  deviceError = null;
  throw new Error(`webgpu: the device reported an error, results since are invalid: ${message}`);
}
/** A read that has not completed after this long is reported as a hang rather than spun on forever. */
const READ_TIMEOUT_MS = 120_000;

function mapUsage(): { copyDst: number; mapRead: number; read: number } {
  const g = globalThis as unknown as { GPUBufferUsage?: Record<string, number>; GPUMapMode?: Record<string, number> };
  if (!g.GPUBufferUsage || !g.GPUMapMode) throw new Error('webgpu readSync: GPUBufferUsage / GPUMapMode globals are missing (Dawn not loaded)');
  return { copyDst: g.GPUBufferUsage.COPY_DST, mapRead: g.GPUBufferUsage.MAP_READ, read: g.GPUMapMode.READ };
}

function readBufferSync(backend: WebGpuBackendInternals, buffer: StagingBuffer): ArrayBuffer {
  const usage = mapUsage();
  const size = buffer.size;
  const staging = backend.bufferManager.acquireBuffer(size, usage.copyDst | usage.mapRead);
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  (backend.commandEncoder as CommandEncoder).copyBufferToBuffer(buffer, 0, staging, 0, size);
  backend.submitQueue();
  let failure: unknown = null;
  staging.mapAsync(usage.read).catch((err: unknown) => {
    failure = err;
  });
  const start = Date.now();
  while (staging.mapState !== 'mapped') {
    if (failure) throw failure;
    pumpDawnEvents();
    if (Date.now() - start > READ_TIMEOUT_MS) {
      throw new Error(`webgpu readSync: buffer of ${size} bytes not mapped after ${READ_TIMEOUT_MS / 1000} s`);
    }
  }
  const bytes = staging.getMappedRange().slice(0);
  staging.unmap();
  backend.bufferManager.releaseBuffer(staging);
  throwDeviceError();
  return bytes;
}

/**
 * Replaces `readSync` on the class of `backend` (a WebGPUBackend instance). Strings, complex values
 * and values already on the CPU keep the original path. Idempotent.
 */
export function installWebGpuReadSync(backend: object): void {
  const proto = Object.getPrototypeOf(backend) as { readSync: ReadSync };
  if (patched.has(proto)) return;
  const original = proto.readSync;
  proto.readSync = function (this: WebGpuBackendInternals, dataId: object): unknown {
    const data = this.tensorMap.get(dataId);
    if (!data || data.values != null || data.dtype === 'string' || data.dtype === 'complex64') {
      return original.call(this, dataId);
    }
    const values = tf.util.convertBackendValuesAndArrayBuffer(readBufferSync(this, data.resource as StagingBuffer), data.dtype as tf.DataType);
    return this.convertAndCacheOnCPU(dataId, values);
  };
  patched.add(proto);
}
