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

export interface SequentialBaselineRankings {
  cooccurrence: { rankings: Int32Array[]; selection: Selection<CooccurrenceParams> };
  itemKnn: { rankings: Int32Array[]; selection: Selection<ItemKnnParams> };
}

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

/**
 * Rankings of `split`'s examples by both baselines, each with the setting chosen on validation.
 * `kMax` is the ranking length, `selectK` the cut-off of the selection metric.
 */
export function sequentialBaselineRankings(
  data: Pick<PreparedData, 'dataset' | 'rec' | 'buckets'>,
  split: 'valid' | 'test',
  kMax: number,
  selectK: number,
  grids: { cooccurrence?: CooccurrenceParams[]; itemKnn?: ItemKnnParams[] } = {},
): SequentialBaselineRankings {
  const numItems = data.dataset.items.length;
  const order = popularityOrder(data.buckets.counts);
  const valid = data.rec.valid;
  const examples = data.rec[split];

  const transitions = fitTransitions(data.rec.train, numItems);
  const coRank = (ex: RecExample[], p: CooccurrenceParams) => cooccurrenceRankings(transitions, order, ex, kMax, p);
  const coSel = selectOnValidation(grids.cooccurrence ?? COOCCURRENCE_GRID, valid, selectK, coRank);

  const knnGrid = grids.itemKnn ?? ITEM_KNN_GRID;
  const neighbours = fitItemNeighbours(data.rec.train, numItems, Math.max(...knnGrid.map((p) => p.neighbours)));
  const knnRank = (ex: RecExample[], p: ItemKnnParams) => itemKnnRankings(neighbours, order, ex, kMax, p);
  const knnSel = selectOnValidation(knnGrid, valid, selectK, knnRank);

  return {
    cooccurrence: { rankings: coRank(examples, coSel.chosen), selection: coSel },
    itemKnn: { rankings: knnRank(examples, knnSel.chosen), selection: knnSel },
  };
}
