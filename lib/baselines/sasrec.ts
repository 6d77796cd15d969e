/**
 * SASRec (Kang & McAuley 2018): causal self-attention over a user's item sequence, trained to predict
 * the next item at every position with a full softmax over the catalogue (output layer tied to the
 * item embeddings). Written on the project's tfjs kernels (`linear`, `rmsNorm`, `gelu`, the
 * backend's embedding lookup, and its output-layer cross-entropy, which goes in row chunks where the
 * logits of one batch would be large).
 *
 * - Input: the last `maxLen` items of a history, left-padded with id 0 (item i is id i + 1).
 * - Blocks: pre-norm (RMSNorm) multi-head self-attention with a causal and a padding mask, then a
 *   GELU feed-forward, each with a residual; learned absolute positions. Dropout (training only, as
 *   the published model has it) on the input embeddings, on the attention weights and on each
 *   block's two residual branches.
 * - Training: every training prefix of length >= 2 gives targets at each position; Adam with the
 *   configured betas (the published recipe: 0.9, 0.98); one epoch = one pass over the users in a
 *   seeded order; after each epoch the validation users are ranked and training stops when
 *   validation Recall@K has not improved for `patience` epochs (or at `maxEpochs`); the weights of
 *   the best epoch are kept. Test targets are never read.
 * - Ranking: the last position's scores over every item, the history's items excluded.
 */
import { DeviceYield, tf, embeddingLookup, linearSoftmaxCrossEntropySum } from '../backend/index';
import { gelu, linear, rmsNorm } from '../generate/layers';
import { selectTopK } from '../embed/denseRanking';
import type { RecExample, UserSequence } from '../types';
import { hitsAtK } from '../util/metrics';
import { Progress } from '../util/progress';
import { Rng } from '../util/random';

export interface SasRecConfig {
  maxLen: number;
  dim: number;
  heads: number;
  layers: number;
  learningRate: number;
  batchSize: number;
  maxEpochs: number;
  /** Epochs without a validation improvement before stopping. */
  patience: number;
  /** Cut-off of the validation Recall@K that early stopping watches. */
  validK: number;
  /** Dropout rate while training (0: none). */
  dropout: number;
  /** Adam's decay rates of the first and second moments. */
  beta1: number;
  beta2: number;
  seed: number;
}

export const SASREC_DEFAULTS: SasRecConfig = { maxLen: 50, dim: 64, heads: 2, layers: 2, learningRate: 1e-3, batchSize: 64, maxEpochs: 50, patience: 5, validK: 30, dropout: 0, beta1: 0.9, beta2: 0.999, seed: 0 };

/** The SASRec settings a profile's grid varies (each list one axis; an absent axis keeps the base setting). */
export type SasRecGrid = Partial<Record<'learningRate' | 'dropout' | 'dim', number[]>>;

/** Every setting of a grid over `base`, in grid order (learning rate, then dropout, then width). */
export function sasrecGridSettings(base: SasRecConfig, grid: SasRecGrid = {}): SasRecConfig[] {
  const axes = (['learningRate', 'dropout', 'dim'] as const).map((k) => [k, grid[k]?.length ? grid[k]! : [base[k]]] as const);
  let settings: SasRecConfig[] = [base];
  for (const [k, values] of axes) settings = settings.flatMap((c) => values.map((v) => ({ ...c, [k]: v })));
  return settings;
}

/** Seeds of the dropout masks of one training step (none at inference). */
export interface DropoutStream {
  rate: number;
  /** A fresh seed per mask, from the training's seeded stream. */
  nextSeed: () => number;
}

interface Block {
  norm1: tf.Variable;
  wq: tf.Variable;
  wk: tf.Variable;
  wv: tf.Variable;
  wo: tf.Variable;
  norm2: tf.Variable;
  w1: tf.Variable;
  w2: tf.Variable;
}

