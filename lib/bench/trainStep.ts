/**
 * Where a real training's time goes: the joint model at a profile's sizes on real prompts (the
 * profile's data, content-based RQ-KMeans IDs, the profile's training settings), timed over a run of
 * optimizer steps as the trainer runs them, one validation pass as an epoch ends, and one step's
 * kernels under `tf.profile`, summed by kernel. Also counts the encoder positions a batch spends on
 * padding and the step's FLOPs by formula (the matmuls: projections, attention, feed-forward, output
 * layer, forward and backward).
 */
import { initBackend, tf } from '../backend/index';
import { buildEmbeddings } from '../embed/index';
import { prepareGenerativeTraining, type GenerativeTrainConfig } from '../generate/jointModel';
import type { Seq2SeqExample } from '../generate/prompts';
import type { Seq2SeqConfig } from '../generate/seq2seqModel';
import { trainingBatches, trainSeq2Seq, trainStep } from '../generate/train';
import { AdamW } from '../generate/adamw';
import { asMatrix } from '../quantize/matrix';
import { makeSemanticIds } from '../quantize/ids';
import { fitQuantizer } from '../quantize/quantizer';
import { buildIdVocabulary } from '../quantize/vocabulary';
import type { PreparedData } from '../types';

export interface TrainStepBenchOptions {
  data: PreparedData;
  train: GenerativeTrainConfig;
  /** Codes per level of the IDs (the profile's). */
  k: number;
  levels: number;
  /** Optimizer steps timed (after WARM_UP steps not timed). */
  steps?: number;
  /** Steps under tf.profile. */
  profileSteps?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface KernelTime {
  kernel: string;
  calls: number;
  ms: number;
  share: number;
}

export interface TrainStepBenchResult {
  backend: string;
  threads: number;
  config: Record<string, number>;
  trainPool: { search: number; rec: number };
  steps: number;
  batchSize: number;
  examplesPerSecond: number;
  msPerStep: number;
  /** One validation pass (both tasks' sampled validation examples, decoded as the trainer does). */
  validation: { examples: number; seconds: number; promptsPerSecond: number };
  /** An epoch of the profile's size with its validation, from the two rates above. */
  epoch: { examples: number; trainSeconds: number; validationSeconds: number; examplesPerSecond: number };
  /** Share of encoder and decoder positions of the timed batches that are padding. */
  padding: { encoder: number; decoder: number; meanPromptLength: { search: number; rec: number } };
  /** Matmul FLOPs of one step (forward + backward) and what the timed rate makes of them. */
  flops: { perStep: number; gflopsPerSecond: number };
  /** Kernels of `profileSteps` steps, by total time, with the profile's own wall time. */
  kernels: KernelTime[];
  profiledMsPerStep: number;
  /** Kernels of one validation pass. */
  validationKernels: KernelTime[];
}

const WARM_UP = 3;

/**
 * Adds the kernels of one `tf.profile` to `into` (matmuls by shape: which products the time goes
 * to). Op scopes that tf.profile also lists (their time is their kernels') are left out.
 */
async function addKernels(into: Map<string, { calls: number; ms: number }>, prof: Awaited<ReturnType<typeof tf.profile>>): Promise<void> {
  const backend = tf.getBackend();
  for (const k of prof.kernels) {
    if (!tf.getKernel(k.name, backend)) continue;
    const ms = await k.kernelTimeMs;
    const name = /MatMul/.test(k.name) ? `${k.name} ${k.inputShapes.map((shape: number[]) => shape.join('x')).join(' ')}` : k.name;
    const e = into.get(name) ?? { calls: 0, ms: 0 };
    e.calls += 1;
    e.ms += typeof ms === 'number' ? ms : 0;
    into.set(name, e);
  }
}

/** Kernel times per run (`runs` runs were profiled), largest first, with their shares. */
function kernelTable(byKernel: Map<string, { calls: number; ms: number }>, runs: number): KernelTime[] {
  const totalMs = [...byKernel.values()].reduce((s, e) => s + e.ms, 0);
  return [...byKernel.entries()]
    .map(([kernel, e]) => ({ kernel, calls: e.calls / runs, ms: e.ms / runs, share: e.ms / totalMs }))
    .sort((a, b) => b.ms - a.ms);
}

/** Matmul FLOPs of one forward + backward pass over a batch (backward = 2x forward for every product). */
export function stepFlops(c: Pick<Seq2SeqConfig, 'dModel' | 'dFF' | 'encoderLayers' | 'decoderLayers' | 'outputVocabSize'>, batch: number, encLen: number, decLen: number): number {
  const d = c.dModel;
  const enc = batch * encLen;
  const dec = batch * decLen;
  const proj = (rows: number, n: number) => 2 * rows * d * d * n;
  const ffn = (rows: number) => 2 * rows * d * c.dFF * 3;
  const attn = (q: number, k: number) => 2 * 2 * batch * q * k * d;
  const encoder = c.encoderLayers * (proj(enc, 4) + attn(encLen, encLen) + ffn(enc));
  // Decoder: self q/k/v/o, cross q and o over the decoder rows, cross k/v over the encoder rows.
  const decoder = c.decoderLayers * (proj(dec, 6) + proj(enc, 2) + attn(decLen, decLen) + attn(decLen, encLen) + ffn(dec));
  const head = 2 * dec * d * c.outputVocabSize;
  return 3 * (encoder + decoder + head);
}

function padShare(batches: Seq2SeqExample[][], side: 'input' | 'target'): number {
  let pad = 0;
  let all = 0;
  for (const b of batches) {
    const len = Math.max(...b.map((e) => e[side].length));
    for (const e of b) pad += len - e[side].length;
    all += len * b.length;
  }
  return all ? pad / all : 0;
}

export async function benchTrainStep(o: TrainStepBenchOptions): Promise<TrainStepBenchResult> {
  const info = await initBackend();
  const log = o.log ?? (() => {});
  const steps = o.steps ?? 60;
  const seed = o.seed ?? 0;
  log('[bench] content embeddings and RQ-KMeans IDs');
  const emb = await buildEmbeddings(o.data, 'content', { seed });
  const x = asMatrix(emb.vectors, o.data.dataset.items.length, emb.dim, 'content embeddings');
  const fit = await fitQuantizer('rq-kmeans', x, { levels: o.levels, k: o.k, seed });
  const ids = makeSemanticIds(fit.ids.codes, fit.ids.numItems, fit.ids.cardinalities, { collisions: 'extra-level', popularity: o.data.buckets.counts });
  const vocab = buildIdVocabulary([{ name: 'shared', ids }]);
  const prepared = prepareGenerativeTraining(o.data, vocab, { search: 'shared', rec: 'shared' }, { ...o.train, seed });
  const { net } = prepared.model;
  const pools = prepared.sets.train;
  const batchSize = o.train.batchSize ?? 256;
  try {
    log(`[bench] ${steps} steps of ${batchSize} (after ${WARM_UP} not timed)`);
    const quiet = { label: 'bench-train', resume: false, restoreBest: false, bucketBatches: o.train.bucketBatches, seed };
    await trainSeq2Seq(net, pools, { ...o.train, ...quiet, epochs: 1, examplesPerEpoch: WARM_UP * batchSize, patience: undefined });
    const t0 = performance.now();
    const run = await trainSeq2Seq(net, pools, { ...o.train, ...quiet, epochs: 1, examplesPerEpoch: steps * batchSize, patience: undefined });
    const trainSeconds = (performance.now() - t0) / 1000;
    const examples = run.history[0].examples;

    let validation = { examples: 0, seconds: 0, promptsPerSecond: 0 };
    let validationKernels: KernelTime[] = [];
    if (prepared.validate) {
      const validate = prepared.validate;
      log('[bench] one validation pass, then one under tf.profile');
      const v0 = performance.now();
      await validate(net, 0);
      const seconds = (performance.now() - v0) / 1000;
      const byKernel = new Map<string, { calls: number; ms: number }>();
      await addKernels(byKernel, await tf.profile(async () => {
        await validate(net, 0);
        return [];
      }));
      validationKernels = kernelTable(byKernel, 1);
      const n = prepared.validSample!.search.length + prepared.validSample!.rec.length;
      validation = { examples: n, seconds, promptsPerSecond: n / seconds };
    }
    const perEpoch = o.train.examplesPerEpoch ?? pools.search.length + pools.rec.length;
    const epochTrain = perEpoch / (examples / trainSeconds);

    const batches = trainingBatches(pools, 1, { ...o.train, examplesPerEpoch: steps * batchSize, seed });
    const meanLen = (xs: Seq2SeqExample[]) => xs.reduce((s, e) => s + e.input.length, 0) / Math.max(1, xs.length);
    const flat = batches.flat();
    const encLen = batches.reduce((s, b) => s + Math.max(...b.map((e) => e.input.length)), 0) / batches.length;
    const decLen = batches.reduce((s, b) => s + Math.max(...b.map((e) => e.target.length)), 0) / batches.length;
    const perStep = stepFlops(net.config, batchSize, encLen, decLen);

    log(`[bench] ${o.profileSteps ?? 5} steps under tf.profile`);
    const optimizer = new AdamW(net.variables, net.names.map(() => true), { weightDecay: 0.01, clipNorm: 1 });
    const byKernel = new Map<string, { calls: number; ms: number }>();
    let profiledMs = 0;
    const nProfile = o.profileSteps ?? 5;
    try {
      for (let i = 0; i < nProfile; i++) {
        const batch = batches[i % batches.length];
        const p0 = performance.now();
        const prof = await tf.profile(() => {
          trainStep(net, optimizer, batch, o.train.microBatch ?? batchSize, 1e-4);
        });
        profiledMs += performance.now() - p0;
        await addKernels(byKernel, prof);
      }
    } finally {
      optimizer.dispose();
    }
    const kernels = kernelTable(byKernel, nProfile);
    const c = net.config;
    return {
      backend: info.name,
      threads: info.threads,
      config: { dModel: c.dModel, numHeads: c.numHeads, dFF: c.dFF, encoderLayers: c.encoderLayers, decoderLayers: c.decoderLayers, inputVocabSize: c.inputVocabSize, outputVocabSize: c.outputVocabSize, parameters: net.parameterCount },
      trainPool: { search: pools.search.length, rec: pools.rec.length },
      steps,
      batchSize,
      examplesPerSecond: examples / trainSeconds,
      msPerStep: (trainSeconds * 1000) / Math.ceil(examples / batchSize),
      validation,
      epoch: { examples: perEpoch, trainSeconds: epochTrain, validationSeconds: validation.seconds, examplesPerSecond: perEpoch / (epochTrain + validation.seconds) },
      padding: {
        encoder: padShare(batches, 'input'),
        decoder: padShare(batches, 'target'),
        meanPromptLength: { search: meanLen(flat.filter((e) => e.task === 'search')), rec: meanLen(flat.filter((e) => e.task === 'rec')) },
      },
      flops: { perStep, gflopsPerSecond: (perStep * (examples / batchSize)) / trainSeconds / 1e9 },
      kernels,
      profiledMsPerStep: profiledMs / nProfile,
      validationKernels,
    };
  } finally {
    net.dispose();
  }
}
