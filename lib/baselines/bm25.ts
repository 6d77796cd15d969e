/**
 * Okapi BM25 over item texts: the lexical search baseline. Items and queries share one simple
 * tokenisation (lower-cased runs of unicode letters and digits). The index is an inverted file in
 * CSR form (typed arrays): per term, the items that contain it with a precomputed impact
 * idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avgLen)), so scoring a query only walks the
 * postings of its terms instead of the whole catalogue.
 *
 * idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5)) (the non-negative variant used by Lucene), so every
 * matching item scores > 0. A query term counts once per occurrence in the query (as in Lucene and
 * rank_bm25); terms absent from the catalogue are ignored.
 */

export interface Bm25Options {
  /** Term-frequency saturation. Default 1.2. */
  k1?: number;
  /** Length normalisation, 0 (none) .. 1 (full). Default 0.75. */
  b?: number;
  /** Tokeniser used for both items and queries. Default `bm25Tokens`. */
  tokenize?: (text: string) => string[];
}

export interface Bm25Index {
  numDocs: number;
  k1: number;
  b: number;
  avgDocLength: number;
  /** Tokens per document. */
  docLengths: Int32Array;
  /** Term string -> term id. */
  vocabulary: Map<string, number>;
  /** Documents containing each term. */
  docFreq: Int32Array;
  idf: Float64Array;
  /** Postings of term t: postingDocs/postingImpacts[termOffsets[t] .. termOffsets[t+1]), docs ascending. */
  termOffsets: Int32Array;
  postingDocs: Int32Array;
  postingImpacts: Float64Array;
  tokenize: (text: string) => string[];
}

