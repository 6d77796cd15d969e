/**
 * An embedding table kept in JS memory (Float32Array, row-major [rows, dim]) with a weighted-bag
 * forward, a scatter-add backward into a compact buffer holding only the rows a batch used, and a
 * lazy (sparse) Adam step that updates only those rows, like PyTorch's SparseAdam. The dense
 * layers stay in tf; the bag output goes in as a plain input tensor and its gradient comes back.
 * Per step the cost is O(ids in the batch x dim), independent of the table size. The three loops run
 * in the native addon where it is built (lib/backend/nativeRows.ts: the same arithmetic, the same bits).
 */
import { nativeRowKernels } from '../backend/index';
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
  /** Adam moments interleaved per row: [m(dim), v(dim)] at row * 2 * dim (one stream per row). */
  private readonly mv: Float32Array;
  /** Gradient of the touched rows only, compact: slot s holds row touched[s]. Grows as needed. */
  private grad: Float32Array;
  /** Slot of each row in `grad` during the current step, valid when mark[row] === epoch. */
  private readonly slot: Int32Array;
  private readonly mark: Int32Array;
  /** Rows touched in the current step, in slot order: touched[0 .. touchedCount). */
  private readonly touched: Int32Array;
  private touchedCount = 0;
  private epoch = 1;
  private step = 0;

  constructor(readonly rows: number, readonly dim: number, rng: Rng, initScale = 0.1) {
    if (!(rows > 0 && dim > 0)) throw new Error(`lib/embed/sparseTable.ts: rows and dim must be positive, got ${rows}x${dim}`);
    this.weights = new Float32Array(rows * dim);
    for (let i = 0; i < this.weights.length; i++) this.weights[i] = rng.normal() * initScale;
    this.mv = new Float32Array(2 * rows * dim);
    this.grad = new Float32Array(Math.min(rows, 1024) * dim);
    this.slot = new Int32Array(rows);
    this.mark = new Int32Array(rows);
    this.touched = new Int32Array(rows);
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
    const { mark, slot, touched, epoch } = this;
    const { offsets, ids, weights } = bags;
    // Room for every id of the batch being a new row (at most the whole table).
    const need = Math.min(this.rows, this.touchedCount + ids.length) * d;
    if (need > this.grad.length) {
      const bigger = new Float32Array(Math.min(this.rows * d, Math.max(need, 2 * this.grad.length)));
      bigger.set(this.grad);
      this.grad = bigger;
    }
    const G = this.grad;
    const native = nativeRowKernels();
    if (native) {
      this.touchedCount = native.bagAccumulate(G, d, offsets, ids, weights, dOut, mark, slot, touched, this.touchedCount, epoch);
      return;
    }
    let count = this.touchedCount;
    for (let b = 0; b < B; b++) {
      const gb = b * d;
      const end = offsets[b + 1];
      for (let p = offsets[b]; p < end; p++) {
        const id = ids[p];
        const w = weights[p];
        if (mark[id] !== epoch) {
          mark[id] = epoch;
          slot[id] = count;
          touched[count++] = id;
          const r = slot[id] * d;
          for (let k = 0; k < d; k++) G[r + k] = w * dOut[gb + k];
        } else {
          const r = slot[id] * d;
          for (let k = 0; k < d; k++) G[r + k] += w * dOut[gb + k];
        }
      }
    }
    this.touchedCount = count;
  }

  /** Copy of the accumulated gradient of one row (zeros if untouched); for tests. */
  gradientRow(id: number): Float32Array {
    if (this.mark[id] !== this.epoch) return new Float32Array(this.dim);
    return this.grad.slice(this.slot[id] * this.dim, (this.slot[id] + 1) * this.dim);
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
    const { weights: W, grad: G, mv: MV, touched } = this;
    const a1 = 1 - b1;
    const a2 = 1 - b2;
    const n = this.touchedCount;
    const native = nativeRowKernels();
    if (native) native.sparseAdam(W, MV, G, touched, n, d, Float64Array.from([b1, a1, b2, a2, lr, eps]));
    else {
      for (let t = 0; t < n; t++) {
        const r = touched[t] * d;
        const g0 = t * d;
        const m0 = 2 * r;
        const v0 = m0 + d;
        for (let k = 0; k < d; k++) {
          const g = G[g0 + k];
          const m = b1 * MV[m0 + k] + a1 * g;
          const v = b2 * MV[v0 + k] + a2 * g * g;
          MV[m0 + k] = m;
          MV[v0 + k] = v;
          W[r + k] -= (lr * m) / (Math.sqrt(v) + eps);
        }
      }
    }
    this.clearGradient();
    return n;
  }

  clearGradient(): void {
    this.touchedCount = 0;
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

/** o[b] += sum_p w[p] * table[ids[p]] for p in the first B bags, natively where the addon is built. */
export function bagSum(table: Float32Array, d: number, offsets: Int32Array, ids: Int32Array, weights: Float32Array, o: Float32Array, B: number): void {
  const native = nativeRowKernels();
  if (native) native.bagSum(table, d, offsets.subarray(0, B + 1), ids, weights, o);
  else bagSumLoop(table, d, offsets, ids, weights, o, B);
}

/** The JS loop of bagSum (a free function so V8 optimises it on its own). */
function bagSumLoop(table: Float32Array, d: number, offsets: Int32Array, ids: Int32Array, weights: Float32Array, o: Float32Array, B: number): void {
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
