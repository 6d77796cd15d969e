/**
 * Popularity buckets from training interactions, used to split every metric by popularity.
 *
 * Rule (defaults in brackets):
 * - Items are ranked by training interaction count, most popular first (ties: lower item index first).
 * - head: the shortest prefix of that ranking whose counts together hold at least `headShare` [50%]
 *   of all training interactions.
 * - tail: every other item with fewer than `tailBelow` [5] training interactions, including items
 *   with none (unrated items, or items only seen in validation/test).
 * - torso: the rest.
 * On ml-latest-small (default loading) this gives a few hundred head items, a few thousand torso items
 * and a large tail of rarely rated movies; the paper reports head and torso.
 */
import type { PopularityBuckets } from '../types';

export const BUCKET_NAMES = ['head', 'torso', 'tail'] as const;

export interface BucketOptions {
  /** Share of training interactions held by the head (0 < headShare <= 1). */
  headShare?: number;
  /** Non-head items with fewer training interactions than this are tail (0 disables the tail). */
  tailBelow?: number;
}

export function popularityBuckets(counts: Int32Array, opts: BucketOptions = {}): PopularityBuckets {
  const headShare = opts.headShare ?? 0.5;
  const tailBelow = opts.tailBelow ?? 5;
  if (!(headShare > 0 && headShare <= 1)) throw new Error(`popularityBuckets: option headShare must be in (0, 1], got ${headShare}`);
  if (!Number.isInteger(tailBelow) || tailBelow < 0) throw new Error(`popularityBuckets: option tailBelow must be an integer >= 0, got ${tailBelow}`);
  const n = counts.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += counts[i];
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => counts[b] - counts[a] || a - b);
  const bucketOf = new Uint8Array(n).fill(1);
  let covered = 0;
  const need = headShare * total;
  for (let k = 0; k < n && covered < need; k++) {
    bucketOf[order[k]] = 0;
    covered += counts[order[k]];
  }
  for (let i = 0; i < n; i++) if (bucketOf[i] !== 0 && counts[i] < tailBelow) bucketOf[i] = 2;
  return {
    names: [...BUCKET_NAMES],
    bucketOf,
    counts: counts.slice(),
    rule:
      `head: most popular items holding ${(headShare * 100).toFixed(0)}% of ${total} training interactions; ` +
      `tail: other items with < ${tailBelow} training interactions (including none); torso: the rest`,
  };
}

/** Number of items per bucket, by name. */
export function bucketSizes(b: PopularityBuckets): Record<string, number> {
  const sizes: Record<string, number> = {};
  for (const name of b.names) sizes[name] = 0;
  for (let i = 0; i < b.bucketOf.length; i++) sizes[b.names[b.bucketOf[i]]]++;
  return sizes;
}
