/**
 * ResidualLFQ on embeddings shaped like the contrastive ones it gets in the pipeline: unit-norm rows
 * that share one large common direction, with cluster structure around it. Sign codes cannot carry
 * the shared offset, so a quantizer that does not remove it gives every item the same bits.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../lib/backend';
import { gaussianMixture } from '../lib/bench/kmeans';
import { fitRlfq } from '../lib/quantize/rlfq';
import { idDiagnostics } from '../lib/quantize/diagnostics';
import type { Matrix } from '../lib/quantize/matrix';

before(async () => {
  await initBackend();
});

/** A planted mixture pushed along one shared direction, rows L2-normalised (|column mean| ~0.9). */
function offsetUnitMixture(rows: number, cols: number, offset: number): Matrix {
  const x = gaussianMixture(rows, cols, 24, 1, 5);
  for (let i = 0; i < rows; i++) {
    const row = x.data.subarray(i * cols, (i + 1) * cols);
    row[0] += offset;
    const norm = Math.hypot(...row);
    for (let j = 0; j < cols; j++) row[j] /= norm;
  }
  return x;
}

test('ResidualLFQ uses its codebook on unit-norm embeddings with a large shared direction', async () => {
  const x = offsetUnitMixture(400, 32, 12);
  let meanNorm = 0;
  for (let j = 0; j < x.cols; j++) {
    let m = 0;
    for (let i = 0; i < x.rows; i++) m += x.data[i * x.cols + j] / x.rows;
    meanNorm += m * m;
  }
  assert.ok(Math.sqrt(meanNorm) > 0.8, `the planted data should share a large common direction, |mean| = ${Math.sqrt(meanNorm)}`);
  const k = 32;
  const fit = await fitRlfq(x, { levels: 2, k, seed: 7 });
  const diag = idDiagnostics({ numItems: x.rows, length: 2, cardinalities: [k, k], codes: fit.codes }, { x, reconstruction: fit.reconstruction });
  const [l1, l2] = diag.positions;
  const summary = JSON.stringify({ used: diag.positions.map((p) => p.used), collisionRate: diag.collisionRate, relativeError: diag.relativeError });
  assert.ok(l1.used >= k / 2, `level 1 uses ${l1.used} of ${k} codes: ${summary}`);
  assert.ok(l2.used >= k / 2, `level 2 uses ${l2.used} of ${k} codes: ${summary}`);
  assert.ok(diag.collisionRate < 0.8, summary);
  // The reconstruction keeps the shared direction and improves on it: better than the mean alone.
  assert.ok(diag.relativeError! < 1 - meanNorm, summary);
});
