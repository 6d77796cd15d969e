/**
 * Contrastive bi-encoder item embeddings: the search-tuned, rec-objective and multi-task strategies.
 *
 * Choices (see also textTower.ts):
 * - One tower with shared weights encodes queries and items (Siamese, as the paper's fine-tuned
 *   sentence-transformer). Items may also carry a learned per-item id row in the same bag (weight 1,
 *   not diluted by text length): `itemIdEmbedding`, default off (measured in the report: on
 *   ml-latest-small it helps the rec objective's training fit but not validation recall).
 * - Multi-task default batch mix is 'alternating' (whole batches from one task, sentence-transformers'
 *   round-robin): each task keeps the full batch of in-batch negatives at the same step cost, and
 *   search-vs-rec negatives never meet in one softmax, where they would be trivially separable.
 *   'mixed' (half a batch of each, both losses in one step) is available for comparison.
 * - Early stopping on validation Recall@K (valid queries, valid rec examples, or their mean for
 *   multi-task), keeping the best epoch's weights.
 */
import type { PreparedData } from '../types';
import { initBackend } from '../backend/index';
import { Rng } from '../util/random';
import { Progress } from '../util/progress';
import { buildBags, resolveHashing, selectBags, type BagBatch, type HashingOptions } from './textFeatures';
import { TextTower, encodeWithWeights, type PairBatch, type TowerSnapshot } from './textTower';
import { PairSampler, recPairs, searchPairs, type PairList } from './pairs';
import { meanRecall, recRankings, topKCosine } from '../eval/retrieval';
import type { EmbeddingModel } from './model';

export type ContrastiveObjective = 'search' | 'rec' | 'multitask';

export interface BiEncoderOptions {
  /** Output (and table) dimension. Default 128. */
  dim?: number;
  hashing?: HashingOptions;
  /** Add a learned per-item id row to item bags. Default false. */
  itemIdEmbedding?: boolean;
  batchSize?: number;
  learningRate?: number;
  tableLearningRate?: number;
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
  tableUpdate?: 'sparse' | 'dense';
  seed?: number;
}

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
  /** Bags of the left side: query bags (search) or item bags (rec). */
  leftBags: BagBatch;
  leftIsItem: boolean;
}

