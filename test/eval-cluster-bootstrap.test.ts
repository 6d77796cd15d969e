/**
 * The cluster bootstrap: resampling whole clusters of correlated test examples (a search item's
 * queries, a rec user's targets) instead of single examples.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareRecToPopularity } from '../lib/baselines/compare';
import { compareReplicates, pairedDifference, replicateRankings } from '../lib/eval/compare';
import type { TaskEvaluation } from '../lib/eval/generativeEval';
import { exampleClusters, summarizeTask } from '../lib/eval/summary';
import type { PreparedData, RecExample } from '../lib/types';
import { bootstrapByGroup, bootstrapMean, bootstrapReplicates, pairedReplicateDifference, type Estimate } from '../lib/util/metrics';
import { Rng } from '../lib/util/random';

function coins(n: number, p: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n }, () => (rng.next() < p ? 1 : 0));
}

/** `clusters` clusters of `size` examples each, every example holding its cluster's coin. */
function clusteredCoins(clusters: number, size: number, p: number, seed: number): { values: Float64Array; ids: Int32Array } {
  const perCluster = coins(clusters, p, seed);
  const values = new Float64Array(clusters * size);
  const ids = new Int32Array(clusters * size);
  for (let i = 0; i < values.length; i++) {
    ids[i] = Math.floor(i / size);
    values[i] = perCluster[ids[i]];
  }
  return { values, ids };
}

const width = (e: Estimate) => e.hi - e.lo;

test('one example per cluster gives the example bootstrap bit for bit (means, replicates, paired differences)', () => {
  const a = coins(400, 0.3, 1);
  const b = coins(400, 0.5, 2);
  // Distinct ids in no particular order: every cluster holds one example.
  const singletons = new Rng(7).permutation(400).map((i) => 3 * i + 11);
  assert.deepEqual(bootstrapMean(a, { seed: 5, clusters: singletons }), bootstrapMean(a, { seed: 5 }));
  assert.deepEqual(bootstrapMean(a, { seed: 5, clusters: Array.from(singletons) }), bootstrapMean(a, { seed: 5 }));
  assert.deepEqual(pairedDifference(a, b, { seed: 5, clusters: singletons }), pairedDifference(a, b, { seed: 5 }));
  const reps = [a, coins(400, 0.35, 3), coins(400, 0.25, 4)];
  assert.deepEqual(bootstrapReplicates(reps, { seed: 9, clusters: singletons }), bootstrapReplicates(reps, { seed: 9 }));
  assert.deepEqual(pairedReplicateDifference(reps, [b], { seed: 9, clusters: singletons }), pairedReplicateDifference(reps, [b], { seed: 9 }));
});

test('one example per cluster: summaries and row comparisons are unchanged', () => {
  const rng = new Rng(4);
  const items = 30;
  const targets = Array.from({ length: 200 }, () => rng.int(items));
  const rankings = targets.map((t) => (rng.next() < 0.4 ? [t, (t + 1) % items] : [(t + 1) % items, t]));
  const other = targets.map((t) => (rng.next() < 0.3 ? [t] : [(t + 2) % items]));
  const data = { buckets: { names: ['head', 'tail'], bucketOf: Uint8Array.from({ length: items }, (_, i) => (i < 8 ? 0 : 1)) } } as never;
  const singletons = targets.map((_, i) => i);
  assert.deepEqual(summarizeTask(rankings, targets, data, [1, 2], { seed: 3, clusters: singletons }), summarizeTask(rankings, targets, data, [1, 2], { seed: 3 }));
  const withIds = compareReplicates({ rankings: [rankings], targets, clusters: singletons }, { rankings: [other], targets }, 1, { seed: 3 });
  assert.deepEqual(withIds, compareReplicates({ rankings: [rankings], targets }, { rankings: [other], targets }, 1, { seed: 3 }));
});

test('strongly correlated clusters widen the interval by about sqrt(cluster size)', () => {
  const { values, ids } = clusteredCoins(50, 10, 0.4, 1);
  const opts = { seed: 2, iterations: 2000 };
  const independent = bootstrapMean(values, opts);
  const clustered = bootstrapMean(values, { ...opts, clusters: ids });
  assert.equal(clustered.mean, independent.mean);
  assert.equal(clustered.n, 500);
  const ratio = width(clustered) / width(independent);
  assert.ok(ratio > 2 && ratio < 4.5, `width ratio ${ratio} (expected about sqrt(10) = 3.16)`);
  // Paired: the difference of two methods that each score per cluster.
  const other = clusteredCoins(50, 10, 0.6, 2).values;
  const pairedRatio = width(pairedDifference(values, other, { ...opts, clusters: ids })) / width(pairedDifference(values, other, opts));
  assert.ok(pairedRatio > 2 && pairedRatio < 4.5, `paired width ratio ${pairedRatio}`);
});

test('independent values in clusters of equal size: cluster and example intervals agree', () => {
  const values = coins(2000, 0.3, 5);
  const ids = Int32Array.from({ length: 2000 }, (_, i) => Math.floor(i / 10));
  const opts = { seed: 3, iterations: 2000 };
  const ratio = width(bootstrapMean(values, { ...opts, clusters: ids })) / width(bootstrapMean(values, opts));
  assert.ok(Math.abs(ratio - 1) < 0.2, `width ratio ${ratio}`);
  const other = coins(2000, 0.4, 6);
  const pairedRatio = width(pairedDifference(values, other, { ...opts, clusters: ids })) / width(pairedDifference(values, other, opts));
  assert.ok(Math.abs(pairedRatio - 1) < 0.2, `paired width ratio ${pairedRatio}`);
});

