/**
 * Content embeddings from a pretrained sentence-transformer run through transformers.js
 * (`@huggingface/transformers`) from a local model folder (config.json, tokenizer.json,
 * tokenizer_config.json, onnx/model.onnx or onnx/model_quantized.onnx): pooled (mean by default,
 * as all-MiniLM-L6-v2 and all-mpnet-base-v2 were trained), L2-normalised, batched. Nothing is
 * fetched from a hub here: remote models are switched off, so a missing file is an error, not a
 * download (`sid models fetch`, modelFetch.ts, downloads a folder). A folder with a sid-model.json
 * manifest is verified against it before loading.
 *
 * Query encoding is asynchronous in transformers.js while `EmbeddingModel.encodeQueries` is
 * synchronous, so `buildPretrainedEmbeddings` encodes the data set's validation and test query texts
 * (and any `extraQueries`) up front and `encodeQueries` serves those; any other text is an error
 * naming this file. Use `loadPretrainedEncoder` directly to encode arbitrary texts.
 */
import * as path from 'node:path';
import * as fs from 'node:fs';
import type { PreparedData } from '../types';
import { Progress } from '../util/progress';
import type { EmbeddingModel } from './embeddingModel';
import { verifyModelFolder } from './modelStore';

export type PretrainedPooling = 'mean' | 'cls';

export interface PretrainedOptions {
  /** Local model folder. */
  modelDir: string;
  /** Texts per forward pass. Default 32. */
  batchSize?: number;
  /** Use onnx/model_quantized.onnx (dtype q8) instead of onnx/model.onnx. Default false. */
  quantized?: boolean;
  /** Token pooling: 'mean' over non-padding tokens (sentence-transformers' default) or the first ([CLS]) token. Default 'mean'. */
  pooling?: PretrainedPooling;
  /** More query texts to pre-encode for `encodeQueries` besides the validation and test queries. */
  extraQueries?: string[];
}

export interface PretrainedTextEncoder {
  dim: number;
  /** The resolved model folder and the ONNX file that was loaded. */
  modelDir: string;
  modelFile: string;
  /** Row-major [texts.length, dim], each row L2-normalised. */
  encode(texts: string[]): Promise<Float32Array>;
  /** Releases the ONNX session. */
  dispose(): Promise<void>;
}

type FeatureOutput = { data: Float32Array; dims: number[]; dispose?: () => void };
type Extractor = ((texts: string[], o: { pooling: PretrainedPooling; normalize: boolean }) => Promise<FeatureOutput>) & {
  dispose?: () => Promise<void>;
};
type TransformersEnv = { allowRemoteModels: boolean; allowLocalModels: boolean; localModelPath: string };

// A real dynamic import that survives compilation to CommonJS (tslab), where `import()` would
// become `require()` and fail on an ESM-only package.
const dynamicImport = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<Record<string, unknown>>;

// transformers.js resolves a model id against the global `env.localModelPath`; loads are serialised
// so that two concurrent loads from different parent folders cannot see each other's setting.
let loadQueue: Promise<unknown> = Promise.resolve();

function checkModelDir(o: PretrainedOptions): { dir: string; modelFile: string } {
  const dir = path.resolve(o.modelDir);
  const modelFile = path.join('onnx', o.quantized ? 'model_quantized.onnx' : 'model.onnx');
  const need = ['config.json', 'tokenizer.json', 'tokenizer_config.json', modelFile];
  const missing = need.filter((f) => !fs.existsSync(path.join(dir, f)));
  if (missing.length > 0) {
    throw new Error(
      `lib/embed/pretrained.ts: option modelDir "${dir}" has no ${missing.join(', ')} ` +
        `(expected a transformers.js model folder: ${need.join(', ')}${o.quantized ? '; option quantized is set' : ''})`,
    );
  }
  // A folder written by `sid models fetch` is checked against its manifest (sizes and sha256 sums,
  // each file hashed once per process); a folder placed by hand has none and is used as it is.
  try {
    verifyModelFolder(dir);
  } catch (err) {
    throw new Error(`lib/embed/pretrained.ts: option modelDir: ${(err as Error).message}`);
  }
  return { dir, modelFile };
}

async function importTransformers(): Promise<Record<string, unknown>> {
  try {
    return await dynamicImport('@huggingface/transformers');
  } catch (err) {
    throw new Error(
      'lib/embed/pretrained.ts: the package @huggingface/transformers could not be loaded; run `npm install` ' +
        `(it is a dependency in package.json), or use the offline 'content' strategy (TF-IDF + SVD). Cause: ${(err as Error).message}`,
    );
  }
}

