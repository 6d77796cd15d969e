/**
 * Training loop of the seq2seq model: teacher forcing, token cross-entropy, AdamW with warmup and
 * decay, mixed-task length-bucketed batches, gradient accumulation over micro-batches (the wasm heap
 * cannot hold a large batch's intermediates), per-epoch validation with the best weights kept, and
 * atomic resumable checkpoints.
 */
import { TASKS } from '../types';
import * as path from 'node:path';
import { DeferredReads, DeviceYield, tf } from '../backend/index';
import { Progress } from '../util/progress';
import { Rng, hashString32 } from '../util/random';
import { AdamW, learningRate, type AdamWState, type ScheduleOptions } from './adamw';
import { openCheckpoint, weightsFromRecord, weightsToRecord, writeBundle } from './checkpoint';
import type { Seq2SeqModel } from './seq2seqModel';
import { padBatch, padTargets, type Seq2SeqExample } from './prompts';

/** Training settings: plain data, saved with a profile and hashed into cache keys. */
export interface TrainConfig {
  epochs?: number;
  /** Examples per optimizer step (default 256). */
  batchSize?: number;
  /** Examples per forward/backward pass; gradients are accumulated (default 256, keep <= 256 on wasm). */
  microBatch?: number;
  /** Peak learning rate (default 2e-3). */
  lr?: number;
  /** Share of steps spent warming up (default 0.05 of the cap's steps). */
  warmupFraction?: number;
  /** Warmup steps, in place of `warmupFraction` (so that warmup does not depend on the cap). */
  warmupSteps?: number;
  /**
   * After warmup (default 'cosine'): 'linear' / 'cosine' decay to 0.1x the peak over the cap;
   * 'constant'; or 'wsd' (warmup-stable-decay): the peak until the plateau rule fires (or until
   * `decayEpochs` before the cap), then `decayEpochs` epochs of linear decay to 0.1x, then stop.
   */
  decay?: 'linear' | 'cosine' | 'constant' | 'wsd';
  /** 'wsd': epochs of the final decay (default 2; at most `epochs`). */
  decayEpochs?: number;
  /** Learning rate of the token embedding table as a multiple of `lr` (default 1). */
  embeddingLrScale?: number;
  /**
   * How an epoch draws rec windows: 'window' (default), shuffled passes over every window, so users
   * weigh by their activity; 'user', a user uniformly at random and then one of their windows, so
   * every user weighs the same, as in evaluation (needs each window's `user`).
   */
  recSampling?: 'window' | 'user';
  weightDecay?: number;
  clipNorm?: number;
  seed?: number;
  /** Share of search examples among an epoch's examples (default: the search pool's share of all examples). */
  searchFraction?: number;
  /**
   * 'single' (default): each batch holds one task's examples, so short search prompts are not padded
   * to the rec prompts' length; 'mixed': every batch mixes both tasks in the search share. Either way
   * an epoch draws the same examples.
   */
  taskBatches?: 'single' | 'mixed';
  /** Examples drawn per epoch (default: both pools once). Pools are cycled through in shuffled passes. */
  examplesPerEpoch?: number;
  /** Batches sorted by length together (default 32). */
  bucketBatches?: number;
  /** After training, load the best validation weights into the model (default true). */
  restoreBest?: boolean;
  /**
   * Stop once this many epochs in a row have not improved the validation score (needs `validate`);
   * `epochs` is then the cap. Absent: train every epoch. The schedule spans the cap either way.
   */
  patience?: number;
  /**
   * The validation score that picks the best epoch and drives `patience`: 'recall' (default), the
   * mean of the two tasks' Recall@k; 'loss', minus the teacher-forced validation loss (needs
   * `validate` to report it).
   */
  stopOn?: 'recall' | 'loss';
  /**
   * The plateau rule counts an epoch as an improvement only when its score beats the last counted
   * one by more than this (default 0): a gain inside the signal's noise does not reset the patience.
   * The best epoch kept is the best score either way.
   */
  minDelta?: number;
}

