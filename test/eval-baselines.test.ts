import { movieLensSmallDir } from './helpers/movielens';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { prepareData } from '../lib/data/index';
import { bm25Idf, bm25Scores, bm25Search, bm25Tokens, buildBm25Index } from '../lib/baselines/bm25';
import { evaluateBaselines, randomRankings, UNTRAINED_BASELINES } from '../lib/baselines/baselines';
import { BASELINE_ROWS } from '../lib/pipeline/baselineRows';
import { hitsAtK } from '../lib/util/metrics';
import { popularityOrder, popularityRankings } from '../lib/baselines/popularity';
import type { RecExample } from '../lib/types';
import { Rng } from '../lib/util/random';

const CORPUS = [
  'The Matrix (1999). Genres: Action, Sci-Fi. Tags: cyberpunk, virtual reality.',
  'The Matrix Reloaded (2003). Genres: Action, Sci-Fi.',
  'Toy Story (1995). Genres: Animation, Children, Comedy. Tags: pixar, toys, toys.',
  'Heat (1995). Genres: Action, Crime, Thriller.',
  'Amélie (2001). Genres: Comedy, Romance. Tags: paris, quirky.',
  '',
  'Zzyzx Road (2006). Genres: Thriller.',
  'Comedy comedy comedy (1990). Genres: Comedy.',
];

/** BM25 straight from its definition: no index, every document scored term by term. */
function bruteBm25(docs: string[], query: string, k1: number, b: number): number[] {
  const toks = docs.map(bm25Tokens);
  const n = docs.length;
  const avg = toks.reduce((s, t) => s + t.length, 0) / n;
  return toks.map((dt) => {
    let s = 0;
    for (const q of bm25Tokens(query)) {
      const tf = dt.filter((w) => w === q).length;
      if (tf === 0) continue;
      const df = toks.filter((t) => t.includes(q)).length;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      s += (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * dt.length) / avg));
    }
    return s;
  });
}

/** All documents sorted by (score desc, index asc). */
function sortedByScore(scores: number[]): number[] {
  return scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
}

const QUERIES = ['matrix action', 'comedy', 'comedy comedy toys', 'amélie paris 2001', 'nothing matches this', 'THRILLER road', 'the'];

test('BM25 scores equal a brute-force BM25 on a hand-made corpus, for default and other k1/b', () => {
  for (const [k1, b] of [[1.2, 0.75], [2.0, 0.3], [0.5, 1], [1.2, 0]]) {
    const index = buildBm25Index(CORPUS, { k1, b });
    for (const q of QUERIES) {
      const got = bm25Scores(index, q);
      const want = bruteBm25(CORPUS, q, k1, b);
      assert.equal(got.length, want.length);
      for (let d = 0; d < want.length; d++) {
        assert.ok(Math.abs(got[d] - want[d]) <= 1e-12 * Math.max(1, want[d]), `k1=${k1} b=${b} query "${q}" doc ${d}: ${got[d]} vs ${want[d]}`);
      }
    }
  }
  // A spot value by hand: "heat" appears once in doc 3 only (df = 1, N = 8).
  const idx = buildBm25Index(CORPUS);
  const len = bm25Tokens(CORPUS[3]).length;
  const avg = CORPUS.reduce((s, t) => s + bm25Tokens(t).length, 0) / CORPUS.length;
  const expected = (Math.log(1 + 7.5 / 1.5) * 2.2) / (1 + 1.2 * (0.25 + (0.75 * len) / avg));
  assert.ok(Math.abs(bm25Scores(idx, 'heat')[3] - expected) < 1e-12);
  assert.equal(bm25Idf(8, 1), Math.log(1 + 7.5 / 1.5));
});

test('bm25Search top-k equals the first k of a full sort by score, filling with unmatched items in index order', () => {
  const index = buildBm25Index(CORPUS);
  for (const k of [1, 3, 5, 8, 20]) {
    const got = bm25Search(index, QUERIES, k);
    QUERIES.forEach((q, i) => {
      const want = sortedByScore(bruteBm25(CORPUS, q, 1.2, 0.75)).slice(0, k);
      assert.deepEqual(Array.from(got[i]), want, `query "${q}" k=${k}`);
    });
  }
  // Nothing matches: the list is the first k items by index.
  assert.deepEqual(Array.from(bm25Search(index, ['nothing matches'], 3)[0]), [0, 1, 2]);
});

