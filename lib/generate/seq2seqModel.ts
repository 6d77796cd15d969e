/**
 * A T5-style encoder-decoder in tfjs: one shared token embedding (encoder input and decoder input),
 * pre-norm RMSNorm, multi-head attention with padding and causal masks, T5 relative position bias
 * (one table per stack, shared by its layers), gated-GELU feed-forward, cross-attention, and an untied
 * output layer over the ID tokens only.
 *
 * Relative position bias rather than learned absolute positions: it is what T5 / flan-t5 use (so their
 * weights fit this layout), it generalises over prompt lengths (rec prompts of different history
 * lengths share the same notion of "the previous item"), and right padding leaves it unchanged.
 *
 * Parameter names follow the Hugging Face T5 checkpoint layout loosely; see `weights.ts` for the seam
 * where pretrained weights can be mapped in.
 */
import { tf } from '../backend/index';
import { Rng } from '../util/random';
import { embedRows, gatedGelu, linear, oneHotRows, rmsNorm, softmaxCrossEntropy } from './layers';
import { relativeBucketMatrix } from './relativePosition';

export interface Seq2SeqConfig {
  /** Encoder-side vocabulary (pad, task tokens, text tokens, ID tokens); the decoder reads it too. */
  inputVocabSize: number;
  /** Output vocabulary: the ID tokens only. */
  outputVocabSize: number;
  /** Row of the shared embedding holding decoder input token for ID token 0 (ID token k -> idInputBase + k). */
  idInputBase: number;
  /** Padding token id (also the decoder start token, as in T5). */
  padId: number;
  dModel: number;
  numHeads: number;
  dFF: number;
  encoderLayers: number;
  decoderLayers: number;
  relBuckets: number;
  relMaxDistance: number;
  seed: number;
  /**
   * Per-level softmax: the group of each output token (one group per ID space and position). Where
   * given, a position's softmax runs over its target's group only, in training and decoding alike;
   * absent: over every ID token.
   */
  outputGroups?: number[];
}

export const DEFAULT_MODEL_SIZE = {
  dModel: 128,
  numHeads: 4,
  dFF: 512,
  encoderLayers: 2,
  decoderLayers: 2,
  relBuckets: 32,
  relMaxDistance: 128,
};

/** Per-prompt encoder memory reused by every decoding step: cross-attention K^T and V per layer. */
export interface EncoderMemory {
  batch: number;
  length: number;
  /** Per decoder layer: K^T [B, H, dh, L] and V [B, H, L, dh]. */
  keysT: tf.Tensor4D[];
  values: tf.Tensor4D[];
  /** 0 for real tokens, -1e9 for padding: [B, 1, 1, L]. */
  maskBias: tf.Tensor4D;
}

/** Decoder self-attention K/V per layer, [rows, H, steps, dh]. */
export interface DecoderCache {
  keys: tf.Tensor4D[];
  values: tf.Tensor4D[];
  steps: number;
}

/** One decoder layer's self-attention K/V, [rows, H, steps, dh]. */
interface LayerKV {
  keys: tf.Tensor4D;
  values: tf.Tensor4D;
}

export function disposeCache(c: DecoderCache): void {
  tf.dispose([...c.keys, ...c.values]);
}

/** The cache rows reordered to `parents` (new row i continues old row parents[i]); the old cache is disposed. */
export function reorderCache(c: DecoderCache, parents: Int32Array): DecoderCache {
  const out = tf.tidy(() => {
    const idx = tf.tensor1d(parents, 'int32');
    return { keys: c.keys.map((k) => tf.gather(k, idx)), values: c.values.map((v) => tf.gather(v, idx)) };
  });
  disposeCache(c);
  return { keys: out.keys, values: out.values, steps: c.steps };
}

export function disposeMemory(m: EncoderMemory): void {
  tf.dispose([...m.keysT, ...m.values, m.maskBias]);
}

const NEG = -1e9;

export class Seq2SeqModel {
  readonly config: Seq2SeqConfig;
  /** Parameters in a fixed order (the checkpoint order). */
  readonly names: string[] = [];
  readonly params = new Map<string, tf.Variable>();
  private readonly dh: number;

