/**
 * Cross-task fusion of two item embeddings (typically search-tuned + rec-based):
 * - Fused Concat: L2-normalise each, concatenate (each half keeps equal weight).
 * - Fused SVD: L2-normalise each, reduce the wider one to the narrower one's dimension with a
 *   truncated SVD of its item matrix (projection onto the top right singular vectors), normalise the
 *   reduced vectors, and add.
 * Queries: a side with a query encoder encodes the query into its part (through the same SVD
 * projection when that side was reduced); a side without one (CF) contributes zeros, so search
 * ranks by the text side's similarity while rec uses the fused item vectors.
 * Separate (two ID spaces) needs no fusion: keep the pair as it is.
 */
import { randomizedSvd, denseOperator } from './svd';
import { l2NormalizeRows, type EmbeddingModel } from './embeddingModel';

function normalized(m: EmbeddingModel): Float32Array {
  return l2NormalizeRows(m.vectors.slice(), m.dim);
}

function checkPair(where: string, a: EmbeddingModel, b: EmbeddingModel): void {
  if (a.numItems !== b.numItems) throw new Error(`lib/embed/fusion.ts ${where}: ${a.numItems} items vs ${b.numItems}`);
}

export function fusedConcat(a: EmbeddingModel, b: EmbeddingModel): EmbeddingModel {
  checkPair('fusedConcat', a, b);
  const n = a.numItems;
  const dim = a.dim + b.dim;
  const va = normalized(a);
  const vb = normalized(b);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    out.set(va.subarray(i * a.dim, (i + 1) * a.dim), i * dim);
    out.set(vb.subarray(i * b.dim, (i + 1) * b.dim), i * dim + a.dim);
  }
  const hasQuery = !!(a.encodeQueries || b.encodeQueries);
  return {
    strategy: 'fused-concat',
    vectors: out,
    dim,
    numItems: n,
    encodeQueries: hasQuery
      ? (texts: string[]) => {
          const q = new Float32Array(texts.length * dim);
          const qa = a.encodeQueries ? l2NormalizeRows(a.encodeQueries(texts), a.dim) : null;
          const qb = b.encodeQueries ? l2NormalizeRows(b.encodeQueries(texts), b.dim) : null;
          for (let i = 0; i < texts.length; i++) {
            if (qa) q.set(qa.subarray(i * a.dim, (i + 1) * a.dim), i * dim);
            if (qb) q.set(qb.subarray(i * b.dim, (i + 1) * b.dim), i * dim + a.dim);
          }
          return q;
        }
      : undefined,
    info: { method: 'fused-concat', parts: [a.strategy, b.strategy], dims: [a.dim, b.dim], dim },
  };
}

export interface FusedSvdOptions {
  seed?: number;
  powerIterations?: number;
}

export function fusedSvd(a: EmbeddingModel, b: EmbeddingModel, o: FusedSvdOptions = {}): EmbeddingModel {
  checkPair('fusedSvd', a, b);
  const n = a.numItems;
  const [wide, narrow] = a.dim >= b.dim ? [a, b] : [b, a];
  const k = narrow.dim;
  const vw = normalized(wide);
  const vn = normalized(narrow);
  // Projection of the wide side onto its top-k right singular vectors: reduced = X V = U S.
  const reduce = wide.dim > k;
  const svd = reduce ? randomizedSvd(denseOperator(vw, n, wide.dim), k, { seed: o.seed ?? 1, powerIterations: o.powerIterations ?? 6 }) : null;
  const project = (x: Float32Array, rows: number): Float32Array => {
    if (!svd) return x;
    const out = new Float32Array(rows * k);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < wide.dim; c++) {
        const v = x[r * wide.dim + c];
        if (v === 0) continue;
        for (let j = 0; j < k; j++) out[r * k + j] += v * svd.v[c * k + j];
      }
    }
    return l2NormalizeRows(out, k);
  };
  const reduced = project(vw, n);
  const out = new Float32Array(n * k);
  for (let i = 0; i < out.length; i++) out[i] = reduced[i] + vn[i];
  let retained = 0;
  let total = 0;
  if (svd) {
    for (const s of svd.s) retained += s * s;
    for (let i = 0; i < vw.length; i++) total += vw[i] * vw[i];
  }
  const hasQuery = !!(wide.encodeQueries || narrow.encodeQueries);
  return {
    strategy: 'fused-svd',
    vectors: out,
    dim: k,
    numItems: n,
    encodeQueries: hasQuery
      ? (texts: string[]) => {
          const q = new Float32Array(texts.length * k);
          if (wide.encodeQueries) {
            const qw = project(l2NormalizeRows(wide.encodeQueries(texts), wide.dim), texts.length);
            for (let i = 0; i < q.length; i++) q[i] += qw[i];
          }
          if (narrow.encodeQueries) {
            const qn = l2NormalizeRows(narrow.encodeQueries(texts), k);
            for (let i = 0; i < q.length; i++) q[i] += qn[i];
          }
          return q;
        }
      : undefined,
    info: {
      method: 'fused-svd',
      parts: [a.strategy, b.strategy],
      dims: [a.dim, b.dim],
      reduced: reduce ? wide.strategy : null,
      dim: k,
      retainedEnergy: svd && total > 0 ? retained / total : 1,
    },
  };
}
