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

/** Mean with a percentile bootstrap interval over examples. */
export function bootstrapMean(values: ArrayLike<number>, opts: BootstrapOptions = {}): Estimate {
  return bootstrapContrast([{ sign: 1, replicates: [values] }], opts);
}

/**
 * Mean over replicates (trainings with different seeds) of per-example values on the same examples,
 * with a two-way percentile bootstrap: each draw resamples the replicates and, independently, the
 * examples (one example draw shared by every replicate), so the interval covers both seed variance
 * and test sampling. With one replicate it equals `bootstrapMean` exactly.
 */
export function bootstrapReplicates(replicates: ArrayLike<number>[], opts: BootstrapOptions = {}): Estimate {
  return bootstrapContrast([{ sign: 1, replicates }], opts);
}

/**
 * Paired difference of two methods on the same examples, each given as its replicates:
 * mean over a's replicates minus mean over b's, per example, bootstrapped two ways (a's and b's
 * replicates resampled independently, the examples resampled once for both). With one replicate
 * each it is the plain paired bootstrap of a[i] - b[i].
 */
export function pairedReplicateDifference(a: ArrayLike<number>[], b: ArrayLike<number>[], opts: BootstrapOptions = {}): Estimate {
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

/** Sum over terms of sign x (mean over its replicates), per example, with the two-way bootstrap. */
function bootstrapContrast(terms: { sign: number; replicates: ArrayLike<number>[] }[], opts: BootstrapOptions): Estimate {
  const n = terms[0].replicates[0]?.length ?? 0;
  for (const t of terms) {
    if (t.replicates.length === 0) throw new Error('bootstrap: no replicates');
    for (const r of t.replicates) if (r.length !== n) throw new Error(`bootstrap: replicates hold ${r.length} and ${n} examples; they must cover the same examples`);
  }
  if (n === 0) return { mean: NaN, lo: NaN, hi: NaN, n: 0 };
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
    let s = 0;
    for (let i = 0; i < n; i++) s += combined[rng.int(n)];
    means[b] = s / n;
  }
  means.sort();
  const a = (1 - level) / 2;
  const lo = means[Math.max(0, Math.floor(a * iterations))];
  const hi = means[Math.min(iterations - 1, Math.ceil((1 - a) * iterations) - 1)];
  return { mean: sum / n, lo, hi, n };
}

/** Splits per-example values by a group id per example; returns one Estimate per group name. */
export function bootstrapByGroup(
  values: ArrayLike<number>,
  groupOf: ArrayLike<number>,
  names: string[],
  opts: BootstrapOptions = {},
): Record<string, Estimate> {
  if (values.length !== groupOf.length) {
    throw new Error(`bootstrapByGroup: ${values.length} values but ${groupOf.length} group ids`);
  }
  const out: Record<string, Estimate> = {};
  names.forEach((name, g) => {
    const sel: number[] = [];
    for (let i = 0; i < values.length; i++) if (groupOf[i] === g) sel.push(values[i]);
    out[name] = bootstrapMean(sel, opts);
  });
  return out;
}

function checkLengths(rankings: Rankings, targets: ArrayLike<number>): void {
  if (rankings.length !== targets.length) {
    throw new Error(`metrics: ${rankings.length} rankings but ${targets.length} targets`);
  }
}
