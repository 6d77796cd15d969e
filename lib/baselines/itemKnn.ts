/**
 * Item-kNN recommendation baseline (item-based collaborative filtering).
 *
 * Fit: the binary user x item matrix of the training prefixes; the similarity of two items is the
 * cosine of their columns, |U_a and U_b| / sqrt(|U_a| |U_b|) (U_x: training users of x). Each item keeps
 * its `maxNeighbours` most similar other items (ties by lower index).
 * Rank: with the item's `neighbours` nearest kept (a prefix of the stored list), score(b) = the sum of
 * sim(a, b) over the last `recentItems` history items a (0 = the whole history) that have b among
 * their neighbours. Ties and unscored items follow popularity; history items are excluded
 * (lib/baselines/scoredRanking.ts).
 */
import type { RecExample, UserSequence } from '../types';
import { ScoreAccumulator } from './scoredRanking';

/** Neighbour lists in compressed rows, most similar first: item a's are neighbour[rowStart[a]..rowStart[a+1]). */
export interface ItemNeighbours {
  numItems: number;
  rowStart: Int32Array;
  neighbour: Int32Array;
  similarity: Float64Array;
}

export interface ItemKnnParams {
  /** Neighbours per history item that vote (>= 1). */
  neighbours: number;
  /** Most recent history items that vote; 0 for all of them. */
  recentItems: number;
}

/** Cosine neighbours of every item over the training interactions (each user's items counted once). */
export function fitItemNeighbours(train: UserSequence[], numItems: number, maxNeighbours: number): ItemNeighbours {
  if (!(Number.isInteger(maxNeighbours) && maxNeighbours >= 1)) throw new Error(`lib/baselines/itemKnn.ts: maxNeighbours must be an integer >= 1, got ${maxNeighbours}`);
  // Distinct items per user, and the users of each item (both compressed rows).
  const userItems: Int32Array[] = train.map((u) => {
    for (const it of u.items) if (!(it >= 0 && it < numItems)) throw new Error(`lib/baselines/itemKnn.ts: user ${u.user} has item ${it} outside 0..${numItems - 1}`);
    return Int32Array.from(new Set(u.items));
  });
  const degree = new Int32Array(numItems);
  for (const s of userItems) for (const it of s) degree[it]++;
  const userStart = new Int32Array(numItems + 1);
  for (let i = 0; i < numItems; i++) userStart[i + 1] = userStart[i] + degree[i];
  const users = new Int32Array(userStart[numItems]);
  const fill = userStart.slice(0, numItems);
  userItems.forEach((s, u) => {
    for (const it of s) users[fill[it]++] = u;
  });

  // Users' distinct items flattened, so the inner loop walks one typed array.
  const itemStart = new Int32Array(userItems.length + 1);
  userItems.forEach((s, u) => (itemStart[u + 1] = itemStart[u] + s.length));
  const flat = new Int32Array(itemStart[userItems.length]);
  userItems.forEach((s, u) => flat.set(s, itemStart[u]));
  const co = new Int32Array(numItems);
  const touched = new Int32Array(numItems);
  const sims = new Float64Array(numItems);
  const scratch = new Float64Array(numItems);
  const rowStart = new Int32Array(numItems + 1);
  const neighbour: number[] = [];
  const similarity: number[] = [];
  for (let a = 0; a < numItems; a++) {
    let c = 0;
    for (let e = userStart[a]; e < userStart[a + 1]; e++) {
      const u = users[e];
      for (let f = itemStart[u], end = itemStart[u + 1]; f < end; f++) {
        const b = flat[f];
        if (co[b] === 0) touched[c++] = b;
        co[b]++;
      }
    }
    // The item itself was counted once per user of it: drop it from its own candidates.
    let w = 0;
    for (let i = 0; i < c; i++) {
      const b = touched[i];
      if (b !== a) {
        touched[w] = b;
        sims[w++] = co[b] / Math.sqrt(degree[a] * degree[b]);
      }
      co[b] = 0;
    }
    c = w;
    const kept = topBySimilarity(touched, sims, c, maxNeighbours, scratch);
    for (const i of kept) {
      neighbour.push(touched[i]);
      similarity.push(sims[i]);
    }
    rowStart[a + 1] = rowStart[a] + kept.length;
  }
  return { numItems, rowStart, neighbour: Int32Array.from(neighbour), similarity: Float64Array.from(similarity) };
}

/**
 * Positions of the m best of `count` candidates, by similarity descending then item ascending. The
 * m-th largest similarity is found by selection first, so only about m candidates are sorted.
 */
function topBySimilarity(items: Int32Array, sims: Float64Array, count: number, m: number, scratch: Float64Array): number[] {
  let kept: number[] = [];
  if (count <= m) {
    for (let i = 0; i < count; i++) kept.push(i);
  } else {
    for (let i = 0; i < count; i++) scratch[i] = sims[i];
    const t = kthLargest(scratch, count, m);
    const ties: number[] = [];
    for (let i = 0; i < count; i++) {
      if (sims[i] > t) kept.push(i);
      else if (sims[i] === t) ties.push(i);
    }
    ties.sort((x, y) => items[x] - items[y]);
    kept = kept.concat(ties.slice(0, m - kept.length));
  }
  return kept.sort((x, y) => sims[y] - sims[x] || items[x] - items[y]);
}

/** The k-th largest of a[0..n) (1-based k), by iterative quickselect; reorders a. */
function kthLargest(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  const target = k - 1; // position in descending order
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target];
  }
  return a[target];
}

function checkItemKnnParams(p: ItemKnnParams): void {
  if (!(Number.isInteger(p.neighbours) && p.neighbours >= 1)) throw new Error(`lib/baselines/itemKnn.ts: neighbours must be an integer >= 1, got ${p.neighbours}`);
  if (!(Number.isInteger(p.recentItems) && p.recentItems >= 0)) throw new Error(`lib/baselines/itemKnn.ts: recentItems must be an integer >= 0, got ${p.recentItems}`);
}

/** Top-k items per example under the scores documented above. */
export function itemKnnRankings(model: ItemNeighbours, popularityOrder: Int32Array, examples: RecExample[], k: number, p: ItemKnnParams): Int32Array[] {
  checkItemKnnParams(p);
  if (popularityOrder.length !== model.numItems) throw new Error(`lib/baselines/itemKnn.ts: popularity order has ${popularityOrder.length} items, model ${model.numItems}`);
  const acc = new ScoreAccumulator(popularityOrder);
  return examples.map((ex) => {
    acc.reset();
    const h = ex.history;
    const from = p.recentItems > 0 ? Math.max(0, h.length - p.recentItems) : 0;
    for (let j = from; j < h.length; j++) {
      const a = h[j];
      const end = Math.min(model.rowStart[a + 1], model.rowStart[a] + p.neighbours);
      for (let e = model.rowStart[a]; e < end; e++) acc.add(model.neighbour[e], model.similarity[e]);
    }
    return acc.topK(k, h);
  });
}
