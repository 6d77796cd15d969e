/**
 * k-means: seeded k-means++ initialisation (greedy, with sampled candidates, on a row sample),
 * Lloyd iterations whose assignment step is a batched matmul (see distances.ts), empty clusters
 * re-seeded from the points farthest from their centroid, a tolerance and an iteration cap, and a
 * mini-batch mode (Sculley 2010) for large N.
 *
 * Inertia bookkeeping: `inertiaHistory[t]` is the exact (float64) sum of squared distances of every
 * point to the centroid it was assigned to at iteration t. Lloyd updates and the empty-cluster
 * repair can only lower it, so the history is non-increasing (up to float32 ties in the argmin).
 */
import { tf } from '../backend/index';
import { Rng } from '../util/random';
import { AssignStats, DEFAULT_CHUNK_ROWS, ResidentRows, nearestCentroids, prepareCentroids, releaseCentroids } from './distances';
import { Matrix, checkMatrix, rowSqNorms, takeRows } from './matrix';

export interface KMeansOptions {
  /** Number of clusters. */
  k: number;
  seed?: number;
  /** Maximum number of Lloyd updates (default 25, as scikit-learn's level-wise baseline). */
  maxIter?: number;
  /**
   * Stop when the total squared centroid shift of one update is <= tol x (mean per-dimension
   * variance of x), as scikit-learn does. Default 1e-4. Also stops when the assignment no longer
   * changes.
   */
  tol?: number;
  /** Rows sampled for k-means++ (default min(N, max(80k, 4096))). */
  initSampleSize?: number;
  /** Candidates tried per k-means++ step (default 2 + floor(ln k)). */
  initTrials?: number;
  /** Rows per distance matmul (bounds memory; default 4096). */
  chunkRows?: number;
  /** Mini-batch mode instead of full Lloyd iterations. */
  miniBatch?: { batchSize: number; steps: number };
  /** Collects assignment-step time and FLOPs. */
  stats?: AssignStats;
}

export interface KMeansResult {
  k: number;
  d: number;
  /** k x d row-major centroids. */
  centroids: Float32Array;
  /** Nearest centroid of each row (for the final centroids). */
  labels: Int32Array;
  /** Squared distance of each row to its centroid. */
  dist: Float64Array;
  /** Sum of `dist`. */
  inertia: number;
  /** Inertia at each assignment step, first to last (mini-batch: inertia of each batch, per point). */
  inertiaHistory: number[];
  /** Lloyd updates (or mini-batch steps) performed. */
  iterations: number;
  converged: boolean;
  /** Empty clusters re-seeded over the run. */
  emptyRepairs: number;
}

function where(opt: string): string {
  return `lib/quantize/kmeans.ts (option ${opt})`;
}

function checkKMeansOptions(x: Matrix, o: KMeansOptions): void {
  if (!Number.isInteger(o.k) || o.k < 1) throw new Error(`${where('k')}: expected a positive integer, got ${o.k}`);
  if (o.k > x.rows) throw new Error(`${where('k')}: k = ${o.k} exceeds the number of rows ${x.rows}`);
  if (o.maxIter !== undefined && (!Number.isInteger(o.maxIter) || o.maxIter < 0)) {
    throw new Error(`${where('maxIter')}: expected an integer >= 0, got ${o.maxIter}`);
  }
  if (o.tol !== undefined && !(o.tol >= 0)) throw new Error(`${where('tol')}: expected >= 0, got ${o.tol}`);
  if (o.chunkRows !== undefined && !(Number.isInteger(o.chunkRows) && o.chunkRows > 0)) {
    throw new Error(`${where('chunkRows')}: expected a positive integer, got ${o.chunkRows}`);
  }
  if (o.miniBatch && !(o.miniBatch.batchSize > 0 && o.miniBatch.steps > 0)) {
    throw new Error(`${where('miniBatch')}: expected positive batchSize and steps, got ${JSON.stringify(o.miniBatch)}`);
  }
}

/** Mean over dimensions of the per-dimension variance of x (scales the tolerance). */
function meanVariance(x: Matrix): number {
  const { data, rows, cols } = x;
  const mean = new Float64Array(cols);
  const sq = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) {
      const v = data[o + j];
      mean[j] += v;
      sq[j] += v * v;
    }
  }
  let s = 0;
  for (let j = 0; j < cols; j++) {
    const m = mean[j] / rows;
    s += sq[j] / rows - m * m;
  }
  return Math.max(0, s / cols);
}

