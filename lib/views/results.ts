/**
 * Tables, figures and computed sentences for the result notebooks (04-07). Conclusions are derived
 * from the numbers, with their intervals, never written in advance.
 */
import type { Figure } from '../display/plot';
import { formatEstimate, pick, type ResultRow } from '../pipeline/results';
import type { ResultsDocument } from '../pipeline/collect';
import { TASKS, type Task } from '../types';
import type { Estimate } from '../util/metrics';
import { PAPER_RECALL_AT_30, TABLES, type TableName } from '../pipeline/tables';
import { specId, type SasRecSelection } from '../pipeline/stages';

const fmt = (r: ResultRow | undefined) => formatEstimate(r, 4);

/** Search and rec Recall@30 (with intervals) per method of a table, beside the paper's values. */
export function recallTable(rows: ResultRow[], table: TableName, metric = 'recall@30'): Record<string, string | number>[] {
  return TABLES[table].map((r) => {
    const paper = PAPER_RECALL_AT_30[specId(r.spec)];
    const s = pick(rows, { table, method: r.method, task: 'search', metric });
    const c = pick(rows, { table, method: r.method, task: 'rec', metric });
    return {
      method: r.method,
      'ID tokens': r.spec.space === 'shared' ? 'shared' : 'separate',
      [`search ${metric}`]: fmt(s),
      [`rec ${metric}`]: fmt(c),
      'paper search R@30': paper ? paper.search : '-',
      'paper rec R@30': paper ? paper.rec : '-',
    };
  });
}

/** Search vs rec recall scatter with 95% interval bars, one point per method. */
export function tradeoffFigure(rows: ResultRow[], table: TableName, title: string, metric = 'recall@30'): Figure {
  const data = TABLES[table].map((r) => {
    const s = pick(rows, { table, method: r.method, task: 'search', metric });
    const c = pick(rows, { table, method: r.method, task: 'rec', metric });
    return {
      type: 'scatter',
      mode: 'markers+text',
      name: r.method,
      x: [s?.value ?? null],
      y: [c?.value ?? null],
      text: [r.method],
      textposition: 'top center',
      error_x: s ? { type: 'data', symmetric: false, array: [s.hi - s.value], arrayminus: [s.value - s.lo] } : undefined,
      error_y: c ? { type: 'data', symmetric: false, array: [c.hi - c.value], arrayminus: [c.value - c.lo] } : undefined,
      marker: { size: 11 },
    };
  });
  return {
    data,
    layout: {
      title: { text: title },
      xaxis: { title: { text: `search ${metric}` }, rangemode: 'tozero' },
      yaxis: { title: { text: `rec ${metric}` }, rangemode: 'tozero' },
      showlegend: false,
      height: 520,
    },
  };
}

/** Recall per popularity bucket for every method: a grouped bar chart per task. */
export function bucketFigure(rows: ResultRow[], table: TableName, task: Task, buckets: string[], metric = 'recall@30'): Figure {
  return {
    data: buckets.map((b) => {
      const vals = TABLES[table].map((r) => pick(rows, { table, method: r.method, task, metric, bucket: b }));
      return {
        type: 'bar',
        name: b,
        x: TABLES[table].map((r) => r.method),
        y: vals.map((v) => v?.value ?? null),
        error_y: { type: 'data', symmetric: false, array: vals.map((v) => (v ? v.hi - v.value : 0)), arrayminus: vals.map((v) => (v ? v.value - v.lo : 0)) },
      };
    }),
    layout: {
      title: { text: `${task}: ${metric} by popularity bucket of the target` },
      barmode: 'group',
      xaxis: { title: { text: 'method' }, tickangle: -30, automargin: true },
      yaxis: { title: { text: metric }, rangemode: 'tozero' },
      legend: { title: { text: 'bucket' } },
      height: 480,
    },
  };
}

export function bucketTable(rows: ResultRow[], table: TableName, buckets: string[], metric = 'recall@30'): Record<string, string | number>[] {
  const out: Record<string, string | number>[] = [];
  for (const r of TABLES[table]) {
    for (const task of TASKS) {
      const row: Record<string, string | number> = { method: r.method, task };
      for (const b of buckets) {
        const v = pick(rows, { table, method: r.method, task, metric, bucket: b });
        row[b] = v ? `${fmt(v)} (n=${v.n})` : '-';
      }
      out.push(row);
    }
  }
  return out;
}

