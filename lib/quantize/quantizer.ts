/**
 * One entry point for the four quantizers (embedding -> Semantic ID codes). `fitQuantizer` returns the raw codes as a SemanticIdSet
 * BEFORE collision handling (one position per quantizer level); apply `makeSemanticIds(fit.ids.codes,
 * ...)` or `finalizeIds(fit, ...)` to resolve collisions. Diagnostics are computed on the raw codes.
 */
import type { SemanticIdSet } from '../types';
import { AssignStats } from './distances';
import { IdDiagnostics, idDiagnostics } from './diagnostics';
import { fitHierKMeans } from './hierKmeans';
import { IdOptions, makeSemanticIds } from './ids';
import { KMeansOptions } from './kmeans';
import { Matrix, checkMatrix } from './matrix';
import { RlfqOptions, fitRlfq } from './rlfq';
import { decodeResidual, DEFAULT_CODES, DEFAULT_LEVELS, fitRqKMeans } from './rqKmeans';
import { RqVaeOptions, fitRqVae } from './rqVae';

export type QuantizerName = 'rq-kmeans' | 'hier-kmeans' | 'rq-vae' | 'rlfq';
export const QUANTIZER_NAMES: readonly QuantizerName[] = ['rq-kmeans', 'hier-kmeans', 'rq-vae', 'rlfq'];

/** Names accepted for compatibility, with the name each now stands for. */
const DEPRECATED_NAMES: Record<string, QuantizerName> = { kmeans: 'hier-kmeans' };

/**
 * The quantizer a user-supplied name stands for, or null when unknown. A deprecated name is accepted
 * with one line on stderr saying what to write instead.
 */
export function parseQuantizerName(name: string, where: string): QuantizerName | null {
  if ((QUANTIZER_NAMES as readonly string[]).includes(name)) return name as QuantizerName;
  const now = DEPRECATED_NAMES[name];
  if (!now) return null;
  process.stderr.write(`${where}: quantizer "${name}" is deprecated; it is now called "${now}"\n`);
  return now;
}

export interface QuantizerOptions {
  /** Levels (default 2). */
  levels?: number;
  /** Codes per level (default 256). */
  k?: number | number[];
  seed?: number;
  /** k-means settings (rq-kmeans, kmeans, and the RQ-VAE codebook initialisation). */
  kmeans?: Omit<KMeansOptions, 'k' | 'seed'>;
  /** RQ-KMeans beam width for the final encoding (default 1 = greedy). */
  beamWidth?: number;
  rqVae?: Omit<RqVaeOptions, 'levels' | 'k' | 'seed'>;
  rlfq?: Omit<RlfqOptions, 'levels' | 'k' | 'seed'>;
  stats?: AssignStats;
}

export interface QuantizerFit {
  name: QuantizerName;
  /** Raw codes, one position per level, before collision handling. */
  ids: SemanticIdSet;
  /** Reconstruction of x from the codes (all four quantizers have one). */
  reconstruct?: () => Float32Array;
  diagnostics: IdDiagnostics;
  /** The fitted model (codebooks / weights), quantizer specific. */
  model: unknown;
  seconds: number;
}

export async function fitQuantizer(name: QuantizerName, x: Matrix, opts: QuantizerOptions = {}): Promise<QuantizerFit> {
  checkMatrix(x, `fitQuantizer(${name})`);
  const levels = opts.levels ?? (Array.isArray(opts.k) ? opts.k.length : DEFAULT_LEVELS);
  const k = opts.k ?? DEFAULT_CODES;
  const seed = opts.seed ?? 0;
  const t0 = performance.now();
  let codes: Int32Array;
  let ks: number[];
  let reconstruct: () => Float32Array;
  let model: unknown;
  switch (name) {
    case 'rq-kmeans': {
      const fit = fitRqKMeans(x, { levels, k, seed, beamWidth: opts.beamWidth, kmeans: opts.kmeans }, opts.stats);
      codes = fit.codes;
      ks = fit.model.k;
      model = fit.model;
      reconstruct = () => decodeResidual(fit.model, fit.codes, x.rows);
      break;
    }
    case 'hier-kmeans': {
      const fit = fitHierKMeans(x, { levels, k, seed, kmeans: opts.kmeans }, opts.stats);
      codes = fit.codes;
      ks = fit.k;
      model = { k: fit.k, kmeansRuns: fit.kmeansRuns };
      reconstruct = () => fit.reconstruction;
      break;
    }
    case 'rq-vae': {
      const fit = await fitRqVae(x, { ...(opts.rqVae ?? {}), levels, k, seed });
      codes = fit.codes;
      ks = fit.model.k;
      model = { ...fit.model, history: fit.history };
      reconstruct = () => fit.reconstruction;
      break;
    }
    case 'rlfq': {
      const fit = await fitRlfq(x, { ...(opts.rlfq ?? {}), levels, k, seed });
      codes = fit.codes;
      ks = fit.model.k;
      model = { ...fit.model, history: fit.history };
      reconstruct = () => fit.reconstruction;
      break;
    }
    default:
      throw new Error(`fitQuantizer: unknown quantizer "${String(name)}" (expected ${QUANTIZER_NAMES.join(', ')})`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const ids: SemanticIdSet = { numItems: x.rows, length: ks.length, cardinalities: ks.slice(), codes };
  const diagnostics = idDiagnostics(ids, { x, reconstruction: reconstruct() });
  return { name, ids, reconstruct, diagnostics, model, seconds };
}

/** The final IDs of a fit after collision handling. */
export function finalizeIds(fit: QuantizerFit, opts: IdOptions = {}): SemanticIdSet {
  return makeSemanticIds(fit.ids.codes, fit.ids.numItems, fit.ids.cardinalities, opts);
}
