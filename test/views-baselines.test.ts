/** The baseline views of notebooks 04 and 07, on hand-made result rows. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baselineBucketTable, baselineSelectionRows, baselineTable, strongestRecBaselineSentence } from '../lib/views/results';
import type { ResultRow } from '../lib/pipeline/results';

const row = (method: string, task: 'search' | 'rec', bucket: string, value: number, n: number): ResultRow => ({
  table: 'baselines', method, embedding: method.toLowerCase(), quantizer: null, space: null, model: 'baseline', task,
  metric: 'recall@30', value, lo: value - 0.01, hi: value + 0.01, n, bucket,
});

const ROWS: ResultRow[] = [
  row('BM25', 'search', 'all', 0.5, 100), row('BM25', 'search', 'head', 0.6, 40), row('BM25', 'search', 'torso', 0.4, 60),
  row('Popularity', 'rec', 'all', 0.09, 50), row('Popularity', 'rec', 'head', 0.12, 30), row('Popularity', 'rec', 'torso', 0.0, 20),
  row('Co-occurrence', 'rec', 'all', 0.18, 50), row('Co-occurrence', 'rec', 'head', 0.2, 30), row('Co-occurrence', 'rec', 'torso', 0.15, 20),
  row('Item-kNN', 'rec', 'all', 0.16, 50),
  row('Random', 'rec', 'all', 0.3, 50),
];

test('baseline views: every baseline listed, buckets with n, the strongest rec baseline named (random excluded)', () => {
  assert.deepEqual(baselineTable(ROWS).map((r) => r.baseline), ['BM25', 'Popularity', 'Co-occurrence', 'Item-kNN', 'Random']);
  const b = baselineBucketTable(ROWS, ['head', 'torso']);
  assert.equal(b.length, 5);
  const co = b.find((r) => r.baseline === 'Co-occurrence')!;
  assert.equal(co.task, 'rec');
  assert.equal(co.head, '0.2000 [0.1900, 0.2100] (n=30)');
  assert.equal(b.find((r) => r.baseline === 'Item-kNN')!.torso, '-');
  assert.match(strongestRecBaselineSentence(ROWS), /\*\*Co-occurrence\*\*, recall@30 0\.1800/);
  assert.deepEqual(baselineSelectionRows(undefined), []);
  const sel = baselineSelectionRows({
    cooccurrence: { chosen: { lastItems: 5, decay: 0.6 }, validRecall: 0.2, metric: 'recall@30', grid: [{ params: { lastItems: 5, decay: 0.6 }, validRecall: 0.2 }] },
    itemKnn: { chosen: { neighbours: 50, recentItems: 0 }, validRecall: 0.15, metric: 'recall@30', grid: [] },
  });
  assert.equal(sel[0].chosen, 'last 5 items, decay 0.6');
  assert.equal(sel[1].chosen, '50 neighbours, whole history');
  assert.equal(sel[1]['validation recall@30'], '0.1500');
});
