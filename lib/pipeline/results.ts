/**
 * Flat result rows: every number a table shows, in one shape, for `results.json`, `results.md` and
 * the notebooks. One row = (table, method, configuration, task, metric, bucket) -> value + interval.
 */
import { TASKS, type Task } from '../types';
import type { Estimate } from '../util/metrics';
import type { RetrievalReport, TaskResult } from '../eval/retrieval';
import type { ExperimentSpec } from './stages';
import { TABLE_DEFINITIONS, type TableName } from './tables';


export interface ResultRow {
  /** Table the row belongs to ("task-tradeoff", "quantizers", "shared-vs-separate", "head-torso", "embeddings", "baselines"). */
  table: string;
  /** Method label as the table shows it. */
  method: string;
  /** Embedding strategy ("content", "search", "rec", "separate", "fused-concat", "fused-svd", "multitask"), or the baseline's name. */
  embedding: string;
  /** Tokenizer, or null for rows without Semantic IDs. */
  quantizer: string | null;
  /** "shared" or "separate" ID tokens, or null for rows without Semantic IDs. */
  space: string | null;
  /** What produced the ranking: the generative model, dense retrieval over the embedding, or a baseline. */
  model: 'generative' | 'dense' | 'baseline';
  task: Task;
  /** "recall@30", "ndcg@10", ... */
  metric: string;
  value: number;
  /** 95% bootstrap interval. */
  lo: number;
  hi: number;
  /** Test examples behind the value. */
  n: number;
  /** "all" or a popularity bucket name ("head", "torso", "tail"). */
  bucket: string;
  /**
   * Generative rows trained with several seeds: each training's value (`value` is their mean and the
   * interval covers seeds and test sampling together). Overall rows only.
   */
  replicates?: number[];
}

function row(base: Omit<ResultRow, 'metric' | 'value' | 'lo' | 'hi' | 'n' | 'bucket'>, metric: string, bucket: string, e: Estimate, replicates?: number[]): ResultRow {
  const r: ResultRow = { ...base, metric, bucket, value: e.mean, lo: e.lo, hi: e.hi, n: e.n };
  return replicates ? { ...r, replicates } : r;
}

/** Rows of one generative table row (its replicates summarised): every metric, overall and per bucket, for both tasks. */
export function experimentRows(table: string, method: string, spec: ExperimentSpec, summary: Record<Task, TaskResult>, buckets = true): ResultRow[] {
  const out: ResultRow[] = [];
  for (const task of TASKS) {
    const t = summary[task];
    const base = { table, method, embedding: spec.embedding, quantizer: spec.quantizer, space: spec.space, model: 'generative' as const, task };
    for (const [metric, e] of Object.entries(t.overall)) {
      out.push(row(base, metric, 'all', e, t.replicates?.[metric]));
      if (buckets) for (const [b, set] of Object.entries(t.byBucket)) out.push(row(base, metric, b, set[metric]));
    }
  }
  return out;
}

/** A paired comparison of two rows of one table on the same test examples (both over their seeds). */
export interface RowComparison {
  table: string;
  /** The table's reference row (TableDefinition.reference) and the row compared with it. */
  a: string;
  b: string;
  task: Task;
  metric: string;
  /** a minus b, per test example, with the two-way bootstrap over examples and seeds. */
  difference: Estimate;
  replicates: { a: number; b: number };
}

/** Rows of the embedding-level dense retrieval of one strategy. */
export function retrievalRows(table: string, method: string, report: RetrievalReport): ResultRow[] {
  const out: ResultRow[] = [];
  for (const task of TASKS) {
    const t = report[task];
    if (!t) continue;
    const base = { table, method, embedding: report.strategy, quantizer: null, space: null, model: 'dense' as const, task };
    for (const [metric, e] of Object.entries(t.overall)) out.push(row(base, metric, 'all', e));
    for (const [b, set] of Object.entries(t.byBucket)) for (const [metric, e] of Object.entries(set)) out.push(row(base, metric, b, e));
  }
  return out;
}

