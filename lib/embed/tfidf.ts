/**
 * TF-IDF over word unigrams and bigrams: sublinear tf (1 + ln tf), smooth idf
 * (ln((1+N)/(1+df)) + 1), rows L2-normalised (scikit-learn's TfidfVectorizer conventions).
 */
import { words } from './textFeatures';
import type { CsrMatrix } from './svd';

export interface TfidfOptions {
  /** Largest word n-gram. Default 2. */
  ngramMax?: number;
  /** Terms in fewer documents are dropped. Default 1. */
  minDf?: number;
  /** Keep at most this many terms (highest df first, ties by term). Default unlimited. */
  maxFeatures?: number;
  /** 1 + ln(tf) instead of tf. Default true. */
  sublinearTf?: boolean;
}

export interface TfidfVectorizer {
  vocabulary: Map<string, number>;
  idf: Float64Array;
  options: Required<Omit<TfidfOptions, 'maxFeatures'>> & { maxFeatures: number | null };
  transform(texts: string[]): CsrMatrix;
}

export function terms(text: string, ngramMax: number): string[] {
  const ws = words(text);
  const out: string[] = [];
  for (let n = 1; n <= ngramMax; n++) {
    for (let i = 0; i + n <= ws.length; i++) out.push(n === 1 ? ws[i] : ws.slice(i, i + n).join(' '));
  }
  return out;
}

export function fitTfidf(texts: string[], opts: TfidfOptions = {}): TfidfVectorizer {
  const ngramMax = opts.ngramMax ?? 2;
  const minDf = opts.minDf ?? 1;
  const sublinearTf = opts.sublinearTf ?? true;
  if (!Number.isInteger(ngramMax) || ngramMax < 1) throw new Error(`lib/embed/tfidf.ts: option ngramMax must be an integer >= 1, got ${opts.ngramMax}`);
  if (texts.length === 0) throw new Error('lib/embed/tfidf.ts: no texts to fit');
  const df = new Map<string, number>();
  for (const t of texts) for (const term of new Set(terms(t, ngramMax))) df.set(term, (df.get(term) ?? 0) + 1);
  let kept = [...df.entries()].filter(([, c]) => c >= minDf);
  if (opts.maxFeatures != null && kept.length > opts.maxFeatures) {
    kept.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    kept = kept.slice(0, opts.maxFeatures);
  }
  kept.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  if (kept.length === 0) throw new Error(`lib/embed/tfidf.ts: no terms left (minDf=${minDf}); are the texts empty?`);
  const vocabulary = new Map<string, number>();
  const idf = new Float64Array(kept.length);
  const n = texts.length;
  kept.forEach(([term, c], i) => {
    vocabulary.set(term, i);
    idf[i] = Math.log((1 + n) / (1 + c)) + 1;
  });
  const transform = (docs: string[]): CsrMatrix => {
    const indptr = new Int32Array(docs.length + 1);
    const idx: number[] = [];
    const val: number[] = [];
    docs.forEach((d, r) => {
      const tf = new Map<number, number>();
      for (const term of terms(d, ngramMax)) {
        const j = vocabulary.get(term);
        if (j !== undefined) tf.set(j, (tf.get(j) ?? 0) + 1);
      }
      const cols = [...tf.keys()].sort((a, b) => a - b);
      let norm = 0;
      const vs = cols.map((j) => {
        const c = tf.get(j)!;
        const w = (sublinearTf ? 1 + Math.log(c) : c) * idf[j];
        norm += w * w;
        return w;
      });
      const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      cols.forEach((j, i) => {
        idx.push(j);
        val.push(vs[i] * inv);
      });
      indptr[r + 1] = idx.length;
    });
    return { rows: docs.length, cols: vocabulary.size, indptr, indices: Int32Array.from(idx), values: Float32Array.from(val) };
  };
  return { vocabulary, idf, options: { ngramMax, minDf, sublinearTf, maxFeatures: opts.maxFeatures ?? null }, transform };
}