/** Which method is best on a task, and whether its interval clears the runner-up's. */
function bestOn(rows: ResultRow[], table: TableName, task: Task, metric = 'recall@30'): { method: string; value: number; runnerUp: string; separated: boolean } | null {
  const vals = TABLES[table]
    .map((r) => ({ method: r.method, row: pick(rows, { table, method: r.method, task, metric }) }))
    .filter((v): v is { method: string; row: ResultRow } => !!v.row)
    .sort((a, b) => b.row.value - a.row.value);
  if (vals.length < 2) return null;
  return { method: vals[0].method, value: vals[0].row.value, runnerUp: vals[1].method, separated: vals[0].row.lo > vals[1].row.hi };
}

/** A sentence on who wins each task, computed from the rows. */
export function winnersSentence(rows: ResultRow[], table: TableName, metric = 'recall@30'): string {
  const parts: string[] = [];
  for (const task of TASKS) {
    const b = bestOn(rows, table, task, metric);
    if (!b) continue;
    parts.push(
      `On **${task}**, the best ${metric} is **${b.method}** (${b.value.toFixed(4)}); ` +
        (b.separated
          ? `its 95% interval lies above that of the runner-up, ${b.runnerUp}.`
          : `its 95% interval overlaps that of the runner-up, ${b.runnerUp}, so this ordering is not established at this sample size.`),
    );
  }
  return parts.join(' ');
}

/** The paired comparison of a and b in a table (either order), signed as a minus b; undefined when not compared. */
function pairedDifferenceOf(doc: Pick<ResultsDocument, 'comparisons'>, table: TableName, a: string, b: string, task: Task, metric: string): Estimate | undefined {
  for (const c of doc.comparisons ?? []) {
    if (c.table !== table || c.task !== task || c.metric !== metric) continue;
    if (c.a === a && c.b === b) return c.difference;
    if (c.a === b && c.b === a) return { ...c.difference, mean: -c.difference.mean, lo: -c.difference.hi, hi: -c.difference.lo };
  }
  return undefined;
}

function signedInterval(e: Estimate, digits = 4): string {
  const f = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;
  return `${f(e.mean)} [${f(e.lo)}, ${f(e.hi)}]`;
}

/**
 * Compares two methods of a table on one task, as a sentence: by the paired difference on the same
 * test examples (over seeds) where the document has it, else by the two separate intervals.
 */
export function compareSentence(doc: Pick<ResultsDocument, 'rows' | 'comparisons'>, table: TableName, a: string, b: string, task: Task, metric = 'recall@30'): string {
  const ra = pick(doc.rows, { table, method: a, task, metric });
  const rb = pick(doc.rows, { table, method: b, task, metric });
  if (!ra || !rb) return `(${a} or ${b} missing on ${task})`;
  const d = pairedDifferenceOf(doc, table, a, b, task, metric);
  if (d) {
    const verdict = d.lo > 0 ? 'above' : d.hi < 0 ? 'below' : 'not distinguishable from';
    return `${a} on ${task}: ${fmt(ra)}, ${verdict} ${b} (${fmt(rb)}); paired difference ${signedInterval(d)} on the same ${d.n} test examples.`;
  }
  const rel = ra.lo > rb.hi ? 'above' : ra.hi < rb.lo ? 'below' : 'within the interval of';
  return `${a} on ${task}: ${fmt(ra)}, ${rel} ${b} (${fmt(rb)}).`;
}

/** Every paired comparison of a table: its reference row against each other row, per task. */
export function pairedComparisonTable(doc: Pick<ResultsDocument, 'comparisons'>, table: TableName): Record<string, string>[] {
  return (doc.comparisons ?? [])
    .filter((c) => c.table === table)
    .map((c) => ({
      comparison: `${c.a} − ${c.b}`,
      task: c.task,
      [`${c.metric} difference [95% interval]`]: signedInterval(c.difference),
      verdict: c.difference.lo > 0 ? `${c.a} higher` : c.difference.hi < 0 ? `${c.b} higher` : 'not distinguishable',
      seeds: `${c.replicates.a} vs ${c.replicates.b}`,
      'test examples': String(c.difference.n),
    }));
}