/** Lower-cased runs of unicode letters and digits. */
export function bm25Tokens(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** BM25 idf, non-negative form. */
export function bm25Idf(numDocs: number, docFreq: number): number {
  return Math.log(1 + (numDocs - docFreq + 0.5) / (docFreq + 0.5));
}

export function buildBm25Index(docs: string[], opts: Bm25Options = {}): Bm25Index {
  const k1 = opts.k1 ?? 1.2;
  const b = opts.b ?? 0.75;
  const tokenize = opts.tokenize ?? bm25Tokens;
  if (!(Number.isFinite(k1) && k1 >= 0)) throw new Error(`lib/baselines/bm25.ts: option k1 must be a finite number >= 0, got ${opts.k1}`);
  if (!(b >= 0 && b <= 1)) throw new Error(`lib/baselines/bm25.ts: option b must be in [0, 1], got ${opts.b}`);
  const n = docs.length;
  if (n === 0) throw new Error('lib/baselines/bm25.ts: buildBm25Index needs at least one document');

  const vocabulary = new Map<string, number>();
  const docLengths = new Int32Array(n);
  // (term, tf) pairs per document, flattened; documents in order so postings come out docs-ascending.
  const pairTerm: number[] = [];
  const pairTf: number[] = [];
  const pairStart = new Int32Array(n + 1);
  let totalLength = 0;
  for (let d = 0; d < n; d++) {
    const toks = tokenize(docs[d]);
    docLengths[d] = toks.length;
    totalLength += toks.length;
    const tf = new Map<number, number>();
    for (const w of toks) {
      let t = vocabulary.get(w);
      if (t === undefined) {
        t = vocabulary.size;
        vocabulary.set(w, t);
      }
      tf.set(t, (tf.get(t) ?? 0) + 1);
    }
    for (const [t, c] of tf) {
      pairTerm.push(t);
      pairTf.push(c);
    }
    pairStart[d + 1] = pairTerm.length;
  }
  const avgDocLength = totalLength / n;
  const numTerms = vocabulary.size;
  const docFreq = new Int32Array(numTerms);
  for (const t of pairTerm) docFreq[t]++;
  const termOffsets = new Int32Array(numTerms + 1);
  for (let t = 0; t < numTerms; t++) termOffsets[t + 1] = termOffsets[t] + docFreq[t];
  const idf = new Float64Array(numTerms);
  for (let t = 0; t < numTerms; t++) idf[t] = bm25Idf(n, docFreq[t]);

  const postingDocs = new Int32Array(pairTerm.length);
  const postingImpacts = new Float64Array(pairTerm.length);
  const fill = termOffsets.slice(0, numTerms);
  for (let d = 0; d < n; d++) {
    // avgDocLength is 0 only when every document is empty, and then there are no pairs to weigh.
    const norm = k1 * (1 - b + (b * docLengths[d]) / (avgDocLength || 1));
    for (let p = pairStart[d]; p < pairStart[d + 1]; p++) {
      const t = pairTerm[p];
      const tf = pairTf[p];
      const at = fill[t]++;
      postingDocs[at] = d;
      postingImpacts[at] = (idf[t] * tf * (k1 + 1)) / (tf + norm);
    }
  }
  return { numDocs: n, k1, b, avgDocLength, docLengths, vocabulary, docFreq, idf, termOffsets, postingDocs, postingImpacts, tokenize };
}

/** Term ids of a query's tokens that are in the vocabulary (repeats kept). */
function queryTermIds(index: Bm25Index, text: string): number[] {
  const out: number[] = [];
  for (const w of index.tokenize(text)) {
    const t = index.vocabulary.get(w);
    if (t !== undefined) out.push(t);
  }
  return out;
}

/**
 * Adds the BM25 score of `text` against every document into `scores` (length numDocs) and returns
 * the documents it touched (each once). Callers reuse `scores` across queries and zero the touched
 * entries afterwards.
 */
function accumulate(index: Bm25Index, text: string, scores: Float64Array, touched: Int32Array): number {
  let count = 0;
  const { termOffsets, postingDocs, postingImpacts } = index;
  for (const t of queryTermIds(index, text)) {
    for (let p = termOffsets[t]; p < termOffsets[t + 1]; p++) {
      const d = postingDocs[p];
      // Impacts are > 0, so a zero score means "not touched yet".
      if (scores[d] === 0) touched[count++] = d;
      scores[d] += postingImpacts[p];
    }
  }
  return count;
}

/** BM25 score of one query against every document (dense; for inspection and tests). */
export function bm25Scores(index: Bm25Index, text: string): Float64Array {
  const scores = new Float64Array(index.numDocs);
  accumulate(index, text, scores, new Int32Array(index.numDocs));
  return scores;
}

/**
 * Top-k documents per query, best first: score descending, ties by lower document index. When fewer
 * than k documents match, the list is completed with non-matching documents in index order, so the
 * result equals the first k of a full sort of all documents by (score desc, index asc).
 */
export function bm25Search(index: Bm25Index, queries: string[], k: number): Int32Array[] {
  if (!(Number.isInteger(k) && k >= 1)) throw new Error(`lib/baselines/bm25.ts: bm25Search k must be an integer >= 1, got ${k}`);
  const n = index.numDocs;
  const kk = Math.min(k, n);
  const scores = new Float64Array(n);
  const touched = new Int32Array(n);
  const topIdx = new Int32Array(kk);
  const topVal = new Float64Array(kk);
  const out: Int32Array[] = [];
  for (const q of queries) {
    const m = accumulate(index, q, scores, touched);
    // Insertion into a sorted buffer of size kk: the matched set is small next to the catalogue.
    let count = 0;
    for (let i = 0; i < m; i++) {
      const d = touched[i];
      const v = scores[d];
      if (count === kk && !better(v, d, topVal[kk - 1], topIdx[kk - 1])) continue;
      let p = count < kk ? count++ : kk - 1;
      while (p > 0 && better(v, d, topVal[p - 1], topIdx[p - 1])) {
        topVal[p] = topVal[p - 1];
        topIdx[p] = topIdx[p - 1];
        p--;
      }
      topVal[p] = v;
      topIdx[p] = d;
    }
    const ranked = new Int32Array(kk);
    ranked.set(topIdx.subarray(0, count));
    for (let d = 0; count < kk && d < n; d++) if (scores[d] === 0) ranked[count++] = d;
    for (let i = 0; i < m; i++) scores[touched[i]] = 0;
    out.push(ranked);
  }
  return out;
}

function better(v: number, d: number, w: number, e: number): boolean {
  return v > w || (v === w && d < e);
}
