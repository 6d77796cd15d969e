/**
 * Most-popular recommendation baseline: every user gets the catalogue ordered by training
 * interaction count (descending, ties by lower item index), minus the items already in the user's
 * history. One global order is sorted once; each user walks it and skips history items.
 */
import type { RecExample } from '../types';

/** All item indices by count descending, ties by lower index first. */
export function popularityOrder(counts: ArrayLike<number>): Int32Array {
  const order = new Int32Array(counts.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => counts[b] - counts[a] || a - b);
  return order;
}

/** Top-k most popular items per example, excluding that example's history. */
export function popularityRankings(counts: ArrayLike<number>, examples: RecExample[], k: number): Int32Array[] {
  if (!(Number.isInteger(k) && k >= 1)) throw new Error(`lib/baselines/popularity.ts: popularityRankings k must be an integer >= 1, got ${k}`);
  const n = counts.length;
  const order = popularityOrder(counts);
  // Per-item stamp of the last example whose history holds it: no clearing between examples.
  const stamp = new Int32Array(n).fill(-1);
  return examples.map((ex, r) => {
    const h = ex.history;
    for (let j = 0; j < h.length; j++) {
      const it = h[j];
      if (!(it >= 0 && it < n)) throw new Error(`lib/baselines/popularity.ts: example ${r} (user ${ex.user}) has history item ${it} outside 0..${n - 1}`);
      stamp[it] = r;
    }
    const out: number[] = [];
    for (let i = 0; i < n && out.length < k; i++) if (stamp[order[i]] !== r) out.push(order[i]);
    return Int32Array.from(out);
  });
}