export class SasRecModel {
  readonly numItems: number;
  readonly cfg: SasRecConfig;
  /** [numItems + 1, dim]; row 0 is padding. */
  readonly items: tf.Variable;
  readonly positions: tf.Variable;
  readonly blocks: Block[];
  readonly finalNorm: tf.Variable;

  constructor(numItems: number, cfg: SasRecConfig) {
    if (!(cfg.dim % cfg.heads === 0)) throw new Error(`lib/baselines/sasrec.ts: dim ${cfg.dim} must be a multiple of heads ${cfg.heads}`);
    if (!(Number.isInteger(cfg.maxLen) && cfg.maxLen >= 2)) throw new Error(`lib/baselines/sasrec.ts: maxLen must be an integer >= 2, got ${cfg.maxLen}`);
    if (!(cfg.dropout >= 0 && cfg.dropout < 1)) throw new Error(`lib/baselines/sasrec.ts: dropout must be in [0, 1), got ${cfg.dropout}`);
    this.numItems = numItems;
    this.cfg = cfg;
    const rng = new Rng(cfg.seed);
    const init = (shape: number[], scale: number) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const v = new Float32Array(n);
      for (let i = 0; i < n; i++) v[i] = rng.normal() * scale;
      return owned(tf.tensor(v, shape));
    };
    // A variable made from a tensor shares its data; the tensor itself is released here.
    const owned = (t: tf.Tensor) => {
      const v = tf.variable(t);
      t.dispose();
      return v;
    };
    const d = cfg.dim;
    const s = 1 / Math.sqrt(d);
    this.items = init([numItems + 1, d], s);
    this.positions = init([cfg.maxLen, d], s);
    this.blocks = Array.from({ length: cfg.layers }, () => ({
      norm1: owned(tf.ones([d])),
      wq: init([d, d], s),
      wk: init([d, d], s),
      wv: init([d, d], s),
      wo: init([d, d], s),
      norm2: owned(tf.ones([d])),
      w1: init([d, 2 * d], s),
      w2: init([2 * d, d], 1 / Math.sqrt(2 * d)),
    }));
    this.finalNorm = owned(tf.ones([d]));
  }

  variables(): tf.Variable[] {
    return [this.items, this.positions, this.finalNorm, ...this.blocks.flatMap((b) => [b.norm1, b.wq, b.wk, b.wv, b.wo, b.norm2, b.w1, b.w2])];
  }

  dispose(): void {
    for (const v of this.variables()) v.dispose();
  }

  /** Hidden states [B, L, d] for left-padded ids [B * L] (0 = padding); with `dropout`, as in training. */
  hidden(ids: Int32Array, batch: number, dropout?: DropoutStream): tf.Tensor3D {
    const { maxLen: L, dim: d, heads: H } = this.cfg;
    const dh = d / H;
    const pad = new Float32Array(batch * L);
    for (let i = 0; i < ids.length; i++) pad[i] = ids[i] === 0 ? 0 : 1;
    // Attention bias [B, 1, L, L]: -1e9 on future positions and on padded keys.
    const bias = new Float32Array(batch * L * L);
    for (let b = 0; b < batch; b++) {
      for (let q = 0; q < L; q++) for (let k = 0; k < L; k++) if (k > q || pad[b * L + k] === 0) bias[(b * L + q) * L + k] = -1e9;
      // A fully padded query row would attend to nothing: let it see itself (its output is masked anyway).
      for (let q = 0; q < L; q++) if (pad[b * L + q] === 0) bias[(b * L + q) * L + q] = 0;
    }
    const mask = tf.tensor3d(pad, [batch, L, 1]);
    const biasT = tf.tensor4d(bias, [batch, 1, L, L]);
    const drop = <T extends tf.Tensor>(t: T): T => (dropout && dropout.rate > 0 ? (tf.dropout(t, dropout.rate, undefined, dropout.nextSeed()) as T) : t);
    let x = tf.add(tf.mul(embeddingLookup(this.items, ids, [batch, L, d]), Math.sqrt(d)), this.positions) as tf.Tensor3D;
    x = tf.mul(drop(x), mask);
    const split = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [batch, L, H, dh]), [0, 2, 1, 3]);
    for (const blk of this.blocks) {
      const h = rmsNorm(x, blk.norm1);
      const q = split(linear(h, blk.wq));
      const k = split(linear(h, blk.wk));
      const v = split(linear(h, blk.wv));
      const att = drop(tf.softmax(tf.add(tf.div(tf.matMul(q, k, false, true), Math.sqrt(dh)), biasT)));
      const ctx = tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [batch, L, d]);
      x = tf.mul(tf.add(x, drop(linear(ctx, blk.wo))), mask) as tf.Tensor3D;
      const f = linear(gelu(linear(rmsNorm(x, blk.norm2), blk.w1)), blk.w2);
      x = tf.mul(tf.add(x, drop(f)), mask) as tf.Tensor3D;
    }
    return rmsNorm(x, this.finalNorm) as tf.Tensor3D;
  }

  /** Scores [rows, numItems] of every item from hidden states [rows, d] (tied output layer). */
  scores(h: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.matMul(h, this.outputTable(), false, true));
  }

  /** The item rows [numItems, dim] (padding row dropped): the output layer, tied to the input embeddings. */
  outputTable(): tf.Tensor2D {
    return tf.slice(this.items as tf.Tensor2D, [1, 0], [this.numItems, this.cfg.dim]);
  }
}

