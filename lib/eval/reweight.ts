/**
 * Recall under a different test distribution, by importance weighting per-example hits. Used to ask
 * how a method would fare if search traffic followed consumption popularity (as real search logs do)
 * instead of being spread uniformly over items (as the paper's sampled queries are), and vice versa.
 */
import { hitsAtK, type Estimate, type Rankings } from '../util/metrics';
import { Rng } from '../util/random';

/** Weighted mean of `values` with a percentile bootstrap interval (examples resampled with replacement). */
export function weightedBootstrapMean(values: ArrayLike<number>, weights: ArrayLike<number>, opts: { iterations?: number; seed?: number; level?: number } = {}): Estimate {
  const n = values.length;
  if (weights.length !== n) throw new Error(`weightedBootstrapMean: ${n} values but ${weights.length} weights`);
  if (n === 0) return { mean: NaN, lo: NaN, hi: NaN, n: 0 };
  for (let i = 0; i < n; i++) if (!(weights[i] >= 0)) throw new Error(`weightedBootstrapMean: weight ${i} is ${weights[i]}, expected >= 0`);
  const mean = (pick: (i: number) => number) => {
    let s = 0;
    let w = 0;
    for (let i = 0; i < n; i++) {
      const j = pick(i);
      s += values[j] * weights[j];
      w += weights[j];
    }
    return w > 0 ? s / w : NaN;
  };
  const iterations = opts.iterations ?? 1000;
  const level = opts.level ?? 0.95;
  const rng = new Rng(opts.seed ?? 12345);
  const boots = new Float64Array(iterations);
  for (let b = 0; b < iterations; b++) boots[b] = mean(() => rng.int(n));
  boots.sort();
  const a = (1 - level) / 2;
  return {
    mean: mean((i) => i),
    lo: boots[Math.max(0, Math.floor(a * iterations))],
    hi: boots[Math.min(iterations - 1, Math.ceil((1 - a) * iterations) - 1)],
    n,
  };
}

export type TrafficModel = 'as-sampled' | 'popularity' | 'uniform-items';
export const TRAFFIC_MODELS: readonly TrafficModel[] = ['as-sampled', 'popularity', 'uniform-items'];

/**
 * Weight of each test example under a traffic model:
 * - as-sampled: 1 (the test set as it is);
 * - popularity: proportional to the target's training interactions + 1, divided by how often the
 *   target occurs in the test set (so each item's share follows its popularity);
 * - uniform-items: 1 / (occurrences of the target in the test set): every item weighs the same.
 */
export function trafficWeights(targets: ArrayLike<number>, popularity: ArrayLike<number>, model: TrafficModel): Float64Array {
  const w = new Float64Array(targets.length);
  if (model === 'as-sampled') return w.fill(1);
  const occ = new Map<number, number>();
  for (let i = 0; i < targets.length; i++) occ.set(targets[i], (occ.get(targets[i]) ?? 0) + 1);
  for (let i = 0; i < targets.length; i++) {
    const per = 1 / occ.get(targets[i])!;
    w[i] = model === 'popularity' ? (popularity[targets[i]] + 1) * per : per;
  }
  return w;
}

/** Recall@k of stored rankings under a traffic model. */
export function recallUnderTraffic(rankings: Rankings, targets: ArrayLike<number>, popularity: ArrayLike<number>, model: TrafficModel, k = 30, seed = 12345): Estimate {
  return weightedBootstrapMean(hitsAtK(rankings, targets, k), trafficWeights(targets, popularity, model), { seed });
}
