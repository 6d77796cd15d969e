/** Tables and figures about item embeddings (notebook 01). */
import { l2NormalizeRows } from '../util/vectors';
import type { Figure } from '../display/plot';
import { denseOperator, randomizedSvd } from '../embed/svd';
import type { PreparedData, Task } from '../types';
import type { StoredEmbedding } from '../pipeline/stages';
import type { Estimate } from '../util/metrics';
import { towerChoiceOf } from '../pipeline/towerChoice';

const f = (e: Estimate | undefined) => (e ? `${e.mean.toFixed(4)} [${e.lo.toFixed(4)}, ${e.hi.toFixed(4)}]` : 'n/a');

/** Dense retrieval Recall@30 (overall and per bucket) for each strategy. */
export function embeddingTable(embs: StoredEmbedding[], buckets: string[], metric = 'recall@30'): Record<string, string | number>[] {
  return embs.map((e) => {
    const r = e.retrieval;
    const row: Record<string, string | number> = { strategy: e.strategy, dimensions: e.dim };
    row[`search ${metric}`] = r.search ? f(r.search.overall[metric]) : 'n/a (no text side)';
    row[`rec ${metric}`] = f(r.rec.overall[metric]);
    for (const b of buckets) {
      row[`search ${b}`] = r.search ? f(r.search.byBucket[b]?.[metric]) : 'n/a';
      row[`rec ${b}`] = f(r.rec.byBucket[b]?.[metric]);
    }
    return row;
  });
}

/** Search vs rec dense-retrieval recall per strategy (strategies without search sit at x = 0). */
export function embeddingScatter(embs: StoredEmbedding[], metric = 'recall@30'): Figure {
  const maxSearch = Math.max(0.01, ...embs.map((e) => e.retrieval.search?.overall[metric].hi ?? 0));
  return {
    data: embs.map((e) => {
      const s = e.retrieval.search?.overall[metric];
      const r = e.retrieval.rec.overall[metric];
      return {
        type: 'scatter',
        mode: 'markers+text',
        name: e.strategy,
        text: [e.strategy],
        textposition: 'top center',
        x: [s?.mean ?? 0],
        y: [r.mean],
        error_x: s ? { type: 'data', symmetric: false, array: [s.hi - s.mean], arrayminus: [s.mean - s.lo] } : undefined,
        error_y: { type: 'data', symmetric: false, array: [r.hi - r.mean], arrayminus: [r.mean - r.lo] },
        marker: { size: 11 },
        cliponaxis: false,
      };
    }),
    layout: {
      title: { text: `Embedding-level dense retrieval: search vs rec ${metric} (95% intervals)` },
      // A little room left of 0, where strategies without a query encoder sit.
      xaxis: { title: { text: `search ${metric} (0 = no query encoder)` }, range: [-0.04 * maxSearch, 1.06 * maxSearch] },
      yaxis: { title: { text: `rec ${metric}` }, rangemode: 'tozero' },
      showlegend: false,
      height: 480,
    },
  };
}

/** First two principal components of the (L2-normalised) item vectors. */
function project2d(e: StoredEmbedding, seed = 1): { x: Float64Array; y: Float64Array } {
  const n = e.vectors.length / e.dim;
  const centred = new Float64Array(n * e.dim);
  const mean = new Float64Array(e.dim);
  const unit = l2NormalizeRows(e.vectors.slice(), e.dim);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < e.dim; j++) {
      centred[i * e.dim + j] = unit[i * e.dim + j];
      mean[j] += centred[i * e.dim + j] / n;
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < e.dim; j++) centred[i * e.dim + j] -= mean[j];
  const svd = randomizedSvd(denseOperator(centred, n, e.dim), 2, { seed });
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = svd.u[i * 2] * svd.s[0];
    y[i] = svd.u[i * 2 + 1] * svd.s[1];
  }
  return { x, y };
}

/** Plotly's default colours without its grey, which would read as the grey "other" group. */
const GROUP_COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#bcbd22', '#17becf'];

