/**
 * The pipeline's stages with their cache keys:
 *   data -> embeddings(strategy) -> IDs(quantizer, collisions) -> generative model -> results.
 * A stage's key hashes its options and its inputs' keys, so a notebook rerun or another table that
 * needs the same stage reuses it. In one process, embeddings built for one strategy are kept in
 * memory and reused as the parts of the fused strategies.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { prepareData, resolveMovieLensDir, type PreparedDataset } from '../data/index';
import { buildEmbeddings, EMBEDDING_STRATEGIES, type BiEncoderOptions, type EmbeddingModel, type EmbeddingOptions, type EmbeddingStrategy } from '../embed/index';
import { evaluateGenerative, type GenerativeEvaluation } from '../eval/generativeEval';
import { loadModel, saveModel, trainGenerativeModel, type GenerativeModel, type TaskSpaces } from '../generate/jointModel';
import type { EpochRecord } from '../generate/train';
import { buildIdVocabulary, type IdVocabulary } from '../quantize/vocabulary';
import { evaluateRetrieval, type RetrievalReport } from '../eval/retrieval';
import { asMatrix } from '../quantize/matrix';
import { fitQuantizer, parseQuantizerName, quantizerNames, type QuantizerName } from '../quantize/quantizer';
import { makeSemanticIds, type CollisionMode } from '../quantize/ids';
import type { IdDiagnostics } from '../quantize/diagnostics';
import type { SemanticIdSet } from '../types';
import { projectRoot } from '../util/fs';
import { ArtifactCache, artifactKey } from './cache';
import { contentHash, folderHashesIn } from '../util/hash';
import { decodeValue } from '../util/codec';
import type { Profile } from './profiles';
import { locateUseLiteFiles, useLiteModelHash } from '../embed/useLite';
import { SASREC_DEFAULTS, sasrecGridSettings, sasRecRankings, trainSasRec, type SasRecConfig } from '../baselines/sasrec';
import { summarizeTask, type TaskResult } from '../eval/summary';
import { evaluateBaselines, type BaselineReport } from '../baselines/baselines';
import { importClosure } from './sourceClosure';
import { writeProgressLine } from '../util/progress';
import { withBlasThreads } from '../backend/index';
import { towerChoiceTrainer } from './towerChoice';

export interface PipelineContext {
  profile: Profile;
  cache: ArtifactCache;
  /** In-memory reuse within one process. */
  memo: Map<string, unknown>;
}

export function createContext(profile: Profile, cache = new ArtifactCache()): PipelineContext {
  return { profile, cache, memo: new Map() };
}

/**
 * A hash of the source files a stage runs, part of its cache key: changing the code of a stage
 * rebuilds its artifacts (and, through the input keys, everything downstream).
 */
const codeHashes = new Map<string, string>();
export function codeVersion(paths: string[]): string {
  const id = paths.join(',');
  const hit = codeHashes.get(id);
  if (hit) return hit;
  const root = projectRoot();
  const h = createHash('sha256');
  const walk = (p: string) => {
    const abs = path.join(root, p);
    if (!fs.existsSync(abs)) throw new Error(`codeVersion: ${p} does not exist under ${root}`);
    if (fs.statSync(abs).isDirectory()) {
      for (const e of fs.readdirSync(abs).sort()) walk(path.join(p, e));
    } else if (p.endsWith('.ts')) {
      h.update(p).update('\0').update(fs.readFileSync(abs)).update('\0');
    }
  };
  paths.forEach(walk);
  const v = h.digest('hex').slice(0, 12);
  codeHashes.set(id, v);
  return v;
}

