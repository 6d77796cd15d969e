/**
 * A generative model's rec rankings against the baselines on the same test users (paired, as
 * lib/eval/compare.ts compares two methods). Every interval resamples users (all of a user's rec
 * test examples together, which matters on the leave-last-N-out split).
 */
import { compareReplicates, pairedDifference, replicateRankings, type PairedComparison } from '../eval/compare';
import type { TaskEvaluation } from '../eval/generativeEval';
import type { PreparedData } from '../types';
import { bootstrapMean, hitsAtK, type BootstrapOptions } from '../util/metrics';
import { popularityRankings } from './popularity';
import { sequentialBaselineRankings } from './sequentialBaselines';

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
  const byUser = { ...opts, clusters: examples.map((e) => e.user) };
  return { k, model: bootstrapMean(model, byUser), baseline: bootstrapMean(baseline, byUser), difference: pairedDifference(model, baseline, byUser) };
}

/**
 * Every replicate of a row's rec rankings against popularity and the two sequential baselines
 * (co-occurrence and item-kNN, their settings chosen on validation as in the baselines table), each
 * paired on the same test users. The evaluations must cover every rec test user in order.
 */
export function compareRecToBaselines(data: PreparedData, recs: TaskEvaluation[], k = 30, opts: BootstrapOptions = {}): Record<'popularity' | 'cooccurrence' | 'itemKnn', PairedComparison> {
  const examples = data.rec.test;
  for (const rec of recs) assertCoversRecTest(data, rec, 'compareRecToBaselines', 'evaluate every rec test example');
  const targets = examples.map((e) => e.target);
  const clusters = examples.map((e) => e.user);
  const row = { ...replicateRankings(recs), clusters };
  const seq = sequentialBaselineRankings(data, 'test', k, k);
  const against = (rankings: ArrayLike<number>[]) => compareReplicates(row, { rankings: [rankings.map((r) => Array.from(r))], targets, clusters }, k, opts);
  return {
    popularity: against(popularityRankings(data.buckets.counts, examples, k)),
    cooccurrence: against(seq.cooccurrence.rankings),
    itemKnn: against(seq.itemKnn.rankings),
  };
}
