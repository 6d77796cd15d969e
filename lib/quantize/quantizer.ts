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

import { DEPRECATED_QUANTIZER_NAMES, type BuiltinQuantizerName, type QuantizerName } from '../names';

export { QUANTIZER_NAMES, type QuantizerName } from '../names';

/**
 * The quantizer a user-supplied name stands for, or null when unknown. A deprecated name is accepted
 * with one line on stderr saying what to write instead.
 */
export function parseQuantizerName(name: string, where: string): QuantizerName | null {
  if (registry.has(name)) return name;
  const now = DEPRECATED_QUANTIZER_NAMES[name];
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
  /** k-means settings (rq-kmeans, hier-kmeans, and the RQ-VAE codebook initialisation). */
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

/** What each quantizer's fit hands back, before the shared bookkeeping of `fitQuantizer`. */
interface RawQuantizerFit {
  codes: Int32Array;
  /** Codes per level, as fitted. */
  ks: number[];
  model: unknown;
  reconstruct: () => Float32Array;
}

interface LevelShape {
  levels: number;
  k: number | number[];
  seed: number;
}

export interface QuantizerDefinition {
  /** The method's name in tables and figures. */
  label: string;
  fit(x: Matrix, shape: LevelShape, opts: QuantizerOptions): RawQuantizerFit | Promise<RawQuantizerFit>;
}

/**
 * The quantizers the project ships, by name. Adding one to the project: its module in lib/quantize,
 * its name in lib/names.ts and an entry here (the record's type asks for it); profiles, the CLI and
 * the tables then know it. Code outside the project adds one with `registerQuantizer`.
 */
const BUILTIN_QUANTIZERS: Record<BuiltinQuantizerName, QuantizerDefinition> = {
  'rq-kmeans': {
    label: 'RQ-KMeans',
    fit(x, { levels, k, seed }, opts) {
      const fit = fitRqKMeans(x, { levels, k, seed, beamWidth: opts.beamWidth, kmeans: opts.kmeans }, opts.stats);
      return { codes: fit.codes, ks: fit.model.k, model: fit.model, reconstruct: () => decodeResidual(fit.model, fit.codes, x.rows) };
    },
  },
  'hier-kmeans': {
    label: 'K-Means (hierarchical)',
    fit(x, { levels, k, seed }, opts) {
      const fit = fitHierKMeans(x, { levels, k, seed, kmeans: opts.kmeans }, opts.stats);
      return { codes: fit.codes, ks: fit.k, model: { k: fit.k, kmeansRuns: fit.kmeansRuns }, reconstruct: () => fit.reconstruction };
    },
  },
  'rq-vae': {
    label: 'RQ-VAE',
    async fit(x, { levels, k, seed }, opts) {
      const fit = await fitRqVae(x, { ...(opts.rqVae ?? {}), levels, k, seed });
      return { codes: fit.codes, ks: fit.model.k, model: { ...fit.model, history: fit.history }, reconstruct: () => fit.reconstruction };
    },
  },
  rlfq: {
    label: 'ResidualLFQ',
    async fit(x, { levels, k, seed }, opts) {
      const fit = await fitRlfq(x, { ...(opts.rlfq ?? {}), levels, k, seed });
      return { codes: fit.codes, ks: fit.model.k, model: { ...fit.model, history: fit.history }, reconstruct: () => fit.reconstruction };
    },
  },
};

const registry = new Map<string, QuantizerDefinition>(Object.entries(BUILTIN_QUANTIZERS));

/** Every quantizer's name, the built-in ones first, in the order of the quantizers table. */
export function quantizerNames(): QuantizerName[] {
  return [...registry.keys()];
}

/** A quantizer's definition, or undefined for a name nothing registered. */
export function quantizerDefinition(name: string): QuantizerDefinition | undefined {
  return registry.get(name);
}

/**
 * Adds a quantizer: stages fit it by name, the quantizers table gains its row, `sid run-stage ids`
 * accepts it. Returns a function that removes it again.
 */
export function registerQuantizer(name: string, definition: QuantizerDefinition): () => void {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`registerQuantizer: a quantizer's name is lower-case letters, digits and dashes, got "${name}"`);
  if (registry.has(name) || name in DEPRECATED_QUANTIZER_NAMES) throw new Error(`registerQuantizer: a quantizer "${name}" exists already`);
  registry.set(name, definition);
  return () => {
    if (registry.get(name) === definition) registry.delete(name);
  };
}

export async function fitQuantizer(name: QuantizerName, x: Matrix, opts: QuantizerOptions = {}): Promise<QuantizerFit> {
  checkMatrix(x, `fitQuantizer(${name})`);
  const definition = registry.get(name);
  if (!definition) throw new Error(`fitQuantizer: unknown quantizer "${String(name)}" (expected ${quantizerNames().join(', ')})`);
  const levels = opts.levels ?? (Array.isArray(opts.k) ? opts.k.length : DEFAULT_LEVELS);
  const shape: LevelShape = { levels, k: opts.k ?? DEFAULT_CODES, seed: opts.seed ?? 0 };
  const t0 = performance.now();
  const { codes, ks, model, reconstruct } = await definition.fit(x, shape, opts);
  const seconds = (performance.now() - t0) / 1000;
  const ids: SemanticIdSet = { numItems: x.rows, length: ks.length, cardinalities: ks.slice(), codes };
  const diagnostics = idDiagnostics(ids, { x, reconstruction: reconstruct() });
  return { name, ids, reconstruct, diagnostics, model, seconds };
}

/** The final IDs of a fit after collision handling. */
export function finalizeIds(fit: QuantizerFit, opts: IdOptions = {}): SemanticIdSet {
  return makeSemanticIds(fit.ids.codes, fit.ids.numItems, fit.ids.cardinalities, opts);
}
