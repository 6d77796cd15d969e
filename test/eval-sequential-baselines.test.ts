/**
 * Co-occurrence (Markov) and item-kNN baselines against brute-force computations from their
 * definitions on small hand-made data, and the validation-only choice of their settings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cooccurrenceRankings, fitTransitions, type CooccurrenceParams } from '../lib/baselines/cooccurrence';
import { fitItemNeighbours, itemKnnRankings, type ItemKnnParams } from '../lib/baselines/itemKnn';
import { popularityOrder } from '../lib/baselines/popularity';
import { selectOnValidation, sequentialBaselineRankings } from '../lib/baselines/sequentialBaselines';
import { evaluateBaselines } from '../lib/baselines/baselines';
import { prepareData } from '../lib/data/index';
import { getProfile } from '../lib/pipeline/profiles';
import type { RecExample, UserSequence } from '../lib/types';
import { Rng } from '../lib/util/random';

const NUM_ITEMS = 12;

/** Random training sequences of distinct items, and examples with random histories. */
function handMade(seed: number): { train: UserSequence[]; examples: RecExample[]; counts: Int32Array } {
  const rng = new Rng(seed);
  const train: UserSequence[] = [];
  for (let u = 0; u < 25; u++) {
    const len = 2 + rng.int(7);
    const items = Int32Array.from(rng.permutation(NUM_ITEMS).subarray(0, len));
    train.push({ user: u, items, timestamps: Float64Array.from(items, (_, i) => i) });
  }
  const counts = new Int32Array(NUM_ITEMS);
  for (const u of train) for (const it of u.items) counts[it]++;
  const examples: RecExample[] = Array.from({ length: 30 }, (_, r) => {
    const len = 1 + rng.int(6);
    const history = Int32Array.from(rng.permutation(NUM_ITEMS).subarray(0, len));
    return { user: 100 + r, history, target: 0 };
  });
  return { train, examples, counts };
}

/** All non-history items by (score desc, popularity order): the documented ranking, from dense scores. */
function bruteRanking(scores: number[], history: ArrayLike<number>, counts: Int32Array, k: number): number[] {
  const popRank = new Map<number, number>();
  popularityOrder(counts).forEach((it, r) => popRank.set(it, r));
  const seen = new Set(Array.from(history));
  return scores
    .map((_, i) => i)
    .filter((i) => !seen.has(i))
    .sort((a, b) => (scores[b] - scores[a] > 1e-12 ? 1 : scores[a] - scores[b] > 1e-12 ? -1 : popRank.get(a)! - popRank.get(b)!))
    .slice(0, k);
}

test('co-occurrence rankings equal a brute-force Markov score over the last H items, decayed', () => {
  for (const seed of [1, 2, 3]) {
    const { train, examples, counts } = handMade(seed);
    // C[a][b]: how often b directly follows a, from the sequences themselves.
    const C = Array.from({ length: NUM_ITEMS }, () => new Array<number>(NUM_ITEMS).fill(0));
    for (const u of train) for (let t = 0; t + 1 < u.items.length; t++) C[u.items[t]][u.items[t + 1]]++;
    const model = fitTransitions(train, NUM_ITEMS);
    const order = popularityOrder(counts);
    for (const p of [{ lastItems: 1, decay: 1 }, { lastItems: 3, decay: 0.5 }, { lastItems: 10, decay: 0.8 }] as CooccurrenceParams[]) {
      const got = cooccurrenceRankings(model, order, examples, 8, p);
      examples.forEach((ex, r) => {
        const scores = new Array<number>(NUM_ITEMS).fill(0);
        const h = Array.from(ex.history);
        for (let j = 1; j <= Math.min(p.lastItems, h.length); j++) {
          for (let b = 0; b < NUM_ITEMS; b++) scores[b] += Math.pow(p.decay, j - 1) * C[h[h.length - j]][b];
        }
        assert.deepEqual(Array.from(got[r]), bruteRanking(scores, h, counts, 8), `seed ${seed} ${JSON.stringify(p)} example ${r}`);
      });
    }
  }
});