/** Index drawn with probability proportional to w, from its prefix sums. */
function drawFromCumulative(cum: Float64Array, rng: Rng): number {
  const total = cum[cum.length - 1];
  if (!(total > 0)) return rng.int(cum.length);
  const r = rng.next() * total;
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid] > r) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Greedy k-means++ (Arthur & Vassilvitskii, with scikit-learn's local trials): each new centre is
 * the best of `trials` D^2-sampled candidates. Candidate distances are one matmul per step, laid out
 * as candidates [trials, d] @ x^T [d, n] with x^T kept on the device: with so few candidates this
 * orientation runs about twice as fast on wasm as x @ candidates^T.
 */
function kmeansPlusPlus(x: Matrix, k: number, rng: Rng, trials: number, chunkRows: number, stats?: AssignStats): Float32Array {
  const n = x.rows;
  const d = x.cols;
  const xx = rowSqNorms(x);
  const centroids = new Float32Array(k * d);
  const first = rng.int(n);
  centroids.set(x.data.subarray(first * d, first * d + d), 0);
  const closest = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const e = x.data[i * d + j] - x.data[first * d + j];
      s += e * e;
    }
    closest[i] = s;
  }
  const cum = new Float64Array(n);
  const cand = new Int32Array(trials);
  const candRows = new Float32Array(trials * d);
  const candNorm = new Float64Array(trials);
  const candDist = new Float64Array(trials * n);
  // x^T in column blocks of at most chunkRows points.
  const blocks: { start: number; n: number; xt: tf.Tensor2D }[] = [];
  for (let s = 0; s < n; s += chunkRows) {
    const m = Math.min(chunkRows, n - s);
    const t = new Float32Array(d * m);
    for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) t[j * m + i] = x.data[(s + i) * d + j];
    blocks.push({ start: s, n: m, xt: tf.tensor2d(t, [d, m]) });
  }
  try {
    for (let c = 1; c < k; c++) {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        acc += closest[i];
        cum[i] = acc;
      }
      for (let t = 0; t < trials; t++) {
        cand[t] = drawFromCumulative(cum, rng);
        candRows.set(x.data.subarray(cand[t] * d, cand[t] * d + d), t * d);
        candNorm[t] = xx[cand[t]];
      }
      const ct = tf.tensor2d(candRows, [trials, d]);
      try {
        for (const b of blocks) {
          const t0 = performance.now();
          const prod = tf.matMul(ct, b.xt);
          const dots = prod.dataSync() as Float32Array;
          prod.dispose();
          if (stats) {
            stats.seconds += (performance.now() - t0) / 1000;
            stats.flops += 2 * trials * d * b.n;
          }
          for (let t = 0; t < trials; t++) {
            const o = t * n + b.start;
            const q = t * b.n;
            const cn = candNorm[t];
            for (let i = 0; i < b.n; i++) {
              const v = xx[b.start + i] + cn - 2 * dots[q + i];
              candDist[o + i] = v > 0 ? v : 0;
            }
          }
        }
      } finally {
        ct.dispose();
      }
      let bestT = 0;
      let bestPot = Infinity;
      for (let t = 0; t < trials; t++) {
        let pot = 0;
        const o = t * n;
        for (let i = 0; i < n; i++) {
          const v = candDist[o + i];
          const w = closest[i];
          pot += v < w ? v : w;
        }
        if (pot < bestPot) {
          bestPot = pot;
          bestT = t;
        }
      }
      const o = bestT * n;
      for (let i = 0; i < n; i++) if (candDist[o + i] < closest[i]) closest[i] = candDist[o + i];
      // The chosen point is at distance 0 from itself (avoid float noise re-drawing it).
      closest[cand[bestT]] = 0;
      centroids.set(candRows.subarray(bestT * d, bestT * d + d), c * d);
    }
  } finally {
    for (const b of blocks) b.xt.dispose();
  }
  return centroids;
}

/** Exact squared distances to the assigned centroids, plus per-cluster sums and counts. */
function accumulate(x: Matrix, labels: Int32Array, centroids: Float32Array, k: number, dist: Float64Array): { sums: Float64Array; counts: Int32Array; inertia: number } {
  const { data, rows, cols: d } = x;
  const sums = new Float64Array(k * d);
  const counts = new Int32Array(k);
  let inertia = 0;
  for (let i = 0; i < rows; i++) {
    const a = labels[i];
    const o = i * d;
    const co = a * d;
    let s = 0;
    for (let j = 0; j < d; j++) {
      const v = data[o + j];
      sums[co + j] += v;
      const e = v - centroids[co + j];
      s += e * e;
    }
    counts[a]++;
    dist[i] = s;
    inertia += s;
  }
  return { sums, counts, inertia };
}

