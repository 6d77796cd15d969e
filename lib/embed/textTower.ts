/**
 * The trainable text tower and its contrastive training step:
 *   hashed n-gram ids -> embedding bag (weighted mean) -> dense projection -> layer norm -> L2 norm,
 * with in-batch softmax loss (MultipleNegativesRankingLoss) at a temperature, optionally symmetric,
 * and in-batch duplicates masked out of the negatives. One tower with shared weights encodes queries
 * and items (a Siamese bi-encoder, as in the sentence-transformers fine-tuning the paper used).
 *
 * Table updates: 'sparse' (default) keeps the table in JS and runs a lazy Adam on the rows a batch
 * touched; 'dense' keeps it as a tf variable with the scatter-add gradient of `embeddingBag` and a
 * dense Adam (O(vocabulary) per step; kept for comparison and for backends where that is cheap).
 */
import { tf } from '../backend/index';
import { Rng } from '../util/random';
import { embeddingBag, matMulFast } from './bagOps';
import { SparseEmbeddingTable, bagSum } from './sparseTable';
import type { BagBatch } from './textFeatures';

export interface TowerOptions {
  /** Rows of the embedding table (hash buckets plus any id rows). */
  rows: number;
  /** Width of the table and of the output. Default 128. */
  dim?: number;
  /** Learning rate of the dense layers (Adam). Default 2e-3. */
  learningRate?: number;
  /** Learning rate of the table rows (Adam). Default 1e-2. */
  tableLearningRate?: number;
  /** Softmax temperature. Default 0.05 (sentence-transformers' scale 20). */
  temperature?: number;
  /** Add the positive->anchor direction of the loss. Default true. */
  symmetric?: boolean;
  tableUpdate?: 'sparse' | 'dense';
  seed?: number;
}

export interface PairBatch {
  anchors: BagBatch;
  positives: BagBatch;
  /**
   * Item keys per pair for duplicate masking: pair j is masked out of pair i's negatives when
   * their key sets intersect (keysA may be null for text anchors).
   */
  keysA: Int32Array | null;
  keysP: Int32Array;
}

/**
 * Plain Adam over a Float32Array parameter (the dense layers are small: 16k floats at dim 128).
 * Also the optimiser of the adapter tower (adapterTower.ts).
 */
export class DenseAdam {
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private t = 0;
  constructor(readonly param: Float32Array, private readonly lr: number) {
    this.m = new Float32Array(param.length);
    this.v = new Float32Array(param.length);
  }
  step(g: Float32Array): void {
    this.t++;
    const b1 = 0.9;
    const b2 = 0.999;
    const lr = (this.lr * Math.sqrt(1 - Math.pow(b2, this.t))) / (1 - Math.pow(b1, this.t));
    const { param: w, m, v } = this;
    for (let k = 0; k < w.length; k++) {
      const gk = g[k];
      m[k] = b1 * m[k] + (1 - b1) * gk;
      v[k] = b2 * v[k] + (1 - b2) * gk * gk;
      w[k] -= (lr * m[k]) / (Math.sqrt(v[k]) + 1e-8);
    }
  }
}

export interface TowerSnapshot {
  table: Float32Array;
  dense: Float32Array[];
}

export class TextTower {
  readonly dim: number;
  readonly rows: number;
  readonly opts: Required<TowerOptions>;
  private readonly sparse: SparseEmbeddingTable | null;
  private readonly tableVar: tf.Variable | null;
  /** Dense layers, kept in JS and passed to tf as inputs each step: w [dim, dim], b, gamma, beta [dim]. */
  private readonly dense: Float32Array[];
  private readonly denseAdam: DenseAdam[];
  private readonly tableOptimizer: tf.AdamOptimizer | null;
  steps = 0;

