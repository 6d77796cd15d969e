/**
 * Speed of the seq2seq model on synthetic data at the calibration size (DESIGN.md §2): d_model 128,
 * 2+2 layers, 4 heads, d_ff 512, prompts of 24 tokens, IDs of 2 levels x 256. Measures training
 * examples/s, decoded prompts/s with 60 beams in 30 groups (and the time that implies for 12,000
 * prompts), the tensor count before and after the training steps, and the last decoding step with the
 * decoder KV cache against recomputing the prefix.
 */
import { DeviceYield, initBackend, tf } from '../backend/index';
import { beamSearchAsync } from '../generate/beamSearch';
import { AdamW } from '../generate/adamw';
import { disposeCache, disposeMemory, reorderCache, Seq2SeqModel, type Seq2SeqConfig } from '../generate/seq2seqModel';
import type { Seq2SeqExample } from '../generate/prompts';
import { trainStep } from '../generate/train';
import { PrefixTrie } from '../quantize/trie';
import { buildIdVocabulary } from '../quantize/vocabulary';
import { Rng } from '../util/random';

export interface Seq2SeqBenchOptions {
  trainSteps?: number;
  batchSize?: number;
  microBatch?: number;
  /** Prompts decoded for the decoding rate (default 1200; the 12,000-prompt time is extrapolated). */
  decodePrompts?: number;
  numBeams?: number;
  numGroups?: number;
  inputLength?: number;
  textVocab?: number;
  numItems?: number;
  dModel?: number;
  numHeads?: number;
  dFF?: number;
  layers?: number;
  seed?: number;
}

export interface Seq2SeqBenchResult {
  backend: string;
  threads: number;
  parameters: number;
  config: Record<string, number>;
  trainSteps: number;
  trainExamplesPerSecond: number;
  decodePrompts: number;
  decodePromptsPerSecond: number;
  secondsFor12000Prompts: number;
  numTensorsBefore: number;
  numTensorsAfterTraining: number;
  numTensorsAfterDecoding: number;
  /** Last decoding step of up to 4096 beam rows: recomputing the prefix vs the KV cache used by beamSearch. */
  lastStepRecomputeMs: number;
  lastStepCachedMs: number;
  note: string;
}

