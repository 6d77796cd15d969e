/**
 * Word-level text tokenizer built from training text: lower-cased words (letters and digits) seen at
 * least `minCount` times get their own token; every other word falls into one of `hashBuckets` shared
 * tokens chosen by a stable hash, so unseen query words still carry some signal and never fail.
 */
import { hashString32 } from '../util/random';

export interface WordTokenizerOptions {
  /** Minimum training count for a word to get its own token (default 2). */
  minCount?: number;
  /** Number of hashed buckets for other words (default 512). */
  hashBuckets?: number;
  /** Cap on word tokens, most frequent first (default 30000). */
  maxWords?: number;
}

export interface WordTokenizerState {
  words: string[];
  hashBuckets: number;
}

/** Lower-cased word pieces: runs of letters or digits (accents stripped). */
function splitWords(text: string): string[] {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
}

export class WordTokenizer {
  private readonly index = new Map<string, number>();

  constructor(readonly words: string[], readonly hashBuckets: number) {
    if (!Number.isInteger(hashBuckets) || hashBuckets < 1) throw new Error(`WordTokenizer: hashBuckets must be a positive integer, got ${hashBuckets}`);
    words.forEach((w, i) => this.index.set(w, i));
  }

  static build(texts: Iterable<string>, opts: WordTokenizerOptions = {}): WordTokenizer {
    const minCount = opts.minCount ?? 2;
    const counts = new Map<string, number>();
    for (const t of texts) for (const w of splitWords(t)) counts.set(w, (counts.get(w) ?? 0) + 1);
    const words = [...counts.entries()]
      .filter(([, n]) => n >= minCount)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, opts.maxWords ?? 30000)
      .map(([w]) => w);
    return new WordTokenizer(words, opts.hashBuckets ?? 512);
  }

  static fromJSON(s: WordTokenizerState): WordTokenizer {
    return new WordTokenizer(s.words, s.hashBuckets);
  }

  toJSON(): WordTokenizerState {
    return { words: this.words, hashBuckets: this.hashBuckets };
  }

  /** Number of token ids: words then hash buckets. */
  get size(): number {
    return this.words.length + this.hashBuckets;
  }

  /** Token ids 0..size-1 of `text`, at most `maxTokens`. */
  encode(text: string, maxTokens = Infinity): number[] {
    const out: number[] = [];
    for (const w of splitWords(text)) {
      if (out.length >= maxTokens) break;
      const i = this.index.get(w);
      out.push(i !== undefined ? i : this.words.length + (hashString32(w) % this.hashBuckets));
    }
    return out;
  }
}
