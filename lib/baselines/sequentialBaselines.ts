/**
 * The co-occurrence and item-kNN baselines with their hyper-parameters chosen on the validation
 * split only: both are fitted once on the training prefixes, every setting of a small grid ranks the
 * validation examples (history = training prefix, target = the second-last item), the setting with the
 * highest validation Recall@K (K = the largest cut-off; ties: the earlier setting of the grid, the
 * simpler one) is kept, and the test examples are ranked once with it. Test targets never enter the
 * choice.
 */
import type { PreparedData, RecExample } from '../types';
import { hitsAtK } from '../util/metrics';
import { cooccurrenceRankings, fitTransitions, type CooccurrenceParams } from './cooccurrence';
import { fitItemNeighbours, itemKnnRankings, type ItemKnnParams } from './itemKnn';
import { popularityOrder } from './popularity';

/** Grid order is simplest first: fewer history items, then stronger decay / fewer neighbours. */
const COOCCURRENCE_GRID: CooccurrenceParams[] = [1, 2, 3, 5, 10, 20, 50].flatMap((lastItems) =>
  (lastItems === 1 ? [1] : [0.2, 0.4, 0.6, 0.8, 1]).map((decay) => ({ lastItems, decay })),
);
const ITEM_KNN_GRID: ItemKnnParams[] = [20, 50, 100, 200, 500].flatMap((neighbours) => [5, 20, 0].map((recentItems) => ({ neighbours, recentItems })));

export interface Selection<P> {
  chosen: P;
  /** Validation Recall@K of the chosen setting. */
  validRecall: number;
  metric: string;
  /** Every setting tried with its validation Recall@K, in grid order. */
  grid: { params: P; validRecall: number }[];
}

export interface TunedRankings<P> {
  rankings: Int32Array[];
  selection: Selection<P>;
}

export interface SequentialBaselineRankings {
  cooccurrence: TunedRankings<CooccurrenceParams>;
  itemKnn: TunedRankings<ItemKnnParams>;
}

type SequentialData = Pick<PreparedData, 'dataset' | 'rec' | 'buckets'>;

function meanOf(v: Float64Array): number {
  let s = 0;
  for (const x of v) s += x;
  return v.length ? s / v.length : 0;
}

/** Picks the grid setting with the best validation recall; earlier settings win ties. */
export function selectOnValidation<P>(grid: P[], valid: RecExample[], k: number, rank: (examples: RecExample[], p: P) => Int32Array[]): Selection<P> {
  if (grid.length === 0) throw new Error('lib/baselines/sequentialBaselines.ts: empty grid');
  const targets = valid.map((e) => e.target);
  const tried = grid.map((params) => ({ params, validRecall: meanOf(hitsAtK(rank(valid, params), targets, k)) }));
  let best = tried[0];
  for (const t of tried) if (t.validRecall > best.validRecall) best = t;
  return { chosen: best.params, validRecall: best.validRecall, metric: `recall@${k}`, grid: tried };
}

/** Co-occurrence rankings of `split`'s examples with the setting chosen on validation (`selectK`: the selection metric's cut-off). */
export function cooccurrenceBaseline(data: SequentialData, split: 'valid' | 'test', kMax: number, selectK: number, grid = COOCCURRENCE_GRID): TunedRankings<CooccurrenceParams> {
  const order = popularityOrder(data.buckets.counts);
  const transitions = fitTransitions(data.rec.train, data.dataset.items.length);
  const rank = (ex: RecExample[], p: CooccurrenceParams) => cooccurrenceRankings(transitions, order, ex, kMax, p);
  const selection = selectOnValidation(grid, data.rec.valid, selectK, rank);
  return { rankings: rank(data.rec[split], selection.chosen), selection };
}

/** Item-kNN rankings of `split`'s examples with the setting chosen on validation. */
export function itemKnnBaseline(data: SequentialData, split: 'valid' | 'test', kMax: number, selectK: number, grid = ITEM_KNN_GRID): TunedRankings<ItemKnnParams> {
  const order = popularityOrder(data.buckets.counts);
  const neighbours = fitItemNeighbours(data.rec.train, data.dataset.items.length, Math.max(...grid.map((p) => p.neighbours)));
  const rank = (ex: RecExample[], p: ItemKnnParams) => itemKnnRankings(neighbours, order, ex, kMax, p);
  const selection = selectOnValidation(grid, data.rec.valid, selectK, rank);
  return { rankings: rank(data.rec[split], selection.chosen), selection };
}

/** Both sequential baselines' rankings of `split`'s examples, each with the setting chosen on validation. */
export function sequentialBaselineRankings(
  data: SequentialData,
  split: 'valid' | 'test',
  kMax: number,
  selectK: number,
  grids: { cooccurrence?: CooccurrenceParams[]; itemKnn?: ItemKnnParams[] } = {},
): SequentialBaselineRankings {
  return { cooccurrence: cooccurrenceBaseline(data, split, kMax, selectK, grids.cooccurrence), itemKnn: itemKnnBaseline(data, split, kMax, selectK, grids.itemKnn) };
}