  constructor(config: Seq2SeqConfig, weights?: Map<string, Float32Array>) {
    validateConfig(config);
    this.config = config;
    this.dh = config.dModel / config.numHeads;
    const rng = new Rng(config.seed);
    for (const [name, shape, std] of parameterShapes(config)) {
      const size = shape.reduce((a, b) => a * b, 1);
      let data: Float32Array;
      const given = weights?.get(name);
      if (given) {
        if (given.length !== size) throw new Error(`Seq2SeqModel: weight ${name} has ${given.length} values, expected ${size} (${shape.join('x')})`);
        data = given;
      } else if (weights) {
        throw new Error(`Seq2SeqModel: weight ${name} missing from the given weights`);
      } else {
        data = new Float32Array(size);
        if (std === 0) data.fill(1);
        else for (let i = 0; i < size; i++) data[i] = rng.normal() * std;
      }
      this.names.push(name);
      const init = tf.tensor(data, shape, 'float32');
      this.params.set(name, tf.variable(init, true));
      init.dispose();
    }
  }

  p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`Seq2SeqModel: no parameter ${name}`);
    return v;
  }

  get variables(): tf.Variable[] {
    return this.names.map((n) => this.params.get(n)!);
  }

  get parameterCount(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }

  /** Copies of all weights (name -> values), for checkpoints and best-model snapshots. */
  getWeights(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const n of this.names) out.set(n, (this.params.get(n)!.dataSync() as Float32Array).slice());
    return out;
  }

  setWeights(w: Map<string, Float32Array>): void {
    for (const n of this.names) {
      const v = this.params.get(n)!;
      const data = w.get(n);
      if (!data || data.length !== v.size) throw new Error(`Seq2SeqModel.setWeights: ${n} missing or of wrong size`);
      tf.tidy(() => v.assign(tf.tensor(data, v.shape, 'float32')));
    }
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }

  /** Relative position bias [1, H, q, k] of one stack, through a one-hot matmul (differentiable, no gather). */
  private positionBias(stack: 'enc' | 'dec', q: number, k: number): tf.Tensor4D {
    const c = this.config;
    const buckets = relativeBucketMatrix(q, k, stack === 'enc', c.relBuckets, c.relMaxDistance);
    const oh = oneHotRows(buckets, c.relBuckets);
    const b = linear(oh, this.p(`${stack}.rel_bias`)); // [q*k, H]
    return tf.transpose(b.reshape([q, k, c.numHeads]), [2, 0, 1]).expandDims(0) as tf.Tensor4D;
  }

  private heads(x: tf.Tensor, w: tf.Tensor, b: number, l: number): tf.Tensor4D {
    return tf.transpose(linear(x, w).reshape([b, l, this.config.numHeads, this.dh]), [0, 2, 1, 3]) as tf.Tensor4D;
  }

  private headsT(x: tf.Tensor, w: tf.Tensor, b: number, l: number): tf.Tensor4D {
    return tf.transpose(linear(x, w).reshape([b, l, this.config.numHeads, this.dh]), [0, 2, 3, 1]) as tf.Tensor4D;
  }

  /** softmax(q k^T / sqrt(dh) + bias) v, then the output projection. q [B,H,Lq,dh], kT [B,H,dh,Lk]. */
  private attend(q: tf.Tensor4D, kT: tf.Tensor4D, v: tf.Tensor4D, bias: tf.Tensor, wo: tf.Tensor): tf.Tensor3D {
    const [b, h, lq] = q.shape;
    const s = tf.add(tf.matMul(tf.mul(q, 1 / Math.sqrt(this.dh)), kT), bias);
    const o = tf.matMul(tf.softmax(s), v); // [B,H,Lq,dh]
    const merged = tf.transpose(o, [0, 2, 1, 3]).reshape([b, lq, h * this.dh]);
    return linear(merged, wo) as tf.Tensor3D;
  }

  private ffn(x: tf.Tensor, pre: string): tf.Tensor {
    const h = gatedGelu(linear(x, this.p(`${pre}.wi0`)), linear(x, this.p(`${pre}.wi1`)));
    return linear(h, this.p(`${pre}.wo`));
  }

  /** One pre-norm encoder layer: self-attention over the prompt, then the feed-forward block. */
  private encoderLayer(l: number, x: tf.Tensor3D, bias: tf.Tensor): tf.Tensor3D {
    const [batch, length] = x.shape;
    const pre = `enc.${l}`;
    const h = rmsNorm(x, this.p(`${pre}.ln_attn`));
    const q = this.heads(h, this.p(`${pre}.q`), batch, length);
    const kT = this.headsT(h, this.p(`${pre}.k`), batch, length);
    const v = this.heads(h, this.p(`${pre}.v`), batch, length);
    const y = tf.add(x, this.attend(q, kT, v, bias, this.p(`${pre}.o`)));
    return tf.add(y, this.ffn(rmsNorm(y, this.p(`${pre}.ln_ff`)), `${pre}.ffn`)) as tf.Tensor3D;
  }

  /**
   * Encodes right-padded prompts `tokens` [batch * length] into per-decoder-layer cross-attention
   * K/V. The caller disposes the result (`disposeMemory`).
   */
  encode(tokens: Int32Array, batch: number, length: number): EncoderMemory {
    if (tokens.length !== batch * length) throw new Error(`encode: ${tokens.length} tokens for batch ${batch} x length ${length}`);
    const c = this.config;
    const res = tf.tidy(() => {
      const mask = Float32Array.from(tokens, (tok) => (tok === c.padId ? NEG : 0));
      const maskBias = tf.tensor4d(mask, [batch, 1, 1, length]);
      const bias = tf.add(this.positionBias('enc', length, length), maskBias);
      let x = embedRows(this.p('shared'), tokens, [batch, length, c.dModel]) as tf.Tensor3D;
      for (let l = 0; l < c.encoderLayers; l++) x = this.encoderLayer(l, x, bias);
      const enc = rmsNorm(x, this.p('enc.ln_final'));
      const keysT: tf.Tensor4D[] = [];
      const values: tf.Tensor4D[] = [];
      for (let l = 0; l < c.decoderLayers; l++) {
        keysT.push(this.headsT(enc, this.p(`dec.${l}.cross.k`), batch, length));
        values.push(this.heads(enc, this.p(`dec.${l}.cross.v`), batch, length));
      }
      return { keysT, values, maskBias };
    });
    return { batch, length, ...res };
  }

  /**
   * One pre-norm decoder layer over `x` [rows, q, d] (rows = mem.batch * beams): causal
   * self-attention, cross-attention to the prompt, feed-forward. Full decoding passes every position
   * (q = steps, no `past`); a cached step passes the new position (q = 1) and the layer's K/V of the
   * earlier ones. Returns the output and this layer's self-attention K/V over all positions
   * [rows, H, past + q, dh], for the next step's cache. The beams of one prompt are folded into the
   * cross-attention query length, so the encoder memory is never tiled.
   */
  private decoderLayer(l: number, x: tf.Tensor3D, mem: EncoderMemory, selfBias: tf.Tensor, past: LayerKV | null): { x: tf.Tensor3D } & LayerKV {
    const [rows, q, d] = x.shape;
    const pre = `dec.${l}`;
    const h = rmsNorm(x, this.p(`${pre}.ln_self`));
    const kNew = this.heads(h, this.p(`${pre}.self.k`), rows, q);
    const vNew = this.heads(h, this.p(`${pre}.self.v`), rows, q);
    const keys = past ? (tf.concat([past.keys, kNew], 2) as tf.Tensor4D) : kNew;
    const values = past ? (tf.concat([past.values, vNew], 2) as tf.Tensor4D) : vNew;
    const kT = tf.transpose(keys, [0, 1, 3, 2]) as tf.Tensor4D;
    let y = tf.add(x, this.attend(this.heads(h, this.p(`${pre}.self.q`), rows, q), kT, values, selfBias, this.p(`${pre}.self.o`)));
    const hc = rmsNorm(y, this.p(`${pre}.ln_cross`)).reshape([mem.batch, (rows / mem.batch) * q, d]);
    const ca = this.attend(this.heads(hc, this.p(`${pre}.cross.q`), mem.batch, (rows / mem.batch) * q), mem.keysT[l], mem.values[l], mem.maskBias, this.p(`${pre}.cross.o`));
    y = tf.add(y, ca.reshape([rows, q, d]));
    y = tf.add(y, this.ffn(rmsNorm(y, this.p(`${pre}.ln_ff`)), `${pre}.ffn`));
    return { x: y as tf.Tensor3D, keys, values };
  }

  /**
   * Decoder hidden states (after the final norm) [batch * beams, steps, d] for decoder inputs
   * `decTokens` [batch * beams * steps] (input-vocabulary ids, row-major by prompt, beam, step):
   * teacher forcing, every position at once.
   */
  decodeHidden(mem: EncoderMemory, decTokens: Int32Array, beams: number, steps: number): tf.Tensor3D {
    const c = this.config;
    const rows = mem.batch * beams;
    if (decTokens.length !== rows * steps) throw new Error(`decodeHidden: ${decTokens.length} tokens for ${rows} rows x ${steps} steps`);
    const causal = new Float32Array(steps * steps);
    for (let i = 0; i < steps; i++) for (let j = i + 1; j < steps; j++) causal[i * steps + j] = NEG;
    const selfBias = tf.add(this.positionBias('dec', steps, steps), tf.tensor4d(causal, [1, 1, steps, steps]));
    let x = embedRows(this.p('shared'), decTokens, [rows, steps, c.dModel]) as tf.Tensor3D;
    for (let l = 0; l < c.decoderLayers; l++) x = this.decoderLayer(l, x, mem, selfBias, null).x;
    return rmsNorm(x, this.p('dec.ln_final')) as tf.Tensor3D;
  }

  /**
   * One incremental decoding step with a self-attention KV cache: `tokens` [batch * beams] are the
   * inputs at position t = cache.steps (0 without a cache), the cache holds K/V of positions < t for the
   * same rows. Returns the new position's final hidden state [rows, d] and the extended cache; the
   * caller disposes both (and the old cache).
   */
  decodeStep(mem: EncoderMemory, tokens: Int32Array, beams: number, cache: DecoderCache | null): { hidden: tf.Tensor2D; cache: DecoderCache } {
    const c = this.config;
    const rows = mem.batch * beams;
    if (tokens.length !== rows) throw new Error(`decodeStep: ${tokens.length} tokens for ${rows} rows`);
    const t = cache ? cache.steps : 0;
    if (cache && cache.keys[0].shape[0] !== rows) throw new Error(`decodeStep: cache has ${cache.keys[0].shape[0]} rows, expected ${rows}`);
    const out = tf.tidy(() => {
      // The last query row of the position bias: the new position against positions 0..t.
      const bias = tf.slice(this.positionBias('dec', t + 1, t + 1), [0, 0, t, 0], [1, c.numHeads, 1, t + 1]);
      let x = embedRows(this.p('shared'), tokens, [rows, 1, c.dModel]) as tf.Tensor3D;
      const keys: tf.Tensor4D[] = [];
      const values: tf.Tensor4D[] = [];
      for (let l = 0; l < c.decoderLayers; l++) {
        const past = cache ? { keys: cache.keys[l], values: cache.values[l] } : null;
        const layer = this.decoderLayer(l, x, mem, bias, past);
        x = layer.x;
        keys.push(layer.keys);
        values.push(layer.values);
      }
      const hidden = rmsNorm(x, this.p('dec.ln_final')).reshape([rows, c.dModel]) as tf.Tensor2D;
      return { hidden, keys, values };
    });
    return { hidden: out.hidden, cache: { keys: out.keys, values: out.values, steps: t + 1 } };
  }

  /** Logits over the ID tokens for hidden states [..., d]. */
  logits(hidden: tf.Tensor): tf.Tensor {
    return linear(hidden, this.p('lm_head'));
  }

  /**
   * Logits [n, V] of hidden states [n, d] with each row restricted to one softmax group: row i keeps
   * the tokens in the group of token `groupOf[i]` and the others get -1e9 (-1: the row keeps every
   * token). Without `outputGroups` the plain logits.
   */
  groupedLogits(hidden: tf.Tensor2D, groupOf: Int32Array): tf.Tensor2D {
    const logits = this.logits(hidden) as tf.Tensor2D;
    const groups = this.config.outputGroups;
    if (!groups) return logits;
    const [n, V] = logits.shape;
    if (groupOf.length !== n) throw new Error(`groupedLogits: ${groupOf.length} group tokens for ${n} rows`);
    return tf.add(logits, tf.tensor2d(groupMaskRows(groups, groupOf), [n, V])) as tf.Tensor2D;
  }

  /**
   * Mean token cross-entropy with teacher forcing. `targets` [batch * targetLen] hold output-vocabulary
   * ids, -1 for padding (ignored). Returns the scalar loss (call inside a tidy or variableGrads).
   */
  loss(tokens: Int32Array, batch: number, length: number, targets: Int32Array, targetLen: number): tf.Scalar {
    return this.lossTerms(tokens, batch, length, targets, targetLen).loss;
  }

  /** The mean loss and the per-token losses [batch * targetLen] (0 at padding). */
  lossTerms(tokens: Int32Array, batch: number, length: number, targets: Int32Array, targetLen: number): { loss: tf.Scalar; tokenLoss: tf.Tensor1D } {
    const c = this.config;
    const dec = decoderInputs(targets, batch, targetLen, c.padId, c.idInputBase);
    const mem = this.encode(tokens, batch, length);
    const h = this.decodeHidden(mem, dec, 1, targetLen);
    let count = 0;
    for (let i = 0; i < targets.length; i++) if (targets[i] >= 0) count++;
    if (count === 0) throw new Error('loss: every target is padding');
    const tokenLoss = softmaxCrossEntropy(this.groupedLogits(h.reshape([batch * targetLen, c.dModel]) as tf.Tensor2D, targets), targets);
    return { loss: tf.div(tf.sum(tokenLoss), count) as tf.Scalar, tokenLoss };
  }

  /**
   * Log-probability of each target under teacher forcing, summed over its tokens (float64).
   * Exhaustive scoring: the reference that beam search is checked against.
   */
  sequenceLogProbs(tokens: Int32Array, batch: number, length: number, targets: Int32Array, targetLen: number): Float64Array {
    const c = this.config;
    const lp = tf.tidy(() => {
      const dec = decoderInputs(targets, batch, targetLen, c.padId, c.idInputBase);
      const mem = this.encode(tokens, batch, length);
      const h = this.decodeHidden(mem, dec, 1, targetLen);
      return tf.logSoftmax(this.groupedLogits(h.reshape([batch * targetLen, c.dModel]) as tf.Tensor2D, targets));
    });
    const data = lp.dataSync() as Float32Array;
    lp.dispose();
    const out = new Float64Array(batch);
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t < targetLen; t++) {
        const y = targets[b * targetLen + t];
        if (y >= 0) out[b] += data[(b * targetLen + t) * c.outputVocabSize + y];
      }
    }
    return out;
  }
}

