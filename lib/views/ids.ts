/** Tables and figures about Semantic IDs (notebooks 02 and 05), from lib/pipeline/analyses.ts results. */
import type { Figure } from '../display/plot';
import type { CollisionPoint, QuantizerSummary } from '../pipeline/analyses';
import { quantizerDefinition } from '../quantize/quantizer';
import type { SemanticIdSet } from '../types';

/** The row label the quantizers table uses for a quantizer (`rq-kmeans` -> `RQ-KMeans`). */
export function quantizerLabel(name: string): string {
  return quantizerDefinition(name)?.label ?? name;
}

/** One row per quantizer: usage and entropy per level, collisions and reconstruction error. */
export function quantizerDiagnosticsTable(summaries: readonly QuantizerSummary[]): Record<string, string | number>[] {
  return summaries.map(({ quantizer, diagnostics: d, seconds }) => {
    const row: Record<string, string | number> = { quantizer: quantizerLabel(quantizer) };
    d.positions.forEach((p, i) => {
      row[`level ${i + 1} codes used`] = `${p.used}/${p.cardinality}`;
      row[`level ${i + 1} entropy (bits)`] = `${p.entropyBits.toFixed(2)}/${p.maxEntropyBits.toFixed(2)}`;
    });
    row['distinct IDs'] = d.distinctCodes;
    row['collision rate'] = d.collisionRate;
    row['largest group'] = d.largestCollisionGroup;
    row['relative reconstruction error'] = d.relativeError ?? '-';
    row['fit seconds'] = seconds;
    return row;
  });
}

/** Items per code, codes sorted by use, for each of the first `levels` positions. */
function sortedUsage(ids: SemanticIdSet, levels: number): number[][] {
  const out: number[][] = [];
  for (let p = 0; p < Math.min(levels, ids.length); p++) {
    const counts = new Array<number>(ids.cardinalities[p]).fill(0);
    for (let i = 0; i < ids.numItems; i++) counts[ids.codes[i * ids.length + p]]++;
    out.push(counts.sort((a, b) => b - a));
  }
  return out;
}

/**
 * Items per code at each level, codes sorted by frequency: flat = well-used codebook. One step line
 * per level (bars of two levels overlaid would hide one behind the other), with a dotted line at the
 * count a perfectly even codebook would give.
 */
export function usageFigure(ids: SemanticIdSet, quantizer: string, levels = ids.length): Figure {
  const usage = sortedUsage(ids, levels);
  const dashes = ['solid', 'dash', 'dot', 'dashdot'];
  const data: Record<string, unknown>[] = usage.map((counts, p) => {
    const used = counts.filter((c) => c > 0).length;
    return {
      type: 'scatter',
      mode: 'lines',
      line: { shape: 'hv', width: 2, dash: dashes[p % dashes.length] },
      name: `level ${p + 1} (${used} of ${counts.length} codes used)`,
      x: counts.map((_, i) => i + 1),
      y: counts,
    };
  });
  const k = Math.max(...usage.map((c) => c.length));
  data.push({
    type: 'scatter',
    mode: 'lines',
    line: { color: 'grey', width: 1, dash: 'dot' },
    name: `even use (${(ids.numItems / k).toFixed(1)} items per code)`,
    x: [1, k],
    y: [ids.numItems / k, ids.numItems / k],
  });
  return {
    data,
    layout: {
      title: { text: `${quantizerLabel(quantizer)}: items per code, codes sorted by use` },
      xaxis: { title: { text: 'code rank (1 = most used)' }, range: [0.5, k + 0.5] },
      yaxis: { title: { text: 'items with that code' }, rangemode: 'tozero' },
      legend: { orientation: 'h', x: 0, y: -0.32, yanchor: 'top' },
      margin: { b: 120 },
      height: 400,
    },
  };
}

/** The collision sweep with readable headers. */
export function collisionTable(points: readonly CollisionPoint[]): Record<string, string | number>[] {
  return points.map((p) => ({
    'codes per level (K)': p.k,
    'collision rate': p.collisionRate,
    'largest group': p.largestGroup,
    'relative reconstruction error': p.relativeError ?? '-',
  }));
}

export function collisionFigure(points: CollisionPoint[], numItems: number): Figure {
  const ks = points.map((p) => p.k);
  return {
    data: [
      { type: 'scatter', mode: 'lines+markers', name: 'collision rate (items sharing their raw ID)', x: ks, y: points.map((p) => p.collisionRate) },
      { type: 'scatter', mode: 'lines+markers', name: 'relative reconstruction error', x: ks, y: points.map((p) => p.relativeError) },
    ],
    layout: {
      title: { text: `RQ-KMeans, ${numItems} items: collisions and error vs codes per level` },
      // Log axis with ticks at the measured K only (plotly's default log ticks label 2..9 of every decade).
      xaxis: { title: { text: 'codes per level (K, log scale)' }, type: 'log', tickmode: 'array', tickvals: ks, ticktext: ks.map(String) },
      yaxis: { title: { text: 'fraction of items / of the embedding energy' }, rangemode: 'tozero' },
      legend: { orientation: 'h', x: 0, y: -0.32, yanchor: 'top' },
      margin: { b: 120 },
      height: 420,
    },
  };
}
