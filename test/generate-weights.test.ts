import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../lib/backend';
import { Seq2SeqModel, parameterShapes, type Seq2SeqConfig } from '../lib/generate/seq2seqModel';
import { hfT5Name, t5WeightsFor, type PretrainedSource } from '../lib/generate/weights';
import { TINY_MODEL } from './generate-fixtures';

before(async () => {
  await initBackend();
});

test('T5-named weights (torch layout, unscaled queries) load into an equivalent model', () => {
  const cfg: Seq2SeqConfig = { ...TINY_MODEL, inputVocabSize: 30, outputVocabSize: 8, idInputBase: 22, padId: 0, seed: 9 };
  const a = new Seq2SeqModel(cfg);
  const w = a.getWeights();
  const dh = cfg.dModel / cfg.numHeads;
  // Write the model out as a Hugging Face T5 checkpoint would hold it.
  const hf = new Map<string, { values: Float32Array; shape: number[] }>();
  for (const [name, shape] of parameterShapes(cfg)) {
    const { name: hfName, linear } = hfT5Name(name);
    let v = w.get(name)!;
    if (/\.(q|self\.q|cross\.q)$/.test(name)) v = v.map((x) => x / Math.sqrt(dh));
    if (linear) {
      const [r, c] = shape;
      const t = new Float32Array(r * c);
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = v[i * c + j];
      hf.set(hfName, { values: t, shape: [c, r] });
    } else hf.set(hfName, { values: v, shape });
  }
  const source: PretrainedSource = { get: (n) => hf.get(n) ?? null };
  const b = new Seq2SeqModel(cfg, t5WeightsFor(cfg, source));
  const tokens = Int32Array.from([3, 4, 5, 0, 6, 7, 8, 9]);
  const targets = Int32Array.from([1, 5, 2, 6]);
  const sa = a.sequenceLogProbs(tokens, 2, 4, targets, 2);
  const sb = b.sequenceLogProbs(tokens, 2, 4, targets, 2);
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(sa[i] - sb[i]) < 1e-4, `${sa[i]} vs ${sb[i]}`);
  assert.equal(hfT5Name('dec.1.ffn.wo').name, 'decoder.block.1.layer.2.DenseReluDense.wo.weight');
  assert.throws(() => t5WeightsFor(cfg, { get: () => null }), /not found/);
  a.dispose();
  b.dispose();
});
