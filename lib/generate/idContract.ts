/**
 * The parts of the ID vocabulary and prefix trie (lib/quantize/vocabulary.ts, lib/quantize/trie.ts)
 * this module relies on, as structural types: any `IdVocabulary` / `PrefixTrie` satisfies them.
 */
import type { SemanticIdSet } from '../types';

export interface IdSpaceLike {
  name: string;
  ids: SemanticIdSet;
  /** First token id of this space. */
  offset: number;
  /** Absolute token id of code 0 at each position. */
  positionOffsets: number[];
}

export interface IdVocabularyLike {
  /** Total ID tokens across spaces: the model's output vocabulary. */
  size: number;
  spaces: IdSpaceLike[];
}

/**
 * Prefix constraint over one space's valid IDs, walked by node id: a decoder keeps each beam's node
 * and moves it one token at a time. Tokens are absolute ID token ids.
 */
export interface IdTrieLike {
  readonly depth: number;
  /** Node of the empty prefix. */
  root(): number;
  /** Node reached from `node` by `token`, or -1 when the prefix is not valid. */
  child(node: number, token: number): number;
  /** Tokens allowed after `node`, ascending; empty at full IDs. Callers must not modify it. */
  children(node: number): ArrayLike<number>;
  /** Items whose full ID ends at `node` (several when IDs collide; empty for other nodes). */
  itemsOfNode(node: number): number[];
}

export function findSpace(vocab: IdVocabularyLike, name: string): IdSpaceLike {
  const s = vocab.spaces.find((sp) => sp.name === name);
  if (!s) throw new Error(`ID vocabulary has no space "${name}" (spaces: ${vocab.spaces.map((x) => x.name).join(', ')})`);
  return s;
}

/** Absolute ID tokens of `item` in `space` (one per position). */
export function idTokensOf(space: IdSpaceLike, item: number): Int32Array {
  const { ids } = space;
  if (!(item >= 0 && item < ids.numItems)) throw new Error(`idTokensOf: item ${item} outside 0..${ids.numItems - 1} of space "${space.name}"`);
  const out = new Int32Array(ids.length);
  for (let p = 0; p < ids.length; p++) out[p] = space.positionOffsets[p] + ids.codes[item * ids.length + p];
  return out;
}