/** The last `maxLen` items of `seq`, as ids (item + 1) left-padded with 0, written into `out` at `offset`. */
export function leftPadded(seq: ArrayLike<number>, maxLen: number, out: Int32Array, offset: number): void {
  const n = Math.min(seq.length, maxLen);
  for (let i = 0; i < maxLen - n; i++) out[offset + i] = 0;
  for (let i = 0; i < n; i++) out[offset + maxLen - n + i] = seq[seq.length - n + i] + 1;
}

/** Mean next-item cross-entropy of one batch of training sequences (inputs s[0..n-2], targets s[1..n-1]). */
export function sasRecLoss(model: SasRecModel, seqs: ArrayLike<number>[], dropout?: DropoutStream): tf.Scalar {
  const L = model.cfg.maxLen;
  const B = seqs.length;
  const ids = new Int32Array(B * L);
  const targets = new Int32Array(B * L).fill(-1);
  seqs.forEach((s, b) => {
    const input = Array.from(s).slice(0, -1);
    const tgt = Array.from(s).slice(1);
    leftPadded(input, L, ids, b * L);
    const n = Math.min(tgt.length, L);
    for (let i = 0; i < n; i++) targets[b * L + L - n + i] = tgt[tgt.length - n + i];
  });
  let count = 0;
  for (let i = 0; i < targets.length; i++) if (targets[i] >= 0) count++;
  return tf.tidy(() => {
    const h = tf.reshape(model.hidden(ids, B, dropout), [B * L, model.cfg.dim]) as tf.Tensor2D;
    // Padded positions have target -1, so they add nothing. Over a large catalogue the logits go in
    // row chunks (lib/backend/linearCrossEntropy.ts); at ml-latest-small's size in one piece.
    return tf.div(linearSoftmaxCrossEntropySum(h, model.outputTable(), targets), Math.max(1, count)) as tf.Scalar;
  });
}

/** Top-k items for each example from its history's last position, history items excluded. */
export function sasRecRankings(model: SasRecModel, examples: RecExample[], k: number, batchSize = 128): Int32Array[] {
  const L = model.cfg.maxLen;
  const out: Int32Array[] = [];
  for (let start = 0; start < examples.length; start += batchSize) {
    const batch = examples.slice(start, start + batchSize);
    const ids = new Int32Array(batch.length * L);
    batch.forEach((e, b) => leftPadded(e.history, L, ids, b * L));
    const scores = tf.tidy(() => {
      const h = model.hidden(ids, batch.length);
      const last = tf.reshape(tf.slice(h, [0, L - 1, 0], [batch.length, 1, model.cfg.dim]), [batch.length, model.cfg.dim]) as tf.Tensor2D;
      return model.scores(last);
    });
    const values = scores.dataSync() as Float32Array;
    scores.dispose();
    batch.forEach((e, b) => {
      const row = values.subarray(b * model.numItems, (b + 1) * model.numItems);
      for (let j = 0; j < e.history.length; j++) row[e.history[j]] = -Infinity;
      // Score descending, ties to the lower item: one pass over the catalogue, no sort.
      out.push(selectTopK(row, Math.min(k, model.numItems)));
    });
  }
  return out;
}