// Each stage's entry modules; its key hashes everything they import (sourceClosure.ts). Keys chain
// (embeddings take the data key as input, IDs the embedding key, ...), so upstream code reaches all.
const STAGE_ENTRIES = {
  data: ['lib/data/index.ts'],
  embed: ['lib/embed/index.ts', 'lib/eval/retrieval.ts', 'lib/pipeline/towerChoice.ts'],
  ids: ['lib/quantize/quantizer.ts', 'lib/quantize/ids.ts', 'lib/quantize/matrix.ts'],
  experiment: ['lib/generate/jointModel.ts', 'lib/eval/generativeEval.ts', 'lib/quantize/vocabulary.ts'],
  sasrec: ['lib/baselines/sasrec.ts', 'lib/eval/summary.ts'],
  baselines: ['lib/baselines/baselines.ts'],
};
type StageName = keyof typeof STAGE_ENTRIES;
const closures = new Map<StageName, string[]>();

/** The source files a stage's key covers. */
function stageSources(stage: StageName): string[] {
  let files = closures.get(stage);
  if (!files) closures.set(stage, (files = importClosure(STAGE_ENTRIES[stage])));
  return files;
}

async function memoize<T>(ctx: PipelineContext, key: string, make: () => Promise<T>): Promise<T> {
  if (ctx.memo.has(key)) return ctx.memo.get(key) as T;
  const value = await make();
  ctx.memo.set(key, value);
  return value;
}

// ---------------------------------------------------------------- data

export interface DataStageResult {
  data: PreparedDataset;
  key: string;
}

/**
 * Content hashes of the input files the data stage reads (MovieLens CSVs, an imported query file):
 * an edited file changes every downstream key, whatever its path or mtime. Each file is hashed once
 * per process (lib/util/hash.ts).
 */
export function dataFingerprint(profile: Profile): unknown {
  const opts = profile.data;
  const queries = opts.queryFile ? { queryFile: fs.existsSync(opts.queryFile) ? contentHash(opts.queryFile) : 'missing' } : {};
  if (opts.dataset === 'synthetic') return { synthetic: opts.synthetic ?? {}, ...queries };
  const dir = opts.dir ?? resolveMovieLensDir(opts.dataset);
  const files = ['movies.csv', 'ratings.csv', 'tags.csv'].map((f) => {
    const p = path.join(dir, f);
    return { f, sha256: fs.existsSync(p) ? contentHash(p) : 'missing' };
  });
  return { files, ...queries };
}

/** The prepared data set (fast to rebuild, so only its key is cached, not the data). */
export async function dataStage(ctx: PipelineContext): Promise<DataStageResult> {
  // The query file is keyed by its content (in the fingerprint), not by where it lies.
  const options = { ...ctx.profile.data, queryFile: ctx.profile.data.queryFile ? 'imported' : undefined };
  const key = artifactKey('data', { options, files: dataFingerprint(ctx.profile), code: codeVersion(stageSources('data')) });
  const data = await memoize(ctx, `data:${key}`, async () => prepareData(ctx.profile.data));
  return { data, key };
}

// ---------------------------------------------------------------- embeddings

export interface StoredEmbedding {
  strategy: string;
  vectors: Float32Array;
  dim: number;
  info: Record<string, unknown>;
  /** Embedding-level dense retrieval on the test split (computed at build time). */
  retrieval: RetrievalReport;
}

export interface EmbeddingStageResult {
  embedding: StoredEmbedding;
  key: string;
  cached: boolean;
}

