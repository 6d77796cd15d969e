import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapMean } from '../lib/util/metrics';
import { recallUnderTraffic, trafficWeights, weightedBootstrapMean } from '../lib/eval/reweight';

test('unit weights reproduce the plain bootstrap mean and interval', () => {
  const v = [1, 0, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0];
  const a = weightedBootstrapMean(v, v.map(() => 1), { seed: 3 });
  const b = bootstrapMean(v, { seed: 3 });
  assert.equal(a.mean, b.mean);
  assert.ok(a.lo <= a.mean && a.mean <= a.hi);
  assert.throws(() => weightedBootstrapMean([1], [-1]), /expected >= 0/);
});

test('weighted mean matches a brute-force computation', () => {
  const v = [1, 0, 1, 0];
  const w = [3, 1, 0.5, 0.5];
  const e = weightedBootstrapMean(v, w, { iterations: 50 });
  assert.ok(Math.abs(e.mean - (3 + 0.5) / 5) < 1e-12);
});

test('traffic weights: popularity follows counts per item, uniform gives items equal total weight', () => {
  const targets = [0, 0, 1, 2];
  const pop = [9, 1, 3];
  const wp = trafficWeights(targets, pop, 'popularity');
  // item 0 total = 10, item 1 = 2, item 2 = 4
  assert.ok(Math.abs(wp[0] + wp[1] - 10) < 1e-12);
  assert.equal(wp[2], 2);
  assert.equal(wp[3], 4);
  const wu = trafficWeights(targets, pop, 'uniform-items');
  assert.deepEqual(Array.from(wu), [0.5, 0.5, 1, 1]);
  // A model that only finds item 0 looks better under popularity traffic than under uniform.
  const rankings = [[0], [0], [5], [5]];
  const popR = recallUnderTraffic(rankings, targets, pop, 'popularity', 1);
  const uniR = recallUnderTraffic(rankings, targets, pop, 'uniform-items', 1);
  assert.ok(Math.abs(popR.mean - 10 / 16) < 1e-12);
  assert.ok(Math.abs(uniR.mean - 1 / 3) < 1e-12);
});
