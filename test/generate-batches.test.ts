/**
 * How an epoch's batches are drawn (lib/generate/train.ts epochBatches): one-task batches draw the
 * same examples as mixed ones (so the search share stays what the recipe says), hold one task each,
 * pad less, and depend on (seed, epoch) only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { epochBatches, type BatchPlan } from '../lib/generate/train';
import type { Seq2SeqExample } from '../lib/generate/prompts';
import { Rng } from '../lib/util/random';

/** Search prompts of 3-9 tokens, rec prompts of 20-31, as on ml-latest-small; `item` numbers the example within its pool. */
function pools(nS: number, nR: number): { search: Seq2SeqExample[]; rec: Seq2SeqExample[] } {
  const rng = new Rng(3);
  const make = (task: 'search' | 'rec', i: number, len: number): Seq2SeqExample => ({ task, input: new Int32Array(len).fill(1), target: Int32Array.of(0, 1), item: i });
  return {
    search: Array.from({ length: nS }, (_, i) => make('search', i, 3 + rng.int(7))),
    rec: Array.from({ length: nR }, (_, i) => make('rec', i, 20 + rng.int(12))),
  };
}

function padShare(batches: Seq2SeqExample[][]): number {
  let pad = 0;
  let all = 0;
  for (const b of batches) {
    const len = Math.max(...b.map((e) => e.input.length));
    for (const e of b) pad += len - e.input.length;
    all += len * b.length;
  }
  return pad / all;
}

const key = (e: Seq2SeqExample) => `${e.task}:${e.item}`;

test('one-task batches draw the same examples as mixed batches, one task per batch, with less padding', () => {
  const p = pools(1700, 2300);
  const plan: BatchPlan = { perEpoch: 3000, batchSize: 64, searchFraction: 0.43, bucketBatches: 8, taskBatches: 'mixed', seed: 5 };
  for (const epoch of [0, 1, 7]) {
    const mixed = epochBatches(p, epoch, plan);
    const single = epochBatches(p, epoch, { ...plan, taskBatches: 'single' });
    // The same multiset of examples: the search share is the recipe's, 28 of every 64 (0.43 rounded).
    assert.deepEqual(single.flat().map(key).sort(), mixed.flat().map(key).sort(), `epoch ${epoch}`);
    const searchShare = single.flat().filter((e) => e.task === 'search').length / single.flat().length;
    assert.equal(searchShare, 28 / 64);
    for (const b of single) {
      assert.ok(b.length >= 1 && b.length <= 64);
      assert.equal(new Set(b.map((e) => e.task)).size, 1, 'one task per batch');
    }
    for (const b of mixed) assert.equal(b.filter((e) => e.task === 'search').length, 28);
    // Mixed batches pad each search prompt to a rec prompt's length; one-task batches barely pad.
    assert.ok(padShare(mixed) > 0.3, `mixed padding ${padShare(mixed)}`);
    assert.ok(padShare(single) < 0.1, `single padding ${padShare(single)}`);
    assert.deepEqual(epochBatches(p, epoch, { ...plan, taskBatches: 'single' }), single, 'a function of (seed, epoch)');
  }
  // One task's pool alone.
  const onlyRec = epochBatches({ search: [], rec: p.rec }, 0, { ...plan, taskBatches: 'single' });
  assert.equal(onlyRec.flat().length, Math.ceil(3000 / 64) * 64);
  assert.ok(onlyRec.flat().every((e) => e.task === 'rec'));
});
