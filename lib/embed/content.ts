/**
 * Content embeddings without a pretrained model (the 'content-lsa' strategy): LSA = TF-IDF of the
 * item text reduced by randomized truncated SVD. Items are X V (= U S); a query is folded in the
 * same way, tfidf(q) V. The 'content' strategy uses a pretrained encoder instead: USE-lite
 * (`useLiteContent.ts`) or, with `ContentOptions.pretrained`, a local sentence-transformer
 * (`pretrained.ts`), dispatched in `index.ts`.
 */
import type { PreparedData } from '../types';
import { fitTfidf, type TfidfOptions } from './tfidf';
import { csrOperator, randomizedSvd, type CsrMatrix } from './svd';
import { l2NormalizeRows, type EmbeddingModel } from './embeddingModel';
import type { PretrainedPooling } from './pretrained';
import type { UseLiteContentOptions } from './useLiteContent';

export interface ContentOptions {
  /** Output dimension (clipped to the matrix rank bound). Default 128. */
  dim?: number;
  tfidf?: TfidfOptions;
  powerIterations?: number;
  oversample?: number;
  seed?: number;
  /**
   * Use a pretrained sentence-transformer from a local transformers.js model folder instead of LSA
   * (see README.md). `dim` is then the model's own output size.
   */
  pretrained?: ContentPretrainedOptions;
  /** Options of the default pretrained encoder, USE-lite (useLiteContent.ts). */
  useLite?: UseLiteContentOptions;
}

/** The user-facing subset of `PretrainedOptions` for the 'content' strategy. */
export interface ContentPretrainedOptions {
  modelDir: string;
  /** Load onnx/model_quantized.onnx instead of onnx/model.onnx. Default false. */
  quantized?: boolean;
  /** Texts per forward pass. Default 32. */
  batchSize?: number;
  /** 'mean' (default) or 'cls' token pooling, as the model was trained. */
  pooling?: PretrainedPooling;
}

export function buildContentEmbeddings(data: PreparedData, opts: ContentOptions = {}): EmbeddingModel {
  if (opts.pretrained) {
    throw new Error(
      'lib/embed/content.ts buildContentEmbeddings: option pretrained is set, but this function builds LSA only; ' +
        "call buildEmbeddings(data, 'content', { content }) or buildPretrainedEmbeddings (pretrained.ts)",
    );
  }
  const t0 = Date.now();
  const items = data.dataset.items;
  const texts = items.map((it) => it.text);
  const vec = fitTfidf(texts, opts.tfidf);
  const x = vec.transform(texts);
  const asked = opts.dim ?? 128;
  if (!Number.isInteger(asked) || asked < 1) throw new Error(`lib/embed/content.ts: option dim must be a positive integer, got ${opts.dim}`);
  const dim = Math.min(asked, x.rows, x.cols);
  const svd = randomizedSvd(csrOperator(x), dim, {
    seed: opts.seed ?? 1,
    powerIterations: opts.powerIterations ?? 3,
    oversample: opts.oversample ?? 10,
  });
  const vectors = new Float32Array(x.rows * dim);
  for (let i = 0; i < x.rows; i++) for (let j = 0; j < dim; j++) vectors[i * dim + j] = svd.u[i * dim + j] * svd.s[j];
  l2NormalizeRows(vectors, dim);
  const v = svd.v;
  const project = (m: CsrMatrix): Float32Array => {
    const out = new Float32Array(m.rows * dim);
    for (let i = 0; i < m.rows; i++) {
      for (let p = m.indptr[i]; p < m.indptr[i + 1]; p++) {
        const w = m.values[p];
        const r = m.indices[p] * dim;
        for (let j = 0; j < dim; j++) out[i * dim + j] += w * v[r + j];
      }
    }
    return l2NormalizeRows(out, dim);
  };
  let energy = 0;
  for (let p = 0; p < x.values.length; p++) energy += x.values[p] ** 2;
  let kept = 0;
  for (let j = 0; j < dim; j++) kept += svd.s[j] ** 2;
  return {
    strategy: 'content',
    vectors,
    dim,
    numItems: items.length,
    encodeQueries: (qs: string[]) => project(vec.transform(qs)),
    info: {
      method: 'tfidf-lsa',
      dimAsked: asked,
      dim,
      vocabulary: vec.vocabulary.size,
      nnz: x.values.length,
      explainedEnergy: energy > 0 ? kept / energy : 0,
      topSingularValues: Array.from(svd.s.slice(0, 5)),
      seconds: (Date.now() - t0) / 1000,
    },
  };
}
