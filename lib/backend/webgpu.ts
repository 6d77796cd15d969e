/**
 * tfjs's WebGPU backend (@tensorflow/tfjs-backend-webgpu) in Node, on Dawn (webgpuDawn.ts).
 *
 * `probeWebGpu` asks Dawn for an adapter and describes it; `startWebGpuBackend` registers the
 * backend on that adapter's device, selects it and makes synchronous reads work (webgpuReadSync.ts).
 * A software adapter (Mesa's llvmpipe, what CI has) is accepted only when asked for: its speeds are
 * CPU speeds, so automatic choice never takes it.
 */
import * as fs from 'node:fs';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import * as tf from '@tensorflow/tfjs';
import { projectRequire } from './resolve';
import { loadDawn, type GpuAdapterLike, type GpuLike } from './webgpuDawn';
import { installWebGpuKernelFixes } from './webgpuKernels';
import { installWebGpuReadSync, watchDeviceErrors } from './webgpuReadSync';

/** What the start line and benchmarks report about the adapter. */
export interface WebGpuAdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for a CPU implementation of WebGPU (llvmpipe, SwiftShader): not a GPU. */
  software: boolean;
  limits: {
    maxBufferSize: number;
    maxStorageBufferBindingSize: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeInvocationsPerWorkgroup: number;
  };
}

export type WebGpuProbe =
  | { ok: true; adapter: GpuAdapterLike; report: WebGpuAdapterReport }
  | { ok: false; reason: string };

interface WebGpuBackendModule {
  WebGPUBackend: new (device: object, adapterInfo?: object) => tf.KernelBackend;
}

let backendModule: WebGpuBackendModule | null = null;
let gpu: GpuLike | null = null;
let probed: Promise<WebGpuProbe> | null = null;

/** Supplies the backend package when it cannot be required from node_modules (the GPU bundle). */
export function setWebGpuBackendModule(mod: WebGpuBackendModule): void {
  backendModule = mod;
}

function loadBackendModule(): WebGpuBackendModule {
  if (!backendModule) {
    // Loaded before navigator.gpu exists, so the package registers no factory of its own: the one
    // below, on the adapter already probed, is the only 'webgpu' factory.
    backendModule = projectRequire()('@tensorflow/tfjs-backend-webgpu') as WebGpuBackendModule;
  }
  return backendModule;
}

function isSoftware(info: GpuAdapterLike['info']): boolean {
  return info.isFallbackAdapter === true || info.architecture === 'software' || /llvmpipe|lavapipe|swiftshader/i.test(`${info.device} ${info.description}`);
}

function describe(adapter: GpuAdapterLike): WebGpuAdapterReport {
  const { info, limits } = adapter;
  return {
    vendor: info.vendor || 'unknown vendor',
    architecture: info.architecture || 'unknown architecture',
    device: info.device,
    description: info.description,
    software: isSoftware(info),
    limits: {
      maxBufferSize: limits.maxBufferSize,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
    },
  };
}

/** The adapter Dawn offers (high-performance preference), or why there is none. Cached. */
export function probeWebGpu(): Promise<WebGpuProbe> {
  if (!probed) {
    probed = (async (): Promise<WebGpuProbe> => {
      try {
        loadBackendModule();
        const dawn = loadDawn();
        gpu = gpu ?? dawn.create([]);
        const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
        if (!adapter) {
          return {
            ok: false,
            reason: 'Dawn found no WebGPU adapter (no Vulkan driver: install the GPU driver, or libvulkan1 and ' +
              'mesa-vulkan-drivers from bookworm-backports for the software device; see environment/GPU.md)',
          };
        }
        return { ok: true, adapter, report: describe(adapter) };
      } catch (err) {
        return { ok: false, reason: (err as Error).message.split('\n')[0] };
      }
    })();
  }
  return probed;
}

/**
 * Cheap test for a GPU worth probing: on Linux a hardware Vulkan adapter needs a render node or the
 * NVIDIA device files. Automatic choice probes only then, so CPU machines pay nothing at start.
 */
export function gpuDeviceNodePresent(): boolean {
  if (process.platform !== 'linux') return true;
  if (fs.existsSync('/dev/nvidia0')) return true;
  try {
    return fs.readdirSync('/dev/dri').some((f) => f.startsWith('renderD'));
  } catch {
    return false;
  }
}

function deviceDescriptor(adapter: GpuAdapterLike): object {
  // The limits tfjs-backend-webgpu's own factory asks for, so its kernels see the same device.
  const l = adapter.limits;
  return {
    requiredFeatures: adapter.features.has('bgra8unorm-storage') ? ['bgra8unorm-storage'] : [],
    requiredLimits: {
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      // Above the default 8, so fewer kernels hit the binding limit (see webgpuKernels.ts).
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    },
  };
}

