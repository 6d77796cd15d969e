/**
 * Content embeddings from a pretrained sentence-transformer run through transformers.js
 * (`@huggingface/transformers`) from a local model folder (config.json, tokenizer.json,
 * tokenizer_config.json, onnx/model.onnx or onnx/model_quantized.onnx): mean-pooled, L2-normalised,
 * batched. The package is optional: it is loaded only here, and its absence is a clear error.
 *
 * Query encoding is asynchronous in transformers.js while `EmbeddingModel.encodeQueries` is
 * synchronous, so `buildPretrainedEmbeddings` encodes the data set's validation and test query texts
 * up front and `encodeQueries` serves those (any other text is an error naming this file).
 */
import * as path from 'node:path';
import * as fs from 'node:fs';
import type { PreparedData } from '../types';
import type { EmbeddingModel } from './model';

export interface PretrainedOptions {
  /** Local model folder. */
  modelDir: string;
  /** Texts per forward pass. Default 32. */
  batchSize?: number;
  /** Use onnx/model_quantized.onnx (dtype q8) instead of onnx/model.onnx. Default false. */
  quantized?: boolean;
}

export interface PretrainedTextEncoder {
  dim: number;
  encode(texts: string[]): Promise<Float32Array>;
}

type FeatureOutput = { data: Float32Array; dims: number[]; dispose?: () => void };
type Extractor = (texts: string[], o: { pooling: 'mean'; normalize: boolean }) => Promise<FeatureOutput>;

// A real dynamic import that survives compilation to CommonJS (tslab), where `import()` would
// become `require()` and fail on an ESM-only package.
const dynamicImport = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<Record<string, unknown>>;

export async function loadPretrainedEncoder(o: PretrainedOptions): Promise<PretrainedTextEncoder> {
  const dir = path.resolve(o.modelDir);
  if (!fs.existsSync(path.join(dir, 'config.json'))) {
    throw new Error(`lib/embed/pretrained.ts: option modelDir "${dir}" has no config.json (expected a transformers.js model folder)`);
  }
  let mod: Record<string, unknown>;
  try {
    mod = await dynamicImport('@huggingface/transformers');
  } catch (err) {
    throw new Error(
      'lib/embed/pretrained.ts: the optional package @huggingface/transformers is not installed; ' +
        'add it to package.json (with "allowScripts": {"onnxruntime-node": false}) to use pretrained content embeddings, ' +
        `or use the offline 'content' strategy (TF-IDF + SVD). Cause: ${(err as Error).message}`,
    );
  }
  const env = mod.env as { allowRemoteModels: boolean; localModelPath: string };
  env.allowRemoteModels = false;
  env.localModelPath = path.dirname(dir) + path.sep;
  const pipeline = mod.pipeline as (task: string, model: string, opts: Record<string, unknown>) => Promise<Extractor>;
  const extractor = await pipeline('feature-extraction', path.basename(dir), { dtype: o.quantized ? 'q8' : 'fp32' });
  const batch = o.batchSize ?? 32;
  const probe = await extractor(['probe'], { pooling: 'mean', normalize: true });
  const dim = probe.dims[probe.dims.length - 1];
  probe.dispose?.();
  return {
    dim,
    async encode(texts: string[]): Promise<Float32Array> {
      const out = new Float32Array(texts.length * dim);
      for (let s = 0; s < texts.length; s += batch) {
        const r = await extractor(texts.slice(s, s + batch), { pooling: 'mean', normalize: true });
        out.set(r.data.subarray(0, Math.min(batch, texts.length - s) * dim), s * dim);
        r.dispose?.();
      }
      return out;
    },
  };
}

export async function buildPretrainedEmbeddings(data: PreparedData, o: PretrainedOptions): Promise<EmbeddingModel> {
  const t0 = Date.now();
  const enc = await loadPretrainedEncoder(o);
  const vectors = await enc.encode(data.dataset.items.map((it) => it.text));
  const queryTexts = [...new Set([...data.queries.valid, ...data.queries.test].map((q) => q.text))];
  const qv = await enc.encode(queryTexts);
  const row = new Map(queryTexts.map((t, i) => [t, i]));
  return {
    strategy: 'content',
    vectors,
    dim: enc.dim,
    numItems: data.dataset.items.length,
    encodeQueries(texts: string[]): Float32Array {
      const out = new Float32Array(texts.length * enc.dim);
      texts.forEach((t, i) => {
        const r = row.get(t);
        if (r === undefined) throw new Error(`lib/embed/pretrained.ts: query "${t}" was not pre-encoded (only validation and test queries are)`);
        out.set(qv.subarray(r * enc.dim, (r + 1) * enc.dim), i * enc.dim);
      });
      return out;
    },
    info: { method: 'pretrained-sentence-transformer', modelDir: path.resolve(o.modelDir), dim: enc.dim, quantized: !!o.quantized, seconds: (Date.now() - t0) / 1000 },
  };
}
