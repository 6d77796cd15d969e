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

/**
 * The softmax group of every ID token, for a per-level softmax: one group per (space, position), so
 * that at each position only the codes that can stand there compete. Spaces that share a token range
 * at a position share its group; a token claimed by two different ranges is an error.
 */
export function outputGroupsOf(vocab: IdVocabularyLike): number[] {
  const groups = new Array<number>(vocab.size).fill(-1);
  const rangeGroup = new Map<string, number>();
  for (const space of vocab.spaces) {
    for (let p = 0; p < space.ids.length; p++) {
      const from = space.positionOffsets[p];
      const to = from + space.ids.cardinalities[p];
      const key = `${from}:${to}`;
      let g = rangeGroup.get(key);
      if (g === undefined) rangeGroup.set(key, (g = rangeGroup.size));
      for (let t = from; t < to; t++) {
        if (groups[t] !== -1 && groups[t] !== g) throw new Error(`outputGroupsOf: ID token ${t} lies in two different code ranges (space "${space.name}", position ${p})`);
        groups[t] = g;
      }
    }
  }
  for (let t = 0; t < groups.length; t++) if (groups[t] === -1) groups[t] = rangeGroup.size; // unused tokens: a group of their own
  return groups;
}
