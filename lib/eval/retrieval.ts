/**
 * Embedding-level dense retrieval evaluation (the reference the generative numbers are read against).
 * Search: each test query is encoded by the strategy's own query encoder and items are ranked by
 * cosine. Rec: the user vector is the recency-weighted mean of the last H history item vectors; items
 * already in the history are excluded. Recall@K and NDCG@K with bootstrap intervals, overall and per
 * popularity bucket of the target item. Strategies without a text side (CF) get `search: null` with
 * the reason: there is no principled query encoder for them, and inventing one would blur the table.
 */
import { recRankings, searchRankings, type RecUserOptions, type RetrievalModel } from '../embed/denseRanking';
import type { PreparedData } from '../types';
import { summarizeTask, type TaskResult } from './summary';

export type { RecUserOptions, RetrievalModel } from '../embed/denseRanking';

export interface RetrievalOptions extends RecUserOptions {
  ks?: number[];
  bootstrapIterations?: number;
  seed?: number;
  /** Evaluate on this split. Default 'test'. */
  split?: 'valid' | 'test';
  /** Cap on examples per task (first n, for quick checks). Default all. */
  maxExamples?: number;
}

export type { MetricSet, TaskResult } from './summary';

export interface RetrievalReport {
  strategy: string;
  split: string;
  search: TaskResult | null;
  /**
   * Per search query of the split (in its order, the first `maxExamples`): the 0-based rank of its
   * target in the top max(ks), or -1. What pairs dense search with other rankers on the same queries
   * and splits it by query style.
   */
  searchRanks?: number[];
  searchMissing?: string;
  rec: TaskResult;
  settings: { ks: number[]; historyLength: number; recencyDecay: number };
}

export async function evaluateRetrieval(model: RetrievalModel, data: PreparedData, o: RetrievalOptions = {}): Promise<RetrievalReport> {
  const ks = o.ks ?? [10, 30];
  const kMax = Math.max(...ks);
  const split = o.split ?? 'test';
  const iterations = o.bootstrapIterations ?? 1000;
  const seed = o.seed ?? 12345;
  const cap = o.maxExamples ?? Infinity;
  const numItems = data.dataset.items.length;
  if (model.vectors.length !== numItems * model.dim) {
    throw new Error(`evaluateRetrieval: model has ${model.vectors.length / model.dim} vectors, data has ${numItems} items`);
  }
  const queries = data.queries[split].slice(0, cap);
  const recExamples = data.rec[split].slice(0, cap);
  let search: TaskResult | null = null;
  let searchRanks: number[] | undefined;
  let searchMissing: string | undefined;
  if (model.encodeQueries) {
    const rankings = searchRankings(model, queries, kMax);
    search = summarizeTask(rankings, queries.map((q) => q.item), data, ks, { iterations, seed, clusters: queries.map((q) => q.item) });
    searchRanks = queries.map((q, i) => Array.prototype.indexOf.call(rankings[i], q.item));
  } else {
    searchMissing = `strategy ${model.strategy ?? '?'} has no text side: its item vectors come from interactions only, so there is no query encoder`;
  }
  const historyLength = o.historyLength ?? 20;
  const recencyDecay = o.recencyDecay ?? 0.9;
  const recR = recRankings(model.vectors, model.dim, recExamples, kMax, { historyLength, recencyDecay });
  const rec = summarizeTask(recR, recExamples.map((e) => e.target), data, ks, { iterations, seed, clusters: recExamples.map((e) => e.user) });
  return { strategy: model.strategy ?? '?', split, search, ...(searchRanks ? { searchRanks } : {}), searchMissing, rec, settings: { ks, historyLength, recencyDecay } };
}