test('clusters of unequal size: the statistic is the mean over the drawn examples', () => {
  // One cluster of 3 ones and three singletons of 0: each draw averages over the examples it took.
  const values = [1, 1, 1, 0, 0, 0];
  const e = bootstrapMean(values, { seed: 1, iterations: 4000, clusters: [0, 0, 0, 1, 2, 3] });
  assert.equal(e.mean, 0.5);
  // Every cluster draw is a mean of whole clusters: 0 (no big cluster) or 3j / (3j + 4 - j) for j in 1..4.
  const possible = [0, 3 / 6, 6 / 8, 9 / 10, 1];
  for (const x of [e.lo, e.hi]) assert.ok(possible.some((p) => Math.abs(p - x) < 1e-12), `${x} is not a whole-cluster mean`);
  assert.equal(e.lo, 0);
  assert.equal(e.hi, 0.9);
});

test('evaluation clusters: search by target item, rec by user when the examples are the rec test set in order', () => {
  const ex = (user: number, target: number): RecExample => ({ user, history: Int32Array.from([0]), target });
  const data = { rec: { test: [ex(10, 1), ex(10, 2), ex(10, 3), ex(20, 4), ex(20, 1)] } } as unknown as PreparedData;
  assert.deepEqual(Array.from(exampleClusters('search', [5, 5, 7], data)!), [5, 5, 7]);
  assert.deepEqual(Array.from(exampleClusters('rec', [1, 2, 3, 4, 1], data)!), [10, 10, 10, 20, 20]);
  assert.equal(exampleClusters('rec', [1, 2, 3, 4], data), undefined);
  assert.equal(exampleClusters('rec', [1, 2, 3, 1, 4], data), undefined);
  assert.equal(exampleClusters('rec', [1, 2, 3, 4, 1]), undefined);
  const evaluation = (task: string, targets: number[]) => ({ task, n: targets.length, targets, rankings: targets.map((t) => [t]) }) as unknown as TaskEvaluation;
  assert.deepEqual(replicateRankings([evaluation('search', [5, 5, 7])]).clusters, [5, 5, 7]);
  assert.deepEqual(replicateRankings([evaluation('rec', [1, 2, 3, 4, 1])], data).clusters, [10, 10, 10, 20, 20]);
  assert.equal(replicateRankings([evaluation('rec', [1, 2, 3, 4, 1])]).clusters, undefined);
});

test('rec against popularity resamples users: several targets of one user move together', () => {
  const counts = Int32Array.from([50, 40, 30, 20, 10]);
  const users = 40;
  const examples: RecExample[] = [];
  for (let u = 0; u < users; u++) for (let j = 0; j < 3; j++) examples.push({ user: u, history: Int32Array.from([4]), target: u % 2 ? 0 : 3 });
  const data = { rec: { test: examples }, buckets: { counts } } as unknown as PreparedData;
  const targets = examples.map((e) => e.target);
  const rec = { task: 'rec', n: examples.length, targets, rankings: examples.map((e) => (e.user % 3 ? [e.target] : [2])) } as unknown as TaskEvaluation;
  const c = compareRecToPopularity(data, rec, 1, { seed: 4 });
  const byUser = { seed: 4, clusters: examples.map((e) => e.user) };
  const model = Float64Array.from(examples, (e) => (e.user % 3 ? 1 : 0));
  assert.deepEqual(c.model, bootstrapMean(model, byUser));
  assert.ok(width(c.model) > width(bootstrapMean(model, { seed: 4 })));
});

test('cluster ids that do not fit the examples are refused with what was expected', () => {
  assert.throws(() => bootstrapMean([1, 0, 1], { clusters: [1, 2] }), /bootstrap: 2 cluster ids for 3 examples; expected one cluster id per example/);
  assert.throws(() => pairedDifference([1, 0, 1], [0, 0, 1], { clusters: [1, 2, 3, 4] }), /4 cluster ids for 3 examples; expected one cluster id per example/);
  assert.throws(() => bootstrapMean([1, 0], { clusters: [1, 0.5] }), /cluster id of example 1 is 0.5; expected an integer/);
  assert.throws(() => bootstrapByGroup([1, 0, 1], [0, 1, 0], ['head', 'tail'], { clusters: [1] }), /3 values but 1 cluster ids; expected one cluster id per value/);
  const data = { buckets: { names: ['head'], bucketOf: Uint8Array.from([0, 0]) } } as never;
  assert.throws(() => summarizeTask([[0], [1]], [0, 1], data, [1], { clusters: [0, 1, 2] }), /summarizeReplicates: 3 cluster ids for 2 test examples; expected one cluster id per example/);
  const side = (clusters: number[]) => ({ rankings: [[[0], [1]]], targets: [0, 1], clusters });
  assert.throws(() => compareReplicates(side([0, 0]), side([0, 1]), 1), /carry different clusters of the same test examples/);
});
