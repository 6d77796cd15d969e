/**
 * What every embedding strategy returns: item vectors plus, where the strategy has a text side,
 * the query encoder that maps search queries into the same space (used by dense retrieval eval).
 */
import type { EmbeddingStrategy } from '../names';

export { EMBEDDING_STRATEGIES, type EmbeddingStrategy } from '../names';

export interface EmbeddingModel {
  strategy: EmbeddingStrategy | string;
  /** Row-major [numItems, dim]. */
  vectors: Float32Array;
  dim: number;
  numItems: number;
  /** Maps query texts to [texts.length, dim] in the item space; absent when the strategy has no text side. */
  encodeQueries?(texts: string[]): Float32Array;
  /** Training statistics and settings actually used (JSON-serialisable). */
  info: Record<string, unknown>;
}


export { l2NormalizeRows } from '../util/vectors';

export function checkVectors(where: string, vectors: Float32Array, dim: number, numItems: number): void {
  if (vectors.length !== dim * numItems) {
    throw new Error(`${where}: expected ${numItems}x${dim} = ${numItems * dim} values, got ${vectors.length}`);
  }
  for (let i = 0; i < vectors.length; i++) {
    if (!Number.isFinite(vectors[i])) throw new Error(`${where}: non-finite value at row ${Math.floor(i / dim)}`);
  }
}