/** What a caller supplies at run time: where state lives, and the callbacks. */
export interface TrainRuntime {
  /** Folder for resumable state (`state/`) and the best weights (`best/`). */
  checkpointDir?: string;
  /** Resume from `checkpointDir/state` when present (default true). */
  resume?: boolean;
  /** Validation metric per task (e.g. Recall@30); the mean picks the best epoch. */
  validate?: (model: Seq2SeqModel, epoch: number) => ValidationScores | Promise<ValidationScores>;
  onEpoch?: (record: EpochRecord) => void;
  /** Progress label (default "train"). */
  label?: string;
}

export type TrainOptions = TrainConfig & TrainRuntime;

export interface ValidationScores {
  /** Recall@k of beam search on the sampled validation examples, per task. */
  search: number;
  rec: number;
  /**
   * Teacher-forced validation loss (mean token cross-entropy, no beam search) over every validation
   * example, per task, and the standard error of the two tasks' mean across examples (reported by the
   * joint model's validation when `stopOn` is 'loss').
   */
  loss?: { search: number; rec: number; mean: number; se: number };
  /**
   * Against the previous validation of the same run (absent at its first, and after a resume): the
   * change of the two tasks' mean recall, and of the mean loss where measured, each with its paired
   * standard error over the same examples.
   */
  change?: { recall: { delta: number; se: number }; loss?: { delta: number; se: number } };
}

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  searchLoss: number;
  recLoss: number;
  valid: ValidationScores | null;
  examples: number;
  seconds: number;
  examplesPerSecond: number;
  lr: number;
  steps: number;
}

export interface TrainResult {
  history: EpochRecord[];
  bestEpoch: number;
  bestScore: number;
  /** Why training ended: every epoch of the cap ran, or the validation score plateaued. */
  stop: 'cap' | 'plateau';
}

interface TrainState {
  epoch: number;
  history: EpochRecord[];
  bestEpoch: number;
  bestScore: number;
  decay?: TrainerState['decay'];
  gain?: TrainerState['gain'];
  optimizer: AdamWState;
  weights: Record<string, Float32Array>;
  fingerprint: string;
}

/** Every training setting with its default filled in (the pool-dependent ones stay optional). */
export type ResolvedTrainConfig = Required<Omit<TrainConfig, 'searchFraction' | 'examplesPerEpoch' | 'patience' | 'warmupSteps'>> &
  Pick<TrainConfig, 'searchFraction' | 'examplesPerEpoch' | 'patience' | 'warmupSteps'>;

/** The number an epoch is judged by: higher is better. */
export function validationScore(valid: ValidationScores, stopOn: 'recall' | 'loss'): number {
  if (stopOn === 'recall') return (valid.search + valid.rec) / 2;
  if (!valid.loss) throw new Error("trainSeq2Seq: stopOn 'loss' needs a validate callback that reports the validation loss");
  return -valid.loss.mean;
}