/** Item embeddings of one strategy, with their dense-retrieval metrics. */
export async function embeddingStage(ctx: PipelineContext, strategy: EmbeddingStrategy): Promise<EmbeddingStageResult> {
  const { data, key: dataKey } = await dataStage(ctx);
  const opts = ctx.profile.embed;
  // A local model folder (`modelDir` anywhere in the options) enters the key by its content, and so
  // do the installed USE-lite weights where the content strategy or a bi-encoder's adapter reads them.
  const useLite = strategy === 'content' && !opts.content?.pretrained ? { useLite: useLiteModelHash(locateUseLiteFiles(opts.content?.useLite?.modelDir)) } : {};
  const adapterHash = adapterUseLiteHash(opts, strategy);
  const adapter = adapterHash ? { adapterUseLite: adapterHash } : {};
  const config = { strategy, opts, models: folderHashesIn(opts), ...useLite, ...adapter, seed: ctx.profile.seed, retrieval: ctx.profile.retrieval, code: codeVersion(stageSources('embed')) };
  return memoize(ctx, `embed:${strategy}:${dataKey}`, async () => {
    const res = await ctx.cache.getOrBuild<StoredEmbedding>(`embed-${strategy}`, config, [dataKey], async () => {
      // Fused strategies reuse the search and rec models built earlier in this process.
      const parts: { search?: EmbeddingModel; rec?: EmbeddingModel } = {};
      if (strategy === 'fused-concat' || strategy === 'fused-svd') {
        parts.search = await liveModel(ctx, 'search');
        parts.rec = await liveModel(ctx, 'rec');
      }
      const model = await liveModel(ctx, strategy, parts);
      const retrieval = await evaluateRetrieval(model, data, { ...ctx.profile.retrieval, seed: ctx.profile.seed });
      return { strategy, vectors: model.vectors, dim: model.dim, info: model.info, retrieval };
    });
    return { embedding: res.value, key: res.key, cached: res.cached };
  });
}

/** The bi-encoder options a strategy trains with (the search side for the fused ones), or null when it trains none. */
export function biencoderOptionsOf(opts: EmbeddingOptions, strategy: EmbeddingStrategy): BiEncoderOptions | null {
  if (strategy === 'multitask') return { ...opts.biencoder, ...opts.multitask } as BiEncoderOptions;
  if (strategy === 'search' || strategy === 'fused-concat' || strategy === 'fused-svd') return opts.biencoder ?? {};
  return null;
}

/**
 * The hash of the USE-lite weights a strategy's bi-encoder reads (its adapter tower, or the tower
 * choice's adapter, with `pretrained.encoder: 'use-lite'`), or null when it reads none.
 */
export function adapterUseLiteHash(opts: EmbeddingOptions, strategy: EmbeddingStrategy): string | null {
  const o = biencoderOptionsOf(opts, strategy) as { tower?: unknown; towerChoice?: unknown; pretrained?: { encoder?: unknown; modelDir?: string } } | null;
  if (!o) return null;
  const adapter = o.tower === 'pretrained-adapter' || (Array.isArray(o.towerChoice) && o.towerChoice.includes('pretrained-adapter'));
  if (!adapter || o.pretrained?.encoder !== 'use-lite') return null;
  return useLiteModelHash(locateUseLiteFiles(o.pretrained.modelDir));
}

/** A trained embedding model held in memory (with its query encoder), built at most once per process. */
async function liveModel(
  ctx: PipelineContext,
  strategy: EmbeddingStrategy,
  parts: { search?: EmbeddingModel; rec?: EmbeddingModel } = {},
): Promise<EmbeddingModel> {
  const { data, key: dataKey } = await dataStage(ctx);
  return memoize(ctx, `model:${strategy}:${dataKey}`, () =>
    buildEmbeddings(data, strategy, {
      ...ctx.profile.embed,
      seed: ctx.profile.seed,
      parts,
      // `towerChoice`: both towers trained, the better on the validation split kept (towerChoice.ts).
      biencoderTrainer: towerChoiceTrainer({ retrieval: { ...ctx.profile.retrieval, seed: ctx.profile.seed } }),
    }),
  );
}

// ---------------------------------------------------------------- Semantic IDs

export interface StoredIds {
  quantizer: string;
  embedding: string;
  ids: SemanticIdSet;
  /** Diagnostics of the raw codes (before collision handling). */
  diagnostics: IdDiagnostics;
  seconds: number;
}

export interface IdStageResult {
  ids: StoredIds;
  key: string;
  cached: boolean;
}

