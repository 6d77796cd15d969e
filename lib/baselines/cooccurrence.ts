/**
 * Item-to-item co-occurrence (first-order Markov) recommendation baseline.
 *
 * Fit: directed next-item counts over the training sequences, C[a][b] = number of times b directly
 * follows a in some user's training prefix (validation and test items are never counted).
 * Rank: for a history h_1..h_n (oldest first), score(b) = sum over j = 1..min(H, n) of
 * decay^(j-1) * C[h_(n-j+1)][b], i.e. the next-item counts of the last H items, the most recent
 * weighted 1. Ties and unscored items follow popularity; history items are excluded
 * (lib/baselines/scoredRanking.ts).
 */
import type { RecExample, UserSequence } from '../types';
import { ScoreAccumulator } from './scoredRanking';

/** Sparse transition counts in compressed rows: the successors of item a are next[rowStart[a]..rowStart[a+1]). */
export interface TransitionCounts {
  numItems: number;
  rowStart: Int32Array;
  next: Int32Array;
  count: Float64Array;
}

export interface CooccurrenceParams {
  /** Most recent history items that vote (H >= 1). */
  lastItems: number;
  /** Weight ratio between one history position and the next more recent one, in (0, 1]. */
  decay: number;
}

/** Directed next-item counts of the training sequences. */
export function fitTransitions(train: UserSequence[], numItems: number): TransitionCounts {
  let pairs = 0;
  for (const u of train) pairs += Math.max(0, u.items.length - 1);
  const keys = new Float64Array(pairs);
  let w = 0;
  for (const u of train) {
    const s = u.items;
    for (let t = 0; t + 1 < s.length; t++) {
      const a = s[t];
      const b = s[t + 1];
      if (!(a >= 0 && a < numItems && b >= 0 && b < numItems)) {
        throw new Error(`lib/baselines/cooccurrence.ts: user ${u.user} has an item outside 0..${numItems - 1} at position ${t}`);
      }
      keys[w++] = a * numItems + b;
    }
  }
  keys.sort();
  const rowStart = new Int32Array(numItems + 1);
  const next: number[] = [];
  const count: number[] = [];
  for (let i = 0; i < keys.length; ) {
    let j = i + 1;
    while (j < keys.length && keys[j] === keys[i]) j++;
    const a = Math.floor(keys[i] / numItems);
    next.push(keys[i] - a * numItems);
    count.push(j - i);
    rowStart[a + 1]++;
    i = j;
  }
  for (let a = 0; a < numItems; a++) rowStart[a + 1] += rowStart[a];
  return { numItems, rowStart, next: Int32Array.from(next), count: Float64Array.from(count) };
}

function checkCooccurrenceParams(p: CooccurrenceParams): void {
  if (!(Number.isInteger(p.lastItems) && p.lastItems >= 1)) throw new Error(`lib/baselines/cooccurrence.ts: lastItems must be an integer >= 1, got ${p.lastItems}`);
  if (!(p.decay > 0 && p.decay <= 1)) throw new Error(`lib/baselines/cooccurrence.ts: decay must be in (0, 1], got ${p.decay}`);
}

/** Top-k items per example under the scores documented above. */
export function cooccurrenceRankings(model: TransitionCounts, popularityOrder: Int32Array, examples: RecExample[], k: number, p: CooccurrenceParams): Int32Array[] {
  checkCooccurrenceParams(p);
  if (popularityOrder.length !== model.numItems) throw new Error(`lib/baselines/cooccurrence.ts: popularity order has ${popularityOrder.length} items, model ${model.numItems}`);
  const acc = new ScoreAccumulator(popularityOrder);
  return examples.map((ex) => {
    acc.reset();
    const h = ex.history;
    let weight = 1;
    for (let j = 1; j <= Math.min(p.lastItems, h.length); j++) {
      const a = h[h.length - j];
      for (let e = model.rowStart[a]; e < model.rowStart[a + 1]; e++) acc.add(model.next[e], weight * model.count[e]);
      weight *= p.decay;
    }
    return acc.topK(k, h);
  });
}
