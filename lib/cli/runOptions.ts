/**
 * Options shared by the commands that run stages: the profile (--profile, --budget, --dataset-dir, --queries,
 * --content-model),
 * the tables (--tables), and the one-line description of the backend a run reports.
 */
import type { BackendInfo } from '../backend/index';
import { selectProfile } from '../pipeline/budget';
import type { Profile } from '../pipeline/profiles';
import { TABLE_NAMES, type TableName } from '../pipeline/tables';
import { UsageError } from './args';

export const PROFILE_OPTIONS = ['profile', 'budget', 'dataset-dir', 'queries', 'content-model'] as const;

/** The profile the options name; a bad value is a usage error naming its option. */
export function profileOf(options: Record<string, string | undefined>): Profile {
  try {
    return selectProfile({
      name: options.profile, budget: options.budget, datasetDir: options['dataset-dir'], queries: options.queries, contentModel: options['content-model'],
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The tables a --tables value names (default every table). */
export function parseTables(value: string | undefined): TableName[] {
  const tables = (value ? value.split(',') : [...TABLE_NAMES]) as TableName[];
  for (const t of tables) {
    if (!TABLE_NAMES.includes(t)) throw new UsageError(`--tables: unknown table "${t}" (known: ${TABLE_NAMES.join(', ')})`);
  }
  return tables;
}

/** "wasm, 2 thread(s) with native kernels (2 BLAS threads)": what a measurement ran on. */
export function backendSummary(b: BackendInfo): string {
  const kernels = b.native?.kernels.length ? ` with native kernels (${b.native.threads ?? 1} BLAS threads)` : '';
  return `${b.name}, ${b.threads} thread(s)${kernels}`;
}
