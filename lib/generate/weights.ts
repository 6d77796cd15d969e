/**
 * The seam for pretrained (flan-t5) weights. A `PretrainedSource` yields Hugging Face T5 tensors by
 * name (e.g. read from a safetensors file); `t5WeightsFor` maps them onto this model's parameter names
 * and layouts, so `new Seq2SeqModel(config, weights)` starts from them.
 *
 * Differences handled by the mapping:
 * - torch Linear weights are [out, in]; ours are [in, out] (transposed here).
 * - T5 does not scale attention scores by 1/sqrt(d_head) (folded into its init); ours does, so the
 *   query weights are multiplied by sqrt(d_head), which gives identical scores.
 * - T5 ties nothing in flan-t5 (separate lm_head): our output layer keeps only the rows of the ID
 *   tokens, which a caller maps from new rows appended to the T5 vocabulary (`lmHeadRows`).
 * - Only the gated-GELU variant (flan-t5, T5 v1.1) fits: `wi_0`, `wi_1`, `wo`.
 * Not handled here: the text side (a pretrained SentencePiece tokenizer would replace WordTokenizer and
 * define the input vocabulary layout, so `shared` would be T5's embedding plus new ID-token rows).
 */
import { parameterShapes, type Seq2SeqConfig } from './seq2seqModel';

export interface PretrainedSource {
  /** Values and shape of a tensor by Hugging Face name, or null when absent. */
  get(name: string): { values: Float32Array; shape: number[] } | null;
}

/** Our parameter name -> Hugging Face T5 name, and whether it is a Linear weight to transpose. */
export function hfT5Name(ours: string): { name: string; linear: boolean } {
  const m = /^(enc|dec)\.(\d+)\.(.+)$/.exec(ours);
  if (ours === 'shared') return { name: 'shared.weight', linear: false };
  if (ours === 'lm_head') return { name: 'lm_head.weight', linear: true };
  if (ours === 'enc.ln_final') return { name: 'encoder.final_layer_norm.weight', linear: false };
  if (ours === 'dec.ln_final') return { name: 'decoder.final_layer_norm.weight', linear: false };
  if (ours === 'enc.rel_bias') return { name: 'encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight', linear: false };
  if (ours === 'dec.rel_bias') return { name: 'decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight', linear: false };
  if (!m) throw new Error(`hfT5Name: unknown parameter ${ours}`);
  const [, stack, layer, rest] = m;
  const block = `${stack === 'enc' ? 'encoder' : 'decoder'}.block.${layer}.layer`;
  const ffLayer = stack === 'enc' ? 1 : 2;
  const table: Record<string, [string, boolean]> = {
    ln_attn: ['0.layer_norm.weight', false],
    q: ['0.SelfAttention.q.weight', true],
    k: ['0.SelfAttention.k.weight', true],
    v: ['0.SelfAttention.v.weight', true],
    o: ['0.SelfAttention.o.weight', true],
    ln_self: ['0.layer_norm.weight', false],
    'self.q': ['0.SelfAttention.q.weight', true],
    'self.k': ['0.SelfAttention.k.weight', true],
    'self.v': ['0.SelfAttention.v.weight', true],
    'self.o': ['0.SelfAttention.o.weight', true],
    ln_cross: ['1.layer_norm.weight', false],
    'cross.q': ['1.EncDecAttention.q.weight', true],
    'cross.k': ['1.EncDecAttention.k.weight', true],
    'cross.v': ['1.EncDecAttention.v.weight', true],
    'cross.o': ['1.EncDecAttention.o.weight', true],
    ln_ff: [`${ffLayer}.layer_norm.weight`, false],
    'ffn.wi0': [`${ffLayer}.DenseReluDense.wi_0.weight`, true],
    'ffn.wi1': [`${ffLayer}.DenseReluDense.wi_1.weight`, true],
    'ffn.wo': [`${ffLayer}.DenseReluDense.wo.weight`, true],
  };
  const hit = table[rest];
  if (!hit) throw new Error(`hfT5Name: unknown parameter ${ours}`);
  return { name: `${block}.${hit[0]}`, linear: hit[1] };
}

/**
 * Weights for `config` from a T5 source. `shared` and `lm_head` are taken as whole tensors when their
 * shapes already match ours (a caller that built the vocabulary around T5's); otherwise they must be
 * supplied in `overrides`. Every other tensor must be present with the matching shape.
 */
export function t5WeightsFor(config: Seq2SeqConfig, source: PretrainedSource, overrides = new Map<string, Float32Array>()): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const dh = config.dModel / config.numHeads;
  for (const [ours, shape] of parameterShapes(config)) {
    const given = overrides.get(ours);
    if (given) {
      out.set(ours, given);
      continue;
    }
    const { name, linear } = hfT5Name(ours);
    const t = source.get(name);
    if (!t) throw new Error(`t5WeightsFor: pretrained tensor ${name} (for ${ours}) not found`);
    const want = linear ? [shape[1], shape[0]] : shape;
    if (t.shape.join('x') !== want.join('x')) throw new Error(`t5WeightsFor: ${name} has shape ${t.shape.join('x')}, expected ${want.join('x')} for ${ours}`);
    let values = t.values;
    if (linear) {
      const [rows, cols] = t.shape; // [out, in] -> [in, out]
      values = new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) values[c * rows + r] = t.values[r * cols + c];
    }
    if (/\.(q|self\.q|cross\.q)$/.test(ours)) values = values.map((v) => v * Math.sqrt(dh));
    out.set(ours, values);
  }
  return out;
}
