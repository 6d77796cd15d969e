/** Tables and figures about Semantic IDs (notebooks 02 and 05), from lib/pipeline/analyses.ts results. */
import type { Figure } from '../report/plot';
import type { CollisionPoint, QuantizerSummary } from '../pipeline/analyses';
import type { SemanticIdSet } from '../types';

/** One row per quantizer: usage and entropy per level, collisions and reconstruction error. */
export function quantizerDiagnosticsTable(summaries: readonly QuantizerSummary[]): Record<string, string | number>[] {
  return summaries.map(({ quantizer, diagnostics: d, seconds }) => {
    const row: Record<string, string | number> = { quantizer };
    d.positions.forEach((p, i) => {
      row[`L${i + 1} codes used`] = `${p.used}/${p.cardinality}`;
      row[`L${i + 1} entropy (bits)`] = `${p.entropyBits.toFixed(2)}/${p.maxEntropyBits.toFixed(2)}`;
    });
    row['distinct IDs'] = d.distinctCodes;
    row['collision rate'] = d.collisionRate;
    row['largest group'] = d.largestCollisionGroup;
    row['rel. reconstruction error'] = d.relativeError ?? '-';
    row['fit seconds'] = seconds;
    return row;
  });
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
