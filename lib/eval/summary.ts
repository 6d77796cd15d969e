/**
 * Per-task metric summary shared by dense retrieval, the baselines and the tables: Recall@K and
 * NDCG@K per cut-off with bootstrap intervals, overall and by popularity bucket of the target.
 */
import type { PreparedData } from '../types';
import { bootstrapByGroup, bootstrapMean, hitsAtK, ndcgAtK, type BootstrapOptions, type Estimate } from '../util/metrics';

export type MetricSet = Record<string, Estimate>;

export interface TaskResult {
  n: number;
  overall: MetricSet;
  byBucket: Record<string, MetricSet>;
}

/** Recall@K and NDCG@K per cut-off with bootstrap intervals, overall and by bucket of the target. */
export function summarizeTask(
  rankings: ArrayLike<ArrayLike<number>>,
  targets: number[],
  data: Pick<PreparedData, 'buckets'>,
  ks: number[],
  bootstrap: BootstrapOptions = {},
): TaskResult {
  const overall: MetricSet = {};
  const byBucket: Record<string, MetricSet> = {};
  for (const name of data.buckets.names) byBucket[name] = {};
  const groups = Int32Array.from(targets, (t) => data.buckets.bucketOf[t]);
  for (const k of ks) {
    for (const [m, values] of [
      [`recall@${k}`, hitsAtK(rankings, targets, k)],
      [`ndcg@${k}`, ndcgAtK(rankings, targets, k)],
    ] as const) {
      overall[m] = bootstrapMean(values, bootstrap);
      const g = bootstrapByGroup(values, groups, data.buckets.names, bootstrap);
      for (const name of data.buckets.names) byBucket[name][m] = g[name];
    }
  }
  return { n: targets.length, overall, byBucket };
}
