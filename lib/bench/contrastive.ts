/**
 * Contrastive bi-encoder training throughput: batch 256, dim 128, vocabulary 50k, 16 ids per side,
 * one dense layer + layer norm per tower, Adam. Reports steps/s and pairs/s for the sparse-row
 * table update (default) and, optionally, the dense tf table with the scatter-add gradient, plus
 * items/s for inference. Figures on a shared 2-core machine are noisy.
 */
import { initBackend, tf } from '../backend/index';
import { Rng } from '../util/random';
import { TextTower, type PairBatch } from '../embed/textTower';
import type { BagBatch } from '../embed/textFeatures';

export interface ContrastiveBenchOptions {
  batchSize?: number;
  dim?: number;
  vocab?: number;
  idsPerSide?: number;
  /** Timed steps per mode. Default 40. */
  steps?: number;
  warmupSteps?: number;
  /** Modes to time. Default ['sparse', 'dense']. */
  modes?: Array<'sparse' | 'dense'>;
  /** Symmetric loss (both directions). Default false: plain MultipleNegativesRankingLoss, one direction. */
  symmetric?: boolean;
  /** Items encoded for the inference figure. Default 20000. */
  inferenceItems?: number;
  seed?: number;
  /**
   * wasm threads, passed to initBackend (effective only when this is the first initialisation).
   * One thread measured faster here whenever another process shares the two cores.
   */
  threads?: number;
}

export interface ContrastiveModeResult {
  mode: 'sparse' | 'dense';
  steps: number;
  seconds: number;
  /** Process CPU time (user + system, all threads) over the timed steps. */
  cpuSeconds: number;
  stepsPerSec: number;
  /** Steps per CPU-second: steadier than wall time when other work shares the cores. */
  stepsPerCpuSec: number;
  pairsPerSec: number;
  finalLoss: number;
}

export interface ContrastiveBenchResult {
  backend: string;
  threads: number;
  batchSize: number;
  dim: number;
  vocab: number;
  idsPerSide: number;
  symmetric: boolean;
  modes: ContrastiveModeResult[];
  inference: { items: number; seconds: number; itemsPerSec: number };
}

function randomBags(rng: Rng, n: number, per: number, vocab: number): BagBatch {
  const offsets = new Int32Array(n + 1);
  const ids = new Int32Array(n * per);
  const weights = new Float32Array(n * per).fill(1 / per);
  for (let i = 0; i < n; i++) {
    offsets[i + 1] = (i + 1) * per;
    for (let j = 0; j < per; j++) ids[i * per + j] = rng.int(vocab);
  }
  return { offsets, ids, weights };
}

export async function benchContrastive(o: ContrastiveBenchOptions = {}): Promise<ContrastiveBenchResult> {
  const info = await initBackend(o.threads !== undefined ? { threads: o.threads } : {});
  const B = o.batchSize ?? 256;
  const dim = o.dim ?? 128;
  const vocab = o.vocab ?? 50000;
  const per = o.idsPerSide ?? 16;
  const steps = o.steps ?? 40;
  const warm = o.warmupSteps ?? 3;
  const rng = new Rng(o.seed ?? 3);
  const batches: PairBatch[] = Array.from({ length: 8 }, () => ({
    anchors: randomBags(rng, B, per, vocab),
    positives: randomBags(rng, B, per, vocab),
    keysA: null,
    keysP: Int32Array.from({ length: B }, (_, i) => i),
  }));
  const modes: ContrastiveModeResult[] = [];
  for (const mode of o.modes ?? ['sparse', 'dense']) {
    const tower = new TextTower({ rows: vocab, dim, tableUpdate: mode, seed: 1, symmetric: o.symmetric ?? false });
    let loss = 0;
    for (let s = 0; s < warm; s++) loss = tower.trainStep(batches[s % batches.length]);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let s = 0; s < steps; s++) loss = tower.trainStep(batches[s % batches.length]);
    const seconds = (performance.now() - t0) / 1000;
    const c1 = process.cpuUsage(c0);
    const cpuSeconds = (c1.user + c1.system) / 1e6;
    modes.push({ mode, steps, seconds, cpuSeconds, stepsPerSec: steps / seconds, stepsPerCpuSec: steps / cpuSeconds, pairsPerSec: (steps * B) / seconds, finalLoss: loss });
    tower.dispose();
  }
  const nInf = o.inferenceItems ?? 20000;
  const tower = new TextTower({ rows: vocab, dim, seed: 1 });
  const bags = randomBags(rng, nInf, per, vocab);
  tower.encode(randomBags(rng, 64, per, vocab));
  const t0 = performance.now();
  tower.encode(bags);
  const infSec = (performance.now() - t0) / 1000;
  tower.dispose();
  return {
    backend: tf.getBackend(),
    threads: info.threads,
    batchSize: B,
    dim,
    vocab,
    idsPerSide: per,
    symmetric: o.symmetric ?? false,
    modes,
    inference: { items: nInf, seconds: infSec, itemsPerSec: nInf / infSec },
  };
}