/** Semantic IDs of every item from one embedding and one quantizer. */
export async function idStage(
  ctx: PipelineContext,
  strategy: EmbeddingStrategy,
  quantizer: QuantizerName,
  collisions: CollisionMode = ctx.profile.ids.collisions,
): Promise<IdStageResult> {
  const { data } = await dataStage(ctx);
  const emb = await embeddingStage(ctx, strategy);
  const tokOpts = ctx.profile.ids.quantizers[quantizer] ?? {};
  const config = { quantizer, collisions, levels: ctx.profile.ids.levels, k: ctx.profile.ids.k, tokOpts, seed: ctx.profile.seed, code: codeVersion(stageSources('ids')) };
  return memoize(ctx, `ids:${strategy}:${quantizer}:${collisions}:${emb.key}`, async () => {
    const res = await ctx.cache.getOrBuild<StoredIds>('ids', config, [emb.key], async () => {
      const x = asMatrix(emb.embedding.vectors, data.dataset.items.length, emb.embedding.dim, `embeddings(${strategy})`);
      const fit = await fitQuantizer(quantizer, x, { ...tokOpts, levels: ctx.profile.ids.levels, k: ctx.profile.ids.k, seed: ctx.profile.seed });
      const ids = makeSemanticIds(fit.ids.codes, fit.ids.numItems, fit.ids.cardinalities, {
        collisions,
        popularity: data.buckets.counts,
      });
      return { quantizer, embedding: strategy, ids, diagnostics: fit.diagnostics, seconds: fit.seconds };
    });
    return { ids: res.value, key: res.key, cached: res.cached };
  });
}

// ---------------------------------------------------------------- generative model + evaluation

/**
 * One row of the experiments: which embedding gives the IDs, which quantizer, and whether both tasks
 * share one set of ID tokens. `embedding: 'separate'` takes search IDs from the search-tuned embedding
 * and rec IDs from the rec-based one (two token sets, as in the paper's "Separate"); any other
 * embedding with `space: 'separate'` uses the same codes with a distinct token set per task.
 */
export interface ExperimentSpec {
  embedding: EmbeddingStrategy | 'separate';
  quantizer: QuantizerName;
  space: 'shared' | 'separate';
  /**
   * Which training of the row (absent = 0): replicate r trains with seed profile.seed + r (model
   * initialisation, batch order, validation sample); the IDs and the test sample stay the same.
   */
  replicate?: number;
  /**
   * 'last-n': the whole pipeline (embeddings, IDs, training, test) on the leave-last-N-out split of
   * the profile's `lastN`; absent: leave-last-out, as in the paper.
   */
  protocol?: 'last-n';
}

/** `<embedding>/<quantizer>/<space>`, then `/last-n` for that protocol and `/r<N>` for replicate N > 0. */
export function specId(s: ExperimentSpec): string {
  let id = `${s.embedding}/${s.quantizer}/${s.space}`;
  if (s.protocol) id += `/${s.protocol}`;
  return s.replicate ? `${id}/r${s.replicate}` : id;
}

export function parseSpecId(id: string): ExperimentSpec {
  const [embedding, quantizerName, space, ...tail] = id.split('/');
  const strategies: string[] = [...EMBEDDING_STRATEGIES, 'separate'];
  const quantizer = parseQuantizerName(quantizerName ?? '', `experiment id "${id}"`);
  const protocol = tail[0] === 'last-n' ? (tail.shift() as 'last-n') : undefined;
  const rep = tail.shift();
  const replicate = rep === undefined ? 0 : /^r[0-9]+$/.test(rep) ? Number(rep.slice(1)) : NaN;
  if (!strategies.includes(embedding) || !quantizer || (space !== 'shared' && space !== 'separate') || !Number.isSafeInteger(replicate) || tail.length) {
    throw new Error(
      `experiment id "${id}" must be <embedding>/<quantizer>/<shared|separate>[/last-n][/r<replicate>] with embedding in ${strategies.join(', ')} and quantizer in ${quantizerNames().join(', ')}`,
    );
  }
  if (embedding === 'separate' && space !== 'separate') throw new Error(`experiment id "${id}": the separate embeddings need --space separate`);
  const spec: ExperimentSpec = { embedding: embedding as ExperimentSpec['embedding'], quantizer, space };
  return withReplicate(protocol ? { ...spec, protocol } : spec, replicate);
}

