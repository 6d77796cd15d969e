/**
 * Profiles: one plain object per scale that fixes every stage's options. `tiny` runs the whole
 * pipeline on the synthetic catalogue in CI; `small` reproduces the tables on ml-latest-small on a
 * 2-core machine; `paper` takes ml-25m at the paper's scale and the paper's sizes (values marked
 * "paper" are verbatim from it: 20 queries per item, 2 x 256 codes, 60 beams in 30 groups).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DataOptions } from '../data/prepare';
import type { EmbeddingOptions } from '../embed/index';
import { modelsRoot, resolveModelRef } from '../embed/modelStore';
import type { RetrievalOptions } from '../eval/retrieval';
import type { GenerativeEvalConfig } from '../eval/generativeEval';
import { DEFAULT_DECODE, PAPER_DECODE, type GenerativeTrainConfig } from '../generate/jointModel';
import type { CollisionMode } from '../quantize/ids';
import type { SasRecConfig, SasRecGrid } from '../baselines/sasrec';
import type { QuantizerName, QuantizerOptions } from '../quantize/quantizer';

import { PROFILE_NAMES, type ProfileName } from '../names';

export { PROFILE_NAMES, type ProfileName } from '../names';

export interface Profile {
  name: ProfileName;
  /** 'smoke': the profile's data and sizes with the repeated work cut (lib/pipeline/budget.ts); absent: as written. */
  budget?: 'smoke';
  data: DataOptions;
  /** Seed shared by every stochastic stage (each stage derives its own stream from it). */
  seed: number;
  embed: EmbeddingOptions;
  /** Embedding-level dense retrieval evaluation. */
  retrieval: RetrievalOptions;
  ids: {
    levels: number;
    /** Codes per level. */
    k: number;
    collisions: CollisionMode;
    quantizers: Partial<Record<QuantizerName, Omit<QuantizerOptions, 'levels' | 'k' | 'seed'>>>;
  };
  /**
   * The extra leave-last-N-out table (beyond the paper): each user's last `targets` items are test
   * targets, so the rec task gets several times the test examples. Every rec test example is decoded.
   */
  lastN: { targets: number };
  /** Baselines that train (the others have no settings, or choose theirs on validation). */
  /** SASRec's base setting, and the grid of settings tried on validation (sasrecSelectionStage). */
  baselines: { sasrec: Partial<Omit<SasRecConfig, 'seed'>>; sasrecGrid?: SasRecGrid };
  generate: {
    /** The profile's `seed` seeds training (plus the replicate number); everything else is here. */
    train: Omit<GenerativeTrainConfig, 'seed'>;
    eval: GenerativeEvalConfig;
    /** Trainings per table row (seeds profile.seed, +1, ...); tables show their mean and spread. */
    replicates: number;
  };
}

const RETRIEVAL: RetrievalOptions = { ks: [10, 30], bootstrapIterations: 1000 };