/** Whether the multi-task row sits between the single-task extremes on both tasks. */
export function balanceSentence(rows: ResultRow[], table: TableName = 'task-tradeoff'): string {
  const v = (method: string, task: Task) => pick(rows, { table, method, task })?.value;
  const mS = v('Multi-task', 'search');
  const mR = v('Multi-task', 'rec');
  const sS = v('Search-based (search-tuned)', 'search');
  const sR = v('Search-based (search-tuned)', 'rec');
  const rS = v('Rec-based (CF)', 'search');
  const rR = v('Rec-based (CF)', 'rec');
  if ([mS, mR, sS, sR, rS, rR].some((x) => x === undefined)) return '';
  const searchShare = (mS! - rS!) / Math.max(1e-9, sS! - rS!);
  const recShare = (mR! - sR!) / Math.max(1e-9, rR! - sR!);
  return (
    `Multi-task keeps ${(100 * searchShare).toFixed(0)}% of the search-based model's search advantage over rec-based IDs ` +
    `and ${(100 * recShare).toFixed(0)}% of the rec-based model's rec advantage over search-based IDs ` +
    `(100% = as good as the specialist, 0% = as poor as the other task's specialist).`
  );
}

/** Embedding-level dense retrieval of every strategy (the reference for the generative numbers). */
export function denseTable(rows: ResultRow[], metric = 'recall@30'): Record<string, string>[] {
  const strategies = [...new Set(rows.filter((r) => r.table === 'embeddings').map((r) => r.method))];
  return strategies.map((s) => ({
    embedding: s,
    [`search ${metric}`]: pick(rows, { table: 'embeddings', method: s, task: 'search', metric }) ? fmt(pick(rows, { table: 'embeddings', method: s, task: 'search', metric })) : 'n/a (no text side)',
    [`rec ${metric}`]: fmt(pick(rows, { table: 'embeddings', method: s, task: 'rec', metric })),
  }));
}

/** BM25, popularity and random baselines beside each other. */
export function baselineTable(rows: ResultRow[], metric = 'recall@30'): Record<string, string>[] {
  const methods = [...new Set(rows.filter((r) => r.table === 'baselines').map((r) => r.method))];
  return methods.map((m) => ({
    baseline: m,
    [`search ${metric}`]: fmt(pick(rows, { table: 'baselines', method: m, task: 'search', metric })),
    [`rec ${metric}`]: fmt(pick(rows, { table: 'baselines', method: m, task: 'rec', metric })),
  }));
}

/** The baselines' recall per popularity bucket of the target (each row: one baseline on one task). */
export function baselineBucketTable(rows: ResultRow[], buckets: string[], metric = 'recall@30'): Record<string, string>[] {
  const inTable = rows.filter((r) => r.table === 'baselines' && r.bucket === 'all' && r.metric === metric);
  return inTable.map((r) => {
    const out: Record<string, string> = { baseline: r.method, task: r.task };
    for (const b of buckets) {
      const v = pick(rows, { table: 'baselines', method: r.method, task: r.task, metric, bucket: b });
      out[b] = v ? `${fmt(v)} (n=${v.n})` : '-';
    }
    return out;
  });
}