/** The spec of replicate `r` of a row (replicate 0 carries no field, so its id and key are the row's). */
export function withReplicate(spec: ExperimentSpec, r: number): ExperimentSpec {
  const { replicate: _, ...row } = spec;
  return r > 0 ? { ...row, replicate: r } : row;
}

/**
 * The context an experiment runs in: the profile's own, or for `protocol: 'last-n'` one whose data
 * stage splits leave-last-N-out and whose evaluation decodes every rec test example (shared cache).
 */
export function protocolContext(ctx: PipelineContext, protocol: ExperimentSpec['protocol']): PipelineContext {
  if (!protocol) return ctx;
  const memoKey = `context:${protocol}`;
  const hit = ctx.memo.get(memoKey) as PipelineContext | undefined;
  if (hit) return hit;
  const p = ctx.profile;
  const profile: Profile = {
    ...p,
    data: { ...p.data, recTestTargets: p.lastN.targets },
    generate: { ...p.generate, eval: { ...p.generate.eval, taskLimits: { ...p.generate.eval.taskLimits, rec: null } } },
  };
  const derived: PipelineContext = { profile, cache: ctx.cache, memo: new Map() };
  ctx.memo.set(memoKey, derived);
  return derived;
}

/** Every replicate of a row, 0..count-1. */
export function replicatesOf(spec: ExperimentSpec, count: number): ExperimentSpec[] {
  return Array.from({ length: Math.max(1, count) }, (_, r) => withReplicate(spec, r));
}

/** The training seed of an experiment. */
export function trainingSeed(ctx: PipelineContext, spec: ExperimentSpec): number {
  return ctx.profile.seed + (spec.replicate ?? 0);
}

export interface VocabularyResult {
  vocab: IdVocabulary;
  spaces: TaskSpaces;
  keys: string[];
  diagnostics: Record<string, IdDiagnostics>;
}

/** The ID vocabulary of an experiment: one shared space, or a search and a rec space. */
export async function vocabularyStage(ctx: PipelineContext, spec: ExperimentSpec): Promise<VocabularyResult> {
  if (spec.embedding === 'separate') {
    const s = await idStage(ctx, 'search', spec.quantizer);
    const r = await idStage(ctx, 'rec', spec.quantizer);
    return {
      vocab: buildIdVocabulary([{ name: 'search', ids: s.ids.ids }, { name: 'rec', ids: r.ids.ids }]),
      spaces: { search: 'search', rec: 'rec' },
      keys: [s.key, r.key],
      diagnostics: { search: s.ids.diagnostics, rec: r.ids.diagnostics },
    };
  }
  const res = await idStage(ctx, spec.embedding, spec.quantizer);
  if (spec.space === 'separate') {
    return {
      vocab: buildIdVocabulary([{ name: 'search', ids: res.ids.ids }, { name: 'rec', ids: res.ids.ids }]),
      spaces: { search: 'search', rec: 'rec' },
      keys: [res.key],
      diagnostics: { search: res.ids.diagnostics, rec: res.ids.diagnostics },
    };
  }
  return {
    vocab: buildIdVocabulary([{ name: 'shared', ids: res.ids.ids }]),
    spaces: { search: 'shared', rec: 'shared' },
    keys: [res.key],
    diagnostics: { shared: res.ids.diagnostics },
  };
}