/** Fills in the defaults of a training configuration and checks the integer settings. */
function resolveTrainConfig(c: TrainConfig = {}): ResolvedTrainConfig {
  const r: ResolvedTrainConfig = {
    epochs: c.epochs ?? 3,
    batchSize: c.batchSize ?? 256,
    microBatch: c.microBatch ?? 256,
    lr: c.lr ?? 2e-3,
    warmupFraction: c.warmupFraction ?? 0.05,
    decay: c.decay ?? 'cosine',
    decayEpochs: c.decayEpochs ?? 2,
    warmupSteps: c.warmupSteps,
    embeddingLrScale: c.embeddingLrScale ?? 1,
    recSampling: c.recSampling ?? 'window',
    minDelta: c.minDelta ?? 0,
    weightDecay: c.weightDecay ?? 0.01,
    clipNorm: c.clipNorm ?? 1,
    seed: c.seed ?? 0,
    bucketBatches: c.bucketBatches ?? 32,
    taskBatches: c.taskBatches ?? 'single',
    stopOn: c.stopOn ?? 'recall',
    restoreBest: c.restoreBest ?? true,
    searchFraction: c.searchFraction,
    examplesPerEpoch: c.examplesPerEpoch,
    patience: c.patience,
  };
  for (const k of ['epochs', 'batchSize', 'microBatch', 'bucketBatches', 'decayEpochs'] as const) {
    if (!Number.isInteger(r[k]) || r[k] < 1) throw new Error(`TrainOptions.${k} must be a positive integer, got ${r[k]}`);
  }
  if (r.stopOn !== 'recall' && r.stopOn !== 'loss') throw new Error(`TrainOptions.stopOn must be 'recall' or 'loss', got ${JSON.stringify(r.stopOn)}`);
  if (r.taskBatches !== 'single' && r.taskBatches !== 'mixed') throw new Error(`TrainOptions.taskBatches must be 'single' or 'mixed', got ${JSON.stringify(r.taskBatches)}`);
  if (!['linear', 'cosine', 'constant', 'wsd'].includes(r.decay)) throw new Error(`TrainOptions.decay must be 'linear', 'cosine', 'constant' or 'wsd', got ${JSON.stringify(r.decay)}`);
  // A cap shorter than the decay (a smoke run's single epoch) decays over the whole cap.
  if (r.decay === 'wsd') r.decayEpochs = Math.min(r.decayEpochs, r.epochs);
  if (r.recSampling !== 'window' && r.recSampling !== 'user') throw new Error(`TrainOptions.recSampling must be 'window' or 'user', got ${JSON.stringify(r.recSampling)}`);
  if (!(r.minDelta >= 0)) throw new Error(`TrainOptions.minDelta must be a non-negative number, got ${r.minDelta}`);
  if (!(r.embeddingLrScale > 0)) throw new Error(`TrainOptions.embeddingLrScale must be positive, got ${r.embeddingLrScale}`);
  if (r.warmupSteps !== undefined && !(Number.isInteger(r.warmupSteps) && r.warmupSteps >= 0)) throw new Error(`TrainOptions.warmupSteps must be a non-negative integer, got ${r.warmupSteps}`);
  if (r.patience !== undefined && !(Number.isInteger(r.patience) && r.patience >= 1)) {
    throw new Error(`TrainOptions.patience must be a positive integer, got ${r.patience}`);
  }
  return r;
}

/** How each epoch's batches are drawn: a function of these and the epoch only (so a resumed run sees the same data). */
export interface BatchPlan {
  perEpoch: number;
  batchSize: number;
  searchFraction: number;
  bucketBatches: number;
  taskBatches: 'single' | 'mixed';
  recSampling?: 'window' | 'user';
  seed: number;
}

/** Where a training stands after its last finished epoch: what a checkpoint saves and a resumed run restores. */
interface TrainerState {
  /** The next epoch to train. */
  epoch: number;
  history: EpochRecord[];
  bestEpoch: number;
  bestScore: number;
  /** The best epoch's weights, if kept. */
  best: Map<string, Float32Array> | null;
  /** 'wsd': the first epoch of the final decay, and what started it (null: still at the peak). */
  decay: { from: number; cause: 'plateau' | 'cap' } | null;
  /** The last epoch counted as an improvement by the plateau rule (beyond `minDelta`), and its score. */
  gain: { epoch: number; score: number };
}

/** Loss sums of one epoch, added in step order. */
class EpochLosses {
  private sum = 0;
  private count = 0;
  private readonly perTask = { search: [0, 0], rec: [0, 0] };

  add(examples: number, { loss, perTask }: StepLosses): void {
    this.sum += loss * examples;
    this.count += examples;
    for (const t of TASKS) {
      this.perTask[t][0] += perTask[t][0];
      this.perTask[t][1] += perTask[t][1];
    }
  }

  get examples(): number {
    return this.count;
  }

  get mean(): number {
    return this.sum / Math.max(1, this.count);
  }

  task(t: 'search' | 'rec'): number {
    return this.perTask[t][1] ? this.perTask[t][0] / this.perTask[t][1] : NaN;
  }
}

/** How a training with settings `c` draws its batches from pools of nS search and nR rec examples. */
function batchPlanOf(c: ResolvedTrainConfig, nS: number, nR: number): BatchPlan {
  const searchFraction = nS === 0 ? 0 : nR === 0 ? 1 : c.searchFraction ?? nS / (nS + nR);
  if (!(searchFraction >= 0 && searchFraction <= 1)) throw new Error(`TrainOptions.searchFraction must be in [0, 1], got ${c.searchFraction}`);
  return { perEpoch: c.examplesPerEpoch ?? nS + nR, batchSize: c.batchSize, searchFraction, bucketBatches: c.bucketBatches, taskBatches: c.taskBatches, recSampling: c.recSampling, seed: c.seed };
}

