/**
 * Seeds: the two-way bootstrap over replicates and examples, the per-row summary over replicates,
 * paired comparisons of rows, and replicate experiment ids.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapMean, bootstrapReplicates, hitsAtK, pairedReplicateDifference, replicateMeans } from '../lib/util/metrics';
import { pairedDifference, compareReplicates } from '../lib/eval/compare';
import { summarizeReplicates, summarizeTask } from '../lib/eval/summary';
import { parseSpecId, replicatesOf, specId, withReplicate } from '../lib/pipeline/stages';
import { experimentsFor } from '../lib/pipeline/tables';
import { Rng } from '../lib/util/random';

function coins(n: number, p: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n }, () => (rng.next() < p ? 1 : 0));
}

test('one replicate gives exactly the plain example bootstrap; identical replicates give the same interval', () => {
  const v = coins(400, 0.3, 1);
  const plain = bootstrapMean(v, { seed: 5 });
  assert.deepEqual(bootstrapReplicates([v], { seed: 5 }), plain);
  const same = bootstrapReplicates([v, v, v], { seed: 5 });
  assert.ok(Math.abs(same.mean - plain.mean) < 1e-12);
  assert.ok(Math.abs(same.lo - plain.lo) < 1e-9 && Math.abs(same.hi - plain.hi) < 1e-9, `${JSON.stringify(same)} vs ${JSON.stringify(plain)}`);
  assert.deepEqual(pairedReplicateDifference([v], [coins(400, 0.5, 2)], { seed: 5 }), pairedDifference(v, coins(400, 0.5, 2), { seed: 5 }));
});

test('seeds that disagree widen the interval by their spread', () => {
  // No example variance at all: every example scores 0.2 + s for seed s, so only seed resampling moves the mean.
  const n = 300;
  const reps = [0.1, 0.2, 0.3].map((x) => new Float64Array(n).fill(x));
  const e = bootstrapReplicates(reps, { seed: 1, iterations: 2000 });
  assert.ok(Math.abs(e.mean - 0.2) < 1e-12);
  // Resampling 3 seeds: the mean of 3 draws from {0.1, 0.2, 0.3} is 0.1 with probability 1/27 (3.7%,
  // above 2.5%) and 0.1333 with 3/27, so the 95% interval is [0.1, 0.3].
  assert.ok(Math.abs(e.lo - 0.1) < 1e-9, `lo ${e.lo}`);
  assert.ok(Math.abs(e.hi - 0.3) < 1e-9, `hi ${e.hi}`);
  // With 5 seeds an extreme mean has probability 1/3125, so the interval moves inside [0.1, 0.3].
  const five = bootstrapReplicates([0.1, 0.15, 0.2, 0.25, 0.3].map((x) => new Float64Array(n).fill(x)), { seed: 1, iterations: 2000 });
  assert.ok(five.lo > 0.1 + 1e-9 && five.hi < 0.3 - 1e-9 && five.lo < 0.2 && five.hi > 0.2, JSON.stringify(five));
  assert.deepEqual(replicateMeans(reps).map((x) => +x.toFixed(12)), [0.1, 0.2, 0.3]);
  // Against one seed of the same examples, the interval only widens.
  const v = coins(300, 0.3, 4);
  const shifted = [v, v.map((x) => x * 0.5), v];
  const one = bootstrapReplicates([v], { seed: 2 });
  const three = bootstrapReplicates(shifted, { seed: 2 });
  assert.ok(three.hi - three.lo > one.hi - one.lo);
});

test('paired difference: a constant shift is recovered exactly; independent seeds of each side both count', () => {
  const b = coins(500, 0.4, 3);
  const a = b.map((x) => x + 0.25);
  const d = pairedReplicateDifference([a], [b], { seed: 1 });
  assert.ok(Math.abs(d.mean - 0.25) < 1e-12 && Math.abs(d.lo - 0.25) < 1e-12 && Math.abs(d.hi - 0.25) < 1e-12);
  // a's two seeds sit at +-0.1 around b: the mean difference is 0, and drawing both seeds from one side gives +-0.1.
  const two = pairedReplicateDifference([b.map((x) => x + 0.1), b.map((x) => x - 0.1)], [b], { seed: 1, iterations: 4000 });
  assert.ok(Math.abs(two.mean) < 1e-12);
  assert.ok(Math.abs(two.lo + 0.1) < 1e-9 && Math.abs(two.hi - 0.1) < 1e-9, JSON.stringify(two));
  assert.throws(() => pairedReplicateDifference([a], [b.subarray(1)]), /same examples/);
});

test('summary over replicates: mean of the per-seed values, buckets by brute force, one replicate equals summarizeTask', () => {
  const rng = new Rng(9);
  const n = 120;
  const items = 40;
  const targets = Array.from({ length: n }, () => rng.int(items));
  const data = { buckets: { names: ['head', 'tail'], bucketOf: Int32Array.from({ length: items }, (_, i) => (i < 10 ? 0 : 1)) } } as never;
  const rankings = [0, 1, 2].map((s) => targets.map((t) => (new Rng(100 + s).next() < 0.5 ? [t, (t + 1) % items] : [(t + 1) % items, (t + 2) % items])));
  // Per replicate, a different random subset of users gets the target.
  const reps = [0, 1, 2].map((s) => { const r = new Rng(s); return targets.map((t) => (r.next() < 0.3 + 0.1 * s ? [t] : [(t + 1) % items])); });
  const sum = summarizeReplicates(reps, targets, data, [1], { seed: 3 });
  const perSeed = reps.map((r) => hitsAtK(r, targets, 1).reduce((a, b) => a + b, 0) / n);
  assert.deepEqual(sum.replicates!['recall@1'].map((x) => +x.toFixed(12)), perSeed.map((x) => +x.toFixed(12)));
  assert.ok(Math.abs(sum.overall['recall@1'].mean - perSeed.reduce((a, b) => a + b) / 3) < 1e-12);
  const headIdx = targets.map((t, i) => (t < 10 ? i : -1)).filter((i) => i >= 0);
  const headMean = reps.reduce((acc, r) => acc + headIdx.filter((i) => r[i][0] === targets[i]).length / headIdx.length, 0) / 3;
  assert.ok(Math.abs(sum.byBucket.head['recall@1'].mean - headMean) < 1e-12);
  assert.equal(sum.byBucket.head['recall@1'].n, headIdx.length);
  const single = summarizeReplicates([rankings[0]], targets, data, [1, 2], { seed: 3 });
  assert.deepEqual(single, summarizeTask(rankings[0], targets, data, [1, 2], { seed: 3 }));
  assert.equal(single.replicates, undefined);
  // Rows compared on the same examples; different examples are refused.
  const c = compareReplicates({ rankings: reps, targets }, { rankings: [reps[0]], targets }, 1, { seed: 3 });
  assert.ok(Math.abs(c.difference.mean - (c.model.mean - c.baseline.mean)) < 1e-12);
  assert.throws(() => compareReplicates({ rankings: reps, targets }, { rankings: [reps[0].slice(1)], targets: targets.slice(1) }), /different test examples/);
});

test('replicate ids round-trip; replicate 0 is the row itself; tables expand every replicate', () => {
  const row = parseSpecId('multitask/rq-kmeans/shared');
  assert.deepEqual(row, { embedding: 'multitask', quantizer: 'rq-kmeans', space: 'shared' });
  assert.deepEqual(replicatesOf(row, 3).map(specId), ['multitask/rq-kmeans/shared', 'multitask/rq-kmeans/shared/r1', 'multitask/rq-kmeans/shared/r2']);
  assert.deepEqual(parseSpecId('multitask/rq-kmeans/shared/r2'), withReplicate(row, 2));
  assert.deepEqual(withReplicate({ ...row, replicate: 4 }, 0), row);
  const last = parseSpecId('multitask/rq-kmeans/shared/last-n/r1');
  assert.deepEqual(last, { ...row, protocol: 'last-n', replicate: 1 });
  assert.equal(specId(last), 'multitask/rq-kmeans/shared/last-n/r1');
  for (const bad of ['multitask/rq-kmeans/shared/2', 'multitask/rq-kmeans/shared/r-1', 'multitask/rq-kmeans/shared/r1/x', 'multitask/rq-kmeans/shared/r1/last-n']) {
    assert.throws(() => parseSpecId(bad), /must be <embedding>\/<quantizer>\/<shared\|separate>\[\/last-n\]\[\/r<replicate>\]/, bad);
  }
  const one = experimentsFor(['quantizers'], 1);
  const two = experimentsFor(['quantizers'], 2);
  assert.equal(one.length, 4);
  assert.equal(two.length, 8);
  assert.equal(new Set(two.map(specId)).size, 8);
});
