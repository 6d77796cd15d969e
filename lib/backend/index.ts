/**
 * The one place that chooses the tfjs backend. Await `initBackend()` once before using `tf`, and
 * import `tf` from here (never from '@tensorflow/tfjs' directly) so the choice stays in one place.
 *
 * Order tried: webgpu (Dawn; only where a GPU device node exists and the adapter is hardware, see
 * webgpu.ts), @tensorflow/tfjs-node-gpu, @tensorflow/tfjs-node (both optional, loaded only if
 * installed), the wasm backend (SIMD; multi-threaded on request), then the pure-JS cpu backend.
 *
 * Settings (an explicit option wins over the environment):
 *   backend  opts.backend | SID_BACKEND = webgpu | tfjs-node-gpu | tfjs-node | wasm | cpu  (forces
 *            one; an unavailable forced backend is an error; a forced webgpu accepts a software adapter)
 *   threads  opts.threads | SID_THREADS = wasm threads (default: all cores; 1 = single thread, what
 *            the pipeline sets when two worker processes share the cores)
 *   SID_QUIET=1 silences the one-line report of the choice on stderr.
 *   SID_BACKEND_OVERRIDE wins even over opts.backend: it runs code (and tests) written for one
 *            backend on another, e.g. the wasm kernel tests on webgpu.
 */
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { MAX_WASM_THREADS, startWasmBackend } from './wasmThreads';
import { installFastMatMul } from './fastMatMul';
import { installNativeKernels } from './nativeKernels';
import { loadNodeBackend } from './nodeBackends';
import { installBroadcastMatMulGradient } from './matMulGradient';
import { formatAdapter, gpuDeviceNodePresent, startWebGpuBackend, type WebGpuAdapterReport } from './webgpu';
import { writeProgressLine } from '../util/progress';

export { tf };
export { embeddingLookup, gatherRows, scatterAddRows, float32Values } from './embedding';
export { SparseRowAdam } from './sparseRowAdam';
export { adamwUpdate, gatedGelu, gelu, logSoftmaxRows, oneHotRows, rmsNorm, softmaxCrossEntropy } from './fusedOps';
export { linearSoftmaxCrossEntropySum } from './linearCrossEntropy';
export { nativeRowKernels } from './nativeRows';
export type { RowKernels } from './nativeRows';
export type { AdamWUpdate } from './fusedOps';
export type { SparseRowAdamConfig } from './sparseRowAdam';
export { installFastMatMul, fastMatMulInstalled } from './fastMatMul';
export { nativeKernelsInstalled, isNativeKernel, nativeCallCount, setNativeEnabled, withBlasThreads } from './nativeKernels';
export { MAX_WASM_THREADS } from './wasmThreads';
export { installBroadcastMatMulGradient } from './matMulGradient';
export { formatAdapter, releaseWebGpuGarbage } from './webgpu';
export { DeviceYield, DeferredReads } from './deviceYield';
export type { DeviceYieldOptions } from './deviceYield';
export type { WebGpuAdapterReport } from './webgpu';