test('BM25 on a larger random corpus: search equals brute force sort, and the index walks postings only', () => {
  const rng = new Rng(7);
  const vocab = Array.from({ length: 60 }, (_, i) => `w${i}`);
  // Zipf-ish word choice so common and rare terms both occur.
  const weights = vocab.map((_, i) => 1 / (i + 1));
  const docs = Array.from({ length: 300 }, () => Array.from({ length: 3 + rng.int(15) }, () => vocab[rng.categorical(weights)]).join(' '));
  const queries = Array.from({ length: 40 }, () => Array.from({ length: 1 + rng.int(4) }, () => vocab[rng.categorical(weights)]).join(' '));
  const index = buildBm25Index(docs);
  assert.equal(index.postingDocs.length, docs.reduce((s, d) => s + new Set(bm25Tokens(d)).size, 0));
  const got = bm25Search(index, queries, 30);
  queries.forEach((q, i) => {
    const scores = bruteBm25(docs, q, 1.2, 0.75);
    const want = sortedByScore(scores).slice(0, 30);
    // Same scores at every rank (float sums over postings may reorder exact ties by a last bit).
    for (let r = 0; r < 30; r++) assert.ok(Math.abs(scores[got[i][r]] - scores[want[r]]) < 1e-9, `query ${i} rank ${r}`);
    assert.equal(new Set(got[i]).size, 30);
  });
});

test("a query naming an item's rare title words ranks that item first", () => {
  const index = buildBm25Index(CORPUS);
  assert.equal(bm25Search(index, ['zzyzx'], 5)[0][0], 6);
  assert.equal(bm25Search(index, ['amelie'], 5)[0][0], 0, 'different spelling does not match: falls back to index order');
  assert.equal(bm25Search(index, ['Amélie'], 5)[0][0], 4);
  // On the synthetic catalogue: every title word that occurs in one item's text only finds that item.
  const data = prepareData({ dataset: 'synthetic', queriesPerItem: 3 });
  const texts = data.dataset.items.map((it) => it.text);
  const big = buildBm25Index(texts);
  const queries: string[] = [];
  const targets: number[] = [];
  for (const it of data.dataset.items) {
    for (const w of bm25Tokens(it.title)) {
      if (big.docFreq[big.vocabulary.get(w)!] === 1) {
        queries.push(`movie ${w}`);
        targets.push(it.index);
        break;
      }
    }
  }
  assert.ok(queries.length >= 5, `expected some rare title words, found ${queries.length}`);
  const top = bm25Search(big, queries, 1);
  targets.forEach((t, i) => assert.equal(top[i][0], t, `query "${queries[i]}"`));
});

test('popularity ranking equals a brute-force sort and never returns history items', () => {
  const rng = new Rng(11);
  const n = 50;
  const counts = Int32Array.from({ length: n }, () => rng.int(6)); // many ties
  const examples: RecExample[] = Array.from({ length: 30 }, (_, u) => ({
    user: u,
    history: Int32Array.from(rng.permutation(n).slice(0, rng.int(20))),
    target: rng.int(n),
  }));
  examples.push({ user: 99, history: Int32Array.from(rng.permutation(n).slice(0, n - 3)), target: 0 });
  const order = Array.from(popularityOrder(counts));
  assert.deepEqual(order, Array.from({ length: n }, (_, i) => i).sort((a, b) => counts[b] - counts[a] || a - b));
  const got = popularityRankings(counts, examples, 10);
  examples.forEach((ex, r) => {
    const hist = new Set(ex.history);
    const want = order.filter((i) => !hist.has(i)).slice(0, 10);
    assert.deepEqual(Array.from(got[r]), want);
    for (const i of got[r]) assert.ok(!hist.has(i));
  });
  assert.equal(got[got.length - 1].length, 3, 'a history covering all but 3 items leaves 3');
  assert.throws(() => popularityRankings(counts, [{ user: 5, history: Int32Array.of(50), target: 0 }], 5), /user 5.*history item 50 outside 0\.\.49/);
});

test('random ranking: distinct items, exclusions respected, Recall@K close to K/N, same seed same lists', () => {
  const n = 200;
  const k = 10;
  const count = 20000;
  const rng = new Rng(3);
  const targets = Int32Array.from({ length: count }, () => rng.int(n));
  const r1 = randomRankings(n, count, k, 42);
  for (let i = 0; i < 100; i++) {
    assert.equal(r1[i].length, k);
    assert.equal(new Set(r1[i]).size, k);
  }
  const h = hitsAtK(r1, targets, k);
  const recall = h.reduce((s, v) => s + v, 0) / count;
  const se = Math.sqrt(((k / n) * (1 - k / n)) / count);
  assert.ok(Math.abs(recall - k / n) < 4 * se, `random Recall@${k} ${recall} vs ${k / n}`);
  // First position uniform over items: no item index is favoured.
  const first = new Float64Array(n);
  for (const r of r1) first[r[0]]++;
  assert.ok(Math.max(...first) < (count / n) * 1.6 && Math.min(...first) > (count / n) * 0.4);
  assert.deepEqual(randomRankings(n, 50, k, 42), r1.slice(0, 50));
  assert.notDeepEqual(randomRankings(n, 50, k, 43), r1.slice(0, 50));
  const excl = Int32Array.from({ length: n - 5 }, (_, i) => i + 5);
  const r2 = randomRankings(n, 20, k, 1, (r) => (r % 2 ? excl : null));
  r2.forEach((row, r) => {
    if (r % 2) assert.deepEqual(Array.from(row).sort((a, b) => a - b), [0, 1, 2, 3, 4]);
    else assert.equal(row.length, k);
  });
});