export type WebGpuStart = { ok: true; report: WebGpuAdapterReport } | { ok: false; reason: string };

/**
 * Selects tfjs's 'webgpu' backend on Dawn's adapter. With `allowSoftware` false a software adapter
 * is refused (ok: false) and nothing is selected.
 */
export async function startWebGpuBackend(opts: { allowSoftware: boolean }): Promise<WebGpuStart> {
  const probe = await probeWebGpu();
  if (!probe.ok) return probe;
  const { adapter, report } = probe;
  if (report.software && !opts.allowSoftware) {
    return { ok: false, reason: `only a software adapter (${report.description || report.device}); set SID_BACKEND=webgpu to use it anyway` };
  }
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator === undefined) (globalThis as { navigator?: object }).navigator = { gpu };
  else if (g.navigator.gpu === undefined) Object.assign(g.navigator, { gpu });
  if (tf.findBackendFactory('webgpu') == null) {
    const { WebGPUBackend } = loadBackendModule();
    tf.registerBackend('webgpu', async () => {
      const device = await adapter.requestDevice(deviceDescriptor(adapter));
      watchDeviceErrors(device);
      return new WebGPUBackend(device, adapter.info);
    }, 1);
  }
  installWebGpuKernelFixes();
  if (!(await tf.setBackend('webgpu'))) return { ok: false, reason: "the 'webgpu' backend failed to initialise" };
  installWebGpuReadSync(tf.backend());
  // tfjs runs ops on inputs smaller than 1000 values on the CPU when their values are there already;
  // the kernel tests turn that off so every op they check runs on the device.
  if (process.env.SID_WEBGPU_CPU_FORWARD === '0') tf.env().set('WEBGPU_CPU_FORWARD', false);
  return { ok: true, report };
}

/**
 * Lets Node release the Dawn objects (bind groups, command buffers) that tfjs drops after each
 * dispatch. Node runs the finalizers of native objects only between event-loop turns, so a
 * synchronous loop of many steps keeps every one of them alive: on llvmpipe each holds a memory
 * mapping, and near `vm.max_map_count` (65,530) mappings the driver crashes (SIGSEGV in
 * vkCreateDescriptorPool). Await this every few hundred steps of a long loop on webgpu. It runs a
 * full garbage collection first: the JS wrappers are too small for V8 to collect them on its own
 * while the native memory behind them grows.
 */
export async function releaseWebGpuGarbage(): Promise<void> {
  await drainWebGpuQueue();
  fullGc()();
  await new Promise<void>((resolve) => setImmediate(() => resolve()));
}

/** The members of tfjs-backend-webgpu's WebGPUBackend (4.22.0) that the drain uses. */
interface QueueInternals {
  device?: { queue: { onSubmittedWorkDone(): Promise<void> } };
  commandEncoder?: object | null;
  endComputePassEncoder?(): void;
  submitQueue?(): void;
}

/**
 * Submits what tfjs has recorded and waits until the device has run everything submitted. A loop
 * that reads nothing back otherwise runs ahead of the device without bound (on llvmpipe, minutes of
 * queued work), and what the queued work holds cannot be released until it has run.
 */
async function drainWebGpuQueue(): Promise<void> {
  if (tf.getBackend() !== 'webgpu') return;
  const b = tf.backend() as unknown as QueueInternals;
  if (!b.device) return;
  if (b.commandEncoder && b.endComputePassEncoder && b.submitQueue) {
    b.endComputePassEncoder();
    b.submitQueue();
  }
  await b.device.queue.onSubmittedWorkDone();
}

let gcFn: (() => void) | null = null;
function fullGc(): () => void {
  if (!gcFn) {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as () => void;
  }
  return gcFn;
}

function bytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(n % 2 ** 30 === 0 ? 0 : 1)} GiB`;
  return `${Math.round(n / 2 ** 20)} MiB`;
}

/** The adapter in one line, for the backend report and benchmark headers. */
export function formatAdapter(r: WebGpuAdapterReport): string {
  const name = r.description || r.device || 'unnamed device';
  const head = `${r.vendor} ${r.architecture}, ${name}`;
  const limits = `buffer ${bytes(r.limits.maxBufferSize)}, storage binding ${bytes(r.limits.maxStorageBufferBindingSize)}, ` +
    `workgroup ${r.limits.maxComputeInvocationsPerWorkgroup} invocations / ${r.limits.maxComputeWorkgroupStorageSize / 1024} KiB shared`;
  const warn = r.software ? '; SOFTWARE adapter: runs on the CPU, its speeds are not GPU figures' : '';
  return `${head}; ${limits}${warn}`;
}
