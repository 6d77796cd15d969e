/**
 * The paper's tables as lists of experiments. Each table's rows share stages with the others (the
 * multi-task + RQ-KMeans + shared row appears in three tables and is trained once).
 */
import { replicatesOf, specId, type ExperimentSpec } from './stages';

import type { TableName } from '../names';
import { quantizerDefinition, quantizerNames } from '../quantize/quantizer';

export { TABLE_NAMES, type TableName } from '../names';

export interface TableRowSpec {
  /** Row label, as the paper names the method. */
  method: string;
  spec: ExperimentSpec;
}

const rq = 'rq-kmeans' as const;

const TASK_TRADEOFF: TableRowSpec[] = [
  { method: 'Content-based', spec: { embedding: 'content', quantizer: rq, space: 'shared' } },
  { method: 'Search-based (search-tuned)', spec: { embedding: 'search', quantizer: rq, space: 'shared' } },
  { method: 'Rec-based (CF)', spec: { embedding: 'rec', quantizer: rq, space: 'shared' } },
  { method: 'Separate (task-specific IDs)', spec: { embedding: 'separate', quantizer: rq, space: 'separate' } },
  { method: 'Fused Concat', spec: { embedding: 'fused-concat', quantizer: rq, space: 'shared' } },
  { method: 'Fused SVD', spec: { embedding: 'fused-svd', quantizer: rq, space: 'shared' } },
  { method: 'Multi-task', spec: { embedding: 'multitask', quantizer: rq, space: 'shared' } },
];

/** Every quantizer of the registry on the multi-task embeddings, RQ-KMeans first (read when asked: the registry may grow). */
function quantizerRows(): TableRowSpec[] {
  return quantizerNames().map((q) => ({ method: quantizerDefinition(q)!.label, spec: { embedding: 'multitask', quantizer: q, space: 'shared' } }));
}

const SHARED_VS_SEPARATE: TableRowSpec[] = [
  { method: 'Multi-task, shared tokens', spec: { embedding: 'multitask', quantizer: rq, space: 'shared' } },
  { method: 'Multi-task, separate tokens (same codes)', spec: { embedding: 'multitask', quantizer: rq, space: 'separate' } },
  { method: 'Separate embeddings and tokens', spec: { embedding: 'separate', quantizer: rq, space: 'separate' } },
];

/**
 * Beyond the paper: the main comparison again on the leave-last-N-out split, where every user gives
 * N rec test examples (the profile's `lastN`), to separate rows whose leave-last-out rec intervals overlap.
 */
const LAST_N: TableRowSpec[] = [
  { method: 'Search-based (search-tuned)', spec: { embedding: 'search', quantizer: rq, space: 'shared', protocol: 'last-n' } },
  { method: 'Rec-based (CF)', spec: { embedding: 'rec', quantizer: rq, space: 'shared', protocol: 'last-n' } },
  { method: 'Multi-task', spec: { embedding: 'multitask', quantizer: rq, space: 'shared', protocol: 'last-n' } },
];

/** Every method of the other tables, split by popularity bucket. */
function headTorsoRows(): TableRowSpec[] {
  return dedupe([...TASK_TRADEOFF, ...quantizerRows().slice(1)]);
}

export interface TableDefinition {
  rows: TableRowSpec[];
  /** The row every other row is compared with (paired, on the same test examples), if any. */
  reference?: string;
  /** Shown by popularity bucket of the target rather than overall. */
  perBucket: boolean;
  /** The split its rows are trained and tested on, when not the profile's own (baselines follow it). */
  protocol?: ExperimentSpec['protocol'];
}

/**
 * Every table: adding one is its rows, its name in lib/names.ts and an entry here. The rows that
 * follow the quantizer registry are read when asked.
 */
export const TABLE_DEFINITIONS: Record<TableName, TableDefinition> = {
  'task-tradeoff': { rows: TASK_TRADEOFF, reference: 'Multi-task', perBucket: false },
  quantizers: {
    get rows() {
      return quantizerRows();
    },
    reference: quantizerDefinition('rq-kmeans')!.label,
    perBucket: false,
  },
  'shared-vs-separate': { rows: SHARED_VS_SEPARATE, reference: 'Multi-task, shared tokens', perBucket: false },
  'head-torso': {
    get rows() {
      return headTorsoRows();
    },
    perBucket: true,
  },
  'last-n': { rows: LAST_N, reference: 'Multi-task', perBucket: false, protocol: 'last-n' },
};

/** Each table's rows (read from its definition when asked). */
export const TABLES = Object.defineProperties(
  {},
  Object.fromEntries(Object.keys(TABLE_DEFINITIONS).map((t) => [t, { get: () => TABLE_DEFINITIONS[t as TableName].rows, enumerable: true }])),
) as Record<TableName, TableRowSpec[]>;

function key(s: ExperimentSpec): string {
  return specId(s);
}

function dedupe(rows: TableRowSpec[]): TableRowSpec[] {
  const seen = new Set<string>();
  return rows.filter((r) => (seen.has(key(r.spec)) ? false : (seen.add(key(r.spec)), true)));
}

/** A table's rows, only those whose IDs come from one of `embeddings` when it is given (sid reproduce --rows). */
export function tableRows(table: TableName, embeddings?: readonly string[]): TableRowSpec[] {
  return embeddings ? TABLES[table].filter((r) => embeddings.includes(r.spec.embedding)) : TABLES[table];
}

/** The distinct trainings the given tables need, in table order: every replicate of every (selected) row. */
export function experimentsFor(tables: readonly TableName[], replicates: number, embeddings?: readonly string[]): ExperimentSpec[] {
  return dedupe(tables.flatMap((t) => tableRows(t, embeddings))).flatMap((r) => replicatesOf(r.spec, replicates));
}

/**
 * The paper's numbers quoted in the design notes (Recall@30 on its MovieLens25M setup), for the rows
 * that have them. Absolute values are not comparable across data sets; the orderings are.
 */
export const PAPER_RECALL_AT_30: Record<string, { search: number; rec: number }> = {
  'search/rq-kmeans/shared': { search: 0.072, rec: 0.026 },
  'rec/rq-kmeans/shared': { search: 0.004, rec: 0.062 },
  'multitask/rq-kmeans/shared': { search: 0.046, rec: 0.049 },
  'multitask/rq-vae/shared': { search: 0.002, rec: 0.024 },
};
