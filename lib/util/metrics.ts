/**
 * Ranking metrics with bootstrap confidence intervals. Every metric is computed per example first
 * (a hit vector), so intervals, bucket splits and paired comparisons all start from the same numbers.
 */
import { Rng } from './random';

/** A ranked list of item indices per example (best first); may hold more than K entries. */
export type Rankings = ArrayLike<ArrayLike<number>>;

/** Per example, 1 if the target is in the top `k`, else 0. */
export function hitsAtK(rankings: Rankings, targets: ArrayLike<number>, k: number): Float64Array {
  checkLengths(rankings, targets);
  const out = new Float64Array(targets.length);
  for (let i = 0; i < targets.length; i++) {
    const r = rankings[i];
    const n = Math.min(k, r.length);
    for (let j = 0; j < n; j++) {
      if (r[j] === targets[i]) {
        out[i] = 1;
        break;
      }
    }
  }
  return out;
}

/** Per example NDCG@k with one relevant item: 1/log2(rank+2) if found at 0-based `rank` < k. */
export function ndcgAtK(rankings: Rankings, targets: ArrayLike<number>, k: number): Float64Array {
  checkLengths(rankings, targets);
  const out = new Float64Array(targets.length);
  for (let i = 0; i < targets.length; i++) {
    const r = rankings[i];
    const n = Math.min(k, r.length);
    for (let j = 0; j < n; j++) {
      if (r[j] === targets[i]) {
        out[i] = 1 / Math.log2(j + 2);
        break;
      }
    }
  }
  return out;
}

export interface Estimate {
  mean: number;
  /** 95% percentile bootstrap interval (or the level asked for). */
  lo: number;
  hi: number;
  n: number;
}

export interface BootstrapOptions {
  iterations?: number;
  seed?: number;
  /** Confidence level, default 0.95. */
  level?: number;
}

/**
 * Bootstrap options with a cluster id per example (any integers; examples that share an id form
 * one cluster). Each draw then resamples whole clusters with replacement, as many as there are, and
 * averages over every example of the drawn clusters: correlated examples (one user's several rec
 * targets, one item's several test queries) move together, so the interval is not too narrow.
 * Without ids, or with one example per cluster, it is exactly the example bootstrap.
 */
export interface ClusterBootstrapOptions extends BootstrapOptions {
  clusters?: ArrayLike<number>;
}

/** Mean with a percentile bootstrap interval over examples (over clusters when `opts.clusters` is given). */
export function bootstrapMean(values: ArrayLike<number>, opts: ClusterBootstrapOptions = {}): Estimate {
  return bootstrapContrast([{ sign: 1, replicates: [values] }], opts);
}

/**
 * Mean over replicates (trainings with different seeds) of per-example values on the same examples,
 * with a two-way percentile bootstrap: each draw resamples the replicates and, independently, the
 * examples (one example draw shared by every replicate; whole clusters with `opts.clusters`), so the
 * interval covers both seed variance and test sampling. With one replicate it equals `bootstrapMean` exactly.
 */
export function bootstrapReplicates(replicates: ArrayLike<number>[], opts: ClusterBootstrapOptions = {}): Estimate {
  return bootstrapContrast([{ sign: 1, replicates }], opts);
}

/**
 * Paired difference of two methods on the same examples, each given as its replicates:
 * mean over a's replicates minus mean over b's, per example, bootstrapped two ways (a's and b's
 * replicates resampled independently, the examples (or clusters) resampled once for both). With one
 * replicate each it is the plain paired bootstrap of a[i] - b[i].
 */
export function pairedReplicateDifference(a: ArrayLike<number>[], b: ArrayLike<number>[], opts: ClusterBootstrapOptions = {}): Estimate {
  return bootstrapContrast([{ sign: 1, replicates: a }, { sign: -1, replicates: b }], opts);
}

/** Per-replicate means (the spread across seeds, before any resampling). */
export function replicateMeans(replicates: ArrayLike<number>[]): number[] {
  return replicates.map((v) => {
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[i];
    return v.length ? s / v.length : NaN;
  });
}

/**
 * Sum over terms of sign x (mean over its replicates), per example, with the two-way bootstrap. One
 * example (or cluster) draw serves every term, which is what pairs the sides of a difference.
 */
