/**
 * Train / validation / test split of search queries.
 *
 * Policy: queries are split per item, by query text. For each item its distinct queries (compared
 * with `normalizeQuery`: case and spacing ignored; repeats are dropped and counted) are shuffled with
 * a generator seeded by (seed, item id) and dealt out: `round(n * testFraction)` (at least 1) to test,
 * `round(n * validFraction)` (at least 1) to validation, the rest to training. Items with fewer than
 * `minForHeldOut` (3) distinct queries put them all in training. So:
 * - no (item, query text) pair is in two splits, and the test queries of an item are queries of that
 *   item held out from training: the item is seen in training (through its other queries), the exact
 *   query is not;
 * - the same text may still appear for two different items (e.g. "90s comedy"), in any splits, as
 *   happens with real queries.
 */
import type { ItemIndex, QuerySplit, SearchQuery } from '../types';
import { Rng, hashString32 } from '../util/random';
import { normalizeQuery } from './queries';

export interface QuerySplitOptions {
  seed?: number;
  /** Share of each item's queries held out for test (default 0.1). */
  testFraction?: number;
  /** Share held out for validation (default 0.1). */
  validFraction?: number;
  /** Items with fewer distinct queries than this keep them all in training (default 3). */
  minForHeldOut?: number;
}

export interface QuerySplitResult extends QuerySplit {
  /** Repeated (item, normalised text) queries dropped before splitting. */
  droppedDuplicates: number;
  /** Items whose queries all went to training (too few to hold any out). */
  itemsWithoutHeldOut: number;
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

  const byItem = new Map<ItemIndex, SearchQuery[]>();
  const seen = new Set<string>();
  let droppedDuplicates = 0;
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
    let list = byItem.get(q.item);
    if (!list) byItem.set(q.item, (list = []));
    list.push(q);
  }

  const train: SearchQuery[] = [];
  const valid: SearchQuery[] = [];
  const test: SearchQuery[] = [];
  let itemsWithoutHeldOut = 0;
  for (const item of [...byItem.keys()].sort((a, b) => a - b)) {
    const list = byItem.get(item)!;
    const n = list.length;
    if (n < minForHeldOut) {
      itemsWithoutHeldOut++;
      train.push(...list);
      continue;
    }
    const nTest = testFraction > 0 ? Math.min(n - 1, Math.max(1, Math.round(n * testFraction))) : 0;
    const nValid = validFraction > 0 ? Math.max(1, Math.round(n * validFraction)) : 0;
    const perm = new Rng(hashString32(`query-split|${seed}|${itemIds[item]}`)).permutation(n);
    const role = new Uint8Array(n); // 0 train, 1 valid, 2 test
    for (let k = 0; k < nTest; k++) role[perm[k]] = 2;
    for (let k = nTest; k < nTest + nValid && k < n - 1; k++) role[perm[k]] = 1;
    for (let k = 0; k < n; k++) (role[k] === 2 ? test : role[k] === 1 ? valid : train).push(list[k]);
  }
  return { train, valid, test, droppedDuplicates, itemsWithoutHeldOut };
}