  constructor(o: TowerOptions) {
    this.opts = {
      rows: o.rows,
      dim: o.dim ?? 128,
      learningRate: o.learningRate ?? 2e-3,
      tableLearningRate: o.tableLearningRate ?? 1e-2,
      temperature: o.temperature ?? 0.05,
      symmetric: o.symmetric ?? true,
      tableUpdate: o.tableUpdate ?? 'sparse',
      seed: o.seed ?? 1,
    };
    const { dim, rows, temperature } = this.opts;
    if (!Number.isInteger(dim) || dim < 1) throw new Error(`lib/embed/textTower.ts: option dim must be a positive integer, got ${o.dim}`);
    if (!(temperature > 0)) throw new Error(`lib/embed/textTower.ts: option temperature must be > 0, got ${o.temperature}`);
    if (this.opts.tableUpdate !== 'sparse' && this.opts.tableUpdate !== 'dense') {
      throw new Error(`lib/embed/textTower.ts: option tableUpdate must be 'sparse' or 'dense', got ${o.tableUpdate}`);
    }
    this.dim = dim;
    this.rows = rows;
    const rng = new Rng(this.opts.seed);
    const table = new SparseEmbeddingTable(rows, dim, rng.fork('table'), 0.1);
    const wr = rng.fork('dense');
    const w = new Float32Array(dim * dim);
    const scale = Math.sqrt(1 / dim);
    for (let i = 0; i < w.length; i++) w[i] = wr.normal() * scale;
    this.dense = [w, new Float32Array(dim), new Float32Array(dim).fill(1), new Float32Array(dim)];
    this.denseAdam = this.dense.map((p) => new DenseAdam(p, this.opts.learningRate));
    if (this.opts.tableUpdate === 'sparse') {
      this.sparse = table;
      this.tableVar = null;
      this.tableOptimizer = null;
    } else {
      this.sparse = null;
      this.tableVar = tf.variable(tf.tensor2d(table.weights, [rows, dim]));
      this.tableOptimizer = tf.train.adam(this.opts.tableLearningRate);
    }
  }

  /** The dense layers as fresh tensors (call inside a tidy). */
  private denseTensors(): tf.Tensor[] {
    const d = this.dim;
    return [tf.tensor2d(this.dense[0], [d, d]), ...this.dense.slice(1).map((x) => tf.tensor1d(x))];
  }

  private applyDense(grads: tf.Tensor[]): void {
    grads.forEach((g, i) => this.denseAdam[i].step(g.dataSync() as Float32Array));
  }