/** What is kept of a trained and evaluated generative model. */
export interface StoredExperiment {
  spec: ExperimentSpec;
  vocabSize: number;
  history: EpochRecord[];
  bestEpoch: number;
  /** Why training ended: the epoch cap, or a validation plateau (the profile's patience). */
  stop: 'cap' | 'plateau';
  evaluation: GenerativeEvaluation;
  diagnostics: Record<string, IdDiagnostics>;
  trainSeconds: number;
  evalSeconds: number;
}

export interface ExperimentResult {
  result: StoredExperiment;
  key: string;
  cached: boolean;
  /** Folder of the saved model (for worked examples). */
  modelDir: string;
}

function experimentKey(ctx: PipelineContext, spec: ExperimentSpec, dataKey: string, idKeys: string[]): { config: unknown; inputs: string[]; key: string } {
  // The number of replicates is left out: adding seeds to a profile keeps the trainings already made.
  const { train, eval: evaluation } = ctx.profile.generate;
  const config = { spec: withReplicate(spec, spec.replicate ?? 0), generate: { train, eval: evaluation }, seed: ctx.profile.seed, code: codeVersion(stageSources('experiment')) };
  const inputs = [dataKey, ...idKeys];
  return { config, inputs, key: artifactKey('experiment', config, inputs) };
}

/** BLAS threads of every experiment's training and evaluation (see experimentStage). */
export const EXPERIMENT_BLAS_THREADS = 1;

/** Trains (resumably) and evaluates the joint generative model of one experiment. */
export async function experimentStage(base: PipelineContext, spec: ExperimentSpec): Promise<ExperimentResult> {
  const ctx = protocolContext(base, spec.protocol);
  const { data, key: dataKey } = await dataStage(ctx);
  const voc = await vocabularyStage(ctx, spec);
  const { config, inputs, key } = experimentKey(ctx, spec, dataKey, voc.keys);
  const modelDir = path.join(ctx.cache.root, 'models', key);
  const g = ctx.profile.generate;
  // One BLAS thread wherever it trains (a worker, sid train, a notebook's kernel): a product split
  // over several threads may add in another order, and the cached result must not depend on where it
  // ran. The parallel speed comes from trainings side by side (sid reproduce --jobs).
  const res = await ctx.cache.getOrBuild<StoredExperiment>('experiment', config, inputs, () => withBlasThreads(EXPERIMENT_BLAS_THREADS, async () => {
    const t0 = Date.now();
    const trained = await trainGenerativeModel(data, voc.vocab, voc.spaces, {
      ...g.train,
      seed: trainingSeed(ctx, spec),
      label: `train ${specId(spec)}`,
      checkpointDir: path.join(ctx.cache.root, 'checkpoints', key),
    });
    const trainSeconds = (Date.now() - t0) / 1000;
    saveModel(trained.model, modelDir);
    const t1 = Date.now();
    const evaluation = await evaluateGenerative(trained.model, data, voc.vocab, voc.spaces, { ...g.eval, seed: ctx.profile.seed });
    trained.model.net.dispose();
    // The resumable training state is no longer needed once the result is stored.
    fs.rmSync(path.join(ctx.cache.root, 'checkpoints', key), { recursive: true, force: true });
    return {
      spec,
      vocabSize: voc.vocab.size,
      history: trained.history,
      bestEpoch: trained.bestEpoch,
      stop: trained.stop,
      evaluation,
      diagnostics: voc.diagnostics,
      trainSeconds,
      evalSeconds: (Date.now() - t1) / 1000,
    };
  }), { companions: [modelDir] }); // the saved model is checked with the result
  return { result: res.value, key: res.key, cached: res.cached, modelDir };
}

