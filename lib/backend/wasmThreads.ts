/**
 * Starts the tfjs wasm backend, multi-threaded in Node when asked for more than one thread.
 *
 * tfjs-backend-wasm 4.22.0 turns threads off in Node (tfjs issue #3830), and its threaded build would
 * fail there anyway: it starts pthread workers from `blob:` URLs, which `worker_threads` rejects
 * (ERR_WORKER_PATH), its pool workers keep the process alive, and its C++ side sizes the thread pool
 * from half of `os.cpus()`. During backend initialisation only, this module
 *  - sets the `WASM_HAS_MULTITHREAD_SUPPORT` flag so the threaded SIMD binary is chosen,
 *  - swaps the global `Worker` for a subclass that runs the package's own pthread worker source
 *    (`wasm-out/tfjs-backend-wasm-threaded-simd.worker.js`) with `eval: true`, answers the worker's
 *    `{cmd:'load'}` message with the path of the package's standalone threaded glue script (instead of
 *    a Blob it cannot import), and keeps every pool worker unref'd so the process exits by itself,
 *  - reports twice the real core count from `os.cpus()`,
 * and restores all three afterwards. node_modules is not modified. It relies on 4.22.0 internals,
 * which is why the package is pinned.
 */
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import * as tfWasm from '@tensorflow/tfjs-backend-wasm';
import { packageDir, projectRequire } from './resolve';

export interface WasmStart {
  /** Threads the XNNPACK pool really uses, as reported by the backend. */
  threads: number;
  simd: boolean;
}

const THREADED_INIT_TIMEOUT_MS = 30_000;
/**
 * Emscripten pre-spawns 8 pool workers; a pthread beyond them would need the event loop while the
 * main thread blocks in XNNPACK's pool creation, so more than 8 threads (main + 7 workers, with one
 * spare) are not requested.
 */
export const MAX_WASM_THREADS = 8;
const WORKER_SOURCE = 'wasm-out/tfjs-backend-wasm-threaded-simd.worker.js';
const THREADED_GLUE = 'wasm-out/tfjs-backend-wasm-threaded-simd.js';

type WorkerThreadsModule = typeof import('node:worker_threads');
type OsModule = typeof import('node:os');

/** Initialises the wasm backend with `threads` threads (1 = the plain single-threaded SIMD build). */
export async function startWasmBackend(threads: number): Promise<WasmStart> {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(`startWasmBackend: threads must be an integer >= 1, got ${threads}`);
  }
  threads = Math.min(threads, MAX_WASM_THREADS);
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  // The threaded binary exists only with SIMD; tfjs would fall back to the plain build anyway.
  if (threads > 1 && simd) {
    const ok = await setBackendWithThreadShim(threads);
    if (ok) return { threads: tfWasm.getThreadsCount(), simd };
    throw new Error(
      `wasm backend: the threaded build failed to start with ${threads} threads; ` +
        'set SID_THREADS=1 (or initBackend({ threads: 1 })) to use the single-threaded build',
    );
  }
  tfWasm.setThreadsCount(1);
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend: initialisation failed');
  return { threads: tfWasm.getThreadsCount(), simd };
}

function threadedFiles(): { workerSource: string; gluePath: string } {
  const dir = packageDir('@tensorflow/tfjs-backend-wasm');
  if (!dir) throw new Error('wasm threads: cannot resolve @tensorflow/tfjs-backend-wasm from the project root');
  const workerPath = path.join(dir, WORKER_SOURCE);
  const gluePath = path.join(dir, THREADED_GLUE);
  for (const p of [workerPath, gluePath]) {
    if (!fs.existsSync(p)) throw new Error(`wasm threads: expected file ${p} (tfjs-backend-wasm 4.22.0 layout)`);
  }
  const contents = (projectRequire()(workerPath) as { wasmWorkerContents?: unknown }).wasmWorkerContents;
  if (typeof contents !== 'string') {
    throw new Error(`wasm threads: ${workerPath} does not export wasmWorkerContents (tfjs-backend-wasm 4.22.0 layout)`);
  }
  // The template literal turned the source's "\n" escapes into raw newlines inside string literals;
  // tfjs escapes them the same way before making its Blob.
  return { workerSource: contents.replace(/\n/g, '\\n'), gluePath };
}

async function setBackendWithThreadShim(threads: number): Promise<boolean> {
  const { workerSource, gluePath } = threadedFiles();
  const req = projectRequire();
  const workerThreads = req('node:worker_threads') as WorkerThreadsModule;
  const os = req('node:os') as OsModule;
  const RealWorker = workerThreads.Worker;

  class PthreadWorker extends RealWorker {
    private readonly pooled: boolean;
    constructor(url: string | URL, options?: import('node:worker_threads').WorkerOptions) {
      const isBlob = typeof url === 'string' && url.startsWith('blob:');
      // execArgv: [] keeps the parent's loader flags (--import tsx, --input-type=module) away from
      // the worker source, which is a CommonJS script.
      super(isBlob ? workerSource : url, isBlob ? { ...options, eval: true, execArgv: [] } : options);
      this.pooled = isBlob;
      if (isBlob) super.unref();
    }
    override postMessage(value: unknown, transferList?: readonly import('node:worker_threads').TransferListItem[]): void {
      const msg = value as { cmd?: string } | null;
      if (this.pooled && msg && msg.cmd === 'load') value = { ...msg, urlOrBlob: gluePath };
      super.postMessage(value, transferList);
    }
    // Emscripten refs a worker while it runs a pthread; XNNPACK's pool threads run forever, so a ref'd
    // worker would keep the process alive after the main script ends.
    override ref(): void {
      if (!this.pooled) super.ref();
    }
  }

  const g = globalThis as Record<string, unknown>;
  const workerDescriptor = Object.getOwnPropertyDescriptor(g, 'Worker');
  const realCpus = os.cpus;
  const flagBefore = tf.env().getFlags()['WASM_HAS_MULTITHREAD_SUPPORT'];
  // The glue assigns `Worker = worker_threads.Worker` when it starts: keep ours in place meanwhile.
  Object.defineProperty(g, 'Worker', { configurable: true, get: () => PthreadWorker, set: () => undefined });
  os.cpus = () => {
    const cpus = realCpus.call(os);
    return cpus.concat(cpus);
  };
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  tfWasm.setThreadsCount(threads);
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<boolean>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`wasm threads: workers did not start within ${THREADED_INIT_TIMEOUT_MS / 1000} s`)),
        THREADED_INIT_TIMEOUT_MS,
      );
    });
    return await Promise.race([tf.setBackend('wasm'), timeout]);
  } finally {
    if (timer) clearTimeout(timer);
    os.cpus = realCpus;
    if (workerDescriptor) Object.defineProperty(g, 'Worker', workerDescriptor);
    else delete g.Worker;
    if (flagBefore === undefined) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    else tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', flagBefore);
  }
}
