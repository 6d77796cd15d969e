/**
 * An embedding table kept in JS memory (Float32Array, row-major [rows, dim]) with a weighted-bag
 * forward, a scatter-add backward into a gradient buffer that is touched only on used rows, and a
 * lazy (sparse) Adam step that updates only those rows, like PyTorch's SparseAdam. The dense
 * layers stay in tf; the bag output goes in as a plain input tensor and its gradient comes back.
 * Per step the cost is O(ids in the batch x dim), independent of the table size.
 */
import { Rng } from '../util/random';
import type { BagBatch } from './textFeatures';

export interface SparseAdamOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export class SparseEmbeddingTable {
  readonly weights: Float32Array;
  private readonly grad: Float32Array;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  /** Step at which a row was last touched by accumulate(), to list touched rows without scanning. */
  private readonly mark: Int32Array;
  private touched: number[] = [];
  private epoch = 1;
  private step = 0;

  constructor(readonly rows: number, readonly dim: number, rng: Rng, initScale = 0.1) {
    if (!(rows > 0 && dim > 0)) throw new Error(`lib/embed/sparseTable.ts: rows and dim must be positive, got ${rows}x${dim}`);
    this.weights = new Float32Array(rows * dim);
    for (let i = 0; i < this.weights.length; i++) this.weights[i] = rng.normal() * initScale;
    this.grad = new Float32Array(rows * dim);
    this.m = new Float32Array(rows * dim);
    this.v = new Float32Array(rows * dim);
    this.mark = new Int32Array(rows);
  }

  /** out[b] = sum_j w_j * row(id_j) over bag b: Float32Array [B, dim]. */
  bagForward(bags: BagBatch, out?: Float32Array): Float32Array {
    this.checkIds(bags);
    const B = bags.offsets.length - 1;
    const d = this.dim;
    const o = out ?? new Float32Array(B * d);
    o.fill(0);
    bagSum(this.weights, d, bags.offsets, bags.ids, bags.weights, o, B);
    return o;
  }

  private checkIds(bags: BagBatch): void {
    const ids = bags.ids;
    const rows = this.rows;
    let bad = -1;
    for (let p = 0; p < ids.length; p++) if (ids[p] < 0 || ids[p] >= rows) bad = p;
    if (bad >= 0) throw new Error(`lib/embed/sparseTable.ts: id ${ids[bad]} outside the table's ${rows} rows`);
  }

  /** Adds the table gradient of a bag batch given dL/d(out) [B, dim]. */
  accumulate(bags: BagBatch, dOut: Float32Array): void {
    this.checkIds(bags);
    const B = bags.offsets.length - 1;
    const d = this.dim;
    const G = this.grad;
    const mark = this.mark;
    const epoch = this.epoch;
    const touched = this.touched;
    const { offsets, ids, weights } = bags;
    for (let b = 0; b < B; b++) {
      const gb = b * d;
      const end = offsets[b + 1];
      for (let p = offsets[b]; p < end; p++) {
        const id = ids[p];
        const w = weights[p];
        const r = id * d;
        if (mark[id] !== epoch) {
          mark[id] = epoch;
          touched.push(id);
          for (let k = 0; k < d; k++) G[r + k] = w * dOut[gb + k];
        } else {
          for (let k = 0; k < d; k++) G[r + k] += w * dOut[gb + k];
        }
      }
    }
  }

  /** Copy of the accumulated gradient of one row (zeros if untouched); for tests. */
  gradientRow(id: number): Float32Array {
    if (this.mark[id] !== this.epoch) return new Float32Array(this.dim);
    return this.grad.slice(id * this.dim, (id + 1) * this.dim);
  }

  /** Lazy Adam on the touched rows, then clears the gradient. Returns the number of rows updated. */
  adamStep(o: SparseAdamOptions): number {
    const b1 = o.beta1 ?? 0.9;
    const b2 = o.beta2 ?? 0.999;
    const eps = o.epsilon ?? 1e-8;
    this.step++;
    const c1 = 1 - Math.pow(b1, this.step);
    const c2 = 1 - Math.pow(b2, this.step);
    const lr = (o.learningRate * Math.sqrt(c2)) / c1;
    const d = this.dim;
    const { weights: W, grad: G, m: M, v: V, touched } = this;
    const a1 = 1 - b1;
    const a2 = 1 - b2;
    for (let t = 0; t < touched.length; t++) {
      const r = touched[t] * d;
      const e = r + d;
      for (let k = r; k < e; k++) {
        const g = G[k];
        const m = b1 * M[k] + a1 * g;
        const v = b2 * V[k] + a2 * g * g;
        M[k] = m;
        V[k] = v;
        W[k] -= (lr * m) / (Math.sqrt(v) + eps);
      }
    }
    const n = this.touched.length;
    this.clearGradient();
    return n;
  }

  clearGradient(): void {
    this.touched = [];
    this.epoch++;
  }

  snapshot(): Float32Array {
    return this.weights.slice();
  }

  restore(w: Float32Array): void {
    if (w.length !== this.weights.length) throw new Error('lib/embed/sparseTable.ts restore: size mismatch');
    this.weights.set(w);
  }
}

/** o[b] += sum_p w[p] * table[ids[p]] for p in bag b (kept as a free function so V8 optimises it on its own). */
export function bagSum(table: Float32Array, d: number, offsets: Int32Array, ids: Int32Array, weights: Float32Array, o: Float32Array, B: number): void {
  for (let b = 0; b < B; b++) {
    const ob = b * d;
    const end = offsets[b + 1];
    for (let p = offsets[b]; p < end; p++) {
      const r = ids[p] * d;
      const w = weights[p];
      for (let k = 0; k < d; k++) o[ob + k] += w * table[r + k];
    }
  }
}
