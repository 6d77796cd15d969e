import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapByGroup, bootstrapMean, hitsAtK, ndcgAtK } from '../lib/util/metrics';
import { Rng } from '../lib/util/random';

test('hits and NDCG at K match their definitions on a hand-made case', () => {
  const rankings = [
    [5, 3, 9],
    [1, 2, 3],
    [7, 8, 4],
  ];
  const targets = [3, 9, 7];
  assert.deepEqual(Array.from(hitsAtK(rankings, targets, 1)), [0, 0, 1]);
  assert.deepEqual(Array.from(hitsAtK(rankings, targets, 2)), [1, 0, 1]);
  const nd = ndcgAtK(rankings, targets, 3);
  assert.ok(Math.abs(nd[0] - 1 / Math.log2(3)) < 1e-12);
  assert.equal(nd[1], 0);
  assert.equal(nd[2], 1);
  assert.throws(() => hitsAtK(rankings, [1, 2], 3), /3 rankings but 2 targets/);
});

test('bootstrap interval contains the mean, narrows with n, and is seeded', () => {
  const rng = new Rng(3);
  const small = Array.from({ length: 100 }, () => (rng.next() < 0.3 ? 1 : 0));
  const large = Array.from({ length: 10000 }, () => (rng.next() < 0.3 ? 1 : 0));
  const a = bootstrapMean(small, { seed: 1 });
  const b = bootstrapMean(large, { seed: 1 });
  assert.ok(a.lo <= a.mean && a.mean <= a.hi);
  assert.ok(b.hi - b.lo < (a.hi - a.lo) / 4, 'interval width should shrink about as 1/sqrt(n)');
  // Binomial standard error: the 95% interval is close to +-1.96 * sqrt(p(1-p)/n).
  const se = Math.sqrt((b.mean * (1 - b.mean)) / large.length);
  assert.ok(Math.abs(b.hi - b.lo - 2 * 1.96 * se) < 0.3 * 2 * 1.96 * se);
  assert.deepEqual(bootstrapMean(small, { seed: 1 }), a);
});

test('bootstrapByGroup splits by group id', () => {
  const res = bootstrapByGroup([1, 1, 0, 0, 1], [0, 0, 1, 1, 1], ['head', 'torso'], { iterations: 200 });
  assert.equal(res.head.mean, 1);
  assert.equal(res.head.n, 2);
  assert.ok(Math.abs(res.torso.mean - 1 / 3) < 1e-12);
});
