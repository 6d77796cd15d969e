/**
 * The pipeline's stages with their cache keys:
 *   data -> embeddings(strategy) -> IDs(tokenizer, collisions) -> generative model -> results.
 * A stage's key hashes its options and its inputs' keys, so a notebook rerun or another table that
 * needs the same stage reuses it. In one process, embeddings built for one strategy are kept in
 * memory and reused as the parts of the fused strategies.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { prepareData, resolveMovieLensDir, type PreparedDataset } from '../data/index';
import { buildEmbeddings, type EmbeddingModel, type EmbeddingStrategy } from '../embed/index';
import { evaluateRetrieval, type RetrievalReport } from '../eval/retrieval';
import { asMatrix } from '../quantize/matrix';
import { fitTokenizer, type TokenizerName } from '../quantize/tokenizer';
import { makeSemanticIds, type CollisionMode } from '../quantize/ids';
import type { IdDiagnostics } from '../quantize/diagnostics';
import type { SemanticIdSet } from '../types';
import { ArtifactCache, artifactKey } from './cache';
import type { Profile } from './profiles';

export interface PipelineContext {
  profile: Profile;
  cache: ArtifactCache;
  /** In-memory reuse within one process. */
  memo: Map<string, unknown>;
}

export function createContext(profile: Profile, cache = new ArtifactCache()): PipelineContext {
  return { profile, cache, memo: new Map() };
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

/** Size and modification time of the data files: a changed file changes every downstream key. */
function dataFingerprint(profile: Profile): unknown {
  const opts = profile.data;
  if (opts.dataset === 'synthetic') return { synthetic: opts.synthetic ?? {} };
  const dir = opts.dir ?? resolveMovieLensDir(opts.dataset);
  const files = ['movies.csv', 'ratings.csv', 'tags.csv'].map((f) => {
    const p = path.join(dir, f);
    const st = fs.existsSync(p) ? fs.statSync(p) : null;
    return { f, bytes: st?.size ?? -1, mtime: st ? Math.floor(st.mtimeMs) : -1 };
  });
  return { files };
}

/** The prepared data set (fast to rebuild, so only its key is cached, not the data). */
export async function dataStage(ctx: PipelineContext): Promise<DataStageResult> {
  const key = artifactKey('data', { options: ctx.profile.data, files: dataFingerprint(ctx.profile) });
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
  const config = { strategy, opts, seed: ctx.profile.seed, retrieval: ctx.profile.retrieval };
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

/** A trained embedding model held in memory (with its query encoder), built at most once per process. */
async function liveModel(
  ctx: PipelineContext,
  strategy: EmbeddingStrategy,
  parts: { search?: EmbeddingModel; rec?: EmbeddingModel } = {},
): Promise<EmbeddingModel> {
  const { data, key: dataKey } = await dataStage(ctx);
  return memoize(ctx, `model:${strategy}:${dataKey}`, () =>
    buildEmbeddings(data, strategy, { ...ctx.profile.embed, seed: ctx.profile.seed, parts }),
  );
}

// ---------------------------------------------------------------- Semantic IDs

export interface StoredIds {
  tokenizer: string;
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

/** Semantic IDs of every item from one embedding and one tokenizer. */
export async function idStage(
  ctx: PipelineContext,
  strategy: EmbeddingStrategy,
  tokenizer: TokenizerName,
  collisions: CollisionMode = ctx.profile.ids.collisions,
): Promise<IdStageResult> {
  const { data } = await dataStage(ctx);
  const emb = await embeddingStage(ctx, strategy);
  const tokOpts = ctx.profile.ids.tokenizers[tokenizer] ?? {};
  const config = { tokenizer, collisions, levels: ctx.profile.ids.levels, k: ctx.profile.ids.k, tokOpts, seed: ctx.profile.seed };
  return memoize(ctx, `ids:${strategy}:${tokenizer}:${collisions}:${emb.key}`, async () => {
    const res = await ctx.cache.getOrBuild<StoredIds>('ids', config, [emb.key], () => {
      const x = asMatrix(emb.embedding.vectors, data.dataset.items.length, emb.embedding.dim, `embeddings(${strategy})`);
      const fit = fitTokenizer(tokenizer, x, { ...tokOpts, levels: ctx.profile.ids.levels, k: ctx.profile.ids.k, seed: ctx.profile.seed });
      const ids = makeSemanticIds(fit.ids.codes, fit.ids.numItems, fit.ids.cardinalities, {
        collisions,
        popularity: data.buckets.counts,
      });
      return { tokenizer, embedding: strategy, ids, diagnostics: fit.diagnostics, seconds: fit.seconds };
    });
    return { ids: res.value, key: res.key, cached: res.cached };
  });
}