  /** Dense part of the tower on bag outputs x [B, dim] (transpose-free matmul gradient). */
  head(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor2D {
    return towerHead(x, w, b, gamma, beta, matMulFast);
  }

  /** Additive mask [B, B]: a large negative where pair j must not be a negative for pair i. */
  static maskBias(keysA: Int32Array | null, keysP: Int32Array): Float32Array {
    return duplicateMaskBias(keysA, keysP);
  }

  /** In-batch softmax loss on unit vectors a, p [B, dim]. */
  private contrastiveLoss(a: tf.Tensor2D, p: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
    return inBatchSoftmaxLoss(a, p, mask, this.opts);
  }

  /** One optimisation step on a batch; `weight` scales the loss (multi-task). Returns the loss. */
  trainStep(batch: PairBatch, weight = 1): number {
    return this.trainStepParts([{ batch, weight }]);
  }

  /**
   * One optimisation step on the weighted sum of several batches' losses (each batch is its own
   * in-batch softmax: negatives never cross parts). Returns the total loss.
   */
  trainStepParts(parts: Array<{ batch: PairBatch; weight: number }>): number {
    if (parts.length === 0) throw new Error('lib/embed/textTower.ts trainStepParts: no batches');
    const masks = parts.map(({ batch }) => {
      const B = batch.keysP.length;
      if (batch.anchors.offsets.length - 1 !== B || batch.positives.offsets.length - 1 !== B) {
        throw new Error(`lib/embed/textTower.ts trainStep: ${batch.anchors.offsets.length - 1} anchors, ${batch.positives.offsets.length - 1} positives, ${B} keys`);
      }
      return TextTower.maskBias(batch.keysA, batch.keysP);
    });
    this.steps++;
    return this.sparse ? this.sparseStep(parts, masks) : this.denseStep(parts, masks);
  }

  /**
   * Loss of all parts from one stacked bag-output matrix x [sum of 2*B_k, dim] (anchors then
   * positives of each part, in order): one projection + layer norm for everything, then row slices.
   */
  private partsLoss(x: tf.Tensor2D, dense: tf.Tensor[], parts: Array<{ batch: PairBatch; weight: number }>, masks: Float32Array[]): tf.Scalar {
    const [w, b, g, be] = dense;
    const h = this.head(x, w, b, g, be);
    return stackedPartsLoss(h, parts.map((p, k) => ({ size: p.batch.keysP.length, weight: p.weight, mask: masks[k] })), this.opts);
  }

  private sparseStep(parts: Array<{ batch: PairBatch; weight: number }>, masks: Float32Array[]): number {
    const t = this.sparse!;
    const d = this.dim;
    const sides = parts.flatMap(({ batch }) => [batch.anchors, batch.positives]);
    const offsets = [0];
    for (const s of sides) offsets.push(offsets[offsets.length - 1] + (s.offsets.length - 1));
    const R = offsets[offsets.length - 1];
    const x = new Float32Array(R * d);
    sides.forEach((s, i) => t.bagForward(s, x.subarray(offsets[i] * d, offsets[i + 1] * d)));
    // Results leave the tidy through closure variables: returning typed arrays from tf.tidy makes
    // it walk every element looking for tensors (lib/embed/README.md has what that cost).
    let loss = NaN;
    let gx: Float32Array = new Float32Array(0);
    tf.tidy(() => {
      const f = (xt: tf.Tensor, ...dense: tf.Tensor[]) => this.partsLoss(xt as tf.Tensor2D, dense, parts, masks);
      const { value, grads } = tf.valueAndGrads(f)([tf.tensor2d(x, [R, d]), ...this.denseTensors()]);
      this.applyDense(grads.slice(1));
      loss = value.dataSync()[0];
      gx = grads[0].dataSync() as Float32Array;
    });
    sides.forEach((s, i) => t.accumulate(s, gx.subarray(offsets[i] * d, offsets[i + 1] * d)));
    t.adamStep({ learningRate: this.opts.tableLearningRate });
    return loss;
  }

  private denseStep(parts: Array<{ batch: PairBatch; weight: number }>, masks: Float32Array[]): number {
    const table = this.tableVar!;
    let loss = NaN;
    tf.tidy(() => {
      const f = (t: tf.Tensor, ...dense: tf.Tensor[]) => {
        const xs = parts.flatMap(({ batch }) => [embeddingBag(t as tf.Tensor2D, batch.anchors), embeddingBag(t as tf.Tensor2D, batch.positives)]);
        return this.partsLoss(tf.concat(xs, 0) as tf.Tensor2D, dense, parts, masks);
      };
      const { value, grads } = tf.valueAndGrads(f)([table, ...this.denseTensors()]);
      this.applyDense(grads.slice(1));
      this.tableOptimizer!.applyGradients([{ name: table.name, tensor: grads[0] }]);
      loss = value.dataSync()[0];
    });
    return loss;
  }

  /** Encodes bags to unit vectors [B, dim] with the current weights. */
  encode(bags: BagBatch, chunk = 1024): Float32Array {
    if (this.sparse) return encodeWithWeights(this.sparse.weights, this.dense, this.dim, bags, chunk);
    return encodeWithWeights(this.tableVar!.dataSync() as Float32Array, this.dense, this.dim, bags, chunk);
  }

  snapshot(): TowerSnapshot {
    const table = this.sparse ? this.sparse.snapshot() : (this.tableVar!.dataSync() as Float32Array).slice();
    return { table, dense: this.dense.map((x) => x.slice()) };
  }

  restore(s: TowerSnapshot): void {
    if (this.sparse) this.sparse.restore(s.table);
    else tf.tidy(() => this.tableVar!.assign(tf.tensor2d(s.table, [this.rows, this.dim])));
    this.dense.forEach((x, i) => x.set(s.dense[i]));
  }

  /** Frees every tensor the tower owns (variables and optimizer state). */
  dispose(): void {
    this.tableVar?.dispose();
    this.tableOptimizer?.dispose();
  }
}

/**
 * Additive mask [B, B] for the in-batch softmax: a large negative where pair j must not be a
 * negative for pair i (same positive item, or, with item anchors, any item shared between the pairs).
 */
export function duplicateMaskBias(keysA: Int32Array | null, keysP: Int32Array): Float32Array {
  const B = keysP.length;
  const m = new Float32Array(B * B);
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < B; j++) {
      if (i === j) continue;
      let dup = keysP[i] === keysP[j];
      if (!dup && keysA) dup = keysA[i] === keysA[j] || keysA[i] === keysP[j] || keysP[i] === keysA[j];
      if (dup) m[i * B + j] = -1e4;
    }
  }
  return m;
}

