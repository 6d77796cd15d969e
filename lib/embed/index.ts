/**
 * One entry point for item embeddings of every Semantic ID strategy:
 *   content       a pretrained sentence encoder over the item text: Universal Sentence Encoder lite
 *                 from its npm package (useLiteContent.ts), or with `content.pretrained` a local
 *                 sentence-transformer through transformers.js (pretrained.ts)
 *   content-lsa   TF-IDF + truncated SVD (LSA) of the item text: content without a pretrained model
 *   search        bi-encoder fine-tuned on (training query, item text); `biencoder.tower` picks the
 *                 hashed n-gram tower (default) or frozen sentence-encoder features (USE-lite or a
 *                 local sentence-transformer) + adapter; `biencoder.towerChoice` trains both and
 *                 keeps the better on validation (through `biencoderTrainer`, lib/pipeline/towerChoice.ts)
 *   rec           collaborative filtering (implicit ALS) on training interactions
 *   fused-concat  [search ; rec], each L2-normalised
 *   fused-svd     search reduced to rec's dimension by truncated SVD, added to rec
 *   multitask     bi-encoder trained on the sum of the search and rec contrastive losses
 * `buildSeparate` gives the (search, rec) pair kept side by side for two ID spaces.
 * Every returned model's vectors are row-major [numItems, dim].
 */
import type { PreparedData } from '../types';
import { buildContentEmbeddings, type ContentOptions } from './content';
import { buildPretrainedEmbeddings } from './pretrained';
import { buildUseLiteEmbeddings } from './useLiteContent';
import { trainBiEncoder, type BiEncoderOptions, type ContrastiveObjective } from './biencoder';
import { buildCfEmbeddings, type CfOptions } from './cf';
import { fusedConcat, fusedSvd, type FusedSvdOptions } from './fusion';
import { checkVectors, EMBEDDING_STRATEGIES, type EmbeddingModel, type EmbeddingStrategy } from './embeddingModel';

export type { EmbeddingModel, EmbeddingStrategy } from './embeddingModel';
export { EMBEDDING_STRATEGIES, l2NormalizeRows } from './embeddingModel';
export type { ContentOptions, ContentPretrainedOptions } from './content';
export type { PretrainedOptions, PretrainedPooling, PretrainedTextEncoder } from './pretrained';
export type { AdapterLoopOptions, AdapterTowerOptions, BiEncoderOptions, BiEncoderTower, ContrastiveLoopOptions, ContrastiveObjective, EpochLog, HashedTowerOptions, TowerChoiceOptions } from './biencoder';
export type { AdapterOptions, AdapterPretrainedOptions, FrozenFeatures, TransformersAdapterOptions, UseLiteAdapterOptions } from './adapterTower';
export type { CfOptions } from './cf';
export type { FusedSvdOptions } from './fusion';
export { buildContentEmbeddings } from './content';
export { buildPretrainedEmbeddings, loadPretrainedEncoder } from './pretrained';
export { splitTowerOptions, trainBiEncoder, trainAdapterBiEncoder, TOWERS } from './biencoder';
export { pretrainedFeatures } from './adapterTower';
export { buildCfEmbeddings } from './cf';
export { fusedConcat, fusedSvd } from './fusion';

export interface EmbeddingOptions {
  /** Seed for every stochastic part (overridden by a part's own `seed`). Default 1. */
  seed?: number;
  content?: ContentOptions;
  /**
   * Bi-encoder settings for 'search' and 'multitask' (and the search side of fused strategies);
   * `tower: 'pretrained-adapter'` with `pretrained: { encoder: 'use-lite' }` (or `{ modelDir }` of a
   * local transformers.js model) trains an adapter on frozen sentence-encoder features instead of
   * the hashed n-gram tower; `towerChoice` trains both and keeps one (needs `biencoderTrainer`).
   */
  biencoder?: BiEncoderOptions;
  /** Overrides for 'multitask' only (merged over `biencoder`). */
  multitask?: BiEncoderOptions;
  cf?: CfOptions;
  fusion?: FusedSvdOptions;
  /** Already-built parts for the fused strategies (skips retraining them). */
  parts?: { search?: EmbeddingModel; rec?: EmbeddingModel };
  /**
   * What trains the bi-encoders (default `trainBiEncoder`). The pipeline passes one that also runs
   * the validation tower choice (lib/pipeline/towerChoice.ts), which needs evaluation code above this layer.
   */
  biencoderTrainer?: BiEncoderTrainer;
}

export type BiEncoderTrainer = (data: PreparedData, objective: ContrastiveObjective, o: BiEncoderOptions) => Promise<EmbeddingModel>;

export async function buildEmbeddings(data: PreparedData, strategy: EmbeddingStrategy, opts: EmbeddingOptions = {}): Promise<EmbeddingModel> {
  if (!EMBEDDING_STRATEGIES.includes(strategy)) {
    throw new Error(`lib/embed/index.ts buildEmbeddings: strategy must be one of ${EMBEDDING_STRATEGIES.join(', ')}, got "${strategy}"`);
  }
  const seed = opts.seed ?? 1;
  const train = opts.biencoderTrainer ?? trainBiEncoder;
  const search = () => opts.parts?.search ?? train(data, 'search', { seed, ...opts.biencoder });
  const rec = () => opts.parts?.rec ?? buildCfEmbeddings(data, { seed, ...opts.cf });
  let model: EmbeddingModel;
  switch (strategy) {
    case 'content':
      model = opts.content?.pretrained
        ? await buildPretrainedEmbeddings(data, opts.content.pretrained)
        : await buildUseLiteEmbeddings(data, opts.content?.useLite);
      break;
    case 'content-lsa':
      model = { ...buildContentEmbeddings(data, { seed, ...opts.content }), strategy: 'content-lsa' };
      break;
    case 'search':
      model = await search();
      break;
    case 'rec':
      model = rec();
      break;
    case 'multitask':
      model = await train(data, 'multitask', { seed, ...opts.biencoder, ...opts.multitask });
      break;
    case 'fused-concat': {
      const s = await search();
      const r = rec();
      model = fusedConcat(s, r);
      model.info = { ...model.info, partInfo: { search: s.info, rec: r.info } };
      break;
    }
    case 'fused-svd': {
      const s = await search();
      const r = rec();
      model = fusedSvd(s, r, { seed, ...opts.fusion });
      model.info = { ...model.info, partInfo: { search: s.info, rec: r.info } };
      break;
    }
  }
  checkVectors(`buildEmbeddings(${strategy})`, model.vectors, model.dim, data.dataset.items.length);
  return model;
}

/** Separate ID spaces: the search-tuned and the rec-based embeddings, kept side by side. */
export async function buildSeparate(data: PreparedData, opts: EmbeddingOptions = {}): Promise<{ search: EmbeddingModel; rec: EmbeddingModel }> {
  const seed = opts.seed ?? 1;
  const search = opts.parts?.search ?? (await (opts.biencoderTrainer ?? trainBiEncoder)(data, 'search', { seed, ...opts.biencoder }));
  const rec = opts.parts?.rec ?? buildCfEmbeddings(data, { seed, ...opts.cf });
  return { search, rec };
}
