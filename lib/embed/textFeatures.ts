/**
 * Text -> hashed feature ids for the trainable text tower: word unigrams, word bigrams and
 * character 3-grams of each word (padded with '#'), each hashed into `buckets` rows with a
 * per-kind salt so a word and a 3-gram with the same spelling land in different rows.
 * Texts are tokenised once into a CSR layout (offsets + ids + weights) that the embedding bag reads.
 */
import { hashString32 } from '../util/random';

export interface HashingOptions {
  /** Hash buckets (rows of the embedding table). Default 2^16. */
  buckets?: number;
  /** Include character 3-grams. Default true. */
  charTrigrams?: boolean;
  /** Include word bigrams. Default true. */
  wordBigrams?: boolean;
  /** Cap on feature ids per text (after de-duplication, in order of appearance). Default 256. */
  maxIdsPerText?: number;
}

export interface ResolvedHashing {
  buckets: number;
  charTrigrams: boolean;
  wordBigrams: boolean;
  maxIdsPerText: number;
}

/**
 * A batch of weighted bags in CSR form: bag b holds ids[offsets[b] .. offsets[b+1]) with `weights`
 * (mean pooling = weight 1/n each).
 */
export interface BagBatch {
  offsets: Int32Array;
  ids: Int32Array;
  weights: Float32Array;
}

export function resolveHashing(o: HashingOptions = {}): ResolvedHashing {
  const r: ResolvedHashing = {
    buckets: o.buckets ?? 1 << 16,
    charTrigrams: o.charTrigrams ?? true,
    wordBigrams: o.wordBigrams ?? true,
    maxIdsPerText: o.maxIdsPerText ?? 256,
  };
  if (!Number.isInteger(r.buckets) || r.buckets < 2) {
    throw new Error(`lib/embed/textFeatures.ts: option buckets must be an integer >= 2, got ${o.buckets}`);
  }
  if (!Number.isInteger(r.maxIdsPerText) || r.maxIdsPerText < 1) {
    throw new Error(`lib/embed/textFeatures.ts: option maxIdsPerText must be an integer >= 1, got ${o.maxIdsPerText}`);
  }
  return r;
}

/** Lower-cased alphanumeric words (unicode letters and digits). */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

const SALT_WORD = 0x1234567;
const SALT_BIGRAM = 0x2345678;
const SALT_TRIGRAM = 0x3456789;

/** Distinct hashed feature ids of one text, in order of first appearance. */
export function hashedFeatureIds(text: string, h: ResolvedHashing): number[] {
  const ws = words(text);
  const seen = new Set<number>();
  const out: number[] = [];
  const add = (s: string, salt: number) => {
    if (out.length >= h.maxIdsPerText) return;
    const id = hashString32(s, salt) % h.buckets;
    if (!seen.has(id)) {
      seen.add(id);
      out.push(id);
    }
  };
  for (const w of ws) add(w, SALT_WORD);
  if (h.wordBigrams) for (let i = 0; i + 1 < ws.length; i++) add(ws[i] + ' ' + ws[i + 1], SALT_BIGRAM);
  if (h.charTrigrams) {
    for (const w of ws) {
      const p = '#' + w + '#';
      for (let i = 0; i + 3 <= p.length; i++) add(p.slice(i, i + 3), SALT_TRIGRAM);
    }
  }
  return out;
}

/**
 * Tokenises texts into mean-pooling bags. With `extraIds` (one per text, or -1 for none), an extra
 * id with weight 1 is appended to each bag: used for learned per-item id rows, which should not be
 * diluted by the text's length.
 */
export function buildBags(texts: string[], h: ResolvedHashing, extraIds?: ArrayLike<number>): BagBatch {
  const offsets = new Int32Array(texts.length + 1);
  const idList: number[] = [];
  const wList: number[] = [];
  for (let i = 0; i < texts.length; i++) {
    const ids = hashedFeatureIds(texts[i], h);
    const w = ids.length > 0 ? 1 / ids.length : 0;
    for (const id of ids) {
      idList.push(id);
      wList.push(w);
    }
    if (extraIds && extraIds[i] >= 0) {
      idList.push(extraIds[i]);
      wList.push(1);
    }
    offsets[i + 1] = idList.length;
  }
  return { offsets, ids: Int32Array.from(idList), weights: Float32Array.from(wList) };
}

/** Selects bags `rows` of `src` into a new batch (in that order). */
export function selectBags(src: BagBatch, rows: ArrayLike<number>): BagBatch {
  let nnz = 0;
  for (let r = 0; r < rows.length; r++) nnz += src.offsets[rows[r] + 1] - src.offsets[rows[r]];
  const offsets = new Int32Array(rows.length + 1);
  const ids = new Int32Array(nnz);
  const weights = new Float32Array(nnz);
  let p = 0;
  for (let r = 0; r < rows.length; r++) {
    const a = src.offsets[rows[r]];
    const b = src.offsets[rows[r] + 1];
    ids.set(src.ids.subarray(a, b), p);
    weights.set(src.weights.subarray(a, b), p);
    p += b - a;
    offsets[r + 1] = p;
  }
  return { offsets, ids, weights };
}