/** The batches epoch `epoch` of a training with settings `config` draws from `pools` (what trainSeq2Seq trains on). */
export function trainingBatches(pools: { search: Seq2SeqExample[]; rec: Seq2SeqExample[] }, epoch: number, config: TrainConfig = {}): Seq2SeqExample[][] {
  return epochBatches(pools, epoch, batchPlanOf(resolveTrainConfig(config), pools.search.length, pools.rec.length));
}

export async function trainSeq2Seq(model: Seq2SeqModel, pools: { search: Seq2SeqExample[]; rec: Seq2SeqExample[] }, opts: TrainOptions = {}): Promise<TrainResult> {
  const o = { ...resolveTrainConfig(opts), resume: opts.resume ?? true, label: opts.label ?? 'train', checkpointDir: opts.checkpointDir, validate: opts.validate, onEpoch: opts.onEpoch };
  const nS = pools.search.length;
  const nR = pools.rec.length;
  if (nS + nR === 0) throw new Error('trainSeq2Seq: no training examples');
  if (o.patience !== undefined && !o.validate) throw new Error('trainSeq2Seq: TrainOptions.patience needs a validate callback');
  const plan = batchPlanOf(o, nS, nR);
  const batchesPerEpoch = epochBatchCount(nS, nR, plan);
  const totalSteps = batchesPerEpoch * o.epochs;
  const schedule: ScheduleOptions = { peakLr: o.lr, totalSteps, warmupSteps: o.warmupSteps ?? Math.round(o.warmupFraction * totalSteps), decay: o.decay, decaySteps: o.decayEpochs * batchesPerEpoch };
  const decayMask = model.names.map((n) => !(n.includes('.ln_') || n.endsWith('rel_bias')));
  const lrScales = model.names.map((n) => (n === 'shared' ? o.embeddingLrScale : 1));
  const optimizer = new AdamW(model.variables, decayMask, { weightDecay: o.weightDecay, clipNorm: o.clipNorm, lrScales });
  const recipe = { minDelta: o.minDelta, decay: o.decay, decayEpochs: o.decayEpochs, warmup: schedule.warmupSteps, embeddingLrScale: o.embeddingLrScale, recSampling: o.recSampling };
  const fingerprint = JSON.stringify({ config: model.config, nS, nR, perEpoch: plan.perEpoch, b: o.batchSize, e: o.epochs, seed: o.seed, ...(o.taskBatches === 'mixed' ? {} : { taskBatches: o.taskBatches }), ...(o.stopOn === 'recall' ? {} : { stopOn: o.stopOn }), recipe });
  const statePath = o.checkpointDir ? path.join(o.checkpointDir, 'state') : null;
  const bestPath = o.checkpointDir ? path.join(o.checkpointDir, 'best') : null;

  // The checkpoint is verified (sizes, sha256) first; a damaged one is reported and training restarts.
  const st: TrainerState = { epoch: 0, history: [], bestEpoch: -1, bestScore: -Infinity, best: null, decay: null, gain: { epoch: -1, score: -Infinity } };
  const resumed = statePath && o.resume ? openCheckpoint<TrainState, { weights: Record<string, Float32Array> }>(statePath, bestPath) : null;
  if (statePath && resumed) {
    const saved = resumed.state;
    if (saved.fingerprint !== fingerprint) {
      throw new Error(`trainSeq2Seq: checkpoint ${statePath} belongs to another configuration; remove it or set resume: false`);
    }
    model.setWeights(weightsFromRecord(saved.weights));
    optimizer.setState(saved.optimizer);
    Object.assign(st, { epoch: saved.epoch + 1, history: saved.history, bestEpoch: saved.bestEpoch, bestScore: saved.bestScore, decay: saved.decay ?? null, gain: saved.gain ?? { epoch: saved.bestEpoch, score: saved.bestScore } });
    if (resumed.best) st.best = weightsFromRecord(resumed.best.weights);
    process.stderr.write(`[train] resuming from checkpoint ${statePath} after epoch ${st.epoch} of ${o.epochs}\n`);
  }

  // Epochs since the best one, counted over completed epochs (so a resumed run stops where it would have).
  const plateaued = (nextEpoch: number) => o.patience !== undefined && nextEpoch - 1 - st.gain.epoch >= o.patience;
  let stop: TrainResult['stop'] = 'cap';
  const progress = new Progress({ label: o.label, total: (o.epochs - st.epoch) * batchesPerEpoch * o.batchSize, unit: 'ex' });
  const step: StepContext = { model, optimizer, microBatch: o.microBatch, reads: new DeferredReads() };
  const yielder = new DeviceYield();
  try {
    for (; st.epoch < o.epochs; st.epoch++) {
      const epoch = st.epoch;
      if (o.decay === 'wsd') {
        if (!st.decay && plateaued(epoch)) {
          st.decay = { from: epoch, cause: 'plateau' };
          process.stderr.write(`[${o.label}] validation plateau: no improvement${o.minDelta ? ` beyond ${o.minDelta}` : ''} for ${o.patience} epochs after epoch ${st.gain.epoch + 1}; decaying the learning rate over epochs ${epoch + 1}-${epoch + o.decayEpochs}\n`);
        } else if (!st.decay && epoch === o.epochs - o.decayEpochs) {
          st.decay = { from: epoch, cause: 'cap' };
        }
        if (st.decay && epoch >= st.decay.from + o.decayEpochs) {
          stop = st.decay.cause;
          break;
        }
        schedule.decayStart = st.decay ? st.decay.from * batchesPerEpoch : Infinity;
      } else if (plateaued(epoch)) {
        stop = 'plateau';
        process.stderr.write(`[${o.label}] validation plateau: no improvement${o.minDelta ? ` beyond ${o.minDelta}` : ''} for ${o.patience} epochs after epoch ${st.gain.epoch + 1}; stopping at ${epoch} of ${o.epochs}\n`);
        break;
      }
      const t0 = Date.now();
      const batches = epochBatches(pools, epoch, plan);
      const losses = new EpochLosses();
      let lr = 0;
      for (let b = 0; b < batches.length; b++) {
        const batch = batches[b];
        lr = learningRate(optimizer.step + 1, schedule);
        // Losses are read back every READ_EVERY steps, in step order, so the sums are as with a read per step.
        trainStepDeferred(step, batch, lr, (l) => losses.add(batch.length, l));
        if ((b + 1) % READ_EVERY === 0 || b === batches.length - 1) step.reads.flush();
        progress.tick(batch.length, `epoch ${epoch + 1}/${o.epochs} loss ${losses.examples ? losses.mean.toFixed(3) : '-'}`);
        await yielder.tick();
      }

      const valid = o.validate ? await o.validate(model, epoch) : null;
      const score = valid ? validationScore(valid, o.stopOn) : epoch;
      if (score > st.gain.score + o.minDelta) st.gain = { epoch, score };
      if (score > st.bestScore) {
        st.bestScore = score;
        st.bestEpoch = epoch;
        st.best = model.getWeights();
        if (bestPath) writeBundle(bestPath, { epoch, score, weights: weightsToRecord(st.best) });
      }
      const seconds = (Date.now() - t0) / 1000;
      const record: EpochRecord = {
        epoch,
        trainLoss: losses.mean,
        searchLoss: losses.task('search'),
        recLoss: losses.task('rec'),
        valid,
        examples: losses.examples,
        seconds,
        examplesPerSecond: losses.examples / seconds,
        lr,
        steps: optimizer.step,
      };
      st.history.push(record);
      if (statePath) {
        const saved: TrainState = { epoch, history: st.history, bestEpoch: st.bestEpoch, bestScore: st.bestScore, decay: st.decay, gain: st.gain, optimizer: optimizer.getState(), weights: weightsToRecord(model.getWeights()), fingerprint };
        writeBundle(statePath, saved);
      }
      o.onEpoch?.(record);
    }
    if (o.decay === 'wsd' && st.decay?.cause === 'plateau') stop = 'plateau';
    progress.finish();
    if (o.restoreBest && st.best) model.setWeights(st.best);
  } finally {
    step.reads.dispose();
    optimizer.dispose();
  }
  return { history: st.history, bestEpoch: st.bestEpoch, bestScore: st.bestScore, stop };
}

