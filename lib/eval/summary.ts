/**
 * Per-task metric summary shared by dense retrieval, the baselines and the tables: Recall@K and
 * NDCG@K per cut-off with bootstrap intervals, overall and by popularity bucket of the target.
 */
import type { PreparedData } from '../types';
import { bootstrapReplicates, hitsAtK, ndcgAtK, replicateMeans, type BootstrapOptions, type Estimate, type Rankings } from '../util/metrics';

export type MetricSet = Record<string, Estimate>;

export interface TaskResult {
  n: number;
  overall: MetricSet;
  byBucket: Record<string, MetricSet>;
  /** With several replicates (seeds): each replicate's overall value per metric, in replicate order. */
  replicates?: Record<string, number[]>;
}

/** Recall@K and NDCG@K per cut-off with bootstrap intervals, overall and by bucket of the target. */
export function summarizeTask(
  rankings: Rankings,
  targets: number[],
  data: Pick<PreparedData, 'buckets'>,
  ks: number[],
  bootstrap: BootstrapOptions = {},
): TaskResult {
  return summarizeReplicates([rankings], targets, data, ks, bootstrap);
}

/**
 * The same summary over several trainings (seeds) ranked on the same test examples: the mean over
 * replicates, with an interval over seeds and examples together (`bootstrapReplicates`), and each
 * replicate's own value. One replicate gives exactly `summarizeTask`.
 */
export function summarizeReplicates(
  rankings: Rankings[],
  targets: number[],
  data: Pick<PreparedData, 'buckets'>,
  ks: number[],
  bootstrap: BootstrapOptions = {},
): TaskResult {
  if (rankings.length === 0) throw new Error('summarizeReplicates: no replicates');
  const overall: MetricSet = {};
  const byBucket: Record<string, MetricSet> = {};
  const perReplicate: Record<string, number[]> = {};
  const members = data.buckets.names.map(() => [] as number[]);
  targets.forEach((t, i) => members[data.buckets.bucketOf[t]].push(i));
  for (const name of data.buckets.names) byBucket[name] = {};
  for (const k of ks) {
    for (const [m, metric] of [[`recall@${k}`, hitsAtK], [`ndcg@${k}`, ndcgAtK]] as const) {
      const values = rankings.map((r) => metric(r, targets, k));
      overall[m] = bootstrapReplicates(values, bootstrap);
      perReplicate[m] = replicateMeans(values);
      data.buckets.names.forEach((name, g) => {
        byBucket[name][m] = bootstrapReplicates(values.map((v) => Float64Array.from(members[g], (i) => v[i])), bootstrap);
      });
    }
  }
  return rankings.length > 1 ? { n: targets.length, overall, byBucket, replicates: perReplicate } : { n: targets.length, overall, byBucket };
}