export type BackendName = 'webgpu' | 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';
const BACKEND_NAMES: readonly BackendName[] = ['webgpu', 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

export interface BackendOptions {
  backend?: BackendName;
  threads?: number;
}

export interface BackendInfo {
  /** One of BACKEND_NAMES. */
  name: string;
  /** Threads the backend computes with (wasm: as reported by the backend itself). */
  threads: number;
  simd?: boolean;
  /** wasm: kernels running on the native addon (lib/backend/nativeKernels.ts), and its BLAS threads. */
  native?: { kernels: string[]; threads?: number; reason?: string; gemm?: string };
  /** webgpu: the adapter it runs on. */
  adapter?: WebGpuAdapterReport;
}

let ready: Promise<BackendInfo> | null = null;

function parseBackend(value: string | undefined, source: string): BackendName | undefined {
  if (value === undefined || value === '') return undefined;
  if (!(BACKEND_NAMES as readonly string[]).includes(value)) {
    throw new Error(`${source}: unknown backend '${value}'; expected one of ${BACKEND_NAMES.join(', ')}`);
  }
  return value as BackendName;
}

function parseThreads(value: string | number | undefined, source: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${source}: threads must be an integer >= 1, got '${value}'`);
  return n;
}

function nativeDetail(info: BackendInfo): string {
  const n = info.native;
  if (!n) return '';
  if (!n.kernels.length) return `, native kernels off: ${n.reason}`;
  return `, native ${n.kernels.join(' ')} (${n.gemm === 'onednn' ? 'oneDNN' : 'OpenBLAS'}, ${n.threads} thread${n.threads === 1 ? '' : 's'})`;
}

function report(info: BackendInfo): void {
  if (process.env.SID_QUIET === '1') return;
  const detail = info.name === 'wasm'
    ? ` (${info.simd ? 'simd' : 'no simd'}, ${info.threads} thread${info.threads === 1 ? '' : 's'})${nativeDetail(info)}`
    : info.adapter ? ` (${formatAdapter(info.adapter)})`
    : info.name === 'cpu' ? '' : ` (${info.threads} threads)`;
  // A progress line: in headless notebook runs it goes to the runner's terminal, not the report.
  writeProgressLine(`[backend] ${info.name}${detail}`);
}

async function choose(opts: BackendOptions): Promise<BackendInfo> {
  installBroadcastMatMulGradient();
  const forced = parseBackend(process.env.SID_BACKEND_OVERRIDE, 'SID_BACKEND_OVERRIDE') ??
    parseBackend(opts.backend, 'initBackend({ backend })') ?? parseBackend(process.env.SID_BACKEND, 'SID_BACKEND');
  const threads = parseThreads(opts.threads, 'initBackend({ threads })') ??
    parseThreads(process.env.SID_THREADS, 'SID_THREADS') ?? os.cpus().length;
  const order: BackendName[] = forced ? [forced] : [...BACKEND_NAMES];
  const failures: string[] = [];
  for (const name of order) {
    try {
      if (name === 'webgpu') {
        // Unforced, only a hardware adapter counts, and only where a GPU device node exists.
        if (!forced && !gpuDeviceNodePresent()) {
          failures.push('webgpu: no GPU device node');
          continue;
        }
        const started = await startWebGpuBackend({ allowSoftware: Boolean(forced) });
        // `in` narrows the union under the notebooks' non-strict compiler too.
        if ('reason' in started) {
          failures.push(`webgpu: ${started.reason}`);
          continue;
        }
        return { name, threads: 1, adapter: started.report };
      }
      if (name === 'tfjs-node-gpu' || name === 'tfjs-node') {
        const loaded = loadNodeBackend(name);
        if (!loaded.ok) {
          failures.push(`${name}: ${loaded.reason}`);
          continue;
        }
        if (!(await tf.setBackend('tensorflow'))) {
          failures.push(`${name}: the 'tensorflow' backend failed to initialise`);
          continue;
        }
        return { name, threads: os.cpus().length };
      }
      if (name === 'wasm') {
        const started = await startWasmBackend(threads);
        installFastMatMul('wasm');
        // One thread setting for both pools: BLAS gets the threads asked for, as wasm does.
        const native = installNativeKernels('wasm', threads);
        return { name, threads: started.threads, simd: started.simd, native };
      }
      if (!(await tf.setBackend('cpu'))) throw new Error('setBackend(cpu) returned false');
      return { name: 'cpu', threads: 1 };
    } catch (err) {
      if (forced) throw err;
      failures.push(`${name}: ${(err as Error).message}`);
    }
  }
  throw new Error(
    forced
      ? `initBackend: forced backend '${forced}' (option or SID_BACKEND) is not available: ${failures.join('; ')}`
      : `initBackend: no tfjs backend could start: ${failures.join('; ')}`,
  );
}

/**
 * Initialises tfjs once (later calls return the same result). A later call asking for a different
 * backend than the one chosen is an error; a different thread count is reported on stderr and
 * ignored (the wasm thread pool cannot be resized).
 */
export function initBackend(opts: BackendOptions = {}): Promise<BackendInfo> {
  if (!ready) {
    ready = choose(opts).then(
      (info) => {
        report(info);
        return info;
      },
      (err) => {
        ready = null;
        throw err;
      },
    );
    return ready;
  }
  return ready.then((info) => {
    if (opts.backend !== undefined && opts.backend !== info.name && !process.env.SID_BACKEND_OVERRIDE) {
      throw new Error(`initBackend: backend already initialised as '${info.name}', cannot switch to '${opts.backend}'`);
    }
    if (opts.threads !== undefined && info.name === 'wasm' && Math.min(opts.threads, MAX_WASM_THREADS) !== info.threads) {
      if (process.env.SID_QUIET !== '1') {
        process.stderr.write(`[backend] threads=${opts.threads} ignored: wasm already runs ${info.threads} thread(s)\n`);
      }
    }
    return info;
  });
}
