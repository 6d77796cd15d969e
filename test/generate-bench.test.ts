import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeq2SeqBench } from '../lib/bench/seq2seq';

test('seq2seq bench runs at tiny size and leaks no tensors', async () => {
  const r = await runSeq2SeqBench({
    trainSteps: 2, batchSize: 16, microBatch: 8, decodePrompts: 10, numBeams: 6, numGroups: 3, inputLength: 8,
    textVocab: 50, numItems: 300, dModel: 16, numHeads: 2, dFF: 32, layers: 1,
  });
  assert.ok(r.trainExamplesPerSecond > 0 && Number.isFinite(r.trainExamplesPerSecond));
  assert.ok(r.decodePromptsPerSecond > 0 && Number.isFinite(r.secondsFor12000Prompts));
  assert.equal(r.numTensorsAfterTraining, r.numTensorsBefore);
  assert.equal(r.numTensorsAfterDecoding, r.numTensorsBefore);
  assert.ok(r.parameters > 0);
});
