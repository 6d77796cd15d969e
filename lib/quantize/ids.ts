/**
 * Semantic ID sets from raw tokenizer codes, collision handling, and the item <-> ID maps.
 *
 * Collision modes:
 * - 'extra-level': one position is appended whose value is the item's rank among the items that
 *   share its code, ordered by popularity (descending; higher = more popular), then by item index.
 *   Its cardinality is the largest group size (1 when there are no collisions: the position is then
 *   always 0, kept so the ID length does not depend on the data). Every full ID is unique.
 * - 'none': codes are kept as they are; `itemsForCode` returns the whole group sharing a code.
 */
import type { SemanticIdSet } from '../types';

export type CollisionMode = 'extra-level' | 'none';

export interface IdOptions {
  collisions?: CollisionMode;
  /** Per-item popularity (e.g. training interaction counts) ordering the disambiguation rank. */
  popularity?: ArrayLike<number>;
}

/** Checks the shape and value ranges of a SemanticIdSet; `where` names the caller. */
export function checkSemanticIds(ids: SemanticIdSet, where: string): void {
  const { numItems, length, cardinalities, codes } = ids;
  if (!Number.isInteger(numItems) || numItems < 0) throw new Error(`${where}: numItems must be a non-negative integer, got ${numItems}`);
  if (!Number.isInteger(length) || length < 1) throw new Error(`${where}: length must be a positive integer, got ${length}`);
  if (!Array.isArray(cardinalities) || cardinalities.length !== length) {
    throw new Error(`${where}: cardinalities must have ${length} entries, got ${cardinalities && cardinalities.length}`);
  }
  for (const c of cardinalities) if (!Number.isInteger(c) || c < 1) throw new Error(`${where}: cardinalities must be positive integers, got ${c}`);
  if (!(codes instanceof Int32Array) || codes.length !== numItems * length) {
    throw new Error(`${where}: codes must be an Int32Array of numItems*length = ${numItems * length}, got ${codes && codes.length}`);
  }
  for (let i = 0; i < codes.length; i++) {
    const p = i % length;
    if (!(codes[i] >= 0 && codes[i] < cardinalities[p])) {
      throw new Error(`${where}: code ${codes[i]} of item ${Math.floor(i / length)} at position ${p} outside 0..${cardinalities[p] - 1}`);
    }
  }
}

/** Builds a SemanticIdSet from N x L raw codes and applies the collision mode. */
export function makeSemanticIds(codes: Int32Array, numItems: number, cardinalities: number[], opts: IdOptions = {}): SemanticIdSet {
  const base: SemanticIdSet = { numItems, length: cardinalities.length, cardinalities: cardinalities.slice(), codes };
  checkSemanticIds(base, 'lib/quantize/ids.ts makeSemanticIds');
  const mode = opts.collisions ?? 'extra-level';
  if (mode === 'none') return base;
  if (mode !== 'extra-level') throw new Error(`lib/quantize/ids.ts makeSemanticIds (option collisions): expected 'extra-level' or 'none', got ${String(mode)}`);
  const pop = opts.popularity;
  if (pop && pop.length !== numItems) {
    throw new Error(`lib/quantize/ids.ts makeSemanticIds (option popularity): expected ${numItems} values, got ${pop.length}`);
  }
  const groups = groupByCode(base);
  const L = base.length;
  const out = new Int32Array(numItems * (L + 1));
  let largest = 1;
  for (const members of groups.values()) {
    members.sort((a, b) => (pop ? pop[b] - pop[a] : 0) || a - b);
    largest = Math.max(largest, members.length);
    members.forEach((item, rank) => {
      out.set(codes.subarray(item * L, item * L + L), item * (L + 1));
      out[item * (L + 1) + L] = rank;
    });
  }
  return { numItems, length: L + 1, cardinalities: [...cardinalities, largest], codes: out };
}

/** Key of a code tuple (mixed radix when it fits a double exactly, else a string). */
function codeKey(ids: SemanticIdSet, code: ArrayLike<number>, start = 0): number | string {
  let radix = 1;
  for (const c of ids.cardinalities) radix *= c;
  if (radix <= Number.MAX_SAFE_INTEGER) {
    let k = 0;
    for (let p = 0; p < ids.length; p++) k = k * ids.cardinalities[p] + code[start + p];
    return k;
  }
  let s = '';
  for (let p = 0; p < ids.length; p++) s += (p ? ',' : '') + code[start + p];
  return s;
}

/** Items grouped by full code, in item order within a group. */
export function groupByCode(ids: SemanticIdSet): Map<number | string, number[]> {
  const groups = new Map<number | string, number[]>();
  for (let i = 0; i < ids.numItems; i++) {
    const key = codeKey(ids, ids.codes, i * ids.length);
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  }
  return groups;
}

const indexCache = new WeakMap<SemanticIdSet, Map<number | string, number[]>>();

/** The items whose full ID equals `code` (empty when none; several with collisions 'none'). */
export function itemsForCode(ids: SemanticIdSet, code: ArrayLike<number>): number[] {
  if (code.length !== ids.length) throw new Error(`lib/quantize/ids.ts itemsForCode: code has ${code.length} positions, IDs have ${ids.length}`);
  for (let p = 0; p < ids.length; p++) {
    if (!(Number.isInteger(code[p]) && code[p] >= 0 && code[p] < ids.cardinalities[p])) return [];
  }
  let index = indexCache.get(ids);
  if (!index) {
    index = groupByCode(ids);
    indexCache.set(ids, index);
  }
  return (index.get(codeKey(ids, code)) ?? []).slice();
}

/** The ID of `item` (a copy). */
export function codeOfItem(ids: SemanticIdSet, item: number): Int32Array {
  if (!(Number.isInteger(item) && item >= 0 && item < ids.numItems)) {
    throw new Error(`lib/quantize/ids.ts codeOfItem: item ${item} outside 0..${ids.numItems - 1}`);
  }
  return ids.codes.slice(item * ids.length, (item + 1) * ids.length);
}
