/**
 * Every baseline row of results.json, in one list: its label, its task, which stage's result holds
 * it, and whether the leave-last-N-out table repeats it on its own split. Collection loops over
 * this list; adding a baseline is its module in lib/baselines, its stage (an untrained one joins
 * `evaluateBaselines`, a trained one is a stage kind of stageKinds.ts) and an entry here.
 */
import type { BaselineReport } from '../baselines/baselines';
import type { TaskResult } from '../eval/summary';
import type { Task } from '../types';
import type { StoredSasRec } from './stages';

/** The stored results baseline rows are read from. */
export interface BaselineResults {
  untrained: BaselineReport;
  sasrec: StoredSasRec;
}

export interface BaselineRow {
  /** The method's name in tables and figures. */
  label: string;
  task: Task;
  result(r: BaselineResults): TaskResult;
  /** Also a row of the last-n table (the rec baselines that read a user's history). */
  lastN: boolean;
}

export const BASELINE_ROWS: readonly BaselineRow[] = [
  { label: 'BM25', task: 'search', result: (r) => r.untrained.bm25, lastN: false },
  { label: 'Popularity', task: 'rec', result: (r) => r.untrained.popularity, lastN: true },
  { label: 'Co-occurrence', task: 'rec', result: (r) => r.untrained.cooccurrence, lastN: true },
  { label: 'Item-kNN', task: 'rec', result: (r) => r.untrained.itemKnn, lastN: true },
  { label: 'SASRec', task: 'rec', result: (r) => r.sasrec.result, lastN: true },
  { label: 'Random', task: 'search', result: (r) => r.untrained.random.search, lastN: false },
  { label: 'Random', task: 'rec', result: (r) => r.untrained.random.rec, lastN: false },
];