/** The settings the tuned baselines were run with, and the validation recall that chose them. */
export function baselineSelectionRows(sel: ResultsDocument['baselineSelection'] | undefined): Record<string, string>[] {
  if (!sel) return [];
  return [
    { baseline: 'Co-occurrence', chosen: `last ${sel.cooccurrence.chosen.lastItems} items, decay ${sel.cooccurrence.chosen.decay}`, [`validation ${sel.cooccurrence.metric}`]: sel.cooccurrence.validRecall.toFixed(4), 'settings tried': String(sel.cooccurrence.grid.length) },
    {
      baseline: 'Item-kNN',
      chosen: `${sel.itemKnn.chosen.neighbours} neighbours, ${sel.itemKnn.chosen.recentItems === 0 ? 'whole history' : `last ${sel.itemKnn.chosen.recentItems} items`}`,
      [`validation ${sel.itemKnn.metric}`]: sel.itemKnn.validRecall.toFixed(4),
      'settings tried': String(sel.itemKnn.grid.length),
    },
    ...(sel.sasrec
      ? [
          {
            baseline: 'SASRec',
            chosen: sasrecSetting(sel.sasrec.chosen),
            [`validation ${sel.sasrec.metric}`]: sel.sasrec.validRecall.toFixed(4),
            'settings tried': String(sel.sasrec.grid.length),
          },
        ]
      : []),
  ];
}

const sasrecSetting = (p: SasRecSelection['chosen']) => `lr ${p.learningRate}, dropout ${p.dropout}, width ${p.dim}`;

/** SASRec's grid on validation: each setting's best validation recall, its best epoch and how long it trained. */
export function sasrecGridTable(doc: ResultsDocument): Record<string, string | number>[] {
  const sel = doc.baselineSelection?.sasrec;
  if (!sel) return [];
  return sel.grid.map((g) => ({
    setting: sasrecSetting(g.params),
    [`best validation ${sel.metric}`]: g.validRecall.toFixed(4),
    'best epoch': g.bestEpoch + 1,
    epochs: g.epochs,
    chosen: JSON.stringify(g.params) === JSON.stringify(sel.chosen) ? 'yes' : '',
  }));
}

/** SASRec's validation recall per epoch: every setting of its grid, and each seed of the chosen one. */
export function sasrecCurvesFigure(doc: ResultsDocument): Figure | null {
  const sel = doc.baselineSelection?.sasrec;
  if (!sel) return null;
  const line = (name: string, ys: number[], dash?: string) => ({ type: 'scatter', mode: 'lines', name, x: ys.map((_, i) => i + 1), y: ys, line: dash ? { dash } : undefined });
  const data = [
    ...sel.grid.map((g) => line(`grid: ${sasrecSetting(g.params)}`, g.curve)),
    ...(doc.sasrecRuns ?? []).slice(1).map((r) => line(`chosen, seed ${r.seed}`, r.validRecall, 'dot')),
  ];
  return {
    data,
    layout: {
      title: { text: `SASRec: validation ${sel.metric} per epoch` },
      xaxis: { title: { text: 'epoch' } },
      yaxis: { title: { text: `validation ${sel.metric}` }, rangemode: 'tozero' },
      height: 460,
    },
  };
}

/** The strongest rec baseline (by test recall) with its interval, as a sentence, for comparing rows against it. */
export function strongestRecBaselineSentence(rows: ResultRow[], metric = 'recall@30'): string {
  const recs = rows.filter((r) => r.table === 'baselines' && r.task === 'rec' && r.bucket === 'all' && r.metric === metric && r.method !== 'Random');
  if (recs.length === 0) return '';
  const best = recs.reduce((a, b) => (b.value > a.value ? b : a));
  return `The strongest rec baseline here is **${best.method}**, ${metric} ${fmt(best)} on ${best.n} test users; a generative row is above it only where its interval lies above this one.`;
}

/** The generative rows of a table followed by the baselines collected beside them (the last-n table). */
export function rowsWithBaselines(rows: ResultRow[], table: TableName, metric = 'recall@30'): Record<string, string>[] {
  const generative = TABLES[table].map((r) => ({ method: r.method, model: 'generative' }));
  const baselines = [...new Set(rows.filter((r) => r.table === table && r.model === 'baseline').map((r) => r.method))].map((m) => ({ method: m, model: 'baseline' }));
  return [...generative, ...baselines].map(({ method, model }) => ({
    method,
    model,
    [`search ${metric}`]: fmt(pick(rows, { table, method, task: 'search', metric })),
    [`rec ${metric}`]: fmt(pick(rows, { table, method, task: 'rec', metric })),
  }));
}