/**
 * Additive mask rows [n * V] for a per-level softmax: row i is 0 over the group of token `groupOf[i]`
 * in `groups` (group id per token) and -1e9 elsewhere; all 0 where `groupOf[i]` is negative.
 */
export function groupMaskRows(groups: ArrayLike<number>, groupOf: Int32Array): Float32Array {
  const V = groups.length;
  const out = new Float32Array(groupOf.length * V);
  for (let i = 0; i < groupOf.length; i++) {
    const tok = groupOf[i];
    if (tok < 0) continue;
    if (tok >= V) throw new Error(`groupMaskRows: token ${tok} outside the ${V} output tokens`);
    const g = groups[tok];
    for (let v = 0; v < V; v++) if (groups[v] !== g) out[i * V + v] = NEG;
  }
  return out;
}

/** Shifted-right decoder inputs: [pad, y0, y1, ...] as input-vocabulary ids; padding targets map to pad. */
export function decoderInputs(targets: Int32Array, batch: number, len: number, padId: number, idInputBase: number): Int32Array {
  const out = new Int32Array(batch * len);
  for (let b = 0; b < batch; b++) {
    out[b * len] = padId;
    for (let t = 1; t < len; t++) {
      const y = targets[b * len + t - 1];
      out[b * len + t] = y >= 0 ? idInputBase + y : padId;
    }
  }
  return out;
}

