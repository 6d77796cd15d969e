/**
 * Paired comparison of a generative model's rec rankings with the popularity baseline on the same
 * test users: both recalls and their difference, with a bootstrap interval over users (resampling
 * users keeps each user's pair together, so the interval is much tighter than comparing two
 * separate intervals).
 */
import type { PreparedData } from '../types';
import { bootstrapMean, bootstrapReplicates, hitsAtK, pairedReplicateDifference, type BootstrapOptions, type Estimate } from '../util/metrics';
import { popularityRankings } from './popularity';
import { sequentialBaselineRankings } from './sequentialBaselines';
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

/** Stored rankings carry no user index: a paired comparison needs every rec test user, in order. */
function assertCoversRecTest(data: PreparedData, rec: TaskEvaluation, who: string, remedy: string): void {
  const examples = data.rec.test;
  if (rec.n !== examples.length || rec.targets.some((t, i) => t !== examples[i].target)) {
    throw new Error(`${who}: the rec evaluation holds ${rec.n} examples, not the ${examples.length} test users in order (${remedy})`);
  }
}

/**
 * Recall@k of the model's rec rankings against popularity (training counts, history left out) on the
 * same users. The evaluation must cover every test user in order (an evaluation `limit` at least the
 * number of test users), since stored rankings carry no user index.
 */
export function compareRecToPopularity(data: PreparedData, rec: TaskEvaluation, k = 30, opts: BootstrapOptions = {}): PairedComparison {
  const examples = data.rec.test;
  assertCoversRecTest(data, rec, 'compareRecToPopularity', `evaluate with a limit of at least ${examples.length} to compare with popularity`);
  const targets = examples.map((e) => e.target);
  const model = hitsAtK(rec.rankings, targets, k);
  const baseline = hitsAtK(popularityRankings(data.buckets.counts, examples, k), targets, k);
  return { k, model: bootstrapMean(model, opts), baseline: bootstrapMean(baseline, opts), difference: pairedDifference(model, baseline, opts) };
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

/**
 * Every replicate of a row's rec rankings against popularity and the two sequential baselines
 * (co-occurrence and item-kNN, their settings chosen on validation as in the baselines table), each
 * paired on the same test users. The evaluations must cover every rec test user in order.
 */
export function compareRecToBaselines(data: PreparedData, recs: TaskEvaluation[], k = 30, opts: BootstrapOptions = {}): Record<'popularity' | 'cooccurrence' | 'itemKnn', PairedComparison> {
  const examples = data.rec.test;
  for (const rec of recs) assertCoversRecTest(data, rec, 'compareRecToBaselines', 'evaluate every rec test example');
  const row = replicateRankings(recs);
  const targets = examples.map((e) => e.target);
  const seq = sequentialBaselineRankings(data, 'test', k, k);
  const against = (rankings: ArrayLike<number>[]) => compareReplicates(row, { rankings: [rankings.map((r) => Array.from(r))], targets }, k, opts);
  return {
    popularity: against(popularityRankings(data.buckets.counts, examples, k)),
    cooccurrence: against(seq.cooccurrence.rankings),
    itemKnn: against(seq.itemKnn.rankings),
  };
}