/** The stored result of an experiment if it is in the cache; never trains (its IDs are built when missing). */
export async function cachedExperiment(base: PipelineContext, spec: ExperimentSpec): Promise<StoredExperiment | null> {
  const ctx = protocolContext(base, spec.protocol);
  const { key: dataKey } = await dataStage(ctx);
  const voc = await vocabularyStage(ctx, spec);
  const { key } = experimentKey(ctx, spec, dataKey, voc.keys);
  const files = ctx.cache.readFiles('experiment', key, { companions: [path.join(ctx.cache.root, 'models', key)] });
  if (!files) return null;
  return decodeValue<StoredExperiment>(files['value.json'].toString('utf8'), new Uint8Array(files['arrays.bin']));
}

/** Loads the trained model of an experiment (building it first when needed). */
export async function loadExperimentModel(ctx: PipelineContext, spec: ExperimentSpec): Promise<{ model: GenerativeModel; vocab: IdVocabulary; result: StoredExperiment }> {
  const exp = await experimentStage(ctx, spec);
  const voc = await vocabularyStage(protocolContext(ctx, spec.protocol), spec);
  return { model: loadModel(exp.modelDir, voc.vocab), vocab: voc.vocab, result: exp.result };
}

// ---------------------------------------------------------------- SASRec baseline

/** What is kept of one SASRec training: its test rankings and metrics, and how its training went. */
export interface StoredSasRec {
  result: TaskResult;
  /** Per rec test example, the top items (best first): what pairs its seeds and other rankers. */
  rankings: number[][];
  /** Validation Recall@validK after each epoch; the best epoch's weights made the test rankings. */
  validRecall: number[];
  bestEpoch: number;
  epochs: number;
  seconds: number;
  config: SasRecConfig;
}

/** SASRec's grid on the validation split: each setting tried (seed 0 of the run) and the one chosen. */
export interface SasRecSelection {
  chosen: Pick<SasRecConfig, 'learningRate' | 'dropout' | 'dim'>;
  metric: string;
  /** The chosen setting's best validation recall. */
  validRecall: number;
  grid: { params: Pick<SasRecConfig, 'learningRate' | 'dropout' | 'dim'>; validRecall: number; bestEpoch: number; epochs: number; curve: number[] }[];
}

const sasrecParams = (c: SasRecConfig) => ({ learningRate: c.learningRate, dropout: c.dropout, dim: c.dim });

/** One SASRec training of the given setting (its seed included), ranked on test once. */
async function sasrecTraining(ctx: PipelineContext, cfg: SasRecConfig): Promise<{ value: StoredSasRec; key: string; cached: boolean }> {
  const { data, key: dataKey } = await dataStage(ctx);
  const { ks, bootstrapIterations } = ctx.profile.retrieval;
  const config = { cfg, ks, bootstrapIterations, code: codeVersion(stageSources('sasrec')) };
  return memoize(ctx, `sasrec:${JSON.stringify(cfg)}:${dataKey}`, async () => {
    const res = await ctx.cache.getOrBuild<StoredSasRec>('sasrec', config, [dataKey], async () => {
      const t0 = Date.now();
      const p = sasrecParams(cfg);
      writeProgressLine(`[sasrec] training lr ${p.learningRate}, dropout ${p.dropout}, width ${p.dim}, seed ${cfg.seed} (at most ${cfg.maxEpochs} epochs, patience ${cfg.patience})`);
      const trained = await trainSasRec(data.rec.train, data.rec.valid, data.dataset.items.length, cfg);
      try {
        const kMax = Math.max(...(ks ?? [10, 30]));
        const rankings = sasRecRankings(trained.model, data.rec.test, kMax);
        const result = summarizeTask(rankings, data.rec.test.map((e) => e.target), data, ks ?? [10, 30], { iterations: bootstrapIterations, seed: ctx.profile.seed, clusters: data.rec.test.map((e) => e.user) });
        const seconds = (Date.now() - t0) / 1000;
        writeProgressLine(`[sasrec] best epoch ${trained.bestEpoch + 1} of ${trained.epochs} in ${seconds.toFixed(0)} s`);
        return { result, rankings: rankings.map((r) => Array.from(r)), validRecall: trained.validRecall, bestEpoch: trained.bestEpoch, epochs: trained.epochs, seconds, config: cfg };
      } finally {
        trained.model.dispose();
      }
    });
    return { value: res.value, key: res.key, cached: res.cached };
  });
}

