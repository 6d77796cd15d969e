/**
 * Paired comparisons of two methods on the same test examples: both recalls and their difference,
 * with a bootstrap interval over examples (and over seeds, for rows with replicates). Resampling
 * examples keeps each example's pair together, so the interval is much tighter than comparing two
 * separate intervals. Comparisons with the baselines are in lib/baselines/compare.ts.
 */
import { bootstrapReplicates, hitsAtK, pairedReplicateDifference, type BootstrapOptions, type Estimate } from '../util/metrics';
import type { TaskEvaluation } from './generativeEval';

export interface PairedComparison {
  k: number;
  model: Estimate;
  baseline: Estimate;
  /** model minus baseline, per user, bootstrapped. */
  difference: Estimate;
}

/** Per-example differences a[i] - b[i], bootstrapped (the same resampled examples for both). */
export function pairedDifference(a: ArrayLike<number>, b: ArrayLike<number>, opts: BootstrapOptions = {}): Estimate {
  if (a.length !== b.length) throw new Error(`pairedDifference: ${a.length} values against ${b.length}`);
  return pairedReplicateDifference([a], [b], opts);
}

/** One task's rankings of a method: one entry per replicate (seed), on the same test examples. */
export interface ReplicateRankings {
  rankings: number[][][];
  targets: number[];
}

/** One task's evaluations of every replicate of a row, as the rankings `compareReplicates` takes. */
export function replicateRankings(evaluations: TaskEvaluation[]): ReplicateRankings {
  if (evaluations.length === 0) throw new Error('replicateRankings: no replicates');
  return { rankings: evaluations.map((e) => e.rankings), targets: evaluations[0].targets };
}

/**
 * Recall@k of two methods on the same test examples, each over its replicates, and their paired
 * difference (a minus b) with the two-way bootstrap over examples and seeds.
 */
export function compareReplicates(a: ReplicateRankings, b: ReplicateRankings, k = 30, opts: BootstrapOptions = {}): PairedComparison {
  if (a.targets.length !== b.targets.length || a.targets.some((t, i) => t !== b.targets[i])) {
    throw new Error(`compareReplicates: the two methods were evaluated on different test examples (${a.targets.length} and ${b.targets.length}); compare rows of one profile and split`);
  }
  const hitsA = a.rankings.map((r) => hitsAtK(r, a.targets, k));
  const hitsB = b.rankings.map((r) => hitsAtK(r, b.targets, k));
  return { k, model: bootstrapReplicates(hitsA, opts), baseline: bootstrapReplicates(hitsB, opts), difference: pairedReplicateDifference(hitsA, hitsB, opts) };
}