/** Rows of a non-generative baseline on one task (in the baselines table, or beside the rows of another). */
export function baselineRows(method: string, task: Task, t: TaskResult, table = 'baselines'): ResultRow[] {
  const out: ResultRow[] = [];
  const base = { table, method, embedding: method.toLowerCase(), quantizer: null, space: null, model: 'baseline' as const, task };
  for (const [metric, e] of Object.entries(t.overall)) out.push(row(base, metric, 'all', e));
  for (const [b, set] of Object.entries(t.byBucket)) for (const [metric, e] of Object.entries(set)) out.push(row(base, metric, b, e));
  return out;
}

/** Finds one value: the row of (method, task, metric, bucket) in a table. */
export function pick(rows: ResultRow[], q: { table?: string; method?: string; embedding?: string; quantizer?: string; space?: string; model?: string; task: Task; metric?: string; bucket?: string }): ResultRow | undefined {
  return rows.find(
    (r) =>
      (q.table === undefined || r.table === q.table) &&
      (q.method === undefined || r.method === q.method) &&
      (q.embedding === undefined || r.embedding === q.embedding) &&
      (q.quantizer === undefined || r.quantizer === q.quantizer) &&
      (q.space === undefined || r.space === q.space) &&
      (q.model === undefined || r.model === q.model) &&
      r.task === q.task &&
      r.metric === (q.metric ?? 'recall@30') &&
      r.bucket === (q.bucket ?? 'all'),
  );
}

/** `value [lo, hi]`, and for a row over several seeds their count and standard deviation. */
export function formatEstimate(r: ResultRow | undefined, digits = 4): string {
  if (!r) return '-';
  const base = `${r.value.toFixed(digits)} [${r.lo.toFixed(digits)}, ${r.hi.toFixed(digits)}]`;
  return r.replicates && r.replicates.length > 1 ? `${base} (${r.replicates.length} seeds, sd ${standardDeviation(r.replicates).toFixed(digits)})` : base;
}

/** Sample standard deviation (n - 1). */
function standardDeviation(values: number[]): number {
  if (values.length < 2) return 0;
  const m = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1));
}

/** Markdown: one table per results table, Recall@30 with intervals for both tasks (overall). */
export function resultsMarkdown(rows: ResultRow[], title: string): string {
  const tables = [...new Set(rows.map((r) => r.table))];
  const parts = [
    `# ${title}`,
    '',
    'Recall@30 with 95% bootstrap intervals; a generative row is the mean of its trainings (seeds), its interval covers seeds and test sampling together. `results.json` holds every metric and bucket.',
    '',
  ];
  for (const t of tables) {
    const inTable = rows.filter((r) => r.table === t);
    const methods = [...new Set(inTable.map((r) => r.method))];
    const buckets = [...new Set(inTable.map((r) => r.bucket))];
    const perBucket = TABLE_DEFINITIONS[t as TableName]?.perBucket ?? false;
    parts.push(`## ${t}`, '');
    if (perBucket) {
      const cols = buckets.filter((b) => b !== 'all');
      parts.push(`| method | task | ${cols.join(' | ')} |`, `|---|---|${cols.map(() => '---').join('|')}|`);
      for (const m of methods) {
        for (const task of TASKS) {
          parts.push(`| ${m} | ${task} | ${cols.map((b) => formatEstimate(pick(inTable, { method: m, task, bucket: b }))).join(' | ')} |`);
        }
      }
    } else {
      parts.push('| method | model | search R@30 | rec R@30 |', '|---|---|---|---|');
      for (const m of methods) {
        const model = inTable.find((r) => r.method === m)?.model ?? '';
        parts.push(`| ${m} | ${model} | ${formatEstimate(pick(inTable, { method: m, task: 'search' }))} | ${formatEstimate(pick(inTable, { method: m, task: 'rec' }))} |`);
      }
    }
    parts.push('');
  }
  return parts.join('\n');
}