export async function trainBiEncoder(data: PreparedData, objective: ContrastiveObjective, o: BiEncoderOptions = {}): Promise<EmbeddingModel> {
  if (!['search', 'rec', 'multitask'].includes(objective)) {
    throw new Error(`lib/embed/biencoder.ts: objective must be search, rec or multitask, got ${objective}`);
  }
  await initBackend();
  const t0 = Date.now();
  const items = data.dataset.items;
  const N = items.length;
  const dim = o.dim ?? 128;
  const B = o.batchSize ?? 256;
  const epochs = o.epochs ?? 10;
  const patience = o.patience ?? 2;
  const recWeight = o.recWeight ?? 1;
  const batchMix = o.batchMix ?? 'alternating';
  const validK = o.validK ?? 30;
  const seed = o.seed ?? 1;
  const idEmb = o.itemIdEmbedding ?? false;
  if (!Number.isInteger(B) || B < 2) throw new Error(`lib/embed/biencoder.ts: option batchSize must be an integer >= 2, got ${o.batchSize}`);
  if (batchMix !== 'alternating' && batchMix !== 'mixed') throw new Error(`lib/embed/biencoder.ts: option batchMix must be 'alternating' or 'mixed', got ${o.batchMix}`);
  if (!(recWeight >= 0)) throw new Error(`lib/embed/biencoder.ts: option recWeight must be >= 0, got ${o.recWeight}`);
  const h = resolveHashing(o.hashing);
  const rows = h.buckets + (idEmb ? N : 0);
  const itemBags = buildBags(items.map((it) => it.text), h, idEmb ? Int32Array.from(items, (_, i) => h.buckets + i) : undefined);
  const rng = new Rng(seed);
  const tasks: Partial<Record<'search' | 'rec', TaskData>> = {};
  if (objective !== 'rec') {
    const pairs = searchPairs(data.queries.train, N);
    tasks.search = { pairs, sampler: new PairSampler(pairs.left.length, rng.fork('search')), leftBags: buildBags(data.queries.train.map((q) => q.text), h), leftIsItem: false };
  }
  if (objective !== 'search') {
    const pairs = recPairs(data.rec.train, o.recWindow ?? 3, N);
    tasks.rec = { pairs, sampler: new PairSampler(pairs.left.length, rng.fork('rec')), leftBags: itemBags, leftIsItem: true };
  }
  const totalPairs = (tasks.search?.pairs.left.length ?? 0) + (tasks.rec?.pairs.left.length ?? 0);
  const stepsPerEpoch = o.stepsPerEpoch ?? Math.max(1, Math.min(o.maxStepsPerEpoch ?? 400, Math.ceil(totalPairs / B)));

  // Validation sets (seeded samples).
  const vRng = rng.fork('valid');
  const nValid = o.validExamples ?? 1000;
  const sample = <T>(xs: T[]): T[] => (xs.length <= nValid ? xs : Array.from(vRng.permutation(xs.length).subarray(0, nValid), (i) => xs[i]));
  const validQueries = tasks.search ? sample(data.queries.valid) : [];
  const validQueryBags = buildBags(validQueries.map((q) => q.text), h);
  const validRec = tasks.rec ? sample(data.rec.valid) : [];
  const userOpts = { historyLength: o.historyLength, recencyDecay: o.recencyDecay };

  const tower = new TextTower({
    rows, dim, learningRate: o.learningRate, tableLearningRate: o.tableLearningRate, temperature: o.temperature,
    symmetric: o.symmetric, tableUpdate: o.tableUpdate, seed,
  });
  const makeBatch = (task: TaskData, n: number): PairBatch => {
    const idx = task.sampler.next(n);
    const left = Int32Array.from(idx, (i) => task.pairs.left[i]);
    const right = Int32Array.from(idx, (i) => task.pairs.right[i]);
    return { anchors: selectBags(task.leftBags, left), positives: selectBags(itemBags, right), keysA: task.leftIsItem ? left : null, keysP: right };
  };
  const validate = (): { s: number | null; r: number | null; score: number } => {
    const vectors = tower.encode(itemBags);
    let s: number | null = null;
    let r: number | null = null;
    if (validQueries.length) {
      const qv = tower.encode(validQueryBags);
      s = meanRecall(topKCosine(qv, vectors, dim, validK), validQueries.map((q) => q.item), validK);
    }
    if (validRec.length) r = meanRecall(recRankings(vectors, dim, validRec, validK, userOpts), validRec.map((e) => e.target), validK);
    const parts = [s, r].filter((x): x is number => x !== null);
    return { s, r, score: parts.reduce((a, b) => a + b, 0) / Math.max(1, parts.length) };
  };

  const log: EpochLog[] = [];
  const v0 = validate();
  log.push({ epoch: 0, steps: 0, meanLoss: NaN, validSearch: v0.s, validRec: v0.r, score: v0.score, seconds: 0 });
  let best: { score: number; epoch: number; snap: TowerSnapshot } = { score: v0.score, epoch: 0, snap: tower.snapshot() };
  const progress = new Progress({ label: `embed:${objective}`, total: epochs * stepsPerEpoch, unit: 'steps' });
  let stepsDone = 0;
  let stoppedEarly = false;
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      let lossSum = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        let loss: number;
        if (objective !== 'multitask') {
          loss = tower.trainStep(makeBatch(tasks[objective]!, B));
        } else if (batchMix === 'alternating') {
          loss = stepsDone % 2 === 0 ? tower.trainStep(makeBatch(tasks.search!, B)) : tower.trainStep(makeBatch(tasks.rec!, B), recWeight);
        } else {
          const half = Math.max(2, Math.floor(B / 2));
          loss = tower.trainStepParts([{ batch: makeBatch(tasks.search!, half), weight: 1 }, { batch: makeBatch(tasks.rec!, half), weight: recWeight }]);
        }
        if (!Number.isFinite(loss)) throw new Error(`lib/embed/biencoder.ts: loss became ${loss} at epoch ${epoch} step ${s}; lower the learning rates`);
        lossSum += loss;
        stepsDone++;
        progress.tick(1, `loss ${loss.toFixed(4)}`);
      }
      const v = validate();
      log.push({ epoch, steps: stepsDone, meanLoss: lossSum / stepsPerEpoch, validSearch: v.s, validRec: v.r, score: v.score, seconds: (Date.now() - t0) / 1000 });
      if (process.env.SID_QUIET !== '1') {
        process.stderr.write(`[embed:${objective}] epoch ${epoch} loss ${(lossSum / stepsPerEpoch).toFixed(4)} valid R@${validK} search ${v.s?.toFixed(4) ?? '-'} rec ${v.r?.toFixed(4) ?? '-'}\n`);
      }
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
  const snap = best.snap;
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
      batchSize: B,
      batchMix: objective === 'multitask' ? batchMix : null,
      recWeight: objective === 'multitask' ? recWeight : null,
      temperature: tower.opts.temperature,
      symmetric: tower.opts.symmetric,
      learningRate: tower.opts.learningRate,
      tableLearningRate: tower.opts.tableLearningRate,
      tableUpdate: tower.opts.tableUpdate,
      searchPairs: tasks.search?.pairs.left.length ?? 0,
      recPairs: tasks.rec?.pairs.left.length ?? 0,
      recWindow: tasks.rec ? o.recWindow ?? 3 : null,
      stepsPerEpoch,
      steps: stepsDone,
      bestEpoch: best.epoch,
      stoppedEarly,
      validK,
      epochs: log,
      seconds: (Date.now() - t0) / 1000,
      seed,
    },
  };
}