/**
 * SASRec's setting chosen on validation: every setting of the profile's grid trained with the run's
 * seed, the highest best-epoch validation Recall@validK chosen (the first in grid order on a tie).
 */
export async function sasrecSelectionStage(ctx: PipelineContext): Promise<{ config: SasRecConfig; selection: SasRecSelection }> {
  const base: SasRecConfig = { ...SASREC_DEFAULTS, ...ctx.profile.baselines.sasrec, seed: ctx.profile.seed };
  const settings = sasrecGridSettings(base, ctx.profile.baselines.sasrecGrid);
  const grid: SasRecSelection['grid'] = [];
  let best = 0;
  for (let i = 0; i < settings.length; i++) {
    const v = (await sasrecTraining(ctx, settings[i])).value;
    grid.push({ params: sasrecParams(settings[i]), validRecall: Math.max(...v.validRecall), bestEpoch: v.bestEpoch, epochs: v.epochs, curve: v.validRecall });
    if (grid[i].validRecall > grid[best].validRecall) best = i;
  }
  return { config: settings[best], selection: { chosen: grid[best].params, metric: `recall@${base.validK}`, validRecall: grid[best].validRecall, grid } };
}

/** SASRec of the chosen setting, one seed per replicate (replicate 0 is the selection's own training). */
export async function sasrecStage(ctx: PipelineContext, replicate = 0): Promise<{ value: StoredSasRec; key: string; cached: boolean }> {
  const { config } = await sasrecSelectionStage(ctx);
  return sasrecTraining(ctx, { ...config, seed: ctx.profile.seed + replicate });
}

/** The whole SASRec baseline: its grid on validation, then the chosen setting with every seed of the run. */
export async function sasrecRunsStage(ctx: PipelineContext): Promise<{ runs: StoredSasRec[]; selection: SasRecSelection; keys: string[]; key: string; cached: boolean }> {
  const { selection } = await sasrecSelectionStage(ctx);
  const base: SasRecConfig = { ...SASREC_DEFAULTS, ...ctx.profile.baselines.sasrec, seed: ctx.profile.seed };
  const gridKeys = await Promise.all(sasrecGridSettings(base, ctx.profile.baselines.sasrecGrid).map(async (c) => (await sasrecTraining(ctx, c)).key));
  const trainings = [];
  for (let r = 0; r < ctx.profile.generate.replicates; r++) trainings.push(await sasrecStage(ctx, r));
  const keys = [...new Set([...gridKeys, ...trainings.map((t) => t.key)])];
  return { runs: trainings.map((t) => t.value), selection, keys, key: trainings[0].key, cached: trainings.every((t) => t.cached) };
}

/**
 * The non-training baselines (BM25, popularity, co-occurrence and item-kNN with settings chosen on
 * validation, random) on the test split: cached, since the notebooks collect results one table at a time.
 */
export async function baselinesStage(ctx: PipelineContext): Promise<{ value: BaselineReport; key: string; cached: boolean }> {
  const { data, key: dataKey } = await dataStage(ctx);
  const opts = { ks: ctx.profile.retrieval.ks, bootstrapIterations: ctx.profile.retrieval.bootstrapIterations, seed: ctx.profile.seed };
  const config = { opts, code: codeVersion(stageSources('baselines')) };
  return memoize(ctx, `baselines:${dataKey}`, async () => {
    const res = await ctx.cache.getOrBuild<BaselineReport>('baselines', config, [dataKey], () => evaluateBaselines(data, opts));
    return { value: res.value, key: res.key, cached: res.cached };
  });
}

