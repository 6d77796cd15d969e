/**
 * Embedding-level dense retrieval evaluation (the reference the generative numbers are read against).
 * Search: each test query is encoded by the strategy's own query encoder and items are ranked by
 * cosine. Rec: the user vector is the recency-weighted mean of the last H history item vectors; items
 * already in the history are excluded. Recall@K and NDCG@K with bootstrap intervals, overall and per
 * popularity bucket of the target item. Strategies without a text side (CF) get `search: null` with
 * the reason: there is no principled query encoder for them, and inventing one would blur the table.
 */
import { tf } from '../backend/index';
import type { PreparedData, RecExample, SearchQuery } from '../types';
import { hitsAtK } from './metrics';
import { summarizeTask, type TaskResult } from './summary';

/** The part of an embedding model this module reads (same shape as lib/embed/embeddingModel.ts EmbeddingModel). */
export interface RetrievalModel {
  strategy?: string;
  vectors: Float32Array;
  dim: number;
  encodeQueries?(texts: string[]): Float32Array;
}

export interface RecUserOptions {
  /** Last H history items averaged into the user vector. Default 20. */
  historyLength?: number;
  /** Weight of the item j steps before the last: decay^j. 1 = plain mean. Default 0.9. */
  recencyDecay?: number;
}

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
  searchMissing?: string;
  rec: TaskResult;
  settings: { ks: number[]; historyLength: number; recencyDecay: number };
}

function normalizedCopy(x: Float32Array, d: number): Float32Array {
  const out = x.slice();
  const n = out.length / d;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += out[i * d + j] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < d; j++) out[i * d + j] *= inv;
  }
  return out;
}

/**
 * Top-k items by cosine for each query row. `exclude(row)` lists items that must not be returned.
 * Scores are computed with a tf matmul against the materialised [d, N] transpose (the fast path).
 */
export function topKCosine(
  queries: Float32Array,
  items: Float32Array,
  dim: number,
  k: number,
  exclude?: (row: number) => ArrayLike<number> | null,
  batch = 256,
): Int32Array[] {
  if (queries.length % dim !== 0 || items.length % dim !== 0) {
    throw new Error(`lib/eval/retrieval.ts topKCosine: array lengths ${queries.length}, ${items.length} not multiples of dim ${dim}`);
  }
  const nq = queries.length / dim;
  const n = items.length / dim;
  const q = normalizedCopy(queries, dim);
  const it = normalizedCopy(items, dim);
  const itemsT = tf.tidy(() => tf.transpose(tf.tensor2d(it, [n, dim])));
  const out: Int32Array[] = [];
  const kk = Math.min(k, n);
  try {
    for (let s = 0; s < nq; s += batch) {
      const e = Math.min(nq, s + batch);
      const scores = tf.tidy(() => tf.matMul(tf.tensor2d(q.subarray(s * dim, e * dim), [e - s, dim]), itemsT as tf.Tensor2D));
      const sc = scores.dataSync() as Float32Array;
      scores.dispose();
      for (let r = 0; r < e - s; r++) {
        const row = sc.subarray(r * n, (r + 1) * n);
        const ex = exclude ? exclude(s + r) : null;
        if (ex) for (let j = 0; j < ex.length; j++) row[ex[j]] = -Infinity;
        out.push(selectTopK(row, kk));
      }
    }
  } finally {
    itemsT.dispose();
  }
  return out;
}

/** Indices of the k largest finite values, best first (ties: lower index first). */
export function selectTopK(row: Float32Array, k: number): Int32Array {
  const idx = new Int32Array(k).fill(-1);
  const val = new Float64Array(k).fill(-Infinity);
  let count = 0;
  for (let j = 0; j < row.length; j++) {
    const v = row[j];
    if (v === -Infinity || Number.isNaN(v)) continue;
    if (count === k && v <= val[k - 1]) continue;
    let p = count < k ? count++ : k - 1;
    while (p > 0 && val[p - 1] < v) {
      val[p] = val[p - 1];
      idx[p] = idx[p - 1];
      p--;
    }
    val[p] = v;
    idx[p] = j;
  }
  return count < k ? idx.slice(0, count) : idx;
}

/** User vectors [examples, dim] from histories (recency-weighted mean of the last H items). */
export function userVectors(vectors: Float32Array, dim: number, examples: RecExample[], o: RecUserOptions = {}): Float32Array {
  const H = o.historyLength ?? 20;
  const decay = o.recencyDecay ?? 0.9;
  if (!(H >= 1)) throw new Error(`lib/eval/retrieval.ts: option historyLength must be >= 1, got ${o.historyLength}`);
  if (!(decay > 0 && decay <= 1)) throw new Error(`lib/eval/retrieval.ts: option recencyDecay must be in (0, 1], got ${o.recencyDecay}`);
  const unit = normalizedCopy(vectors, dim);
  const out = new Float32Array(examples.length * dim);
  examples.forEach((ex, r) => {
    const h = ex.history;
    let w = 1;
    for (let j = h.length - 1; j >= Math.max(0, h.length - H); j--) {
      const base = h[j] * dim;
      for (let c = 0; c < dim; c++) out[r * dim + c] += w * unit[base + c];
      w *= decay;
    }
  });
  return out;
}

export function searchRankings(model: RetrievalModel, queries: SearchQuery[], k: number): Int32Array[] {
  if (!model.encodeQueries) throw new Error(`lib/eval/retrieval.ts: strategy ${model.strategy ?? '?'} has no query encoder`);
  const qv = model.encodeQueries(queries.map((q) => q.text));
  return topKCosine(qv, model.vectors, model.dim, k);
}

export function recRankings(vectors: Float32Array, dim: number, examples: RecExample[], k: number, o: RecUserOptions = {}): Int32Array[] {
  const uv = userVectors(vectors, dim, examples, o);
  return topKCosine(uv, vectors, dim, k, (r) => examples[r].history);
}

/** Mean Recall@k (no intervals): the cheap number used for early stopping. */
export function meanRecall(rankings: Int32Array[], targets: ArrayLike<number>, k: number): number {
  const h = hitsAtK(rankings, targets, k);
  let s = 0;
  for (let i = 0; i < h.length; i++) s += h[i];
  return h.length ? s / h.length : 0;
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
    throw new Error(`lib/eval/retrieval.ts: model has ${model.vectors.length / model.dim} vectors, data has ${numItems} items`);
  }
  const queries = data.queries[split].slice(0, cap);
  const recExamples = data.rec[split].slice(0, cap);
  let search: TaskResult | null = null;
  let searchMissing: string | undefined;
  if (model.encodeQueries) {
    search = summarizeTask(searchRankings(model, queries, kMax), queries.map((q) => q.item), data, ks, iterations, seed);
  } else {
    searchMissing = `strategy ${model.strategy ?? '?'} has no text side: its item vectors come from interactions only, so there is no query encoder`;
  }
  const historyLength = o.historyLength ?? 20;
  const recencyDecay = o.recencyDecay ?? 0.9;
  const recR = recRankings(model.vectors, model.dim, recExamples, kMax, { historyLength, recencyDecay });
  const rec = summarizeTask(recR, recExamples.map((e) => e.target), data, ks, iterations, seed);
  return { strategy: model.strategy ?? '?', split, search, searchMissing, rec, settings: { ks, historyLength, recencyDecay } };
}