/** 2-D projection coloured by the item's first genre (top 8 genres, the rest grey) or by popularity bucket. */
export function projectionFigure(e: StoredEmbedding, data: PreparedData, colourBy: 'genre' | 'popularity', maxPoints = 3000): Figure {
  const { x, y } = project2d(e);
  const n = x.length;
  const step = Math.max(1, Math.ceil(n / maxPoints));
  const groupOf = (i: number): string => {
    if (colourBy === 'popularity') return data.buckets.names[data.buckets.bucketOf[i]];
    return data.dataset.items[i].genres[0] ?? '(none)';
  };
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) counts.set(groupOf(i), (counts.get(groupOf(i)) ?? 0) + 1);
  const top = new Set([...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([g]) => g));
  const groups = new Map<string, { x: number[]; y: number[]; text: string[] }>();
  for (let i = 0; i < n; i += step) {
    const g = top.has(groupOf(i)) ? groupOf(i) : 'other';
    if (!groups.has(g)) groups.set(g, { x: [], y: [], text: [] });
    const p = groups.get(g)!;
    p.x.push(x[i]);
    p.y.push(y[i]);
    p.text.push(data.dataset.items[i].title);
  }
  // Legend order: buckets head to tail, genres by item count; the grey "other" last.
  const rank = (g: string) => (g === 'other' ? Infinity : colourBy === 'popularity' ? data.buckets.names.indexOf(g) : -(counts.get(g) ?? 0));
  const ordered = [...groups.entries()].sort((a, b) => rank(a[0]) - rank(b[0]) || a[0].localeCompare(b[0]));
  return {
    data: ordered.map(([g, p], i) => ({
      type: 'scattergl',
      mode: 'markers',
      name: g,
      x: p.x,
      y: p.y,
      text: p.text,
      marker: { size: 4, opacity: 0.7, color: g === 'other' ? '#c7c7c7' : GROUP_COLOURS[i % GROUP_COLOURS.length] },
    })),
    layout: {
      title: { text: `${e.strategy} embeddings: first two principal components, coloured by ${colourBy === 'genre' ? 'first genre' : 'popularity bucket'}` },
      height: 460,
      xaxis: { title: { text: 'first principal component' }, zeroline: false },
      yaxis: { title: { text: 'second principal component' }, zeroline: false },
      legend: { title: { text: colourBy === 'genre' ? 'first genre' : 'popularity bucket' }, itemsizing: 'constant' },
    },
  };
}

/** The strategy with the highest dense Recall@30 on a task (strategies without a query encoder skip search). */
export function bestStrategy(embs: readonly StoredEmbedding[], task: Task, metric = 'recall@30'): string {
  const score = (e: StoredEmbedding) => (task === 'search' ? e.retrieval.search?.overall[metric].mean : e.retrieval.rec.overall[metric].mean);
  const ranked = embs.filter((e) => score(e) !== undefined).sort((a, b) => score(b)! - score(a)!);
  if (!ranked.length) throw new Error(`bestStrategy: no strategy has ${task} ${metric}`);
  return ranked[0].strategy;
}

/**
 * The bi-encoder tower chosen on the validation split (option towerChoice): one row per strategy and
 * candidate tower with its validation Recall@30 per task, the rule's score and whether it was kept.
 * Empty when no strategy chose its tower.
 */
export function towerChoiceTable(embs: readonly StoredEmbedding[]): Record<string, string>[] {
  const v = (x: number | null) => (x === null ? 'n/a' : x.toFixed(4));
  return embs.flatMap((e) => {
    const c = towerChoiceOf(e.info);
    if (!c) return [];
    return c.candidates.map((k) => ({
      strategy: e.strategy,
      tower: k.tower,
      [`valid search ${c.metric}`]: v(k.valid.search),
      [`valid rec ${c.metric}`]: v(k.valid.rec),
      'rule score': v(k.score),
      rule: c.rule,
      kept: k.chosen ? 'yes' : '',
    }));
  });
}

/** One sentence per bi-encoder strategy: the tower it kept and why, or the tower its profile fixes. */
export function towerChoiceSentences(embs: readonly StoredEmbedding[], strategies: readonly string[] = ['search', 'multitask']): string {
  return strategies
    .map((s) => {
      const e = embs.find((x) => x.strategy === s);
      if (!e) return `**${s}**: not built.`;
      const c = towerChoiceOf(e.info);
      if (!c) {
        const tower = (e.info.method as string | undefined) === 'pretrained-adapter-biencoder' ? 'pretrained-adapter' : 'hashed';
        return `**${s}**: the ${tower} tower, as the profile sets it (no tower choice).`;
      }
      const kept = c.candidates.find((k) => k.chosen)!;
      const other = c.candidates.find((k) => !k.chosen)!;
      const tie = kept.score === other.score ? ' (a tie, which keeps the hashed tower)' : '';
      return `**${s}**: kept the **${kept.tower}** tower, rule score ${kept.score.toFixed(4)} against ${other.score.toFixed(4)} for ${other.tower}${tie}; rule: ${c.rule}, on the validation split.`;
    })
    .join('\n\n');
}