/** Fits k-means on the rows of x. Deterministic for a given seed. */
export function kmeans(x: Matrix, opts: KMeansOptions): KMeansResult {
  checkMatrix(x, 'lib/quantize/kmeans.ts kmeans(x)');
  checkKMeansOptions(x, opts);
  const { k } = opts;
  const n = x.rows;
  const rng = new Rng(opts.seed ?? 0);
  const chunkRows = opts.chunkRows ?? DEFAULT_CHUNK_ROWS;
  const trials = opts.initTrials ?? 2 + Math.floor(Math.log(k));
  const sampleSize = Math.min(n, opts.initSampleSize ?? Math.max(80 * k, 4096));
  const initRng = rng.fork('init');
  const sample = sampleSize < n ? takeRows(x, initRng.permutation(n).subarray(0, sampleSize)) : x;
  // Init matmuls are thin (k x trials columns) and not counted in the assignment statistics.
  const centroids = kmeansPlusPlus(sample, k, initRng, trials, chunkRows);
  const xx = rowSqNorms(x);

  if (opts.miniBatch) return miniBatchKMeans(x, xx, centroids, opts, rng.fork('minibatch'));

  // x stays on the device for full passes; partial passes upload only the rows that need it.
  const resident = new ResidentRows(x, chunkRows);
  try {
    return lloyd(x, xx, centroids, opts, resident);
  } finally {
    resident.dispose();
  }
}

/** Lloyd iterations from `init`, with Hamerly bounds to skip rows whose label cannot change. */
function lloyd(x: Matrix, xx: Float64Array, init: Float32Array, opts: KMeansOptions, resident: ResidentRows): KMeansResult {
  const { k } = opts;
  const n = x.rows;
  const d = x.cols;
  const chunkRows = opts.chunkRows ?? DEFAULT_CHUNK_ROWS;
  const maxIter = opts.maxIter ?? 25;
  let centroids = init;
  const tolAbs = (opts.tol ?? 1e-4) * meanVariance(x);
  const history: number[] = [];
  const dist = new Float64Array(n);
  // Hamerly bounds: upper[i] >= distance to the assigned centroid, lower[i] <= distance to any
  // other centroid. Rows with upper <= lower keep their label without a distance computation.
  const upper = new Float64Array(n);
  const lower = new Float64Array(n);
  let labels = new Int32Array(n);
  let prevLabels: Int32Array | null = null;
  let iterations = 0;
  let converged = false;
  let emptyRepairs = 0;
  let lastShift = Infinity;
  let inertia = 0;
  const assignRows = (subset: Int32Array | undefined) => {
    const pc = prepareCentroids(centroids, k, d);
    try {
      const nr = nearestCentroids(x, xx, pc, { chunkRows, stats: opts.stats, subset, second: true, resident });
      const m = subset ? subset.length : n;
      for (let q = 0; q < m; q++) {
        const i = subset ? subset[q] : q;
        labels[i] = nr.labels[q];
        upper[i] = Math.sqrt(nr.dist[q]);
        // Margin for float32 rounding in ||x||^2 - 2x.c + ||c||^2.
        lower[i] = Math.sqrt(Math.max(0, nr.second![q] - 1e-6 * (xx[i] + 1)));
      }
    } finally {
      releaseCentroids(pc);
    }
  };
  assignRows(undefined);
  for (;;) {
    const acc = accumulate(x, labels, centroids, k, dist);
    inertia = acc.inertia;
    history.push(inertia);
    const same = prevLabels !== null && labelsEqual(prevLabels, labels);
    if (same || lastShift <= tolAbs) {
      converged = true;
      break;
    }
    if (iterations >= maxIter) break;
    // Update: means, and empty clusters re-seeded from the farthest points.
    const next = new Float32Array(k * d);
    const empty: number[] = [];
    for (let c = 0; c < k; c++) {
      const cnt = acc.counts[c];
      if (cnt === 0) {
        empty.push(c);
        continue;
      }
      for (let j = 0; j < d; j++) next[c * d + j] = acc.sums[c * d + j] / cnt;
    }
    if (empty.length > 0) {
      emptyRepairs += empty.length;
      const far = farthestPoints(dist, empty.length);
      for (let e = 0; e < empty.length; e++) next.set(x.data.subarray(far[e] * d, far[e] * d + d), empty[e] * d);
    }
    let shift = 0;
    const delta = new Float64Array(k);
    for (let c = 0; c < k; c++) {
      let s2 = 0;
      for (let j = 0; j < d; j++) {
        const e = next[c * d + j] - centroids[c * d + j];
        s2 += e * e;
      }
      delta[c] = Math.sqrt(s2);
      shift += s2;
    }
    lastShift = shift;
    centroids = next;
    prevLabels = labels.slice();
    iterations++;
    // Bounds after the move; collect the rows whose label may change.
    let max1 = 0;
    let max2 = 0;
    let argMax = -1;
    for (let c = 0; c < k; c++) {
      if (delta[c] > max1) {
        max2 = max1;
        max1 = delta[c];
        argMax = c;
      } else if (delta[c] > max2) max2 = delta[c];
    }
    const todo: number[] = [];
    for (let i = 0; i < n; i++) {
      const a = labels[i];
      lower[i] -= a === argMax ? max2 : max1;
      upper[i] = Math.sqrt(dist[i]) + delta[a];
      if (upper[i] <= lower[i]) continue;
      let s2 = 0;
      const o = i * d;
      const co = a * d;
      for (let j = 0; j < d; j++) {
        const e = x.data[o + j] - centroids[co + j];
        s2 += e * e;
      }
      upper[i] = Math.sqrt(s2);
      if (upper[i] > lower[i]) todo.push(i);
    }
    if (todo.length > 0) assignRows(todo.length > 0.6 * n ? undefined : Int32Array.from(todo));
  }
  return { k, d, centroids, labels, dist, inertia, inertiaHistory: history, iterations, converged, emptyRepairs };
}

