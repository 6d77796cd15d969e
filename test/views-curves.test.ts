/** Learning curves and stopping tables from results.json's experiments, and the training-stop sentence. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { learningCurvesFigure, meanCurve, stoppingTable } from '../lib/views/results';
import { trainingStopSentence } from '../lib/views/generativeModel';
import type { ResultsDocument } from '../lib/pipeline/collect';
import { TABLES } from '../lib/pipeline/tables';
import { specId } from '../lib/pipeline/stages';

type Training = ResultsDocument['experiments'][number];

function training(id: string, curve: [number, number][], stop: 'cap' | 'plateau', bestEpoch: number): Training {
  return {
    id, replicate: 0, seed: 7, vocabSize: 10, bestEpoch, stop, trainSeconds: 1, evalSeconds: 1, epochs: curve.length, examplesPerSecond: 1,
    idLength: {}, collisionRate: {}, decode: { numBeams: 4, numGroups: 1 }, decodeCandidates: [],
    curve: curve.map(([s, r], e) => ({ examples: 1000 * (e + 1), search: s, rec: r, loss: null })),
  };
}

test('a row\'s mean curve averages the seeds that trained each epoch, and the figure has one line per row', () => {
  const rows = TABLES['task-tradeoff'];
  const id = specId(rows[0].spec);
  const other = specId(rows[1].spec);
  const doc = {
    experiments: [
      training(id, [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], 'plateau', 1),
      training(`${id}/r1`, [[0.3, 0.0], [0.5, 0.2]], 'cap', 1),
      // Another row whose id starts with this one's must not be mixed in.
      training(`${id}x`, [[9, 9]], 'cap', 0),
      training(other, [[0.2, 0.2]], 'cap', 0),
    ],
  } as unknown as ResultsDocument;
  const c = meanCurve(doc.experiments.slice(0, 2), 'search');
  assert.deepEqual(c.seeds, [2, 2, 1]);
  assert.deepEqual(c.examples, [1000, 2000, 3000]);
  c.recall.forEach((v, i) => assert.ok(Math.abs(v! - [0.2, 0.4, 0.5][i]) < 1e-12));
  const fig = learningCurvesFigure(doc, 'task-tradeoff', 'rec');
  assert.equal(fig.data.length, rows.length);
  assert.deepEqual(fig.data[0].y.map((v: number) => +v.toFixed(6)), [0.1, 0.3, 0.6]);
  assert.deepEqual(fig.data[0].x, [1, 2, 3]);
  const table = stoppingTable(doc, 'task-tradeoff');
  assert.equal(table[0]['ended on the plateau rule'], '1 of 2');
  assert.equal(table[0].epochs, '3, 2');
  assert.equal(table[0]['best epoch'], '2, 2');
  assert.equal(table[1].trainings, 1);
});

test('the training-stop sentence names the signal, the threshold and the final decay', () => {
  const r = { history: [{}, {}, {}] as never[], stop: 'plateau' as const, bestEpoch: 1, trainSeconds: 12.4 };
  assert.equal(
    trainingStopSentence(r, { stopOn: 'loss', minDelta: 0.01, patience: 2, decay: 'wsd', decayEpochs: 2, epochs: 22 }),
    'Trained 3 epochs in 12 s (no better validation loss (by more than 0.01) for 2 epochs, then 2 epochs of learning-rate decay); best epoch 2, whose weights are kept.',
  );
  assert.match(trainingStopSentence({ ...r, stop: 'cap' }, { epochs: 22, patience: 2 }), /the cap of 22 epochs/);
  assert.match(trainingStopSentence(r, { patience: 4 }), /stopped: no better validation recall for 4 epochs/);
});
