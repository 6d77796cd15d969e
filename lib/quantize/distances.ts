/**
 * Squared Euclidean distances between many rows and a few centroids, as batched matmuls:
 * ||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2. The x.c products run in tfjs (XNNPACK on wasm); the
 * centroids are passed pre-transposed ([d, k]) because the wasm matmul is only fast without
 * transpose flags. Rows are processed in chunks to bound memory; the argmin runs in a typed-array
 * loop over each downloaded chunk (one pass, no extra tensors).
 */
import { tf } from '../backend/index';
import { Matrix } from './matrix';

/** Rows per distance block: bounds the [rows, k] score matrix held at once. */
export const DEFAULT_CHUNK_ROWS = 4096;

/** Work counters for the assignment step (used by the benchmark to report GFLOP/s). */
export interface AssignStats {
  seconds: number;
  flops: number;
}

export function newAssignStats(): AssignStats {
  return { seconds: 0, flops: 0 };
}

/** Centroids prepared for distance computations: transposed copy on the device plus squared norms. */
export interface PreparedCentroids {
  k: number;
  d: number;
  /** [d, k] tensor. */
  ct: tf.Tensor2D;
  /** ||c||^2 per centroid. */
  cc: Float64Array;
}

export function prepareCentroids(centroids: Float32Array, k: number, d: number): PreparedCentroids {
  if (centroids.length !== k * d) {
    throw new Error(`lib/quantize/distances.ts: centroids length ${centroids.length} != k*d = ${k}*${d}`);
  }
  const t = new Float32Array(d * k);
  const cc = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const v = centroids[c * d + j];
      t[j * k + c] = v;
      s += v * v;
    }
    cc[c] = s;
  }
  return { k, d, ct: tf.tensor2d(t, [d, k]), cc };
}

export function releaseCentroids(p: PreparedCentroids): void {
  p.ct.dispose();
}

/**
 * Calls `fn(start, n, dots)` for consecutive chunks of rows of `x` (all rows, or the rows listed in
 * `subset`), where dots[r * k + c] = x[row r of the chunk] . centroid c.
 */
export function forEachDotChunk(
  x: Matrix,
  pc: PreparedCentroids,
  chunkRows: number,
  fn: (start: number, n: number, dots: Float32Array) => void,
  stats?: AssignStats,
  subset?: Int32Array,
): void {
  const d = x.cols;
  if (d !== pc.d) throw new Error(`lib/quantize/distances.ts: x has ${d} columns, centroids ${pc.d}`);
  const total = subset ? subset.length : x.rows;
  const buf = subset ? new Float32Array(Math.min(chunkRows, total) * d) : null;
  for (let start = 0; start < total; start += chunkRows) {
    const n = Math.min(chunkRows, total - start);
    let rows: Float32Array;
    if (subset && buf) {
      for (let r = 0; r < n; r++) {
        const src = subset[start + r] * d;
        buf.set(x.data.subarray(src, src + d), r * d);
      }
      rows = buf.subarray(0, n * d);
    } else {
      rows = x.data.subarray(start * d, (start + n) * d);
    }
    const t0 = performance.now();
    const xt = tf.tensor2d(rows, [n, d]);
    const prod = tf.matMul(xt, pc.ct);
    const dots = prod.dataSync() as Float32Array;
    xt.dispose();
    prod.dispose();
    if (stats) {
      stats.seconds += (performance.now() - t0) / 1000;
      stats.flops += 2 * n * d * pc.k;
    }
    fn(start, n, dots);
  }
}

export interface NearestResult {
  labels: Int32Array;
  /** Squared distance to the nearest centroid (clamped at 0). */
  dist: Float64Array;
  /** Squared distance to the second nearest centroid (Infinity when k = 1); only when asked. */
  second?: Float64Array;
}

/** Nearest centroid of every row of x (or of the rows in `subset`, results indexed like `subset`). */
export function nearestCentroids(
  x: Matrix,
  xx: Float64Array,
  pc: PreparedCentroids,
  opts: { chunkRows?: number; second?: boolean; subset?: Int32Array; stats?: AssignStats; resident?: ResidentRows } = {},
): NearestResult {
  const total = opts.subset ? opts.subset.length : x.rows;
  const labels = new Int32Array(total);
  const dist = new Float64Array(total);
  const second = opts.second ? new Float64Array(total) : undefined;
  const k = pc.k;
  const cc = pc.cc;
  const onChunk = (start: number, n: number, dots: Float32Array) => {
    for (let r = 0; r < n; r++) {
      const o = r * k;
      let best = Infinity;
      let best2 = Infinity;
      let arg = 0;
      for (let c = 0; c < k; c++) {
        const v = cc[c] - 2 * dots[o + c];
        if (v < best) {
          best2 = best;
          best = v;
          arg = c;
        } else if (v < best2) best2 = v;
      }
      const i = start + r;
      const norm = xx[opts.subset ? opts.subset[i] : i];
      labels[i] = arg;
      dist[i] = Math.max(0, norm + best);
      if (second) second[i] = Math.max(0, norm + best2);
    }
  };
  if (opts.resident && !opts.subset) opts.resident.forEachDot(pc, onChunk, opts.stats);
  else forEachDotChunk(x, pc, opts.chunkRows ?? DEFAULT_CHUNK_ROWS, onChunk, opts.stats, opts.subset);
  return { labels, dist, second };
}

/**
 * Rows of x kept on the device in chunks, for repeated products with changing centroids (k-means++
 * steps, full assignment passes) without re-uploading x each time. Call dispose() when done.
 */
export class ResidentRows {
  private readonly chunks: tf.Tensor2D[] = [];
  private readonly starts: number[] = [];

  constructor(readonly x: Matrix, readonly chunkRows: number) {
    const d = x.cols;
    for (let s = 0; s < x.rows; s += chunkRows) {
      const n = Math.min(chunkRows, x.rows - s);
      this.chunks.push(tf.tensor2d(x.data.subarray(s * d, (s + n) * d), [n, d]));
      this.starts.push(s);
    }
  }

  /** Same contract as forEachDotChunk over all rows. */
  forEachDot(pc: PreparedCentroids, fn: (start: number, n: number, dots: Float32Array) => void, stats?: AssignStats): void {
    if (pc.d !== this.x.cols) throw new Error(`lib/quantize/distances.ts: x has ${this.x.cols} columns, centroids ${pc.d}`);
    for (let c = 0; c < this.chunks.length; c++) {
      const xt = this.chunks[c];
      const n = xt.shape[0];
      const t0 = performance.now();
      const prod = tf.matMul(xt, pc.ct);
      const dots = prod.dataSync() as Float32Array;
      prod.dispose();
      if (stats) {
        stats.seconds += (performance.now() - t0) / 1000;
        stats.flops += 2 * n * this.x.cols * pc.k;
      }
      fn(this.starts[c], n, dots);
    }
  }

  dispose(): void {
    for (const t of this.chunks) t.dispose();
    this.chunks.length = 0;
  }
}