function labelsEqual(a: Int32Array, b: Int32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Indices of the m largest values of dist (ties by lower index). */
function farthestPoints(dist: Float64Array, m: number): Int32Array {
  const idx = Array.from({ length: dist.length }, (_, i) => i);
  idx.sort((a, b) => dist[b] - dist[a] || a - b);
  return Int32Array.from(idx.slice(0, m));
}

/**
 * Mini-batch k-means (Sculley 2010): each step assigns a random batch and moves each centroid
 * towards its batch points with a per-centroid rate 1/count. Empty-never-hit centroids after the run
 * are re-seeded from the farthest points. Ends with a full assignment.
 */
function miniBatchKMeans(x: Matrix, xx: Float64Array, init: Float32Array, opts: KMeansOptions, rng: Rng): KMeansResult {
  const { k } = opts;
  const n = x.rows;
  const d = x.cols;
  const chunkRows = opts.chunkRows ?? DEFAULT_CHUNK_ROWS;
  const { batchSize, steps } = opts.miniBatch!;
  const b = Math.min(batchSize, n);
  const centroids = Float32Array.from(init);
  const counts = new Float64Array(k);
  const history: number[] = [];
  const batch = new Int32Array(b);
  for (let s = 0; s < steps; s++) {
    for (let i = 0; i < b; i++) batch[i] = rng.int(n);
    const pc = prepareCentroids(centroids, k, d);
    let nr;
    try {
      nr = nearestCentroids(x, xx, pc, { chunkRows, subset: batch, stats: opts.stats });
    } finally {
      releaseCentroids(pc);
    }
    let bi = 0;
    for (let i = 0; i < b; i++) {
      bi += nr.dist[i];
      const c = nr.labels[i];
      counts[c] += 1;
      const lr = 1 / counts[c];
      const o = batch[i] * d;
      const co = c * d;
      for (let j = 0; j < d; j++) centroids[co + j] += lr * (x.data[o + j] - centroids[co + j]);
    }
    history.push(bi / b);
  }
  const dist = new Float64Array(n);
  let pc = prepareCentroids(centroids, k, d);
  let labels: Int32Array;
  try {
    labels = nearestCentroids(x, xx, pc, { chunkRows, stats: opts.stats }).labels;
  } finally {
    releaseCentroids(pc);
  }
  let acc = accumulate(x, labels, centroids, k, dist);
  const empty: number[] = [];
  for (let c = 0; c < k; c++) if (acc.counts[c] === 0) empty.push(c);
  if (empty.length > 0) {
    const far = farthestPoints(dist, empty.length);
    for (let e = 0; e < empty.length; e++) centroids.set(x.data.subarray(far[e] * d, far[e] * d + d), empty[e] * d);
    pc = prepareCentroids(centroids, k, d);
    try {
      labels = nearestCentroids(x, xx, pc, { chunkRows, stats: opts.stats }).labels;
    } finally {
      releaseCentroids(pc);
    }
    acc = accumulate(x, labels, centroids, k, dist);
  }
  return { k, d, centroids, labels, dist, inertia: acc.inertia, inertiaHistory: history, iterations: steps, converged: false, emptyRepairs: empty.length };
}
