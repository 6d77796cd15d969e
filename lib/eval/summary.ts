/**
 * Per-task metric summary shared by dense retrieval, the baselines and the tables: Recall@K and
 * NDCG@K per cut-off with bootstrap intervals, overall and by popularity bucket of the target.
 */
import type { PreparedData, Task } from '../types';
import { bootstrapReplicates, hitsAtK, ndcgAtK, replicateMeans, subsetClusters, type ClusterBootstrapOptions, type Estimate, type Rankings } from '../util/metrics';

export type MetricSet = Record<string, Estimate>;

export interface TaskResult {
  n: number;
  overall: MetricSet;
  byBucket: Record<string, MetricSet>;
  /** With several replicates (seeds): each replicate's overall value per metric, in replicate order. */
  replicates?: Record<string, number[]>;
}

/**
 * The cluster of each test example of a task, for the cluster bootstrap: a search query's target
 * item (an item's test queries are correlated) and a rec example's user (on the leave-last-N-out
 * split a user gives several targets). Rec users are known only when `data` is given and the
 * examples are exactly `data.rec.test` in order (same count, same targets); otherwise undefined,
 * and the bootstrap resamples examples independently.
 */
export function exampleClusters(task: Task, targets: ArrayLike<number>, data?: Pick<PreparedData, 'rec'>): ArrayLike<number> | undefined {
  if (task === 'search') return targets;
  if (!data) return undefined;
  const test = data.rec.test;
  if (targets.length !== test.length) return undefined;
  for (let i = 0; i < test.length; i++) if (targets[i] !== test[i].target) return undefined;
  return test.map((e) => e.user);
}

/**
 * Recall@K and NDCG@K per cut-off with bootstrap intervals, overall and by bucket of the target.
 * The intervals resample `bootstrap.clusters` (one id per example, e.g. from `exampleClusters`)
 * when given, else single examples.
 */
export function summarizeTask(
  rankings: Rankings,
  targets: number[],
  data: Pick<PreparedData, 'buckets'>,
  ks: number[],
  bootstrap: ClusterBootstrapOptions = {},
): TaskResult {
  return summarizeReplicates([rankings], targets, data, ks, bootstrap);
}

/**
 * The same summary over several trainings (seeds) ranked on the same test examples: the mean over
 * replicates, with an interval over seeds and examples together (`bootstrapReplicates`), and each
 * replicate's own value. One replicate gives exactly `summarizeTask`. With `bootstrap.clusters`,
 * the overall and per-bucket intervals resample those clusters (a bucket, the clusters of its examples).
 */
export function summarizeReplicates(
  rankings: Rankings[],
  targets: number[],
  data: Pick<PreparedData, 'buckets'>,
  ks: number[],
  bootstrap: ClusterBootstrapOptions = {},
): TaskResult {
  if (rankings.length === 0) throw new Error('summarizeReplicates: no replicates');
  const clusters = bootstrap.clusters;
  if (clusters && clusters.length !== targets.length) {
    throw new Error(`summarizeReplicates: ${clusters.length} cluster ids for ${targets.length} test examples; expected one cluster id per example`);
  }
  const overall: MetricSet = {};
  const byBucket: Record<string, MetricSet> = {};
  const perReplicate: Record<string, number[]> = {};
  const members = data.buckets.names.map(() => [] as number[]);
  targets.forEach((t, i) => members[data.buckets.bucketOf[t]].push(i));
  const bucketBootstrap = members.map((m) => subsetClusters(bootstrap, m));
  for (const name of data.buckets.names) byBucket[name] = {};
  for (const k of ks) {
    for (const [m, metric] of [[`recall@${k}`, hitsAtK], [`ndcg@${k}`, ndcgAtK]] as const) {
      const values = rankings.map((r) => metric(r, targets, k));
      overall[m] = bootstrapReplicates(values, bootstrap);
      perReplicate[m] = replicateMeans(values);
      data.buckets.names.forEach((name, g) => {
        byBucket[name][m] = bootstrapReplicates(values.map((v) => Float64Array.from(members[g], (i) => v[i])), bucketBootstrap[g]);
      });
    }
  }
  return rankings.length > 1 ? { n: targets.length, overall, byBucket, replicates: perReplicate } : { n: targets.length, overall, byBucket };
}
