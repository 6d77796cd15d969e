/** Figures must not hide a series behind another, and tables must not show code identifiers as headers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collisionFigure, collisionTable, quantizerDiagnosticsTable, quantizerLabel, usageFigure } from '../lib/views/ids';
import { beamSweepTable, pairedComparisonRows } from '../lib/views/generativeModel';
import type { SemanticIdSet } from '../lib/types';
import type { CollisionPoint, QuantizerSummary } from '../lib/pipeline/analyses';
import type { IdDiagnostics } from '../lib/quantize/diagnostics';

const camelCase = /[a-z][A-Z]/;

function ids(): SemanticIdSet {
  const n = 40;
  const codes = new Int32Array(n * 2);
  for (let i = 0; i < n; i++) {
    codes[i * 2] = i % 4;
    codes[i * 2 + 1] = (i * 3) % 8;
  }
  return { numItems: n, length: 2, cardinalities: [8, 8], codes };
}

test('codebook usage: one line per level (no overlaid bars), usage in the legend, readable quantizer name', () => {
  const fig = usageFigure(ids(), 'rq-kmeans', 2);
  assert.notEqual(fig.layout.barmode, 'overlay');
  const levels = fig.data.filter((t) => /^level /.test(t.name));
  assert.equal(levels.length, 2);
  for (const t of levels) assert.notEqual(t.type, 'bar');
  assert.match(levels[0].name, /4 of 8 codes used/);
  assert.match(levels[1].name, /8 of 8 codes used/);
  assert.match(fig.layout.title.text, /^RQ-KMeans:/);
  assert.ok(fig.layout.xaxis.title.text && fig.layout.yaxis.title.text);
  assert.equal(quantizerLabel('rlfq'), 'ResidualLFQ');
});

test('collisions vs codebook size: log axis ticks exactly at the K values; readable table headers', () => {
  const points: CollisionPoint[] = [8, 16, 32, 64].map((k) => ({ k, collisionRate: 8 / k, largestGroup: 2, relativeError: 0.1 }));
  const fig = collisionFigure(points, 400);
  assert.equal(fig.layout.xaxis.type, 'log');
  assert.deepEqual(fig.layout.xaxis.tickvals, [8, 16, 32, 64]);
  assert.deepEqual(fig.layout.xaxis.ticktext, ['8', '16', '32', '64']);
  for (const row of collisionTable(points)) for (const h of Object.keys(row)) assert.doesNotMatch(h, camelCase, h);
});

test('tables of the views have no camelCase headers', () => {
  const diagnostics = {
    positions: [{ used: 4, cardinality: 8, entropyBits: 2, maxEntropyBits: 3 }],
    distinctCodes: 4,
    collisionRate: 0.5,
    largestCollisionGroup: 3,
    relativeError: 0.2,
  } as unknown as IdDiagnostics;
  const summaries = [{ quantizer: 'rq-vae', ids: ids(), diagnostics, seconds: 1 }] as QuantizerSummary[];
  const est = { mean: 0.2, lo: 0.1, hi: 0.3, n: 10 };
  const tables = [
    quantizerDiagnosticsTable(summaries),
    beamSweepTable({ search: [{ numBeams: 10, numGroups: 1, recall: est, seconds: 1 }], rec: [] }),
    pairedComparisonRows({ k: 30, model: est, baseline: est, difference: est } as never, 'model', 'popularity'),
  ];
  for (const rows of tables) for (const h of Object.keys(rows[0])) assert.doesNotMatch(h, camelCase, h);
  assert.equal(tables[0][0].quantizer, 'RQ-VAE');
});