/** Steps between reads of the training losses (one GPU-to-CPU transfer each). */
const READ_EVERY = 64;

export interface StepLosses {
  loss: number;
  perTask: Record<'search' | 'rec', [number, number]>;
}

/**
 * One optimizer step over `batch`, accumulating gradients over micro-batches. Each micro-batch's loss
 * is weighted by its share of the batch's target tokens, so the result equals one big batch.
 * Per-task losses come from the same forward pass: [sum of token losses, token count] per task.
 */
export function trainStep(model: Seq2SeqModel, optimizer: AdamW, batch: Seq2SeqExample[], microBatch: number, lr: number): StepLosses {
  const reads = new DeferredReads();
  let out: StepLosses | null = null;
  try {
    trainStepDeferred({ model, optimizer, microBatch, reads }, batch, lr, (r) => { out = r; });
    reads.flush();
  } finally {
    reads.dispose();
  }
  return out!;
}

/** What every optimizer step of a training uses. */
interface StepContext {
  model: Seq2SeqModel;
  optimizer: AdamW;
  /** Examples per forward/backward pass. */
  microBatch: number;
  /** Where the step's losses wait to be read back. */
  reads: DeferredReads;
}

/** `trainStep` whose losses reach `done` when `reads` is flushed (the step itself runs now). */
function trainStepDeferred({ model, optimizer, microBatch, reads }: StepContext, batch: Seq2SeqExample[], lr: number, done: (losses: StepLosses) => void): void {
  const vars = model.variables;
  let totalTokens = 0;
  for (const ex of batch) totalTokens += ex.target.length;
  let acc: tf.Tensor[] | null = null;
  const res: StepLosses = { loss: 0, perTask: { search: [0, 0], rec: [0, 0] } };
  for (let s = 0; s < batch.length; s += microBatch) {
    const part = batch.slice(s, s + microBatch);
    const { tokens, length } = padBatch(part.map((e) => e.input));
    const { targets, length: tLen } = padTargets(part.map((e) => e.target));
    let tokensHere = 0;
    for (const e of part) tokensHere += e.target.length;
    const w = tokensHere / totalTokens;
    let tokenLoss: tf.Tensor | null = null;
    const { value, grads } = tf.variableGrads(() => {
      const terms = model.lossTerms(tokens, part.length, length, targets, tLen);
      tokenLoss = tf.keep(terms.tokenLoss);
      return tf.mul(terms.loss, w) as tf.Scalar;
    }, vars);
    reads.add(value, (v) => { res.loss += v[0]; });
    reads.add(tokenLoss as unknown as tf.Tensor, (tl) => {
      part.forEach((e, i) => {
        for (let t = 0; t < e.target.length; t++) res.perTask[e.task][0] += tl[i * tLen + t];
        res.perTask[e.task][1] += e.target.length;
      });
    });
    const g = vars.map((v) => grads[v.name]);
    if (!acc) acc = g;
    else {
      const prev: tf.Tensor[] = acc;
      acc = prev.map((a, i) => tf.add(a, g[i]));
      tf.dispose([...prev, ...g]);
    }
  }
  optimizer.apply(acc!, lr);
  tf.dispose(acc!);
  reads.after(() => done(res));
}