test('evaluateBaselines on the synthetic catalogue: shapes, metrics equal direct counts, seeded', () => {
  const data = prepareData({ dataset: 'synthetic', queriesPerItem: 5 });
  const rep = evaluateBaselines(data, { bootstrapIterations: 100, seed: 5 });
  // One result per registered baseline, by name; the tuned ones' chosen settings beside them.
  assert.deepEqual(Object.keys(rep.results), UNTRAINED_BASELINES.map((b) => b.name));
  assert.deepEqual(Object.keys(rep.selection), ['cooccurrence', 'itemKnn']);
  assert.deepEqual(BASELINE_ROWS.map((b) => `${b.label}/${b.task}`), ['BM25/search', 'Popularity/rec', 'Co-occurrence/rec', 'Item-kNN/rec', 'SASRec/rec', 'Random/search', 'Random/rec']);
  const names = ['recall@10', 'ndcg@10', 'recall@30', 'ndcg@30'];
  for (const t of [rep.results.bm25, rep.results.randomSearch, rep.results.randomRec, rep.results.popularity]) {
    assert.deepEqual(Object.keys(t.overall).sort(), [...names].sort());
    assert.deepEqual(Object.keys(t.byBucket), data.buckets.names);
    for (const m of names) assert.ok(t.overall[m].lo <= t.overall[m].mean && t.overall[m].mean <= t.overall[m].hi, m);
    const nb = Object.values(t.byBucket).reduce((s, b) => s + b['recall@30'].n, 0);
    assert.equal(nb, t.n, 'buckets partition the examples');
  }
  assert.equal(rep.results.bm25.n, data.queries.test.length);
  assert.equal(rep.results.popularity.n, data.rec.test.length);
  // Recall@30 equals a direct count on rankings built here.
  const counts = data.buckets.counts;
  const pop = popularityRankings(counts, data.rec.test, 30);
  const direct = hitsAtK(pop, data.rec.test.map((e) => e.target), 30).reduce((s, v) => s + v, 0) / data.rec.test.length;
  assert.ok(Math.abs(rep.results.popularity.overall['recall@30'].mean - direct) < 1e-12);
  // BM25 beats random search by far on template queries built from the item text.
  assert.ok(rep.results.bm25.overall['recall@30'].mean > 5 * rep.results.randomSearch.overall['recall@30'].mean + 0.05);
  assert.deepEqual(evaluateBaselines(data, { bootstrapIterations: 100, seed: 5 }), rep);
  const other = evaluateBaselines(data, { bootstrapIterations: 100, seed: 6 });
  assert.equal(other.results.bm25.overall['recall@30'].mean, rep.results.bm25.overall['recall@30'].mean, 'BM25 itself is deterministic');
  const valid = evaluateBaselines(data, { bootstrapIterations: 20, split: 'valid', ks: [5] });
  assert.deepEqual(Object.keys(valid.results.popularity.overall).sort(), ['ndcg@5', 'recall@5']);
  assert.throws(() => evaluateBaselines(data, { ks: [0] }), /option ks/);
  assert.throws(() => evaluateBaselines(data, { split: 'train' as 'test' }), /option split/);
  assert.throws(() => buildBm25Index(['a'], { b: 2 }), /option b must be in \[0, 1\]/);
});

const ML_DIR = movieLensSmallDir();
const hasMl = existsSync(resolve(ML_DIR, 'ratings.csv'));

test('ml-latest-small: BM25 and popularity beat random', { skip: hasMl ? false : `MovieLens data not found in ${ML_DIR} (set MOVIELENS_DIR)` }, () => {
  // Three queries per item (one test query each) keep the test quick; the reported figures use 10.
  const data = prepareData({ dataset: 'ml-latest-small', dir: ML_DIR, queriesPerItem: 3 });
  const rep = evaluateBaselines(data, { bootstrapIterations: 100 });
  const r = (t: { overall: Record<string, { mean: number; lo: number }> }) => t.overall['recall@30'];
  assert.ok(r(rep.results.bm25).lo > 10 * r(rep.results.randomSearch).mean, `bm25 ${r(rep.results.bm25).mean} vs random ${r(rep.results.randomSearch).mean}`);
  assert.ok(r(rep.results.popularity).lo > 5 * r(rep.results.randomRec).mean, `popularity ${r(rep.results.popularity).mean} vs random ${r(rep.results.randomRec).mean}`);
});