/** Every parameter: name, shape, init std (0 = ones, for norm gains). Order is the checkpoint order. */
export function parameterShapes(c: Seq2SeqConfig): Array<[string, number[], number]> {
  const d = c.dModel;
  const out: Array<[string, number[], number]> = [];
  const s = (n: number) => 1 / Math.sqrt(n);
  out.push(['shared', [c.inputVocabSize, d], 1]);
  out.push(['enc.rel_bias', [c.relBuckets, c.numHeads], s(d)]);
  for (let l = 0; l < c.encoderLayers; l++) {
    const p = `enc.${l}`;
    out.push([`${p}.ln_attn`, [d], 0]);
    for (const w of ['q', 'k', 'v']) out.push([`${p}.${w}`, [d, d], s(d)]);
    out.push([`${p}.o`, [d, d], s(d)]);
    out.push([`${p}.ln_ff`, [d], 0]);
    out.push([`${p}.ffn.wi0`, [d, c.dFF], s(d)]);
    out.push([`${p}.ffn.wi1`, [d, c.dFF], s(d)]);
    out.push([`${p}.ffn.wo`, [c.dFF, d], s(c.dFF)]);
  }
  out.push(['enc.ln_final', [d], 0]);
  out.push(['dec.rel_bias', [c.relBuckets, c.numHeads], s(d)]);
  for (let l = 0; l < c.decoderLayers; l++) {
    const p = `dec.${l}`;
    out.push([`${p}.ln_self`, [d], 0]);
    for (const w of ['q', 'k', 'v', 'o']) out.push([`${p}.self.${w}`, [d, d], s(d)]);
    out.push([`${p}.ln_cross`, [d], 0]);
    for (const w of ['q', 'k', 'v', 'o']) out.push([`${p}.cross.${w}`, [d, d], s(d)]);
    out.push([`${p}.ln_ff`, [d], 0]);
    out.push([`${p}.ffn.wi0`, [d, c.dFF], s(d)]);
    out.push([`${p}.ffn.wi1`, [d, c.dFF], s(d)]);
    out.push([`${p}.ffn.wo`, [c.dFF, d], s(c.dFF)]);
  }
  out.push(['dec.ln_final', [d], 0]);
  out.push(['lm_head', [d, c.outputVocabSize], s(d)]);
  return out;
}