function bootstrapContrast(terms: { sign: number; replicates: ArrayLike<number>[] }[], opts: ClusterBootstrapOptions): Estimate {
  const n = terms[0].replicates[0]?.length ?? 0;
  for (const t of terms) {
    if (t.replicates.length === 0) throw new Error('bootstrap: no replicates');
    for (const r of t.replicates) if (r.length !== n) throw new Error(`bootstrap: replicates hold ${r.length} and ${n} examples; they must cover the same examples`);
  }
  const clusters = opts.clusters ? indexClusters(opts.clusters, n) : null;
  if (n === 0) return { mean: NaN, lo: NaN, hi: NaN, n: 0 };
  const drawMean = clusters && clusters.count < n ? clusterDraw(clusters) : exampleDraw;
  const iterations = opts.iterations ?? 1000;
  const level = opts.level ?? 0.95;
  // Examples and replicates draw from separate streams, so a single replicate reproduces the plain bootstrap.
  const rng = new Rng(opts.seed ?? 12345);
  const replicateRng = new Rng(opts.seed ?? 12345).fork('replicates');
  const combined = new Float64Array(n);
  const weighted = (weights: number[][]): void => {
    combined.fill(0);
    terms.forEach((t, j) => {
      t.replicates.forEach((v, r) => {
        const w = weights[j][r];
        if (w !== 0) for (let i = 0; i < n; i++) combined[i] += w * v[i];
      });
    });
  };
  const uniform = terms.map((t) => t.replicates.map(() => t.sign / t.replicates.length));
  weighted(uniform);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += combined[i];
  const resampleReplicates = terms.some((t) => t.replicates.length > 1);
  const means = new Float64Array(iterations);
  for (let b = 0; b < iterations; b++) {
    if (resampleReplicates) {
      weighted(terms.map((t) => {
        const R = t.replicates.length;
        const w = new Array<number>(R).fill(0);
        for (let r = 0; r < R; r++) w[R === 1 ? 0 : replicateRng.int(R)] += t.sign / R;
        return w;
      }));
    }
    means[b] = drawMean(combined, rng);
  }
  means.sort();
  const a = (1 - level) / 2;
  const lo = means[Math.max(0, Math.floor(a * iterations))];
  const hi = means[Math.min(iterations - 1, Math.ceil((1 - a) * iterations) - 1)];
  return { mean: sum / n, lo, hi, n };
}

/** Examples numbered by cluster: `of[i]` is example i's cluster (0..count-1, in order of first appearance). */
interface ClusterIndex {
  of: Int32Array;
  size: Int32Array;
  count: number;
}

function indexClusters(ids: ArrayLike<number>, n: number): ClusterIndex {
  if (ids.length !== n) throw new Error(`bootstrap: ${ids.length} cluster ids for ${n} examples; expected one cluster id per example`);
  const numbered = new Map<number, number>();
  const of = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    if (!Number.isInteger(id)) throw new Error(`bootstrap: cluster id of example ${i} is ${id}; expected an integer`);
    let c = numbered.get(id);
    if (c === undefined) numbered.set(id, (c = numbered.size));
    of[i] = c;
  }
  const size = new Int32Array(numbered.size);
  for (let i = 0; i < n; i++) size[of[i]]++;
  return { of, size, count: numbered.size };
}

/** One bootstrap mean of examples drawn independently with replacement. */
function exampleDraw(values: Float64Array, rng: Rng): number {
  const n = values.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += values[rng.int(n)];
  return s / n;
}

/** One bootstrap mean of whole clusters drawn with replacement: their values' sum over their examples' count. */
function clusterDraw(clusters: ClusterIndex): (values: Float64Array, rng: Rng) => number {
  const sums = new Float64Array(clusters.count);
  return (values, rng) => {
    // Recomputed on every draw, since resampled replicates change the values between draws.
    sums.fill(0);
    for (let i = 0; i < values.length; i++) sums[clusters.of[i]] += values[i];
    let s = 0;
    let drawn = 0;
    for (let j = 0; j < clusters.count; j++) {
      const c = rng.int(clusters.count);
      s += sums[c];
      drawn += clusters.size[c];
    }
    return s / drawn;
  };
}

/** Splits per-example values by a group id per example; returns one Estimate per group name. */
export function bootstrapByGroup(
  values: ArrayLike<number>,
  groupOf: ArrayLike<number>,
  names: string[],
  opts: ClusterBootstrapOptions = {},
): Record<string, Estimate> {
  if (values.length !== groupOf.length) {
    throw new Error(`bootstrapByGroup: ${values.length} values but ${groupOf.length} group ids`);
  }
  if (opts.clusters && opts.clusters.length !== values.length) {
    throw new Error(`bootstrapByGroup: ${values.length} values but ${opts.clusters.length} cluster ids; expected one cluster id per value`);
  }
  const out: Record<string, Estimate> = {};
  names.forEach((name, g) => {
    const members: number[] = [];
    for (let i = 0; i < values.length; i++) if (groupOf[i] === g) members.push(i);
    out[name] = bootstrapMean(pick(values, members), subsetClusters(opts, members));
  });
  return out;
}

/** The options for a subset of the examples (given by index): their cluster ids, if any, come along. */
export function subsetClusters(opts: ClusterBootstrapOptions, members: readonly number[]): ClusterBootstrapOptions {
  return opts.clusters ? { ...opts, clusters: pick(opts.clusters, members) } : opts;
}

function pick(values: ArrayLike<number>, indices: readonly number[]): Float64Array {
  return Float64Array.from(indices, (i) => values[i]);
}

function checkLengths(rankings: Rankings, targets: ArrayLike<number>): void {
  if (rankings.length !== targets.length) {
    throw new Error(`metrics: ${rankings.length} rankings but ${targets.length} targets`);
  }
}