export interface SoftmaxLossOptions {
  temperature: number;
  symmetric: boolean;
}

/** In-batch softmax loss (MultipleNegativesRankingLoss) on unit vectors a, p [B, dim] with an additive mask. */
export function inBatchSoftmaxLoss(a: tf.Tensor2D, p: tf.Tensor2D, mask: tf.Tensor2D, o: SoftmaxLossOptions): tf.Scalar {
  const B = a.shape[0];
  const logits = tf.add(tf.mul(matMulFast(a, tf.transpose(p)), 1 / o.temperature), mask) as tf.Tensor2D;
  const eye = tf.eye(B);
  const dir = (l: tf.Tensor2D) => tf.neg(tf.div(tf.sum(tf.mul(tf.logSoftmax(l), eye)), B));
  let loss = dir(logits);
  if (o.symmetric) loss = tf.mul(tf.add(loss, dir(tf.transpose(logits))), 0.5);
  return loss as tf.Scalar;
}

/**
 * Weighted sum of the in-batch losses of several parts whose tower outputs are stacked in h
 * [sum of 2*size_k, dim] (anchors then positives of each part, in order). Each part is its own
 * softmax: negatives never cross parts. Shared by the hashed and the adapter towers.
 */
export function stackedPartsLoss(h: tf.Tensor2D, parts: Array<{ size: number; weight: number; mask: Float32Array }>, o: SoftmaxLossOptions): tf.Scalar {
  const dim = h.shape[1];
  let total: tf.Tensor | null = null;
  let row = 0;
  for (const part of parts) {
    const B = part.size;
    const mask = tf.tensor2d(part.mask, [B, B]);
    const ha = tf.slice(h, [row, 0], [B, dim]) as tf.Tensor2D;
    const hp = tf.slice(h, [row + B, 0], [B, dim]) as tf.Tensor2D;
    row += 2 * B;
    const l = tf.mul(inBatchSoftmaxLoss(ha, hp, mask, o), part.weight);
    total = total ? tf.add(total, l) : l;
  }
  return total as unknown as tf.Scalar;
}

/** projection -> layer norm -> L2 normalisation: the tower's dense part. */
function towerHead(
  x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor,
  mm: (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D = tf.matMul,
): tf.Tensor2D {
  const h = tf.add(mm(x, w as tf.Tensor2D), b);
  const mean = tf.mean(h, -1, true);
  const c = tf.sub(h, mean);
  const variance = tf.mean(tf.square(c), -1, true);
  const ln = tf.add(tf.mul(tf.mul(c, tf.rsqrt(tf.add(variance, 1e-5))), gamma), beta);
  return tf.mul(ln, tf.rsqrt(tf.add(tf.sum(tf.square(ln), -1, true), 1e-12))) as tf.Tensor2D;
}

/**
 * Encodes bags with given weights (table [rows, dim] row-major; dense = [w, b, gamma, beta]):
 * the bag sum in JS, the dense part in tf, in chunks. Needs no live tower, so trained models keep
 * only typed arrays.
 */
export function encodeWithWeights(table: Float32Array, dense: Float32Array[], dim: number, bags: BagBatch, chunk = 1024): Float32Array {
  const n = bags.offsets.length - 1;
  const rows = table.length / dim;
  for (let i = 0; i < bags.ids.length; i++) {
    if (bags.ids[i] < 0 || bags.ids[i] >= rows) throw new Error(`lib/embed/textTower.ts encode: id ${bags.ids[i]} outside the table's ${rows} rows`);
  }
  const out = new Float32Array(n * dim);
  for (let s = 0; s < n; s += chunk) {
    const e = Math.min(n, s + chunk);
    const x = new Float32Array((e - s) * dim);
    const offsets = bags.offsets.subarray(s, e + 1).map((o) => o - bags.offsets[s]);
    const a = bags.offsets[s];
    bagSum(table, dim, offsets, bags.ids.subarray(a), bags.weights.subarray(a), x, e - s);
    const y = tf.tidy(() =>
      towerHead(tf.tensor2d(x, [e - s, dim]), tf.tensor2d(dense[0], [dim, dim]), tf.tensor1d(dense[1]), tf.tensor1d(dense[2]), tf.tensor1d(dense[3])),
    );
    out.set(y.dataSync() as Float32Array, s * dim);
    y.dispose();
  }
  return out;
}