const PROFILES: Record<ProfileName, Profile> = {
  tiny: {
    name: 'tiny',
    seed: 7,
    data: { dataset: 'synthetic', queriesPerItem: 12, minHistory: 5 },
    embed: {
      content: { dim: 32 },
      biencoder: { dim: 32, hashing: { buckets: 1 << 12 }, batchSize: 64, epochs: 6, maxStepsPerEpoch: 40, validExamples: 200 },
      cf: { dim: 16, iterations: 8 },
    },
    retrieval: RETRIEVAL,
    // 400 items: 2 x 32 codes leave room for distinct IDs while keeping every code well used.
    ids: { levels: 2, k: 32, collisions: 'extra-level', quantizers: {} },
    lastN: { targets: 3 },
    // SASRec's published recipe (dropout, Adam betas 0.9/0.98, a long cap with patience 10), its grid cut to dropout.
    baselines: { sasrec: { dim: 32, layers: 1, maxEpochs: 80, patience: 10, dropout: 0.2, beta2: 0.98 }, sasrecGrid: { dropout: [0.2, 0.5] } },
    generate: {
      train: {
        model: { dModel: 64, numHeads: 4, dFF: 256, encoderLayers: 1, decoderLayers: 1 },
        // A cap of 8 epochs of 3,000 examples (sized for CI: 28 trainings with two seeds and the last-n
        // table), with small's recipe: training decays for its last 2 epochs once 2 epochs have not
        // lowered the validation loss.
        epochs: 8,
        patience: 2,
        stopOn: 'loss',
        decay: 'wsd',
        decayEpochs: 2,
        warmupSteps: 20,
        embeddingLrScale: 8,
        indexingCopies: 2,
        batchSize: 64,
        lr: 4e-3,
        examplesPerEpoch: 3000,
        validLimit: 60,
        validDecode: { numBeams: 10, numGroups: 1 },
      },
      // Chosen on validation (lib/eval/generativeEval.ts selectDecoding): plain beams, or the paper's groups scaled to 30 beams.
      eval: { decode: { numBeams: 30, numGroups: 1 }, decodeCandidates: [{ numBeams: 30, numGroups: 1 }, { numBeams: 30, numGroups: 15 }], selectionLimit: 150, ks: [10, 30], limit: 300 },
      // Two, so that CI covers the seed aggregation.
      replicates: 2,
    },
  },
  small: {
    name: 'small',
    seed: 7,
    data: { dataset: 'ml-latest-small', queriesPerItem: 10, minHistory: 5 },
    embed: {
      content: { dim: 128 },
      // Both towers (hashed n-grams; frozen USE-lite features + adapter) trained, the one with the
      // better validation score kept (lib/pipeline/towerChoice.ts). Off on tiny, to keep CI cheap: there
      // it took building the search and multi-task embeddings from 6.7 s to 57.8 s (2 cores, shared).
      biencoder: {
        dim: 128, batchSize: 256, epochs: 8, maxStepsPerEpoch: 250, validExamples: 1000,
        towerChoice: ['hashed', 'pretrained-adapter'], pretrained: { encoder: 'use-lite' },
      },
      cf: { dim: 64, iterations: 10 },
    },
    retrieval: RETRIEVAL,
    ids: { levels: 2, k: 256, collisions: 'extra-level', quantizers: {} },
    lastN: { targets: 5 },
    // SASRec by its published recipe (Kang & McAuley 2018 on MovieLens-1M: 2 blocks, max length 200,
    // dropout, Adam betas 0.9/0.98, lr 1e-3, hundreds of epochs), kept at its best validation epoch
    // with patience 10; learning rate, dropout and width chosen on validation.
    baselines: {
      sasrec: { dim: 64, layers: 2, maxLen: 200, maxEpochs: 200, patience: 10, dropout: 0.2, beta2: 0.98, learningRate: 1e-3 },
      sasrecGrid: { learningRate: [1e-3, 3e-3], dropout: [0.2, 0.5], dim: [64, 128] },
    },
    generate: {
      train: {
        // Adapted to this project's 2-core budget (the paper fine-tunes flan-t5-base): a d64 2+2 model,
        // batch 64, epochs of 12k examples. The recipe (README, "A recipe chosen on validation"):
        // the peak learning rate until the teacher-forced validation loss has not fallen by more
        // than minDelta (about its paired standard error between epochs) for 2 epochs, then 2
        // epochs of linear decay; embeddings at 8x the learning rate; each item's own text twice
        // among the search examples. Each element was chosen on validation curves only.
        model: { dModel: 64, numHeads: 4, dFF: 256, encoderLayers: 2, decoderLayers: 2 },
        epochs: 22,
        patience: 2,
        stopOn: 'loss',
        minDelta: 0.01,
        decay: 'wsd',
        decayEpochs: 2,
        warmupSteps: 200,
        embeddingLrScale: 8,
        indexingCopies: 2,
        batchSize: 64,
        lr: 3e-3,
        examplesPerEpoch: 12000,
        validLimit: 300,
        validDecode: DEFAULT_DECODE,
      },
      // Chosen on validation between plain 60-beam search and the paper's 60 beams in 30 groups.
      eval: { decode: DEFAULT_DECODE, decodeCandidates: [DEFAULT_DECODE, PAPER_DECODE], selectionLimit: 300, ks: [10, 30], limit: 2000 },
      replicates: 3,
    },
  },
  paper: {
    name: 'paper',
    seed: 7,
    // paper: ml-25m cut to the paper's scale, 20 queries per item.
    data: { dataset: 'ml-25m', queriesPerItem: 20, minHistory: 5, paperScale: true },
    embed: {
      content: { dim: 128 },
      biencoder: { dim: 128, hashing: { buckets: 1 << 18 }, batchSize: 256, epochs: 10, maxStepsPerEpoch: 2000, validExamples: 2000 },
      cf: { dim: 128, iterations: 15 },
    },
    retrieval: RETRIEVAL,
    // paper: 2 codebooks x 256.
    ids: { levels: 2, k: 256, collisions: 'extra-level', quantizers: {} },
    lastN: { targets: 5 },
    baselines: { sasrec: { dim: 64, layers: 2, maxLen: 200, maxEpochs: 200, patience: 10, dropout: 0.2, beta2: 0.98, learningRate: 1e-3 }, sasrecGrid: { dropout: [0.2, 0.5] } },
    generate: {
      train: {
        // Adapted: a T5-style model trained from scratch in place of flan-t5-base; paper: 3 epochs, lr 0.002.
        model: { dModel: 256, numHeads: 4, dFF: 1024, encoderLayers: 4, decoderLayers: 4 },
        epochs: 3,
        batchSize: 256,
        lr: 2e-3,
        validLimit: 1000,
      },
      // paper: 60 beams in 30 groups, listed first so that it wins a tie on validation.
      eval: { decode: PAPER_DECODE, decodeCandidates: [PAPER_DECODE, DEFAULT_DECODE], selectionLimit: 1000, ks: [10, 30], limit: 10000 },
      replicates: 3,
    },
  },
};

