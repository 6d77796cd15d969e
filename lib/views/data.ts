/**
 * Tables and figures that describe a prepared data set (notebook 00_data). Each function returns
 * plain rows or a plotly figure; the notebook only displays them.
 */
import type { dataStats } from '../data/prepare';
import type { PreparedData } from '../types';
import type { Figure } from '../display/plot';

export type DataStats = ReturnType<typeof dataStats>;

/** Items sorted by training popularity, with the bucket boundaries marked. */
export function popularityFigure(p: PreparedData): Figure {
  const n = p.buckets.counts.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => p.buckets.counts[b] - p.buckets.counts[a] || a - b);
  const maxCount = Math.max(1, ...p.buckets.counts);
  const traces = p.buckets.names.map((name, b) => {
    const xs: number[] = [];
    const ys: number[] = [];
    order.forEach((item, r) => {
      if (p.buckets.bucketOf[item] === b) {
        xs.push(r + 1);
        ys.push(Math.max(p.buckets.counts[item], 0.8)); // zero counts drawn just below 1 on the log axis
      }
    });
    return { type: 'scatter', mode: 'markers', name: `${name} (${xs.length} items)`, x: xs, y: ys, marker: { size: 4 } };
  });
  return {
    data: traces,
    layout: {
      title: { text: 'Training popularity long tail (items ranked by training interactions)' },
      // Log axes from rank 1 and count ~1, ticks at powers of ten only (no 2..9 labels in between).
      xaxis: { title: { text: 'item rank (1 = most interactions, log scale)' }, type: 'log', range: [-0.05, Math.log10(n) + 0.05], dtick: 1 },
      yaxis: { title: { text: 'training interactions (log scale)' }, type: 'log', range: [Math.log10(0.7), Math.log10(maxCount) + 0.1], dtick: 1 },
      legend: { title: { text: 'popularity bucket' } },
    },
  };
}

/** Histogram of users' total history lengths. */
export function historyLengthFigure(p: PreparedData): Figure {
  const lengths = p.dataset.users.map((u) => u.items.length);
  return {
    data: [{ type: 'histogram', x: lengths, nbinsx: 60, name: 'users' }],
    layout: {
      title: { text: `History length per user (${lengths.length} users)` },
      xaxis: { title: { text: 'interactions in the user\'s history' } },
      yaxis: { title: { text: 'users' } },
      showlegend: false,
    },
  };
}

/** Items and interactions per genre (an item counts once for each of its genres). */
export function genreRows(p: PreparedData): { genre: string; items: number; interactions: number }[] {
  const items = new Map<string, number>();
  const inter = new Map<string, number>();
  for (const it of p.dataset.items) {
    for (const g of it.genres) {
      items.set(g, (items.get(g) ?? 0) + 1);
      inter.set(g, (inter.get(g) ?? 0) + p.buckets.counts[it.index]);
    }
  }
  return [...items.keys()]
    .map((genre) => ({ genre, items: items.get(genre) ?? 0, interactions: inter.get(genre) ?? 0 }))
    .sort((a, b) => b.items - a.items || a.genre.localeCompare(b.genre));
}

/**
 * Items and training interactions per genre, side by side: two panels sharing the genre axis (bars on
 * two overlaid axes would hide one series behind the other).
 */
export function genreFigure(p: PreparedData): Figure {
  const rows = genreRows(p);
  const genres = rows.map((r) => r.genre);
  return {
    data: [
      { type: 'bar', name: 'items', x: genres, y: rows.map((r) => r.items), xaxis: 'x', yaxis: 'y' },
      { type: 'bar', name: 'training interactions', x: genres, y: rows.map((r) => r.interactions), xaxis: 'x2', yaxis: 'y2' },
    ],
    layout: {
      title: { text: 'Genres: items in the catalogue and training interactions (an item counts once per genre)' },
      grid: { rows: 2, columns: 1, pattern: 'independent', roworder: 'top to bottom' },
      xaxis: { showticklabels: false, matches: 'x2' },
      yaxis: { title: { text: 'items' }, rangemode: 'tozero' },
      xaxis2: { title: { text: 'genre' }, tickangle: -45 },
      yaxis2: { title: { text: 'training interactions' }, rangemode: 'tozero' },
      legend: { orientation: 'h', x: 0, y: 1.08 },
      height: 560,
    },
  };
}

