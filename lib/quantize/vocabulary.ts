/**
 * Token vocabulary of Semantic IDs for the generative model. Each ID space owns a contiguous block
 * of token ids; inside a block, position p's codes 0..cardinalities[p]-1 map to
 * positionOffsets[p] + code. Token ids count from 0 within this ID vocabulary (the generator places
 * the whole block after its own special tokens by adding its base).
 * Shared IDs: one space named "shared". Separate IDs: two spaces, "search" and "rec".
 */
import type { SemanticIdSet } from '../types';
import { checkSemanticIds } from './ids';

export interface IdSpace {
  name: string;
  ids: SemanticIdSet;
  /** First token id of this space. */
  offset: number;
  /** Token id of code 0 at each position, absolute. */
  positionOffsets: number[];
}

export interface IdVocabulary {
  /** Total ID tokens across spaces. */
  size: number;
  spaces: IdSpace[];
}

export function buildIdVocabulary(spaces: { name: string; ids: SemanticIdSet }[]): IdVocabulary {
  if (!Array.isArray(spaces) || spaces.length === 0) throw new Error('lib/quantize/vocabulary.ts buildIdVocabulary: expected at least one space');
  const seen = new Set<string>();
  const out: IdSpace[] = [];
  let next = 0;
  for (const s of spaces) {
    if (!s.name || seen.has(s.name)) throw new Error(`lib/quantize/vocabulary.ts buildIdVocabulary: space names must be unique and non-empty, got "${s.name}"`);
    seen.add(s.name);
    checkSemanticIds(s.ids, `lib/quantize/vocabulary.ts buildIdVocabulary (space ${s.name})`);
    const offset = next;
    const positionOffsets: number[] = [];
    for (const c of s.ids.cardinalities) {
      positionOffsets.push(next);
      next += c;
    }
    out.push({ name: s.name, ids: s.ids, offset, positionOffsets });
  }
  return { size: next, spaces: out };
}

function spaceByName(vocab: IdVocabulary, space: string): IdSpace {
  const s = vocab.spaces.find((v) => v.name === space);
  if (!s) throw new Error(`lib/quantize/vocabulary.ts: no ID space "${space}" (have ${vocab.spaces.map((v) => v.name).join(', ')})`);
  return s;
}

/** Number of tokens a space owns. */
export function spaceSize(space: IdSpace): number {
  return space.ids.cardinalities.reduce((a, b) => a + b, 0);
}

/** The item's ID as token ids. */
export function itemTokens(vocab: IdVocabulary, space: string, item: number): Int32Array {
  const s = spaceByName(vocab, space);
  const { ids } = s;
  if (!(Number.isInteger(item) && item >= 0 && item < ids.numItems)) {
    throw new Error(`lib/quantize/vocabulary.ts itemTokens: item ${item} outside 0..${ids.numItems - 1} in space "${space}"`);
  }
  const out = new Int32Array(ids.length);
  for (let p = 0; p < ids.length; p++) out[p] = s.positionOffsets[p] + ids.codes[item * ids.length + p];
  return out;
}

/** Shared IDs: one space, "shared", used by both tasks (2 x 256 = 512 tokens by default). */
export function sharedVocabulary(ids: SemanticIdSet): IdVocabulary {
  return buildIdVocabulary([{ name: 'shared', ids }]);
}

/** Separate IDs: one space per task, "search" then "rec" (2 x 512 = 1024 tokens by default). */
export function separateVocabulary(searchIds: SemanticIdSet, recIds: SemanticIdSet): IdVocabulary {
  if (searchIds.numItems !== recIds.numItems) {
    throw new Error(`lib/quantize/vocabulary.ts separateVocabulary: search IDs cover ${searchIds.numItems} items, rec IDs ${recIds.numItems}`);
  }
  return buildIdVocabulary([
    { name: 'search', ids: searchIds },
    { name: 'rec', ids: recIds },
  ]);
}