export async function runSeq2SeqBench(opts: Seq2SeqBenchOptions = {}): Promise<Seq2SeqBenchResult> {
  const info = await initBackend();
  const o = {
    trainSteps: 100, batchSize: 256, microBatch: 256, decodePrompts: 1200, numBeams: 60, numGroups: 30, inputLength: 24,
    textVocab: 8000, numItems: 9742, dModel: 128, numHeads: 4, dFF: 512, layers: 2, seed: 0, ...opts,
  };
  const rng = new Rng(o.seed);
  // Distinct random IDs over 2 x 256 codes.
  const slots = rng.permutation(256 * 256).subarray(0, o.numItems);
  const codes = new Int32Array(o.numItems * 2);
  for (let i = 0; i < o.numItems; i++) {
    codes[2 * i] = slots[i] >> 8;
    codes[2 * i + 1] = slots[i] & 255;
  }
  const vocab = buildIdVocabulary([{ name: 'shared', ids: { numItems: o.numItems, length: 2, cardinalities: [256, 256], codes } }]);
  const space = vocab.spaces[0];
  const trie = new PrefixTrie(space, vocab.size);
  const idBase = 3 + o.textVocab;
  const config: Seq2SeqConfig = {
    inputVocabSize: idBase + vocab.size, outputVocabSize: vocab.size, idInputBase: idBase, padId: 0,
    dModel: o.dModel, numHeads: o.numHeads, dFF: o.dFF, encoderLayers: o.layers, decoderLayers: o.layers, relBuckets: 32, relMaxDistance: 128, seed: o.seed,
  };
  const prompt = () => Int32Array.from({ length: o.inputLength }, () => 1 + rng.int(config.inputVocabSize - 1));
  const example = (): Seq2SeqExample => {
    const item = rng.int(o.numItems);
    return { task: rng.next() < 0.5 ? 'search' : 'rec', input: prompt(), target: Int32Array.from([codes[2 * item], 256 + codes[2 * item + 1]]), item };
  };

  const numTensorsBefore = tf.memory().numTensors;
  const model = new Seq2SeqModel(config);
  const optimizer = new AdamW(model.variables, model.variables.map(() => true));
  const batches = Array.from({ length: o.trainSteps }, () => Array.from({ length: o.batchSize }, example));
  trainStep(model, optimizer, batches[0], o.microBatch, 1e-3); // warm-up (kernel setup), not timed
  const t0 = Date.now();
  const yielder = new DeviceYield();
  for (const b of batches) {
    trainStep(model, optimizer, b, o.microBatch, 1e-3);
    await yielder.tick();
  }
  const trainSeconds = (Date.now() - t0) / 1000;
  optimizer.dispose();
  const numTensorsAfterTraining = tf.memory().numTensors - model.variables.length;

  const prompts = Array.from({ length: o.decodePrompts }, prompt);
  await beamSearchAsync({ model, prompts: prompts.slice(0, 70), space, trie, options: { numBeams: o.numBeams, numGroups: o.numGroups } });
  const t1 = Date.now();
  await beamSearchAsync({ model, prompts, space, trie, options: { numBeams: o.numBeams, numGroups: o.numGroups } });
  const decodeSeconds = (Date.now() - t1) / 1000;

  // Last decoding step over all beams: recomputing [start, token] vs one new row with the KV cache.
  const P = Math.max(1, Math.min(o.decodePrompts, Math.floor(4096 / o.numBeams)));
  const tokens = new Int32Array(P * o.inputLength);
  prompts.slice(0, P).forEach((p, i) => tokens.set(p, i * o.inputLength));
  const mem = model.encode(tokens, P, o.inputLength);
  const rows = P * o.numBeams;
  const recompute = () => {
    const dec = new Int32Array(rows * 2).map((_, i) => (i % 2 === 0 ? 0 : idBase + 5));
    tf.tidy(() => {
      model.logits(tf.slice(model.decodeHidden(mem, dec, o.numBeams, 2), [0, 1, 0], [rows, 1, -1])).dataSync();
    });
  };
  const first = model.decodeStep(mem, new Int32Array(P), 1, null);
  first.hidden.dispose();
  const cache = reorderCache(first.cache, Int32Array.from({ length: rows }, (_, i) => Math.floor(i / o.numBeams)));
  const cached = () => {
    const step = model.decodeStep(mem, new Int32Array(rows).fill(idBase + 5), o.numBeams, cache);
    tf.tidy(() => {
      model.logits(step.hidden).dataSync();
    });
    step.hidden.dispose();
    disposeCache(step.cache);
  };
  const timeMs = (f: () => void) => {
    f();
    const s = Date.now();
    for (let r = 0; r < 3; r++) f();
    return (Date.now() - s) / 3;
  };
  const lastStepRecomputeMs = timeMs(recompute);
  const lastStepCachedMs = timeMs(cached);
  disposeCache(cache);
  disposeMemory(mem);
  const parameters = model.parameterCount;
  model.dispose();
  const numTensorsAfterDecoding = tf.memory().numTensors;
  const { seed: _seed, ...sizes } = o;
  void _seed;
  return {
    backend: info.name,
    threads: info.threads,
    parameters,
    config: sizes,
    trainSteps: o.trainSteps,
    trainExamplesPerSecond: (o.trainSteps * o.batchSize) / trainSeconds,
    decodePrompts: o.decodePrompts,
    decodePromptsPerSecond: o.decodePrompts / decodeSeconds,
    secondsFor12000Prompts: (12000 * decodeSeconds) / o.decodePrompts,
    numTensorsBefore,
    numTensorsAfterTraining,
    numTensorsAfterDecoding,
    lastStepRecomputeMs,
    lastStepCachedMs,
    note: 'Timings on a machine shared with other work: rates vary run to run; compare within one run.',
  };
}
