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
import { exampleLosses, validationLoss } from '../lib/generate/validationLoss';
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
    const best = losses.indexOf(Math.min(...losses));
    assert.equal(res.bestEpoch, best, 'the best epoch is the lowest validation loss');
    assert.equal(res.bestScore, -losses[best]);
    assert.equal(validationScore({ search: 0.2, rec: 0.4 }, 'recall'), (0.2 + 0.4) / 2);
    assert.throws(() => validationScore({ search: 0.2, rec: 0.4 }, 'loss'), /needs a validate callback that reports the validation loss/);
  } finally {
    model.net.dispose();
  }
});