test('item-kNN rankings equal a brute-force cosine item-kNN over the training matrix', () => {
  for (const seed of [4, 5, 6]) {
    const { train, examples, counts } = handMade(seed);
    // Binary user x item matrix and cosine between item columns, from the definition.
    const M = train.map((u) => {
      const row = new Array<number>(NUM_ITEMS).fill(0);
      for (const it of u.items) row[it] = 1;
      return row;
    });
    const col = (i: number) => M.map((row) => row[i]);
    const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    const sim = (a: number, b: number) => {
      const va = col(a);
      const vb = col(b);
      const d = va.reduce((s, x, i) => s + x * vb[i], 0);
      return d === 0 ? 0 : d / (norm(va) * norm(vb));
    };
    const S = Array.from({ length: NUM_ITEMS }, (_, a) => Array.from({ length: NUM_ITEMS }, (_, b) => (a === b ? 0 : sim(a, b))));
    const model = fitItemNeighbours(train, NUM_ITEMS, 6);
    const order = popularityOrder(counts);
    for (const p of [{ neighbours: 2, recentItems: 0 }, { neighbours: 6, recentItems: 0 }, { neighbours: 4, recentItems: 2 }] as ItemKnnParams[]) {
      const got = itemKnnRankings(model, order, examples, 8, p);
      examples.forEach((ex, r) => {
        const h = Array.from(ex.history);
        const voters = p.recentItems > 0 ? h.slice(-p.recentItems) : h;
        const scores = new Array<number>(NUM_ITEMS).fill(0);
        for (const a of voters) {
          // a's neighbours: the p.neighbours most similar other items with a positive similarity, ties by lower index.
          const nbrs = S[a]
            .map((s, b) => ({ s, b }))
            .filter((x) => x.b !== a && x.s > 0)
            .sort((x, y) => (Math.abs(y.s - x.s) > 1e-12 ? y.s - x.s : x.b - y.b))
            .slice(0, p.neighbours);
          for (const { s, b } of nbrs) scores[b] += s;
        }
        const want = bruteRanking(scores, h, counts, 8);
        const mine = Array.from(got[r]);
        assert.equal(mine.length, want.length);
        // Same items in the same order, up to floating-point ties.
        for (let i = 0; i < want.length; i++) {
          assert.ok(Math.abs(scores[mine[i]] - scores[want[i]]) < 1e-9, `seed ${seed} ${JSON.stringify(p)} example ${r} position ${i}: ${mine} vs ${want}`);
          if (scores[want[i]] === 0) assert.equal(mine[i], want[i], 'unscored items follow popularity');
        }
      });
    }
  }
});

test('selection uses validation only: test targets do not change the chosen settings', () => {
  const data = prepareData(getProfile('tiny').data);
  const grids = {
    cooccurrence: [{ lastItems: 1, decay: 1 }, { lastItems: 5, decay: 0.6 }],
    itemKnn: [{ neighbours: 20, recentItems: 5 }, { neighbours: 50, recentItems: 0 }],
  };
  const a = sequentialBaselineRankings(data, 'test', 30, 30, grids);
  // Scramble the test targets: selection and the test rankings (which do not read targets) stay the same.
  const scrambled = { ...data, rec: { ...data.rec, test: data.rec.test.map((e) => ({ ...e, target: (e.target + 7) % data.dataset.items.length })) } };
  const b = sequentialBaselineRankings(scrambled, 'test', 30, 30, grids);
  assert.deepEqual(b.cooccurrence.selection, a.cooccurrence.selection);
  assert.deepEqual(b.itemKnn.selection, a.itemKnn.selection);
  assert.deepEqual(b.cooccurrence.rankings, a.cooccurrence.rankings);
  // Changing the validation targets does change the validation scores.
  const moved = { ...data, rec: { ...data.rec, valid: data.rec.valid.map((e) => ({ ...e, target: (e.target + 7) % data.dataset.items.length })) } };
  const c = sequentialBaselineRankings(moved, 'test', 30, 30, grids);
  assert.notDeepEqual(c.cooccurrence.selection.grid, a.cooccurrence.selection.grid);
  // The chosen setting is the grid's best on validation, the earlier one on a tie.
  const sel = selectOnValidation([1, 2, 3], data.rec.valid, 30, (ex, p) => ex.map((e) => (p === 1 ? Int32Array.of(-1) : Int32Array.of(e.target))));
  assert.equal(sel.chosen, 2);
  assert.equal(sel.validRecall, 1);
});

test('evaluateBaselines: co-occurrence and item-kNN on the same test users, history excluded, above popularity on the synthetic tastes', () => {
  const data = prepareData(getProfile('tiny').data);
  const rep = evaluateBaselines(data, { bootstrapIterations: 50 });
  assert.equal(rep.results.cooccurrence.n, data.rec.test.length);
  assert.equal(rep.results.itemKnn.n, data.rec.test.length);
  assert.ok(rep.results.cooccurrence.overall['recall@30'].mean > rep.results.popularity.overall['recall@30'].hi);
  assert.ok(rep.results.itemKnn.overall['recall@30'].mean > rep.results.popularity.overall['recall@30'].hi);
  const seq = sequentialBaselineRankings(data, 'test', 30, 30);
  for (const rankings of [seq.cooccurrence.rankings, seq.itemKnn.rankings]) {
    rankings.forEach((r, i) => {
      const h = new Set(data.rec.test[i].history);
      assert.equal(new Set(r).size, 30);
      for (const it of r) assert.ok(!h.has(it), 'history item ranked');
    });
  }
});
