/**
 * Generative search against BM25 and dense search on the same sampled test queries (lib/baselines/searchPairs.ts): the
 * sampled queries recovered from a real evaluation, the paired difference against a hand count, per
 * query style, and a mismatch refused.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../lib/backend';
import { buildBm25Index, bm25Search } from '../lib/baselines/bm25';
import { evaluateGenerative } from '../lib/eval/generativeEval';
import { denseHits, evaluatedQueryIndices, searchPairsAgainst, searchPairsAgainstBm25 } from '../lib/baselines/searchPairs';
import { prepareGenerativeTraining } from '../lib/generate/jointModel';
import { hitsAtK } from '../lib/util/metrics';
import { TINY_MODEL, tinyData, tinyVocab } from './generate-fixtures';

process.env.SID_QUIET = '1';

before(async () => {
  await initBackend({ backend: 'wasm', threads: 1 });
});

test('a row\'s sampled test queries are recovered and paired with BM25 on exactly those queries, overall and per style', async () => {
  const data = tinyData(12);
  // Two styles, and query texts BM25 can find some of.
  data.queries.test = data.queries.test.map((q, i) => ({ ...q, style: i % 2 ? 'genre' : 'title', text: i % 3 ? q.text : 'drama' }));
  const vocab = tinyVocab(12);
  const spaces = { search: 'shared', rec: 'shared' };
  const { model } = prepareGenerativeTraining(data, vocab, spaces, { model: TINY_MODEL, seed: 3, validLimit: 0 });
  try {
    const evals: Awaited<ReturnType<typeof evaluateGenerative>>[] = [];
    for (const seed of [5, 5]) evals.push(await evaluateGenerative(model, data, vocab, spaces, { decode: { numBeams: 4 }, limit: 7, seed, bootstrap: { iterations: 50 } }));
    const settings = evals[0].settings;
    const idx = evaluatedQueryIndices(evals[0].search, settings, data);
    assert.equal(idx.length, 7);
    assert.deepEqual(idx.map((q) => data.queries.test[q].item), evals[0].search.targets);
    assert.ok(idx.every((q, i) => i === 0 || q > idx[i - 1]), 'in test order');
    const pairs = searchPairsAgainstBm25(evals.map((e) => e.search), settings, data, 3, { iterations: 200 });
    assert.deepEqual(pairs.map((p) => p.style), ['all', 'genre', 'title']);
    assert.equal(pairs[1].n + pairs[2].n, 7);
    // By hand: BM25 over the item texts on the sampled queries, Recall@3 per query.
    const bm25 = bm25Search(buildBm25Index(data.dataset.items.map((it) => it.text)), idx.map((q) => data.queries.test[q].text), 3);
    const hb = hitsAtK(bm25.map((r) => Array.from(r)), evals[0].search.targets, 3);
    const hm = hitsAtK(evals[0].search.rankings, evals[0].search.targets, 3);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const all = idx.map((_, i) => i);
    assert.ok(Math.abs(pairs[0].baseline.mean - mean(all.map((i) => hb[i]))) < 1e-12);
    assert.ok(Math.abs(pairs[0].difference.mean - mean(all.map((i) => hm[i] - hb[i]))) < 1e-12);
    const genre = all.filter((i) => data.queries.test[idx[i]].style === 'genre');
    assert.ok(Math.abs(pairs[1].difference.mean - mean(genre.map((i) => hm[i] - hb[i]))) < 1e-12);
    // Against a dense search's stored ranks over every test query: read on exactly the sampled ones.
    const ranks = data.queries.test.map((_, q) => [-1, 0, 2, 5][q % 4]);
    const dense = searchPairsAgainst(evals.map((e) => e.search), settings, data, (queries, k) => denseHits(ranks, queries, k), 3, { iterations: 200 });
    const hd = idx.map((q) => (ranks[q] >= 0 && ranks[q] < 3 ? 1 : 0));
    assert.ok(Math.abs(dense[0].baseline.mean - mean(hd)) < 1e-12);
    assert.ok(Math.abs(dense[0].difference.mean - mean(all.map((i) => hm[i] - hd[i]))) < 1e-12);
    assert.ok(Math.abs(dense[2].baseline.mean - mean(all.filter((i) => data.queries.test[idx[i]].style === 'title').map((i) => hd[i]))) < 1e-12);
    assert.throws(() => denseHits(ranks.slice(0, 2), idx, 3), /ranked 2 test queries/);
    // Another seed draws other queries: refused, never paired wrongly.
    assert.throws(() => evaluatedQueryIndices(evals[0].search, { ...settings, seed: settings.seed + 1 }, data), /not the seeded sample/);
  } finally {
    model.net.dispose();
  }
});