export interface SasRecTraining {
  model: SasRecModel;
  /** Validation Recall@validK after each epoch. */
  validRecall: number[];
  bestEpoch: number;
  epochs: number;
}

/** Trains as documented at the top of the file and keeps the best validation epoch's weights. */
export async function trainSasRec(train: UserSequence[], valid: RecExample[], numItems: number, cfg: Partial<SasRecConfig> = {}): Promise<SasRecTraining> {
  const c: SasRecConfig = { ...SASREC_DEFAULTS, ...cfg };
  const model = new SasRecModel(numItems, c);
  const opt = tf.train.adam(c.learningRate, c.beta1, c.beta2);
  const rng = new Rng(c.seed ^ 0x5a5);
  const maskRng = new Rng(c.seed ^ 0xd20);
  const dropout: DropoutStream = { rate: c.dropout, nextSeed: () => maskRng.int(0x7fffffff) };
  // Sequences longer than maxLen + 1 are cut into windows, so early items are trained on too.
  const windows: Int32Array[] = [];
  for (const u of train) {
    for (let end = u.items.length; end >= 2; end -= c.maxLen) windows.push(u.items.subarray(Math.max(0, end - c.maxLen - 1), end));
  }
  if (windows.length === 0) throw new Error('lib/baselines/sasrec.ts: no training sequence has 2 items or more');
  const targets = valid.map((e) => e.target);
  const validRecall: number[] = [];
  let best = -1;
  let bestEpoch = -1;
  let snapshot: Float32Array[] | null = null;
  let epoch = 0;
  const yielder = new DeviceYield();
  const stepsPerEpoch = Math.ceil(windows.length / c.batchSize);
  // The ETA is to the epoch cap; a plateau stops sooner.
  const progress = new Progress({ label: `sasrec, up to ${c.maxEpochs} epochs`, total: c.maxEpochs * stepsPerEpoch, unit: 'steps', intervalMs: 10_000 });
  for (; epoch < c.maxEpochs; epoch++) {
    const order = rng.permutation(windows.length);
    for (let s = 0; s < order.length; s += c.batchSize) {
      const batch = Array.from(order.subarray(s, s + c.batchSize), (i) => windows[i]);
      // No cost returned: nothing is read back per step.
      opt.minimize(() => sasRecLoss(model, batch, dropout), false, model.variables());
      progress.tick(1, `epoch ${epoch + 1}${validRecall.length ? `, last valid R@${c.validK} ${validRecall[validRecall.length - 1].toFixed(4)}` : ''}`);
      await yielder.tick();
    }
    const r = hitsAtK(sasRecRankings(model, valid, c.validK), targets, c.validK);
    let mean = 0;
    for (const x of r) mean += x;
    mean /= Math.max(1, r.length);
    validRecall.push(mean);
    if (mean > best) {
      best = mean;
      bestEpoch = epoch;
      snapshot = model.variables().map((v) => v.dataSync().slice() as Float32Array);
    } else if (epoch - bestEpoch >= c.patience) {
      epoch++;
      break;
    }
  }
  progress.finish(`${epoch} epochs, best ${bestEpoch + 1} (valid R@${c.validK} ${best.toFixed(4)})`);
  if (snapshot) tf.tidy(() => model.variables().forEach((v, i) => v.assign(tf.tensor(snapshot![i], v.shape))));
  opt.dispose();
  return { model, validRecall, bestEpoch, epochs: epoch };
}
