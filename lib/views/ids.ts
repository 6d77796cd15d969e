/** Tables and figures about Semantic IDs (notebooks 02 and 05). */
import type { Figure } from '../report/plot';
import { QUANTIZER_NAMES, fitQuantizer, type QuantizerName } from '../quantize/quantizer';
import { asMatrix } from '../quantize/matrix';
import { embeddingStage, idStage, type PipelineContext } from '../pipeline/stages';
import type { EmbeddingStrategy } from '../embed/index';
import type { SemanticIdSet } from '../types';

/** One row per tokenizer: usage and entropy per level, collisions and reconstruction error. */
export async function quantizerDiagnosticsTable(ctx: PipelineContext, strategy: EmbeddingStrategy, tokenizers: readonly QuantizerName[] = QUANTIZER_NAMES): Promise<Record<string, string | number>[]> {
  const rows: Record<string, string | number>[] = [];
  for (const t of tokenizers) {
    const { ids } = await idStage(ctx, strategy, t);
    const d = ids.diagnostics;
    const row: Record<string, string | number> = { tokenizer: t };
    d.positions.forEach((p, i) => {
      row[`L${i + 1} codes used`] = `${p.used}/${p.cardinality}`;
      row[`L${i + 1} entropy (bits)`] = `${p.entropyBits.toFixed(2)}/${p.maxEntropyBits.toFixed(2)}`;
    });
    row['distinct IDs'] = d.distinctCodes;
    row['collision rate'] = d.collisionRate;
    row['largest group'] = d.largestCollisionGroup;
    row['rel. reconstruction error'] = d.relativeError ?? '-';
    row['fit seconds'] = ids.seconds;
    rows.push(row);
  }
  return rows;
}

/** Items per code at each level, codes sorted by frequency: flat = well-used codebook. */
export function usageFigure(ids: SemanticIdSet, label: string, levels = ids.length): Figure {
  const data = [];
  for (let p = 0; p < Math.min(levels, ids.length); p++) {
    const counts = new Array<number>(ids.cardinalities[p]).fill(0);
    for (let i = 0; i < ids.numItems; i++) counts[ids.codes[i * ids.length + p]]++;
    counts.sort((a, b) => b - a);
    data.push({ type: 'bar', name: `level ${p + 1}`, x: counts.map((_, i) => i + 1), y: counts });
  }
  return {
    data,
    layout: { title: { text: `${label}: items per code, codes sorted by use` }, xaxis: { title: { text: 'code rank' } }, yaxis: { title: { text: 'items' } }, barmode: 'overlay', height: 380 },
  };
}

export interface CollisionPoint {
  k: number;
  collisionRate: number;
  largestGroup: number;
  relativeError: number | null;
}

/** RQ-KMeans (2 levels) at several codebook sizes on one embedding: collisions fall as K grows. */
export async function collisionsVsCodebookSize(ctx: PipelineContext, strategy: EmbeddingStrategy, ks: number[]): Promise<CollisionPoint[]> {
  const emb = await embeddingStage(ctx, strategy);
  const n = emb.embedding.vectors.length / emb.embedding.dim;
  const x = asMatrix(emb.embedding.vectors, n, emb.embedding.dim, `embeddings(${strategy})`);
  return ks.map((k) => {
    const fit = fitQuantizer('rq-kmeans', x, { levels: ctx.profile.ids.levels, k, seed: ctx.profile.seed });
    return { k, collisionRate: fit.diagnostics.collisionRate, largestGroup: fit.diagnostics.largestCollisionGroup, relativeError: fit.diagnostics.relativeError };
  });
}

export function collisionFigure(points: CollisionPoint[], numItems: number): Figure {
  return {
    data: [
      { type: 'scatter', mode: 'lines+markers', name: 'collision rate', x: points.map((p) => p.k), y: points.map((p) => p.collisionRate) },
      { type: 'scatter', mode: 'lines+markers', name: 'relative reconstruction error', x: points.map((p) => p.k), y: points.map((p) => p.relativeError) },
    ],
    layout: {
      title: { text: `RQ-KMeans, ${numItems} items: collisions and error vs codes per level` },
      xaxis: { title: { text: 'codes per level (K)' }, type: 'log' },
      yaxis: { title: { text: 'fraction' }, rangemode: 'tozero' },
      height: 400,
    },
  };
}