function validateConfig(c: Seq2SeqConfig): void {
  const ints: Array<keyof Seq2SeqConfig> = [
    'inputVocabSize', 'outputVocabSize', 'dModel', 'numHeads', 'dFF', 'encoderLayers', 'decoderLayers', 'relBuckets', 'relMaxDistance',
  ];
  for (const k of ints) {
    const v = c[k] as number;
    if (!Number.isInteger(v) || v < 1) throw new Error(`Seq2SeqConfig.${k} must be a positive integer, got ${v}`);
  }
  if (c.dModel % c.numHeads !== 0) throw new Error(`Seq2SeqConfig: dModel ${c.dModel} is not divisible by numHeads ${c.numHeads}`);
  if (c.idInputBase + c.outputVocabSize > c.inputVocabSize) {
    throw new Error(`Seq2SeqConfig: ID tokens ${c.idInputBase}..${c.idInputBase + c.outputVocabSize - 1} exceed inputVocabSize ${c.inputVocabSize}`);
  }
  if (!(c.padId >= 0 && c.padId < c.inputVocabSize)) throw new Error(`Seq2SeqConfig.padId ${c.padId} outside the input vocabulary`);
  if (c.outputGroups && c.outputGroups.length !== c.outputVocabSize) {
    throw new Error(`Seq2SeqConfig.outputGroups has ${c.outputGroups.length} entries, expected one per output token (${c.outputVocabSize})`);
  }
}