/** Draws `count` items from an endless stream of seeded shuffled passes over 0..n-1, starting at `from`. */
function streamSlice(n: number, from: number, count: number, seed: number): number[] {
  const out: number[] = [];
  let pass = Math.floor(from / n);
  let at = from - pass * n;
  let perm = new Rng(seed).fork(pass).permutation(n);
  while (out.length < count) {
    if (at === n) {
      pass += 1;
      at = 0;
      perm = new Rng(seed).fork(pass).permutation(n);
    }
    out.push(perm[at++]);
  }
  return out;
}

/**
 * `count` indices of `examples` drawn with replacement so that every user weighs the same: a user
 * uniformly at random, then one of that user's examples uniformly at random (each example's `user`).
 */
export function userBalancedSample(examples: readonly Seq2SeqExample[], count: number, rng: Rng): number[] {
  const byUser = new Map<number, number[]>();
  examples.forEach((e, i) => {
    if (e.user === undefined) throw new Error(`recSampling 'user': rec training example ${i} has no user`);
    const list = byUser.get(e.user);
    if (list) list.push(i);
    else byUser.set(e.user, [i]);
  });
  const users = [...byUser.values()];
  const out: number[] = [];
  for (let n = 0; n < count; n++) {
    const u = users[rng.int(users.length)];
    out.push(u[rng.int(u.length)]);
  }
  return out;
}