/** A few test-split queries of every style, with the item they target. */
export function sampleQueryRows(p: PreparedData, perStyle = 3): { style: string; query: string; item: string }[] {
  const seen = new Map<string, number>();
  const rows: { style: string; query: string; item: string }[] = [];
  for (const q of [...p.queries.train, ...p.queries.test]) {
    const n = seen.get(q.style) ?? 0;
    if (n >= perStyle) continue;
    seen.set(q.style, n + 1);
    const it = p.dataset.items[q.item];
    rows.push({ style: q.style, query: q.text, item: `${it.title}${it.year ? ` (${it.year})` : ''}` });
  }
  return rows.sort((a, b) => a.style.localeCompare(b.style));
}

/** Split sizes per task. */
export function splitRows(p: PreparedData): { task: string; train: number; valid: number; test: number }[] {
  const trainInteractions = p.rec.train.reduce((n, u) => n + u.items.length, 0);
  return [
    { task: 'recommendation (interactions / examples)', train: trainInteractions, valid: p.rec.valid.length, test: p.rec.test.length },
    { task: 'search (queries)', train: p.queries.train.length, valid: p.queries.valid.length, test: p.queries.test.length },
  ];
}

/** Per bucket: items, training interactions, rec test targets and search test queries. */
export function bucketRows(p: PreparedData): Record<string, number | string>[] {
  return p.buckets.names.map((name, b) => {
    let items = 0;
    let interactions = 0;
    for (let i = 0; i < p.buckets.bucketOf.length; i++) {
      if (p.buckets.bucketOf[i] === b) {
        items++;
        interactions += p.buckets.counts[i];
      }
    }
    return {
      bucket: name,
      items,
      'training interactions': interactions,
      'rec test targets': p.rec.test.filter((e) => p.buckets.bucketOf[e.target] === b).length,
      'search test queries': p.queries.test.filter((q) => p.buckets.bucketOf[q.item] === b).length,
    };
  });
}

/** What was read, dropped and kept, one row per count (from `dataStats`). */
export function countsRows(stats: DataStats): { what: string; count: number }[] {
  return [
    { what: 'movies read', count: stats.read.movies },
    { what: 'ratings read', count: stats.read.ratings },
    { what: 'tags read', count: stats.read.tags },
    { what: 'users read', count: stats.read.users },
    { what: 'ratings dropped below threshold', count: stats.interactions.droppedBelowThreshold },
    { what: 'repeated (user, item) pairs collapsed', count: stats.interactions.droppedDuplicates },
    { what: 'users dropped for short histories', count: stats.interactions.droppedShortUsers },
    { what: 'users dropped by paper-scale sampling', count: stats.interactions.droppedSampledUsers },
    { what: 'items kept', count: stats.items },
    { what: 'users kept', count: stats.users },
    { what: 'interactions kept', count: stats.interactions.kept },
  ];
}

/** Title of the counts table: the data set, and where it was read from (a synthetic one has no path). */
export function countsTitle(stats: DataStats): string {
  if (!stats.source) return `What was read and kept: ${stats.dataset}`;
  const from = stats.source.startsWith('synthetic(') ? 'generated catalogue' : stats.source;
  return `What was read and kept: ${stats.dataset} (${from})`;
}

/** Queries per style and split, the most frequent style in training first. */
export function queryStyleRows(stats: DataStats): Record<string, string | number>[] {
  return Object.entries(stats.queries.perStyle)
    .map(([style, n]) => ({ style, ...n }))
    .sort((a, b) => b.train - a.train);
}
