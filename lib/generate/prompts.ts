/**
 * Input vocabulary and prompts. Layout of encoder token ids:
 *   0 pad (also the decoder start token), 1 `<search>`, 2 `<rec>`, then the text tokens (words and hash
 *   buckets), then the ID tokens (idInputBase + ID token id).
 * Search prompt: `<search>` + query words. Rec prompt: `<rec>` + the ID tokens of the last H history
 * items (oldest first). Target: the item's ID tokens, one per position (output ids = ID token ids).
 */
import { WordTokenizer, type WordTokenizerState } from './textTokenizer';
import { idTokensOf, type IdSpaceLike } from './idContract';
import type { Task } from '../types';

export const PAD_ID = 0;
const SEARCH_TOKEN = 1;
const REC_TOKEN = 2;
const TEXT_BASE = 3;


export interface PromptOptions {
  /** History items in a rec prompt (default 10). */
  historyLength?: number;
  /** Query words kept in a search prompt (default 20). */
  maxQueryTokens?: number;
}

export interface PromptEncoderState {
  tokenizer: WordTokenizerState;
  idVocabSize: number;
  historyLength: number;
  maxQueryTokens: number;
}

/** One training or evaluation example: prompt tokens, target ID tokens, and the item. */
export interface Seq2SeqExample {
  task: Task;
  input: Int32Array;
  target: Int32Array;
  item: number;
  /** Rec evaluation: items the user has already interacted with, left out of the ranked list. */
  seen?: ArrayLike<number>;
  /** Rec: the user the example comes from (user-balanced sampling, the cluster bootstrap). */
  user?: number;
}

export class PromptEncoder {
  readonly historyLength: number;
  readonly maxQueryTokens: number;

  constructor(readonly tokenizer: WordTokenizer, readonly idVocabSize: number, opts: PromptOptions = {}) {
    this.historyLength = opts.historyLength ?? 10;
    this.maxQueryTokens = opts.maxQueryTokens ?? 20;
    if (!Number.isInteger(this.historyLength) || this.historyLength < 1) throw new Error(`PromptOptions.historyLength must be a positive integer, got ${this.historyLength}`);
    if (!Number.isInteger(this.maxQueryTokens) || this.maxQueryTokens < 1) throw new Error(`PromptOptions.maxQueryTokens must be a positive integer, got ${this.maxQueryTokens}`);
  }

  static fromJSON(s: PromptEncoderState): PromptEncoder {
    return new PromptEncoder(WordTokenizer.fromJSON(s.tokenizer), s.idVocabSize, s);
  }

  toJSON(): PromptEncoderState {
    return { tokenizer: this.tokenizer.toJSON(), idVocabSize: this.idVocabSize, historyLength: this.historyLength, maxQueryTokens: this.maxQueryTokens };
  }

  get idInputBase(): number {
    return TEXT_BASE + this.tokenizer.size;
  }

  get inputVocabSize(): number {
    return this.idInputBase + this.idVocabSize;
  }

  searchPrompt(query: string): Int32Array {
    const words = this.tokenizer.encode(query, this.maxQueryTokens);
    const out = new Int32Array(1 + words.length);
    out[0] = SEARCH_TOKEN;
    for (let i = 0; i < words.length; i++) out[i + 1] = TEXT_BASE + words[i];
    return out;
  }

  /** Rec prompt from a history (oldest first); only the last `historyLength` items are used. */
  recPrompt(history: ArrayLike<number>, space: IdSpaceLike): Int32Array {
    const from = Math.max(0, history.length - this.historyLength);
    const L = space.ids.length;
    const out = new Int32Array(1 + (history.length - from) * L);
    out[0] = REC_TOKEN;
    let at = 1;
    for (let i = from; i < history.length; i++) {
      const toks = idTokensOf(space, history[i]);
      for (let p = 0; p < L; p++) out[at++] = this.idInputBase + toks[p];
    }
    return out;
  }
}

/** Right-pads prompts into one [batch, length] array (length = longest, or `minLength` if larger). */
export function padBatch(prompts: Int32Array[], minLength = 1): { tokens: Int32Array; length: number } {
  let length = minLength;
  for (const p of prompts) length = Math.max(length, p.length);
  const tokens = new Int32Array(prompts.length * length);
  prompts.forEach((p, i) => tokens.set(p, i * length));
  return { tokens, length };
}

/** Right-pads targets with -1 into one [batch, length] array. */
export function padTargets(targets: Int32Array[]): { targets: Int32Array; length: number } {
  let length = 1;
  for (const t of targets) length = Math.max(length, t.length);
  const out = new Int32Array(targets.length * length).fill(-1);
  targets.forEach((t, i) => out.set(t, i * length));
  return { targets: out, length };
}
