/**
 * Training pairs for the contrastive objectives, and a seeded sampler that walks them in shuffled
 * passes.
 * - search: (training query, its item);
 * - rec: (item a, item b) where b follows a within `window` positions in a user's training history
 *   (each unordered co-occurrence once per position pair; the symmetric loss covers both directions).
 */
import type { SearchQuery, UserSequence } from '../types';
import { Rng } from '../util/random';

/** Pairs as parallel arrays: left[i] (query row or item) with right[i] (item). */
export interface PairList {
  left: Int32Array;
  right: Int32Array;
}

export function searchPairs(queries: SearchQuery[], numItems: number): PairList {
  const left = new Int32Array(queries.length);
  const right = new Int32Array(queries.length);
  queries.forEach((q, i) => {
    if (!(q.item >= 0 && q.item < numItems)) throw new Error(`lib/embed/pairs.ts: query ${i} ("${q.text}") names item ${q.item}, outside 0..${numItems - 1}`);
    left[i] = i;
    right[i] = q.item;
  });
  return { left, right };
}

export function recPairs(train: UserSequence[], window: number, numItems: number): PairList {
  if (!Number.isInteger(window) || window < 1) throw new Error(`lib/embed/pairs.ts: option recWindow must be an integer >= 1, got ${window}`);
  const l: number[] = [];
  const r: number[] = [];
  for (const s of train) {
    const it = s.items;
    for (let i = 0; i < it.length; i++) {
      if (!(it[i] >= 0 && it[i] < numItems)) throw new Error(`lib/embed/pairs.ts: user ${s.user} has item ${it[i]}, outside 0..${numItems - 1}`);
      for (let o = 1; o <= window && i + o < it.length; o++) {
        if (it[i] === it[i + o]) continue;
        l.push(it[i]);
        r.push(it[i + o]);
      }
    }
  }
  return { left: Int32Array.from(l), right: Int32Array.from(r) };
}

/** Endless shuffled passes over a pair list; `next(n)` returns the next n pair indices. */
export class PairSampler {
  private order: Int32Array;
  private pos = 0;
  passes = 0;
  constructor(readonly size: number, private readonly rng: Rng) {
    if (size < 1) throw new Error('lib/embed/pairs.ts PairSampler: no pairs to sample');
    this.order = rng.permutation(size);
  }
  next(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      if (this.pos === this.size) {
        this.order = this.rng.permutation(this.size);
        this.pos = 0;
        this.passes++;
      }
      out[i] = this.order[this.pos++];
    }
    return out;
  }
}
