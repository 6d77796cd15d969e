/**
 * Analyses the notebooks show beside the tables, computed from the pipeline's stages so that the
 * views stay pure functions of what these return: quantizer diagnostics, collisions against codebook
 * size, recall under other traffic models, and the recall of several beam settings (a cached stage,
 * on the validation split by default: decoding settings are compared there, never on test).
 */
import type { EmbeddingStrategy } from '../embed/index';
import { sweepBeamSettings, type BeamSetting, type SweepPoint } from '../eval/generativeEval';
import { recallUnderTraffic, TRAFFIC_MODELS, type TrafficModel } from '../eval/reweight';
import { loadModel, makeTries, splitExamples } from '../generate/jointModel';
import type { IdDiagnostics } from '../quantize/diagnostics';
import { asMatrix } from '../quantize/matrix';
import { fitQuantizer, quantizerNames, type QuantizerName } from '../quantize/quantizer';
import { TASKS, type PreparedData, type SemanticIdSet, type Task } from '../types';
import type { Estimate } from '../util/metrics';
import { Rng } from '../util/random';
import { dataStage, embeddingStage, experimentStage, idStage, specId, vocabularyStage, type ExperimentSpec, type PipelineContext } from './stages';
import { TABLES } from './tables';

export interface QuantizerSummary {
  quantizer: QuantizerName;
  /** Final IDs (after collision handling). */
  ids: SemanticIdSet;
  /** Diagnostics of the raw codes (before collision handling). */
  diagnostics: IdDiagnostics;
  seconds: number;
}

/** Every quantizer's IDs and diagnostics on one embedding. */
export async function quantizerSummaries(ctx: PipelineContext, strategy: EmbeddingStrategy, quantizers: readonly QuantizerName[] = quantizerNames()): Promise<QuantizerSummary[]> {
  const out: QuantizerSummary[] = [];
  for (const quantizer of quantizers) {
    const { ids } = await idStage(ctx, strategy, quantizer);
    out.push({ quantizer, ids: ids.ids, diagnostics: ids.diagnostics, seconds: ids.seconds });
  }
  return out;
}

export interface CollisionPoint {
  k: number;
  collisionRate: number;
  largestGroup: number;
  relativeError: number | null;
}

/** RQ-KMeans at several codebook sizes on one embedding (the profile's levels and seed). */
export async function collisionsVsCodebookSize(ctx: PipelineContext, strategy: EmbeddingStrategy, ks: readonly number[]): Promise<CollisionPoint[]> {
  const emb = await embeddingStage(ctx, strategy);
  const n = emb.embedding.vectors.length / emb.embedding.dim;
  const x = asMatrix(emb.embedding.vectors, n, emb.embedding.dim, `embeddings(${strategy})`);
  const points: CollisionPoint[] = [];
  for (const k of ks) {
    const fit = await fitQuantizer('rq-kmeans', x, { levels: ctx.profile.ids.levels, k, seed: ctx.profile.seed });
    points.push({ k, collisionRate: fit.diagnostics.collisionRate, largestGroup: fit.diagnostics.largestCollisionGroup, relativeError: fit.diagnostics.relativeError });
  }
  return points;
}

export interface TrafficRow {
  method: string;
  task: Task;
  traffic: TrafficModel;
  recall: Estimate;
}

/** Recall@k of every head/torso method's stored rankings, reweighted under each traffic model. */
export async function trafficRows(ctx: PipelineContext, data: PreparedData, k = 30): Promise<TrafficRow[]> {
  const out: TrafficRow[] = [];
  for (const r of TABLES['head-torso']) {
    const exp = await experimentStage(ctx, r.spec);
    for (const task of TASKS) {
      const ev = exp.result.evaluation[task];
      for (const traffic of TRAFFIC_MODELS) {
        out.push({ method: r.method, task, traffic, recall: recallUnderTraffic(ev.rankings, ev.targets, data.buckets.counts, traffic, k, ctx.profile.seed) });
      }
    }
  }
  return out;
}

export interface BeamSweepOptions {
  /** Split whose examples are decoded (default 'valid'). */
  split?: 'valid' | 'test';
  /** Examples per task, a seeded sample (default 300). */
  limit?: number;
  /** Recall cut-off (default 30). */
  k?: number;
}

export type BeamSweep = Record<Task, SweepPoint[]>;

/** Recall@k of each beam setting on a seeded sample of one split, per task; cached like any stage. */
export async function beamSweepStage(ctx: PipelineContext, spec: ExperimentSpec, settings: readonly BeamSetting[], opts: BeamSweepOptions = {}): Promise<BeamSweep> {
  const split = opts.split ?? 'valid';
  const limit = opts.limit ?? 300;
  const k = opts.k ?? 30;
  const exp = await experimentStage(ctx, spec);
  const config = { spec: specId(spec), settings, split, limit, k, seed: ctx.profile.seed };
  const res = await ctx.cache.getOrBuild<BeamSweep>('beam-sweep', config, [exp.key], async () => {
    // The experiment is already built and checked above: load its model without a second lookup.
    const model = loadModel(exp.modelDir, (await vocabularyStage(ctx, spec)).vocab);
    const { data } = await dataStage(ctx);
    try {
      const held = splitExamples(data, model.prompts, model.vocab, model.spaces, split);
      const tries = makeTries(model);
      const rng = new Rng(ctx.profile.seed);
      const sweep = {} as BeamSweep;
      for (const task of TASKS) {
        const examples = rng.fork(`sweep-${task}`).sample(held[task], limit, true);
        sweep[task] = await sweepBeamSettings(model, task, examples, tries, settings, { k, bootstrap: { seed: ctx.profile.seed } });
      }
      return sweep;
    } finally {
      model.net.dispose();
    }
  });
  return res.value;
}