export async function loadPretrainedEncoder(o: PretrainedOptions): Promise<PretrainedTextEncoder> {
  const { dir, modelFile } = checkModelDir(o);
  const batch = o.batchSize ?? 32;
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`lib/embed/pretrained.ts: option batchSize must be a positive integer, got ${o.batchSize}`);
  const pooling = o.pooling ?? 'mean';
  if (pooling !== 'mean' && pooling !== 'cls') throw new Error(`lib/embed/pretrained.ts: option pooling must be 'mean' or 'cls', got "${pooling as string}"`);
  const mod = await importTransformers();
  const env = mod.env as TransformersEnv;
  const pipeline = mod.pipeline as (task: string, model: string, opts: Record<string, unknown>) => Promise<Extractor>;
  const load = loadQueue.then(async () => {
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = path.dirname(dir) + path.sep;
    return pipeline('feature-extraction', path.basename(dir), { dtype: o.quantized ? 'q8' : 'fp32', local_files_only: true });
  });
  loadQueue = load.catch(() => undefined);
  let extractor: Extractor;
  try {
    extractor = await load;
  } catch (err) {
    throw new Error(`lib/embed/pretrained.ts: loading the model in "${dir}" (${modelFile}) failed: ${(err as Error).message}`);
  }
  const probe = await extractor(['probe'], { pooling, normalize: true });
  const dim = probe.dims[probe.dims.length - 1];
  probe.dispose?.();
  if (probe.dims.length !== 2 || !(dim > 0)) {
    throw new Error(`lib/embed/pretrained.ts: model "${dir}" gave pooled output of shape [${probe.dims.join(', ')}], expected [1, dim]`);
  }
  return {
    dim,
    modelDir: dir,
    modelFile,
    async encode(texts: string[]): Promise<Float32Array> {
      const out = new Float32Array(texts.length * dim);
      const progress = texts.length > 2000 ? new Progress({ label: `pretrained ${path.basename(dir)}`, total: texts.length, unit: 'texts' }) : null;
      for (let s = 0; s < texts.length; s += batch) {
        const chunk = texts.slice(s, s + batch);
        const r = await extractor(chunk, { pooling, normalize: true });
        if (r.data.length !== chunk.length * dim) {
          throw new Error(`lib/embed/pretrained.ts: model "${dir}" returned ${r.data.length} values for ${chunk.length} texts of dim ${dim}`);
        }
        out.set(r.data, s * dim);
        r.dispose?.();
        progress?.tick(chunk.length);
      }
      return out;
    },
    async dispose(): Promise<void> {
      await extractor.dispose?.();
    },
  };
}

/** Item texts and a set of query texts encoded once; queries are then served by text, synchronously. */
export interface PreEncodedTexts {
  dim: number;
  modelDir: string;
  modelFile: string;
  /** Row-major [itemTexts.length, dim]. */
  items: Float32Array;
  /** Distinct query texts encoded. */
  queriesEncoded: number;
  /** Rows of pre-encoded query texts; any other text is an error naming `where`. */
  queries(texts: string[]): Float32Array;
}

/**
 * Encodes item texts and the distinct `queryTexts` in one encoder session (a transformers.js model,
 * or any encoder `o` loads). transformers.js and USE-lite are
 * asynchronous while `EmbeddingModel.encodeQueries` is not, so queries must be known up front;
 * `unknownQuery` ends the error for a text that was not (it says which texts are served).
 */
export async function preEncodeTexts(
  o: PretrainedOptions | (() => Promise<PretrainedTextEncoder>), itemTexts: string[], queryTexts: string[], where: string, unknownQuery: string,
): Promise<PreEncodedTexts> {
  const enc = typeof o === 'function' ? await o() : await loadPretrainedEncoder(o);
  const texts = [...new Set(queryTexts)];
  let items: Float32Array;
  let qv: Float32Array;
  try {
    items = await enc.encode(itemTexts);
    qv = await enc.encode(texts);
  } finally {
    await enc.dispose();
  }
  const dim = enc.dim;
  const row = new Map(texts.map((t, i) => [t, i]));
  return {
    dim,
    modelDir: enc.modelDir,
    modelFile: enc.modelFile,
    items,
    queriesEncoded: texts.length,
    queries(asked: string[]): Float32Array {
      const out = new Float32Array(asked.length * dim);
      asked.forEach((t, i) => {
        const r = row.get(t);
        if (r === undefined) throw new Error(`${where} encodeQueries: query "${t}" was not pre-encoded${unknownQuery}`);
        out.set(qv.subarray(r * dim, (r + 1) * dim), i * dim);
      });
      return out;
    },
  };
}

/**
 * The 'content' strategy with a pretrained sentence-transformer: item vectors from `item.text`,
 * plus `encodeQueries` over the pre-encoded validation, test and `extraQueries` texts.
 */
export async function buildPretrainedEmbeddings(data: PreparedData, o: PretrainedOptions): Promise<EmbeddingModel> {
  const t0 = Date.now();
  const pre = await preEncodeTexts(
    o,
    data.dataset.items.map((it) => it.text),
    [...data.queries.valid.map((q) => q.text), ...data.queries.test.map((q) => q.text), ...(o.extraQueries ?? [])],
    'lib/embed/pretrained.ts',
    ' (only validation, test and option extraQueries texts are)',
  );
  const dim = pre.dim;
  return {
    strategy: 'content',
    vectors: pre.items,
    dim,
    numItems: data.dataset.items.length,
    encodeQueries: (texts: string[]) => pre.queries(texts),
    info: {
      method: 'pretrained-sentence-transformer',
      modelDir: pre.modelDir,
      modelFile: pre.modelFile,
      dim,
      pooling: o.pooling ?? 'mean',
      quantized: !!o.quantized,
      queriesEncoded: pre.queriesEncoded,
      seconds: (Date.now() - t0) / 1000,
    },
  };
}
