import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchContrastive } from '../lib/bench/contrastive';

test('benchContrastive runs both table-update modes and reports consistent figures (no timing asserted)', async () => {
  const r = await benchContrastive({ batchSize: 16, dim: 8, vocab: 300, idsPerSide: 4, steps: 3, warmupSteps: 1, inferenceItems: 100 });
  assert.deepEqual(r.modes.map((m) => m.mode), ['sparse', 'dense']);
  for (const m of r.modes) {
    assert.ok(m.stepsPerSec > 0 && Number.isFinite(m.finalLoss));
    assert.ok(Math.abs(m.pairsPerSec - m.stepsPerSec * 16) < 1e-6 * m.pairsPerSec);
  }
  assert.ok(r.inference.itemsPerSec > 0);
  assert.deepEqual([r.batchSize, r.dim, r.vocab, r.idsPerSide], [16, 8, 300, 4]);
});
