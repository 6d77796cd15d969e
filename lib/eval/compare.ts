/**
 * Paired comparisons of two methods on the same test examples: both recalls and their difference,
 * with a bootstrap interval over examples (and over seeds, for rows with replicates). Resampling
 * examples keeps each example's pair together, so the interval is much tighter than comparing two
 * separate intervals. Correlated examples are resampled as whole clusters (a search target item's
 * queries, a rec user's targets) where the clusters are known. Comparisons with the baselines are in
 * lib/baselines/compare.ts.
 */
import type { PreparedData } from '../types';
import { bootstrapReplicates, hitsAtK, pairedReplicateDifference, type BootstrapOptions, type ClusterBootstrapOptions, type Estimate } from '../util/metrics';
import type { TaskEvaluation } from './generativeEval';
import { exampleClusters } from './summary';

export interface PairedComparison {
  k: number;
  model: Estimate;
  baseline: Estimate;
  /** model minus baseline, per user, bootstrapped. */
  difference: Estimate;
}

/** Per-example differences a[i] - b[i], bootstrapped (the same resampled examples, or clusters, for both). */
export function pairedDifference(a: ArrayLike<number>, b: ArrayLike<number>, opts: ClusterBootstrapOptions = {}): Estimate {
  if (a.length !== b.length) throw new Error(`pairedDifference: ${a.length} values against ${b.length}`);
  return pairedReplicateDifference([a], [b], opts);
}

/** One task's rankings of a method: one entry per replicate (seed), on the same test examples. */
export interface ReplicateRankings {
  rankings: number[][][];
  targets: number[];
  /** Cluster id per test example for the cluster bootstrap (absent: examples are resampled independently). */
  clusters?: ArrayLike<number>;
}

/**
 * One task's evaluations of every replicate of a row, as the rankings `compareReplicates` takes,
 * with the clusters of `exampleClusters`: search queries by target item; rec examples by user when
 * `data` is given and the evaluations cover its rec test examples in order.
 */
export function replicateRankings(evaluations: TaskEvaluation[], data?: Pick<PreparedData, 'rec'>): ReplicateRankings {
  if (evaluations.length === 0) throw new Error('replicateRankings: no replicates');
  const { task, targets } = evaluations[0];
  const rankings = evaluations.map((e) => e.rankings);
  const clusters = evaluations[0].clusters ?? exampleClusters(task, targets, data);
  return clusters ? { rankings, targets, clusters } : { rankings, targets };
}

/**
 * Recall@k of two methods on the same test examples, each over its replicates, and their paired
 * difference (a minus b) with the two-way bootstrap over examples and seeds. The three intervals
 * resample the clusters either side carries (the same drawn clusters for both sides of the
 * difference), else single examples.
 */
export function compareReplicates(a: ReplicateRankings, b: ReplicateRankings, k = 30, opts: BootstrapOptions = {}): PairedComparison {
  if (a.targets.length !== b.targets.length || a.targets.some((t, i) => t !== b.targets[i])) {
    throw new Error(`compareReplicates: the two methods were evaluated on different test examples (${a.targets.length} and ${b.targets.length}); compare rows of one profile and split`);
  }
  const clusters = sharedClusters(a, b);
  const resample: ClusterBootstrapOptions = clusters ? { ...opts, clusters } : opts;
  const hitsA = a.rankings.map((r) => hitsAtK(r, a.targets, k));
  const hitsB = b.rankings.map((r) => hitsAtK(r, b.targets, k));
  return { k, model: bootstrapReplicates(hitsA, resample), baseline: bootstrapReplicates(hitsB, resample), difference: pairedReplicateDifference(hitsA, hitsB, resample) };
}

/** The clusters of two sides of a comparison: either side's, which must agree when both carry them. */
function sharedClusters(a: ReplicateRankings, b: ReplicateRankings): ArrayLike<number> | undefined {
  if (a.clusters && b.clusters) {
    const same = a.clusters.length === b.clusters.length && Array.from(a.clusters).every((c, i) => c === b.clusters![i]);
    if (!same) throw new Error('compareReplicates: the two methods carry different clusters of the same test examples; pass the same cluster ids for both');
  }
  return a.clusters ?? b.clusters;
}