/** Where a profile's data come from, when not its own: a MovieLens folder and a query file. */
export interface DataSources {
  /** A folder with movies.csv, ratings.csv and tags.csv in place of the profile's data set's. */
  datasetDir?: string;
  /** A JSONL query file (item_id, query, style) in place of the generated template queries. */
  queries?: string;
}

/**
 * The profile with its data taken from `sources` (absolute paths, checked to exist). The query
 * file's content, not its path, keys every stage (lib/pipeline/stages.ts dataFingerprint).
 */
export function withDataSources(p: Profile, sources: DataSources): Profile {
  let data = p.data;
  if (sources.datasetDir !== undefined) {
    if (p.data.dataset === 'synthetic') throw new Error(`--dataset-dir: profile "${p.name}" generates its data; name a MovieLens profile (small or paper)`);
    const dir = path.resolve(sources.datasetDir);
    for (const f of ['movies.csv', 'ratings.csv']) {
      if (!fs.existsSync(path.join(dir, f))) throw new Error(`--dataset-dir ${dir}: no ${f} there (expected a MovieLens folder with movies.csv, ratings.csv and tags.csv)`);
    }
    data = { ...data, dir };
  }
  if (sources.queries !== undefined) {
    const file = path.resolve(sources.queries);
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new Error(`--queries ${file}: no such file (expected a JSONL query file, one {"item_id", "query", "style"} per line)`);
    data = { ...data, queryFile: file };
  }
  return data === p.data ? p : { ...p, data };
}

/**
 * The profile with the 'content' strategy's sentence-transformer taken from `ref`: a transformers.js
 * model folder, or a hub id fetched into the models folder (SID_MODELS_DIR) by `sid models fetch`.
 * Its variant (onnx/model.onnx, else onnx/model_quantized.onnx) is the folder's. The folder's content
 * keys the embedding (lib/pipeline/stages.ts), not its path.
 */
export function withContentModel(p: Profile, ref: string | undefined): Profile {
  if (ref === undefined) return p;
  let model: { dir: string; quantized: boolean };
  try {
    model = resolveModelRef(ref, modelsRoot());
  } catch (err) {
    throw new Error(`--content-model ${ref}: ${(err as Error).message}`);
  }
  const content = { ...p.embed.content, pretrained: { ...p.embed.content?.pretrained, modelDir: model.dir, quantized: model.quantized } };
  return { ...p, embed: { ...p.embed, content } };
}

/** The content model folder a selection set (`withContentModel`), or undefined when the profile's own is used. */
export function contentModelOf(p: Profile): string | undefined {
  const dir = p.embed.content?.pretrained?.modelDir;
  return dir !== undefined && dir !== PROFILES[p.name].embed.content?.pretrained?.modelDir ? dir : undefined;
}

const slug = (s: string) => s.replace(/[^A-Za-z0-9_-]+/g, '-');

/**
 * The folder name of a profile's reports: the profile's name, followed by the query file's name when
 * its queries are imported (reports/small-ml-latest-small-llm/) and by the content model's folder name
 * when one was selected (reports/small-all-mpnet-base-v2/), so that two such runs never share one.
 */
export function reportName(p: Profile): string {
  const parts: string[] = [p.name];
  if (p.data.queryFile) parts.push(slug(path.basename(p.data.queryFile).replace(/\.jsonl?$/i, '')));
  const model = contentModelOf(p);
  if (model) parts.push(slug(path.basename(model)));
  return parts.join('-');
}

/** The environment that makes getProfile, in another process (a notebook's kernel), read the profile's data sources and content model. */
export function dataSourceEnvironment(p: Profile): Record<string, string> {
  const model = contentModelOf(p);
  return {
    ...(p.data.dir ? { SID_DATASET_DIR: p.data.dir } : {}),
    ...(p.data.queryFile ? { SID_QUERIES: p.data.queryFile } : {}),
    ...(model ? { SID_CONTENT_MODEL: model } : {}),
  };
}

/**
 * The profile of that name, or the one named by SID_PROFILE, or `small`; its data from SID_DATASET_DIR
 * and SID_QUERIES and its content model from SID_CONTENT_MODEL where set (what `sid reproduce
 * --dataset-dir/--queries/--content-model` passes to the notebooks).
 */
export function getProfile(name?: string): Profile {
  const n = name ?? process.env.SID_PROFILE ?? 'small';
  if (!(PROFILE_NAMES as readonly string[]).includes(n)) {
    throw new Error(`unknown profile "${n}": expected one of ${PROFILE_NAMES.join(', ')} (option --profile or SID_PROFILE)`);
  }
  const env = process.env;
  const p = withDataSources(PROFILES[n as ProfileName], { datasetDir: env.SID_DATASET_DIR || undefined, queries: env.SID_QUERIES || undefined });
  return withContentModel(p, env.SID_CONTENT_MODEL || undefined);
}
