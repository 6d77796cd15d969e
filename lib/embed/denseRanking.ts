/**
 * Dense ranking over item embeddings: items by cosine to a query vector, users as the recency-weighted
 * mean of their last H history items (history items excluded). Used by the bi-encoder's early stopping
 * and by the embedding-level evaluation in lib/eval/retrieval.ts.
 */
import { tf } from '../backend/index';
import type { RecExample, SearchQuery } from '../types';
import { hitsAtK } from '../util/metrics';
import { l2NormalizeRows } from '../util/vectors';

/** The part of an embedding model dense ranking reads (any EmbeddingModel satisfies it). */
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
    throw new Error(`topKCosine: array lengths ${queries.length}, ${items.length} not multiples of dim ${dim}`);
  }
  const nq = queries.length / dim;
  const n = items.length / dim;
  const q = l2NormalizeRows(queries.slice(), dim);
  const it = l2NormalizeRows(items.slice(), dim);
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
  if (!(H >= 1)) throw new Error(`userVectors: option historyLength must be >= 1, got ${o.historyLength}`);
  if (!(decay > 0 && decay <= 1)) throw new Error(`userVectors: option recencyDecay must be in (0, 1], got ${o.recencyDecay}`);
  const unit = l2NormalizeRows(vectors.slice(), dim);
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
  if (!model.encodeQueries) throw new Error(`searchRankings: strategy ${model.strategy ?? '?'} has no query encoder`);
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
