/**
 * Train / validation / test split of search queries.
 *
 * Policy: queries are split per item by their canonical form (`canonicalQuery`: case, accents,
 * punctuation, filler words and word order ignored), so near-duplicates such as "tom and huck 1995
 * movie" and "Tom and Huck (1995)" always land in the same split.
 * - Exact repeats of an (item, `normalizeQuery` text) pair are dropped and counted; queries whose
 *   canonical form is empty (filler words only) are dropped and counted.
 * - Generic queries: a canonical form that occurs for more than one item ("drama 90s") cannot name one
 *   target, so such queries stay in training (they are still training signal) and never reach
 *   validation or test.
 * - Every other canonical form is specific to one item. Per item, with n distinct canonical forms
 *   (generic ones included), `round(n * testFraction)` (at least 1) specific forms go to test and
 *   `round(n * validFraction)` (at least 1) to validation, drawn in an order shuffled by a generator
 *   seeded by (seed, item id); every query with a held-out form goes with it. At least one of the
 *   item's forms stays in training, so every held-out item is seen in training. Items with fewer than
 *   `minForHeldOut` (3) forms keep everything in training.
 * So no validation or test query has a canonical twin in training, for its own item or any other, and
 * validation and test share no canonical form either.
 */
import type { ItemIndex, QuerySplit, SearchQuery } from '../types';
import { Rng, hashString32 } from '../util/random';
import { canonicalQuery, normalizeQuery } from './queries';

export interface QuerySplitOptions {
  seed?: number;
  /** Share of each item's canonical forms held out for test (default 0.1). */
  testFraction?: number;
  /** Share held out for validation (default 0.1). */
  validFraction?: number;
  /** Items with fewer distinct canonical forms than this keep them all in training (default 3). */
  minForHeldOut?: number;
}

export interface QuerySplitResult extends QuerySplit {
  /** Repeated (item, normalised text) queries dropped before splitting. */
  droppedDuplicates: number;
  /** Queries dropped because their canonical form is empty (filler words only). */
  droppedEmpty: number;
  /** Items whose queries all went to training (too few forms, or no specific form to hold out). */
  itemsWithoutHeldOut: number;
  /** Canonical forms that occur for more than one item, and the queries that carry them (all in training). */
  genericForms: number;
  genericQueries: number;
  /** Queries that share their item's canonical form with another query of that item (kept together in one split). */
  canonicalTwins: number;
}

/**
 * Splits queries as documented above. `itemIds` gives each item's stable source id (seeding per item,
 * so an item's split does not depend on the other items); output is in item order, then query order.
 */
export function splitQueries(queries: SearchQuery[], itemIds: ArrayLike<number>, opts: QuerySplitOptions = {}): QuerySplitResult {
  const seed = opts.seed ?? 0;
  const testFraction = opts.testFraction ?? 0.1;
  const validFraction = opts.validFraction ?? 0.1;
  const minForHeldOut = opts.minForHeldOut ?? 3;
  if (!(testFraction >= 0 && validFraction >= 0 && testFraction + validFraction < 1)) {
    throw new Error(`splitQueries: options testFraction (${testFraction}) and validFraction (${validFraction}) must be >= 0 and sum to less than 1`);
  }
  if (!Number.isInteger(minForHeldOut) || minForHeldOut < 3) throw new Error(`splitQueries: option minForHeldOut must be an integer >= 3, got ${minForHeldOut}`);

  // Per item: its canonical forms in order of first appearance, each with its queries.
  const byItem = new Map<ItemIndex, Map<string, SearchQuery[]>>();
  const inputOrder = new Map<ItemIndex, { q: SearchQuery; form: string }[]>();
  const itemsOfForm = new Map<string, Set<ItemIndex>>();
  const seen = new Set<string>();
  let droppedDuplicates = 0;
  let droppedEmpty = 0;
  for (const q of queries) {
    if (!Number.isInteger(q.item) || q.item < 0 || q.item >= itemIds.length) {
      throw new Error(`splitQueries: query "${q.text}" has item index ${q.item}, expected 0..${itemIds.length - 1}`);
    }
    const key = `${q.item}\u0000${normalizeQuery(q.text)}`;
    if (seen.has(key)) {
      droppedDuplicates++;
      continue;
    }
    seen.add(key);
    const form = canonicalQuery(q.text);
    if (form === '') {
      droppedEmpty++;
      continue;
    }
    let forms = byItem.get(q.item);
    if (!forms) {
      byItem.set(q.item, (forms = new Map()));
      inputOrder.set(q.item, []);
    }
    inputOrder.get(q.item)!.push({ q, form });
    let list = forms.get(form);
    if (!list) forms.set(form, (list = []));
    list.push(q);
    let owners = itemsOfForm.get(form);
    if (!owners) itemsOfForm.set(form, (owners = new Set()));
    owners.add(q.item);
  }

  let genericForms = 0;
  for (const owners of itemsOfForm.values()) if (owners.size > 1) genericForms++;
  const isGeneric = (form: string) => itemsOfForm.get(form)!.size > 1;

  const train: SearchQuery[] = [];
  const valid: SearchQuery[] = [];
  const test: SearchQuery[] = [];
  let itemsWithoutHeldOut = 0;
  let genericQueries = 0;
  let canonicalTwins = 0;
  for (const item of [...byItem.keys()].sort((a, b) => a - b)) {
    const forms = byItem.get(item)!;
    const n = forms.size;
    const specific: string[] = [];
    for (const [form, list] of forms) {
      if (list.length > 1) canonicalTwins += list.length;
      if (isGeneric(form)) genericQueries += list.length;
      else specific.push(form);
    }
    // Forms that may leave training: all specific ones, less one when nothing generic stays behind.
    const movable = specific.length - (specific.length === n ? 1 : 0);
    const role = new Map<string, 1 | 2>(); // 1 valid, 2 test; absent: train
    if (n >= minForHeldOut && movable > 0) {
      const nTest = testFraction > 0 ? Math.min(movable, Math.max(1, Math.round(n * testFraction))) : 0;
      const nValid = validFraction > 0 ? Math.min(movable - nTest, Math.max(1, Math.round(n * validFraction))) : 0;
      const perm = new Rng(hashString32(`query-split|${seed}|${itemIds[item]}`)).permutation(specific.length);
      for (let k = 0; k < nTest; k++) role.set(specific[perm[k]], 2);
      for (let k = nTest; k < nTest + nValid; k++) role.set(specific[perm[k]], 1);
    }
    if (role.size === 0) itemsWithoutHeldOut++;
    // Queries keep their input order within the item.
    for (const { q, form } of inputOrder.get(item)!) {
      const r = role.get(form);
      (r === 2 ? test : r === 1 ? valid : train).push(q);
    }
  }
  return { train, valid, test, droppedDuplicates, droppedEmpty, itemsWithoutHeldOut, genericForms, genericQueries, canonicalTwins };
}
