/**
 * Benchmark of RQ-KMeans 2 x 256 on a seeded Gaussian mixture (512 centres plus noise 0.5):
 * 10,000 x 128 and 62,000 x 768. Reports seconds, relative reconstruction error and the achieved
 * GFLOP/s of the assignment matmuls beside the backend's plain 1024^3 matmul rate measured in the
 * same run. Measured figures, with FAISS's and scikit-learn's, are in lib/quantize/README.md.
 */
import { initBackend, tf } from '../backend/index';
import { Rng } from '../util/random';
import { measureMatmulGflops } from './matmul';
import { newAssignStats } from '../quantize/distances';
import { Matrix } from '../quantize/matrix';
import { fitRqKMeans, rqRelativeError, RqKMeansOptions } from '../quantize/rqKmeans';

export interface KmeansBenchCase {
  rows: number;
  cols: number;
  seconds: number;
  /** Process CPU seconds (user + system) of the fit: less sensitive than wall time to a shared CPU. */
  cpuSeconds: number;
  relativeError: number;
  assignGflops: number;
  assignSeconds: number;
  iterations: number[];
}

export interface KmeansBenchResult {
  backend: string;
  matmulGflops: number;
  cases: KmeansBenchCase[];
  note: string;
}

/** Seeded Gaussian mixture: `centres` unit-normal centres, each row a random centre plus N(0, noise^2). */
export function gaussianMixture(rows: number, cols: number, centres: number, noise: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const c = new Float32Array(centres * cols);
  for (let i = 0; i < c.length; i++) c[i] = rng.normal();
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const m = rng.int(centres);
    for (let j = 0; j < cols; j++) data[i * cols + j] = c[m * cols + j] + noise * rng.normal();
  }
  return { data, rows, cols };
}

/** GFLOP/s of a plain n x n x n matmul on the current backend (best of a few runs). */
function timeMatmulGflops(n = 1024, reps = 5): number {
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1) as tf.Tensor2D;
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2) as tf.Tensor2D;
  let best = Infinity;
  for (let r = 0; r < reps + 1; r++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    c.dataSync();
    const dt = (performance.now() - t0) / 1000;
    c.dispose();
    if (r > 0) best = Math.min(best, dt);
  }
  a.dispose();
  b.dispose();
  return (2 * n * n * n) / best / 1e9;
}

/** The backend's matmul rate: the shared benchmark at 1024^3, or the inline timing at other sizes. */
function matmulRate(size: number): number {
  return size === 1024 ? measureMatmulGflops(1024, 5) : timeMatmulGflops(size);
}

export interface KmeansBenchOptions {
  /** [rows, cols] cases (default 10,000 x 128 and 62,000 x 768, the sizes ../shared/peers/rqkmeans_peers.py is run at). */
  sizes?: [number, number][];
  rq?: RqKMeansOptions;
  seed?: number;
  /** Print progress lines on stderr (default true). */
  log?: boolean;
  /** Side of the reference matmul (default 1024). */
  matmulSize?: number;
}

export async function benchKmeans(opts: KmeansBenchOptions = {}): Promise<KmeansBenchResult> {
  const info = await initBackend();
  const sizes = opts.sizes ?? [
    [10000, 128],
    [62000, 768],
  ];
  const log = opts.log ?? true;
  const matmulGflops = matmulRate(opts.matmulSize ?? 1024);
  if (log) process.stderr.write(`[bench kmeans] backend ${info.name} (${info.threads} thread(s)), matmul 1024^3: ${matmulGflops.toFixed(1)} GFLOP/s\n`);
  const cases: KmeansBenchCase[] = [];
  for (const [rows, cols] of sizes) {
    const x = gaussianMixture(rows, cols, 512, 0.5, opts.seed ?? 42);
    const stats = newAssignStats();
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const fit = fitRqKMeans(x, { levels: 2, k: 256, seed: opts.seed ?? 42, ...(opts.rq ?? {}) }, stats);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const err = rqRelativeError(fit.model, x, fit.codes);
    const c: KmeansBenchCase = {
      rows,
      cols,
      seconds,
      cpuSeconds,
      relativeError: err,
      assignGflops: stats.flops / Math.max(1e-9, stats.seconds) / 1e9,
      assignSeconds: stats.seconds,
      iterations: fit.inertiaHistory.map((h) => h.length - 1),
    };
    if (log) {
      process.stderr.write(
        `[bench kmeans] ${rows}x${cols}: ${seconds.toFixed(2)} s (cpu ${cpuSeconds.toFixed(2)} s), rel. error ${err.toFixed(4)}, assignment ${c.assignGflops.toFixed(1)} GFLOP/s ` +
          `(${stats.seconds.toFixed(2)} s), iterations ${c.iterations.join('+')}\n`,
      );
    }
    cases.push(c);
  }
  return { backend: `${info.name}/${info.threads}`, matmulGflops, cases, note: 'the machine has 2 cores shared with other work: timings are noisy' };
}
