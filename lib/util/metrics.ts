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
  const n = values.length;
  if (n === 0) return { mean: NaN, lo: NaN, hi: NaN, n: 0 };
  const iterations = opts.iterations ?? 1000;
  const level = opts.level ?? 0.95;
  const rng = new Rng(opts.seed ?? 12345);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const means = new Float64Array(iterations);
  for (let b = 0; b < iterations; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[rng.int(n)];
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
