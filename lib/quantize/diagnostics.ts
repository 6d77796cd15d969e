/**
 * Diagnostics of a Semantic ID set: per-position codebook usage and entropy, collisions, and the
 * relative reconstruction error where the tokenizer has a reconstruction. Returns plain JSON.
 */
import type { SemanticIdSet } from '../types';
import { groupByCode } from './ids';
import { Matrix, relativeError } from './matrix';

export interface PositionDiagnostics {
  position: number;
  cardinality: number;
  /** Distinct codes used. */
  used: number;
  /** used / cardinality. */
  usage: number;
  /** Entropy of the code distribution over items, in bits. */
  entropyBits: number;
  /** log2(cardinality): the entropy of uniform use. */
  maxEntropyBits: number;
}

export interface IdDiagnostics {
  numItems: number;
  length: number;
  /** Positions that form the code compared for collisions (the tokenizer's levels). */
  codePositions: number;
  positions: PositionDiagnostics[];
  distinctCodes: number;
  /** Fraction of items whose code is shared with at least one other item. */
  collisionRate: number;
  largestCollisionGroup: number;
  /** ||x - xhat||^2 / ||x||^2 over all items, or null without a reconstruction. */
  relativeError: number | null;
}

/**
 * @param codePositions leading positions compared for collisions (default: all; pass the
 *   tokenizer's level count to measure collisions before an appended disambiguation position).
 */
export function idDiagnostics(ids: SemanticIdSet, opts: { codePositions?: number; x?: Matrix; reconstruction?: Float32Array } = {}): IdDiagnostics {
  const P = opts.codePositions ?? ids.length;
  if (!(Number.isInteger(P) && P >= 1 && P <= ids.length)) {
    throw new Error(`lib/quantize/diagnostics.ts idDiagnostics (option codePositions): expected 1..${ids.length}, got ${P}`);
  }
  const n = ids.numItems;
  const positions: PositionDiagnostics[] = [];
  for (let p = 0; p < ids.length; p++) {
    const card = ids.cardinalities[p];
    const counts = new Float64Array(card);
    for (let i = 0; i < n; i++) counts[ids.codes[i * ids.length + p]]++;
    let used = 0;
    let h = 0;
    for (let c = 0; c < card; c++) {
      if (counts[c] > 0) {
        used++;
        const q = counts[c] / n;
        h -= q * Math.log2(q);
      }
    }
    positions.push({ position: p, cardinality: card, used, usage: used / card, entropyBits: h, maxEntropyBits: Math.log2(card) });
  }
  const sub: SemanticIdSet = P === ids.length ? ids : truncateIds(ids, P);
  const groups = groupByCode(sub);
  let colliding = 0;
  let largest = n > 0 ? 1 : 0;
  for (const g of groups.values()) {
    if (g.length > 1) colliding += g.length;
    largest = Math.max(largest, g.length);
  }
  let rel: number | null = null;
  if (opts.x && opts.reconstruction) rel = relativeError(opts.x, opts.reconstruction);
  return {
    numItems: n,
    length: ids.length,
    codePositions: P,
    positions,
    distinctCodes: groups.size,
    collisionRate: n > 0 ? colliding / n : 0,
    largestCollisionGroup: largest,
    relativeError: rel,
  };
}

/** The first `P` positions of every ID. */
function truncateIds(ids: SemanticIdSet, P: number): SemanticIdSet {
  const codes = new Int32Array(ids.numItems * P);
  for (let i = 0; i < ids.numItems; i++) codes.set(ids.codes.subarray(i * ids.length, i * ids.length + P), i * P);
  return { numItems: ids.numItems, length: P, cardinalities: ids.cardinalities.slice(0, P), codes };
}
