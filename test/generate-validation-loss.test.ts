/**
 * The teacher-forced validation loss (lib/generate/validationLoss.ts) against the model's own
 * exhaustive scorer, one example at a time; its recording in the training history; and the
 * plateau rule on it (`stopOn: 'loss'`).
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../lib/backend';
import { prepareGenerativeTraining } from '../lib/generate/jointModel';
import { trainSeq2Seq, validationScore } from '../lib/generate/train';
import { exampleLosses, pairedChange, validationLoss } from '../lib/generate/validationLoss';
import { TINY_MODEL, tinyData, tinyVocab } from './generate-fixtures';

before(async () => {
  await initBackend({ backend: 'wasm', threads: 1 });
});

function prepared(stopOn?: 'recall' | 'loss') {
  const data = tinyData(12);
  return prepareGenerativeTraining(data, tinyVocab(12), { search: 'shared', rec: 'shared' }, { model: TINY_MODEL, seed: 3, validLimit: 4, validK: 5, stopOn });
}

test('each example\'s loss is minus its sequence log-probability over its length, in any chunking', () => {
  const { model, sets } = prepared();
  try {
    const examples = [...sets.valid.search, ...sets.valid.rec];
    assert.ok(examples.length >= 6);
    const losses = exampleLosses(model.net, examples);
    const inTwos = exampleLosses(model.net, examples, 2);
    examples.forEach((e, i) => {
      const lp = model.net.sequenceLogProbs(e.input, 1, e.input.length, e.target, e.target.length)[0];
      const want = -lp / e.target.length;
      assert.ok(Math.abs(losses[i] - want) < 1e-4 * (1 + Math.abs(want)), `example ${i}: ${losses[i]} vs ${want}`);
      assert.ok(Math.abs(inTwos[i] - losses[i]) < 1e-5, `example ${i}: chunks of 2`);
    });
    const v = validationLoss(model.net, sets.valid);
    const mean = (xs: Float64Array) => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(Math.abs(v.search - mean(exampleLosses(model.net, sets.valid.search))) < 1e-9);
    assert.ok(Math.abs(v.mean - (v.search + v.rec) / 2) < 1e-12);
    assert.ok(v.se > 0 && v.se < v.mean);
  } finally {
    model.net.dispose();
  }
});

test('the loss is computed only where it decides: absent from a recall-driven validation', async () => {
  const { model, validate } = prepared('recall');
  try {
    const v = await validate!(model.net, 0);
    assert.equal(v.loss, undefined);
    assert.ok(v.search >= 0 && v.rec >= 0);
  } finally {
    model.net.dispose();
  }
});

test('the loss is recorded every epoch, falls with training, and can drive the best epoch', async () => {
  const { model, sets, validate } = prepared('loss');
  try {
    const res = await trainSeq2Seq(model.net, sets.train, { epochs: 4, batchSize: 16, lr: 3e-3, seed: 1, validate, stopOn: 'loss', restoreBest: false, label: 'test' });
    const losses = res.history.map((h) => h.valid!.loss!.mean);
    assert.equal(losses.length, 4);
    assert.ok(losses[3] < losses[0], `validation loss ${losses.join(', ')}`);
    // From the second epoch on, each signal's change from the previous epoch with its paired standard error.
    assert.equal(res.history[0].valid!.change, undefined);
    res.history.slice(1).forEach((h, i) => {
      const before = res.history[i].valid!;
      const c = h.valid!.change!;
      assert.ok(Math.abs(c.loss!.delta - (h.valid!.loss!.mean - before.loss!.mean)) < 1e-9);
      assert.ok(Math.abs(c.recall.delta - ((h.valid!.search + h.valid!.rec) / 2 - (before.search + before.rec) / 2)) < 1e-9);
      assert.ok(c.loss!.se >= 0 && c.recall.se >= 0);
    });
    const best = losses.indexOf(Math.min(...losses));
    assert.equal(res.bestEpoch, best, 'the best epoch is the lowest validation loss');
    assert.equal(res.bestScore, -losses[best]);
    assert.equal(validationScore({ search: 0.2, rec: 0.4 }, 'recall'), (0.2 + 0.4) / 2);
    assert.throws(() => validationScore({ search: 0.2, rec: 0.4 }, 'loss'), /needs a validate callback that reports the validation loss/);
  } finally {
    model.net.dispose();
  }
});

test('the paired change of a two-task score: mean of the per-example changes, standard error from their spread', () => {
  const before = { search: [1, 0, 1, 0], rec: [0.5, 0.5] };
  const now = { search: [1, 1, 1, 1], rec: [1.5, 0.5] };
  const c = pairedChange(now, before);
  // search changes 0,1,0,1: mean 0.5, sample variance 1/3; rec changes 1,0: mean 0.5, variance 1/2.
  assert.ok(Math.abs(c.delta - 0.5) < 1e-12);
  assert.ok(Math.abs(c.se - Math.sqrt(1 / 3 / 4 + 1 / 2 / 2) / 2) < 1e-12);
  // The same shift on every example has no noise at all, however spread the levels are.
  const shifted = pairedChange({ search: [3, 9, 27], rec: [2, 4] }, { search: [2, 8, 26], rec: [1, 3] });
  assert.equal(shifted.delta, 1);
  assert.equal(shifted.se, 0);
  assert.throws(() => pairedChange({ search: [1], rec: [1] }, { search: [1, 2], rec: [1] }), /1 examples now, 2 before/);
});
