/**
 * Non-generative baselines for the evaluation tables, in the same TaskResult shape as dense retrieval
 * (lib/eval/retrieval.ts) so they sit beside it and the generative model:
 * - search: BM25 over item texts, and a seeded random ranking (expected Recall@K = K / numItems);
 * - rec: most-popular by training count, a seeded random ranking, item-to-item co-occurrence (Markov)
 *   and item-kNN (lib/baselines/sequentialBaselines.ts: hyper-parameters chosen on validation); all skip
 *   history items.
 * Recall@K and NDCG@K with 95% bootstrap intervals, overall and by popularity bucket of the target.
 */
import type { PreparedData, RecExample, Task } from '../types';
import { Rng } from '../util/random';
import { buildBm25Index, bm25Search, type Bm25Index, type Bm25Options } from './bm25';
import { popularityRankings } from './popularity';
import { cooccurrenceBaseline, itemKnnBaseline, type Selection, type TunedRankings } from './sequentialBaselines';
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

/** What a baseline fits on and ranks: the prepared data, the split it is scored on, the ranking length. */
export interface BaselineInput {
  data: PreparedData;
  split: 'valid' | 'test';
  kMax: number;
  /** Seed of the baseline's randomness (the random rankings). */
  seed: number;
  bm25?: Bm25Options;
}

/**
 * A baseline: fitted on the training data (its settings chosen on validation, where it has any),
 * then ranking the split's examples. `F` is what it fits.
 */
export interface Baseline<F = unknown> {
  /** Its key in BaselineReport (and in results.json's baselineSelection, when it chooses settings). */
  name: string;
  /** The method's name in tables and figures. */
  label: string;
  task: Task;
  /** Also a row of the last-n table (the rec baselines that read a user's history). */
  lastN: boolean;
  /** A chance-level reference (listed after the real baselines). */
  chance?: boolean;
  fit(input: BaselineInput): F;
  /** The top kMax items for each of the split's examples of its task (history items left out). */
  rank(fitted: F, input: BaselineInput): Int32Array[];
  /** The settings it chose on validation, where it chooses any. */
  selection?(fitted: F): Selection<unknown>;
}

/** Every untrained baseline's result and the settings the tuned ones chose, by baseline name. */
export interface BaselineReport {
  results: Record<string, TaskResult>;
  selection: Record<string, Selection<unknown>>;
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


const recExamples = (i: BaselineInput): RecExample[] => i.data.rec[i.split];
const queriesOf = (i: BaselineInput) => i.data.queries[i.split];

const bm25: Baseline<Bm25Index> = {
  name: 'bm25',
  label: 'BM25',
  task: 'search',
  lastN: false,
  fit: (i) => buildBm25Index(i.data.dataset.items.map((it) => it.text), i.bm25),
  rank: (index, i) => bm25Search(index, queriesOf(i).map((q) => q.text), i.kMax),
};

const popularity: Baseline<null> = {
  name: 'popularity',
  label: 'Popularity',
  task: 'rec',
  lastN: true,
  fit: () => null,
  rank: (_, i) => popularityRankings(i.data.buckets.counts, recExamples(i), i.kMax),
};

/** A baseline of sequentialBaselines.ts: its fit ranks the split with the setting chosen on validation. */
function tuned<P>(name: string, label: string, fit: (i: BaselineInput) => TunedRankings<P>): Baseline<TunedRankings<P>> {
  return { name, label, task: 'rec', lastN: true, fit, rank: (fitted) => fitted.rankings, selection: (fitted) => fitted.selection };
}

/** Uniformly random rankings; the two tasks draw distinct streams, both fixed by the seed. */
const randomSearch: Baseline<null> = {
  name: 'randomSearch',
  label: 'Random',
  task: 'search',
  lastN: false,
  chance: true,
  fit: () => null,
  rank: (_, i) => randomRankings(i.data.dataset.items.length, queriesOf(i).length, i.kMax, (i.seed ^ 0x5ea4c4) >>> 0),
};
const randomRec: Baseline<null> = {
  name: 'randomRec',
  label: 'Random',
  task: 'rec',
  lastN: false,
  chance: true,
  fit: () => null,
  rank: (_, i) => randomRankings(i.data.dataset.items.length, recExamples(i).length, i.kMax, (i.seed ^ 0x4ec0) >>> 0, (r) => recExamples(i)[r].history),
};

/** The untrained baselines, in the order of results.json's rows. Adding one: its module here and an entry in this list. */
export const UNTRAINED_BASELINES: readonly Baseline<any>[] = [
  bm25,
  popularity,
  tuned('cooccurrence', 'Co-occurrence', (i) => cooccurrenceBaseline(i.data, i.split, i.kMax, i.kMax)),
  tuned('itemKnn', 'Item-kNN', (i) => itemKnnBaseline(i.data, i.split, i.kMax, i.kMax)),
  randomSearch,
  randomRec,
];

export function evaluateBaselines(data: PreparedData, opts: BaselineOptions = {}): BaselineReport {
  const ks = opts.ks ?? [10, 30];
  if (ks.length === 0 || !ks.every((k) => Number.isInteger(k) && k >= 1)) {
    throw new Error(`lib/baselines/baselines.ts: option ks must be a non-empty list of integers >= 1, got ${JSON.stringify(opts.ks)}`);
  }
  const split = opts.split ?? 'test';
  if (split !== 'test' && split !== 'valid') throw new Error(`lib/baselines/baselines.ts: option split must be 'valid' or 'test', got ${JSON.stringify(opts.split)}`);
  const iterations = opts.bootstrapIterations ?? 1000;
  const seed = opts.seed ?? 12345;
  const numItems = data.dataset.items.length;
  if (data.buckets.counts.length !== numItems) {
    throw new Error(`lib/baselines/baselines.ts: buckets.counts has ${data.buckets.counts.length} entries, data set has ${numItems} items`);
  }
  const input: BaselineInput = { data, split, kMax: Math.max(...ks), seed, bm25: opts.bm25 };
  const targets = { search: data.queries[split].map((q) => q.item), rec: data.rec[split].map((e) => e.target) };
  // The bootstrap resamples whole clusters: a search target item's queries, a rec user's targets.
  const clusters = { search: targets.search, rec: data.rec[split].map((e) => e.user) };
  const report: BaselineReport = { results: {}, selection: {} };
  for (const b of UNTRAINED_BASELINES) {
    const fitted = b.fit(input);
    report.results[b.name] = summarizeTask(b.rank(fitted, input), targets[b.task], data, ks, { iterations, seed, clusters: clusters[b.task] });
    if (b.selection) report.selection[b.name] = b.selection(fitted);
  }
  return report;
}
