/**
 * Every baseline row of results.json, in one list: the untrained baselines of lib/baselines's
 * registry (UNTRAINED_BASELINES) and SASRec, trained in its own stage (stageKinds.ts). Collection
 * loops over this list, reading each row's result by the baseline's name.
 */
import { UNTRAINED_BASELINES, type Baseline } from '../baselines/baselines';
import type { TaskResult } from '../eval/summary';

export type BaselineRow = Pick<Baseline, 'name' | 'label' | 'task' | 'lastN'>;

/** Every baseline's result in one context, by name (the untrained ones' and SASRec's). */
export type BaselineResults = Record<string, TaskResult>;

/** SASRec's row; its result is the sasrec stage's. */
export const SASREC_ROW: BaselineRow = { name: 'sasrec', label: 'SASRec', task: 'rec', lastN: true };

/** The real baselines, then SASRec, then the chance-level ones. */
export const BASELINE_ROWS: readonly BaselineRow[] = [...UNTRAINED_BASELINES.filter((b) => !b.chance), SASREC_ROW, ...UNTRAINED_BASELINES.filter((b) => b.chance)];
