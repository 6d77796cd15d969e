import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareRecToPopularity } from '../lib/baselines/compare';
import { pairedDifference } from '../lib/eval/compare';
import type { TaskEvaluation } from '../lib/eval/generativeEval';
import { bootstrapMean } from '../lib/util/metrics';
import type { PreparedData, RecExample } from '../lib/types';
import { Rng } from '../lib/util/random';

test('paired difference: mean of per-example differences, interval from resampling the pairs together', () => {
  const rng = new Rng(3);
  const a: number[] = Array.from({ length: 400 }, () => (rng.next() < 0.3 ? 1 : 0));
  // b agrees with a on most examples: the paired interval must be much tighter than a's own.
  const b = a.map((v, i) => (i % 10 === 0 ? 1 - v : v));
  const d = pairedDifference(a, b, { seed: 1 });
  const mean = a.reduce((s, v, i) => s + v - b[i], 0) / a.length;
  assert.ok(Math.abs(d.mean - mean) < 1e-12);
  assert.ok(d.lo <= d.mean && d.mean <= d.hi);
  // Width close to the normal approximation 2 x 1.96 x sd(differences) / sqrt(n) ...
  const diffs = a.map((v, i) => v - b[i]);
  const sd = Math.sqrt(diffs.reduce((s, v) => s + (v - mean) ** 2, 0) / (diffs.length - 1) / diffs.length);
  assert.ok(Math.abs(d.hi - d.lo - 3.92 * sd) < 0.25 * 3.92 * sd, `paired interval ${d.lo}..${d.hi}, sd ${sd}`);
  // ... and narrower than a's own interval, let alone the sum of both.
  const own = bootstrapMean(a, { seed: 1 });
  assert.ok(d.hi - d.lo < own.hi - own.lo);
  // Identical inputs: a zero-width interval at 0.
  const same = pairedDifference(a, a);
  assert.deepEqual([same.mean, same.lo, same.hi], [0, 0, 0]);
  assert.throws(() => pairedDifference([1], [1, 0]), /1 values against 2/);
});

test('rec against popularity on the same users, history left out of the baseline', () => {
  // Item 0 is the most popular; users 0 and 1 have seen it, so popularity gives them item 1 first.
  const counts = Int32Array.from([50, 40, 30, 20, 10]);
  const ex = (user: number, history: number[], target: number): RecExample => ({ user, history: Int32Array.from(history), target });
  const examples = [ex(0, [0], 1), ex(1, [0, 2], 4), ex(2, [3], 0), ex(3, [1], 4)];
  const data = { rec: { test: examples }, buckets: { counts } } as unknown as PreparedData;
  const rec = { n: 4, targets: [1, 4, 0, 4], rankings: [[2], [4], [1], [4]] } as unknown as TaskEvaluation;
  const c = compareRecToPopularity(data, rec, 1, { seed: 2 });
  // Popularity top-1 per user: 1, 1, 0, 0 -> hits 1, 0, 1, 0; the model hits 0, 1, 0, 1.
  assert.equal(c.baseline.mean, 0.5);
  assert.equal(c.model.mean, 0.5);
  assert.equal(c.difference.mean, 0);
  const c2 = compareRecToPopularity(data, rec, 2, { seed: 2 });
  // Top-2: popularity 1,3 / 1,3 / 0,1 / 0,2 -> hits 1, 0, 1, 0.
  assert.equal(c2.baseline.mean, 0.5);
  assert.throws(() => compareRecToPopularity(data, { ...rec, n: 3, targets: [1, 4, 0] }, 1), /holds 3 examples, not the 4 test users/);
  assert.throws(() => compareRecToPopularity(data, { ...rec, targets: [4, 1, 0, 4] }, 1), /not the 4 test users in order/);
});

test('compareRecToBaselines: a row that ranks exactly as a baseline differs from it by exactly zero, and from the others as computed by hand', async () => {
  const { prepareData } = await import('../lib/data/index');
  const { getProfile } = await import('../lib/pipeline/profiles');
  const { sequentialBaselineRankings } = await import('../lib/baselines/sequentialBaselines');
  const { popularityRankings } = await import('../lib/baselines/popularity');
  const { compareRecToBaselines } = await import('../lib/baselines/compare');
  const { hitsAtK } = await import('../lib/util/metrics');
  const data = prepareData(getProfile('tiny').data);
  const examples = data.rec.test;
  const targets = examples.map((e) => e.target);
  const co = sequentialBaselineRankings(data, 'test', 30, 30).cooccurrence.rankings.map((r) => Array.from(r));
  const asEval = (rankings: number[][], t = targets) => ({ n: t.length, rankings, targets: t, task: 'rec' }) as unknown as TaskEvaluation;
  // Two seeds that both rank as co-occurrence does.
  const c = compareRecToBaselines(data, [asEval(co), asEval(co)], 30, { seed: 2 });
  assert.deepEqual([c.cooccurrence.difference.mean, c.cooccurrence.difference.lo, c.cooccurrence.difference.hi], [0, 0, 0]);
  const hits = (r: ArrayLike<number>[]) => hitsAtK(r.map((x) => Array.from(x)), targets, 30);
  const mean = (v: ArrayLike<number>) => Array.from(v).reduce((s, x) => s + x, 0) / v.length;
  const expected = mean(hits(co)) - mean(hits(popularityRankings(data.buckets.counts, examples, 30)));
  assert.ok(Math.abs(c.popularity.difference.mean - expected) < 1e-12, `${c.popularity.difference.mean} vs ${expected}`);
  assert.ok(c.popularity.difference.lo <= c.popularity.difference.mean && c.popularity.difference.mean <= c.popularity.difference.hi);
  // An evaluation that does not cover every test user in order is refused.
  assert.throws(() => compareRecToBaselines(data, [asEval(co.slice(1), targets.slice(1))], 30), /not the \d+ test users in order/);
});