/** Search and rec examples an epoch draws: per batch of the mixed plan, the search share rounded, times the batches. */
function epochTaskCounts(nS: number, nR: number, { perEpoch, batchSize, searchFraction }: BatchPlan): { nBatches: number; search: number; rec: number } {
  const nBatches = Math.ceil(perEpoch / batchSize);
  const perSearch = nS ? Math.round(batchSize * searchFraction) : 0;
  const perRec = nR ? batchSize - perSearch : 0;
  return { nBatches, search: nBatches * perSearch, rec: nBatches * perRec };
}

/** Optimizer steps of one epoch. */
function epochBatchCount(nS: number, nR: number, plan: BatchPlan): number {
  const c = epochTaskCounts(nS, nR, plan);
  if (plan.taskBatches === 'mixed') return c.search + c.rec > 0 ? c.nBatches : 0;
  return Math.ceil(c.search / plan.batchSize) + Math.ceil(c.rec / plan.batchSize);
}

/** Batches of `batchSize` from `examples`, each group of `bucketBatches` batches sorted by prompt length first. */
function lengthBucketed(examples: Seq2SeqExample[], batchSize: number, bucketBatches: number): Seq2SeqExample[][] {
  const out: Seq2SeqExample[][] = [];
  const group = batchSize * bucketBatches;
  for (let g = 0; g < examples.length; g += group) {
    const chunk = examples.slice(g, g + group).sort((a, b) => a.input.length - b.input.length);
    for (let b = 0; b < chunk.length; b += batchSize) out.push(chunk.slice(b, b + batchSize));
  }
  return out;
}

/**
 * The batches of one epoch, a function of (seed, epoch) only so that a resumed run sees the same data.
 * An epoch draws its search and rec examples from shuffled passes over each pool, in the search
 * share. 'single' batches hold one task each; 'mixed' batches mix the tasks in that share. Within
 * groups of `bucketBatches` batches, examples are sorted by prompt length so a batch pads little;
 * batch order is then shuffled.
 */
export function epochBatches(pools: { search: Seq2SeqExample[]; rec: Seq2SeqExample[] }, epoch: number, plan: BatchPlan): Seq2SeqExample[][] {
  const { batchSize, bucketBatches, seed } = plan;
  const { nBatches, search, rec } = epochTaskCounts(pools.search.length, pools.rec.length, plan);
  const perSearch = search / nBatches || 0;
  const perRec = rec / nBatches || 0;
  const sIdx = search ? streamSlice(pools.search.length, epoch * search, search, seed ^ hashString32('search')) : [];
  const rIdx = !rec ? [] : plan.recSampling === 'user' ? userBalancedSample(pools.rec, rec, new Rng(seed ^ hashString32('rec-users')).fork(epoch)) : streamSlice(pools.rec.length, epoch * rec, rec, seed ^ hashString32('rec'));
  const batches: Seq2SeqExample[][] = [];
  if (plan.taskBatches === 'single') {
    batches.push(...lengthBucketed(sIdx.map((i) => pools.search[i]), batchSize, bucketBatches));
    batches.push(...lengthBucketed(rIdx.map((i) => pools.rec[i]), batchSize, bucketBatches));
  } else {
    for (let g = 0; g < nBatches; g += bucketBatches) {
      const nb = Math.min(bucketBatches, nBatches - g);
      const s = sIdx.slice(g * perSearch, (g + nb) * perSearch).map((i) => pools.search[i]);
      const r = rIdx.slice(g * perRec, (g + nb) * perRec).map((i) => pools.rec[i]);
      s.sort((a, b) => a.input.length - b.input.length);
      r.sort((a, b) => a.input.length - b.input.length);
      for (let b = 0; b < nb; b++) batches.push([...s.slice(b * perSearch, (b + 1) * perSearch), ...r.slice(b * perRec, (b + 1) * perRec)]);
    }
  }
  new Rng(seed).fork(`order-${epoch}`).shuffle(batches);
  return batches.filter((b) => b.length > 0);
}
