/**
 * Non-generative baselines for the evaluation tables, in the same TaskResult shape as dense retrieval
 * (lib/eval/retrieval.ts) so they sit beside it and the generative model:
 * - search: BM25 over item texts, and a seeded random ranking (expected Recall@K = K / numItems);
 * - rec: most-popular by training count, a seeded random ranking, item-to-item co-occurrence (Markov)
 *   and item-kNN (lib/baselines/sequentialBaselines.ts: hyper-parameters chosen on validation); all skip
 *   history items.
 * Recall@K and NDCG@K with 95% bootstrap intervals, overall and by popularity bucket of the target.
 */
import type { PreparedData, RecExample } from '../types';
import { Rng } from '../util/random';
import { buildBm25Index, bm25Search, type Bm25Options } from './bm25';
import { popularityRankings } from './popularity';
import { sequentialBaselineRankings, type Selection } from './sequentialBaselines';
import type { CooccurrenceParams } from './cooccurrence';
import type { ItemKnnParams } from './itemKnn';
import { summarizeTask, type TaskResult } from '../eval/summary';


export interface BaselineOptions {
  /** Cut-offs (default [10, 30]). */
  ks?: number[];
  bootstrapIterations?: number;
  /** Seed of the random baselines and of the bootstrap (default 12345, as retrieval.ts). */
  seed?: number;
  /** Evaluate on this split. Default 'test'. */
  split?: 'valid' | 'test';
  /** BM25 parameters (default k1 = 1.2, b = 0.75). */
  bm25?: Bm25Options;
}

export interface BaselineReport {
  /** BM25 search over item texts. */
  bm25: TaskResult;
  random: { search: TaskResult; rec: TaskResult };
  /** Most-popular recommendation. */
  popularity: TaskResult;
  /** Directed next-item co-occurrence over the last items of the history. */
  cooccurrence: TaskResult;
  /** Item-based kNN, cosine over the training interactions. */
  itemKnn: TaskResult;
  /** The settings of the two tuned baselines, chosen on validation. */
  selection: { cooccurrence: Selection<CooccurrenceParams>; itemKnn: Selection<ItemKnnParams> };
}

/**
 * `count` rankings of k distinct items drawn uniformly at random, each in random order, minus the
 * items `exclude(row)` lists. A partial Fisher-Yates shuffle over one permutation that persists
 * across rows: O(k) per row when little is excluded.
 */
export function randomRankings(
  numItems: number,
  count: number,
  k: number,
  seed: number,
  exclude?: (row: number) => ArrayLike<number> | null,
): Int32Array[] {
  if (!(Number.isInteger(numItems) && numItems >= 1)) throw new Error(`lib/baselines/baselines.ts: randomRankings numItems must be an integer >= 1, got ${numItems}`);
  if (!(Number.isInteger(k) && k >= 1)) throw new Error(`lib/baselines/baselines.ts: randomRankings k must be an integer >= 1, got ${k}`);
  const rng = new Rng(seed);
  const perm = new Int32Array(numItems);
  for (let i = 0; i < numItems; i++) perm[i] = i;
  const stamp = new Int32Array(numItems).fill(-1);
  const out: Int32Array[] = [];
  for (let r = 0; r < count; r++) {
    const ex = exclude ? exclude(r) : null;
    if (ex) for (let j = 0; j < ex.length; j++) stamp[ex[j]] = r;
    const row: number[] = [];
    for (let i = 0; i < numItems && row.length < k; i++) {
      const j = i + rng.int(numItems - i);
      const t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
      if (stamp[perm[i]] !== r) row.push(perm[i]);
    }
    out.push(Int32Array.from(row));
  }
  return out;
}


/** BM25 top-k items for each query text, over the items' `text`. */
function bm25Rankings(data: Pick<PreparedData, 'dataset'>, queries: string[], k: number, opts: Bm25Options = {}): Int32Array[] {
  const index = buildBm25Index(data.dataset.items.map((it) => it.text), opts);
  return bm25Search(index, queries, k);
}

export function evaluateBaselines(data: PreparedData, opts: BaselineOptions = {}): BaselineReport {
  const ks = opts.ks ?? [10, 30];
  if (ks.length === 0 || !ks.every((k) => Number.isInteger(k) && k >= 1)) {
    throw new Error(`lib/baselines/baselines.ts: option ks must be a non-empty list of integers >= 1, got ${JSON.stringify(opts.ks)}`);
  }
  const split = opts.split ?? 'test';
  if (split !== 'test' && split !== 'valid') throw new Error(`lib/baselines/baselines.ts: option split must be 'valid' or 'test', got ${JSON.stringify(opts.split)}`);
  const iterations = opts.bootstrapIterations ?? 1000;
  const seed = opts.seed ?? 12345;
  const kMax = Math.max(...ks);
  const numItems = data.dataset.items.length;
  if (data.buckets.counts.length !== numItems) {
    throw new Error(`lib/baselines/baselines.ts: buckets.counts has ${data.buckets.counts.length} entries, data set has ${numItems} items`);
  }
  const queries = data.queries[split];
  const examples: RecExample[] = data.rec[split];
  const queryTargets = queries.map((q) => q.item);
  const recTargets = examples.map((e) => e.target);
  const summarize = (r: Int32Array[], t: number[]) => summarizeTask(r, t, data, ks, { iterations, seed });

  const bm25 = summarize(bm25Rankings(data, queries.map((q) => q.text), kMax, opts.bm25), queryTargets);
  const popularity = summarize(popularityRankings(data.buckets.counts, examples, kMax), recTargets);
  // Distinct streams for the two random baselines, both fixed by the seed.
  const randomSearch = summarize(randomRankings(numItems, queries.length, kMax, (seed ^ 0x5ea4c4) >>> 0), queryTargets);
  const randomRec = summarize(randomRankings(numItems, examples.length, kMax, (seed ^ 0x4ec0) >>> 0, (r) => examples[r].history), recTargets);
  const seq = sequentialBaselineRankings(data, split, kMax, kMax);
  const cooccurrence = summarize(seq.cooccurrence.rankings, recTargets);
  const itemKnn = summarize(seq.itemKnn.rankings, recTargets);
  const selection = { cooccurrence: seq.cooccurrence.selection, itemKnn: seq.itemKnn.selection };
  return { bm25, random: { search: randomSearch, rec: randomRec }, popularity, cooccurrence, itemKnn, selection };
}
