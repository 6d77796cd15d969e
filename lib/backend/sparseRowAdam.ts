/**
 * Sparse embedding table with a row-wise ("lazy") Adam update, for vocabularies too large for a dense
 * [V, D] gradient per step. The table and its moments live in JS Float32Arrays; a step touches only
 * the rows whose ids occurred in the batch (same semantics as PyTorch's SparseAdam: duplicate ids are
 * summed first, moments of other rows are left as they are, bias correction uses the global step).
 *
 * Use: `rows = emb.lookup(ids)` gives a plain tensor; differentiate the loss with respect to it (for
 * example by wrapping it in a `tf.variable` passed to `tf.variableGrads` beside the dense weights),
 * then `emb.applyGradients(ids, gradOfRows)`.
 */
import * as tf from '@tensorflow/tfjs';
import { float32Values, gatherRows } from './embedding';

export interface SparseRowAdamConfig {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export class SparseRowAdam {
  readonly numRows: number;
  readonly dim: number;
  /** The table, row-major [numRows, dim]; updated in place. */
  readonly values: Float32Array;
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private step = 0;
  // Scratch for aggregating duplicate ids: slot of each row in the current step, -1 when unused.
  private readonly slotOfRow: Int32Array;

  constructor(values: Float32Array, dim: number, config: SparseRowAdamConfig) {
    if (!Number.isInteger(dim) || dim < 1 || values.length % dim !== 0) {
      throw new Error(`SparseRowAdam: values.length ${values.length} is not a multiple of dim ${dim}`);
    }
    if (!(config.learningRate > 0)) throw new Error(`SparseRowAdam: learningRate must be > 0, got ${config.learningRate}`);
    this.values = values;
    this.dim = dim;
    this.numRows = values.length / dim;
    this.learningRate = config.learningRate;
    this.beta1 = config.beta1 ?? 0.9;
    this.beta2 = config.beta2 ?? 0.999;
    this.epsilon = config.epsilon ?? 1e-8;
    for (const [k, b] of [['beta1', this.beta1], ['beta2', this.beta2]] as const) {
      if (!(b >= 0 && b < 1)) throw new Error(`SparseRowAdam: ${k} must be in [0, 1), got ${b}`);
    }
    this.m = new Float32Array(values.length);
    this.v = new Float32Array(values.length);
    this.slotOfRow = new Int32Array(this.numRows).fill(-1);
  }

  /** A table initialised from a [V, D] tensor (copied). */
  static fromTensor(table: tf.Tensor2D, config: SparseRowAdamConfig): SparseRowAdam {
    if (table.rank !== 2) throw new Error(`SparseRowAdam.fromTensor: expected a [V, D] tensor, got ${JSON.stringify(table.shape)}`);
    return new SparseRowAdam(Float32Array.from(float32Values(table)), table.shape[1], config);
  }

  /** Number of updates applied so far. */
  get steps(): number {
    return this.step;
  }

  private checkIds(ids: Int32Array, where: string): void {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id < 0 || id >= this.numRows) throw new Error(`SparseRowAdam.${where}: ids[${i}] = ${id} is outside rows 0..${this.numRows - 1}`);
    }
  }

  /** Rows `ids` as a new tensor of shape [ids.length, dim] (or `outShape`, ending with dim). */
  lookup(ids: Int32Array, outShape?: number[]): tf.Tensor {
    this.checkIds(ids, 'lookup');
    const shape = outShape ?? [ids.length, this.dim];
    if (shape[shape.length - 1] !== this.dim || shape.reduce((p, d) => p * d, 1) !== ids.length * this.dim) {
      throw new Error(`SparseRowAdam.lookup: outShape ${JSON.stringify(shape)} must end with ${this.dim} and hold ${ids.length} rows`);
    }
    return tf.tensor(gatherRows(this.values, this.dim, ids), shape, 'float32');
  }

  /** One Adam step on the rows in `ids`, given the gradient of the looked-up rows ([ids.length, dim]). */
  applyGradients(ids: Int32Array, grad: tf.Tensor | Float32Array): void {
    this.checkIds(ids, 'applyGradients');
    const d = this.dim;
    const g = grad instanceof Float32Array ? grad : float32Values(grad);
    if (g.length !== ids.length * d) {
      throw new Error(`SparseRowAdam.applyGradients: gradient has ${g.length} values, expected ${ids.length} x ${d}`);
    }
    // Sum duplicate ids into one gradient row each.
    const unique: number[] = [];
    const summed = new Float32Array(ids.length * d);
    for (let i = 0; i < ids.length; i++) {
      const row = ids[i];
      let slot = this.slotOfRow[row];
      if (slot < 0) {
        slot = unique.length;
        this.slotOfRow[row] = slot;
        unique.push(row);
      }
      const dst = slot * d;
      const src = i * d;
      for (let j = 0; j < d; j++) summed[dst + j] += g[src + j];
    }
    this.step += 1;
    const { beta1, beta2, epsilon } = this;
    const lrCorrected = this.learningRate / (1 - Math.pow(beta1, this.step));
    const vCorrection = 1 / (1 - Math.pow(beta2, this.step));
    const w = this.values;
    const m = this.m;
    const v = this.v;
    for (let s = 0; s < unique.length; s++) {
      const row = unique[s];
      this.slotOfRow[row] = -1;
      const base = row * d;
      const gBase = s * d;
      for (let j = 0; j < d; j++) {
        const gj = summed[gBase + j];
        const k = base + j;
        m[k] = beta1 * m[k] + (1 - beta1) * gj;
        v[k] = beta2 * v[k] + (1 - beta2) * gj * gj;
        w[k] -= (lrCorrected * m[k]) / (Math.sqrt(v[k] * vCorrection) + epsilon);
      }
    }
  }

  /** The current table as a [V, D] tensor (a copy). */
  toTensor(): tf.Tensor2D {
    return tf.tensor2d(this.values.slice(), [this.numRows, this.dim]);
  }
}