/** The trainings of one table row (every seed), from results.json's `experiments`. */
function rowTrainings(doc: ResultsDocument, rowId: string): ResultsDocument['experiments'] {
  return (doc.experiments ?? []).filter((e) => e.id === rowId || (e.id.startsWith(`${rowId}/r`) && /^r[0-9]+$/.test(e.id.slice(rowId.length + 1))));
}

/**
 * Per epoch, the mean over a row's seeds of validation Recall@30 of `task` and of the examples seen;
 * an epoch counts the seeds that trained it.
 */
export function meanCurve(trainings: ResultsDocument['experiments'], task: Task): { examples: number[]; recall: (number | null)[]; seeds: number[] } {
  const longest = Math.max(0, ...trainings.map((t) => t.curve?.length ?? 0));
  const out = { examples: [] as number[], recall: [] as (number | null)[], seeds: [] as number[] };
  for (let e = 0; e < longest; e++) {
    const pts = trainings.map((t) => t.curve?.[e]).filter((p) => p !== undefined);
    const vals = pts.map((p) => p[task]).filter((v): v is number => v !== null);
    out.examples.push(pts.reduce((s, p) => s + p.examples, 0) / pts.length);
    out.recall.push(vals.length ? vals.reduce((s, v) => s + v, 0) / vals.length : null);
    out.seeds.push(pts.length);
  }
  return out;
}

/** Learning curves of a table's rows: validation Recall@30 of `task` against training examples seen, mean over seeds. */
export function learningCurvesFigure(doc: ResultsDocument, table: TableName, task: Task): Figure {
  const data = TABLES[table].map((r) => {
    const c = meanCurve(rowTrainings(doc, specId(r.spec)), task);
    return {
      type: 'scatter',
      mode: 'lines+markers',
      name: r.method,
      x: c.examples.map((x) => x / 1000),
      y: c.recall,
      text: c.seeds.map((n) => `${n} seed(s)`),
      marker: { size: 5 },
    };
  });
  return {
    data,
    layout: {
      title: { text: `Validation ${task} Recall@30 while training (mean over seeds)` },
      xaxis: { title: { text: 'training examples seen (thousands)' }, rangemode: 'tozero' },
      yaxis: { title: { text: `validation ${task} Recall@30` }, rangemode: 'tozero' },
      legend: { orientation: 'h', x: 0, y: -0.22, yanchor: 'top' },
      margin: { b: 110 },
      height: 460,
    },
  };
}

/** Per row of a table: how its trainings ended (plateau rule or cap), their epochs and best epochs. */
export function stoppingTable(doc: ResultsDocument, table: TableName): Record<string, string | number>[] {
  return TABLES[table].map((r) => {
    const ts = rowTrainings(doc, specId(r.spec));
    const plateau = ts.filter((t) => t.stop === 'plateau').length;
    return {
      method: r.method,
      trainings: ts.length,
      'ended on the plateau rule': `${plateau} of ${ts.length}`,
      epochs: ts.map((t) => t.epochs).join(', '),
      'best epoch': ts.map((t) => t.bestEpoch + 1).join(', '),
    };
  });
}

/**
 * Each generative row of a table against BM25 and against the dense search of its own embedding, on
 * the row's own sampled test queries: Recall@30 per query style, paired.
 */
export function searchPairsTable(doc: ResultsDocument, table: TableName): Record<string, string | number>[] {
  const e = (x: Estimate) => `${x.mean.toFixed(3)} [${x.lo.toFixed(3)}, ${x.hi.toFixed(3)}]`;
  return TABLES[table].flatMap((r) => {
    const of = (against: 'bm25' | 'dense') => (doc.searchPairs ?? []).find((p) => p.id === specId(r.spec) && p.against === against);
    const [bm25, dense] = [of('bm25'), of('dense')];
    if (!bm25) return [];
    return bm25.pairs.map((p) => {
      const d = dense?.pairs.find((x) => x.style === p.style);
      return {
        method: r.method,
        'query style': p.style,
        queries: p.n,
        generative: e(p.model),
        BM25: e(p.baseline),
        'generative - BM25': e(p.difference),
        'dense (own embedding)': d ? e(d.baseline) : '-',
        'generative - dense': d ? e(d.difference) : '-',
      };
    });
  });
}
