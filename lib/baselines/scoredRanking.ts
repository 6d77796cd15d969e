/**
 * Top-k items from sparse scores, the shared last step of the co-occurrence and item-kNN baselines:
 * items with a positive score first (score descending), then the rest of the catalogue; ties, and
 * every item without a score, in popularity order (training count descending, then lower index).
 * Items in `exclude` (the user's history) never appear, as for popularity and the generative model.
 */

/** Scratch buffers for one catalogue, reused across examples. */
export class ScoreAccumulator {
  readonly scores: Float64Array;
  /** Items touched since the last `reset`, in first-touch order. */
  private touched: Int32Array;
  private count = 0;
  /** Example number that last touched each item (so no clearing pass is needed). */
  private readonly touchedIn: Int32Array;
  private epoch = 0;
  private readonly stamp: Int32Array;
  private row = 0;
  /** Popularity rank of each item (0 = most popular). */
  private readonly popRank: Int32Array;
  private readonly popOrder: Int32Array;

  constructor(popularityOrder: Int32Array) {
    const n = popularityOrder.length;
    this.scores = new Float64Array(n);
    this.touched = new Int32Array(n);
    this.stamp = new Int32Array(n).fill(-1);
    this.touchedIn = new Int32Array(n).fill(-1);
    this.popOrder = popularityOrder;
    this.popRank = new Int32Array(n);
    for (let r = 0; r < n; r++) this.popRank[popularityOrder[r]] = r;
  }

  /** Starts a new example: clears the scores touched by the previous one. */
  reset(): void {
    for (let i = 0; i < this.count; i++) this.scores[this.touched[i]] = 0;
    this.count = 0;
    this.epoch++;
  }

  add(item: number, w: number): void {
    if (this.touchedIn[item] !== this.epoch) {
      this.touchedIn[item] = this.epoch;
      this.touched[this.count++] = item;
    }
    this.scores[item] += w;
  }

  /** The k best items, `exclude` left out, as documented at the top of the file. */
  topK(k: number, exclude: ArrayLike<number>): Int32Array {
    const r = ++this.row;
    const stamp = this.stamp;
    for (let j = 0; j < exclude.length; j++) stamp[exclude[j]] = r;
    const cand: number[] = [];
    for (let i = 0; i < this.count; i++) {
      const it = this.touched[i];
      if (stamp[it] !== r && this.scores[it] > 0) cand.push(it);
    }
    const s = this.scores;
    const pr = this.popRank;
    cand.sort((a, b) => s[b] - s[a] || pr[a] - pr[b]);
    const out: number[] = cand.slice(0, k);
    for (const it of out) stamp[it] = r;
    for (let i = 0; i < this.popOrder.length && out.length < k; i++) {
      const it = this.popOrder[i];
      if (stamp[it] !== r) out.push(it);
    }
    return Int32Array.from(out);
  }
}
