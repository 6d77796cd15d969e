/** `sid reproduce --executor slurm`: writes the job scripts, submits them (or prints them) and waits. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ArtifactCache } from '../pipeline/cache';
import type { Profile } from '../pipeline/profiles';
import { selectorArgs } from '../pipeline/budget';
import { dryRunText, planSlurmJobs, submitSlurmJobs, waitForSlurmJobs, writeSlurmScripts } from '../pipeline/slurm';
import type { ExperimentSpec } from '../pipeline/stages';
import { onInterrupt, whileWaiting } from '../util/children';
import { projectRoot } from '../util/fs';
import { formatSeconds } from '../util/progress';

export interface SlurmReproduceOptions {
  profile: Profile;
  tables: readonly string[];
  specs: readonly ExperimentSpec[];
  outDir: string;
  notebooks: boolean;
  rerunNotebooks: boolean;
  partition?: string;
  gpusPerTask?: number;
  dryRun: boolean;
  wait: boolean;
}

function log(line: string): void {
  if (process.env.SID_QUIET !== '1') process.stderr.write(line + '\n');
}

/** The lines a dry run prints first: the folders and files a real run would create (nothing is). */
function dryRunCreates(outDir: string, scriptDir: string, cacheDir: string): string {
  const folders = [
    [outDir, 'output: results.json, tables, reports'],
    [scriptDir, 'one sbatch script per job'],
    [path.join(scriptDir, 'logs'), "the tasks' logs"],
    [cacheDir, 'artifact cache, on a folder every node sees'],
  ];
  const lines = folders.map(([dir, what]) => `#   ${dir} (${what})${fs.existsSync(dir) ? ', exists' : ''}`);
  return ['# dry run: nothing created, nothing submitted. A run would write into:', ...lines, ''].join('\n') + '\n';
}

export async function reproduceOnSlurm(o: SlurmReproduceOptions): Promise<number> {
  const t0 = Date.now();
  const root = projectRoot();
  const cacheDir = new ArtifactCache().root;
  const scriptDir = path.join(o.outDir, 'slurm');
  const jobs = planSlurmJobs(o.specs, {
    profile: o.profile.name,
    profileArgs: selectorArgs(o.profile),
    tables: o.tables,
    outDir: o.outDir,
    cacheDir,
    projectRoot: root,
    scriptDir,
    notebooks: o.notebooks,
    rerunNotebooks: o.rerunNotebooks,
    partition: o.partition,
    gpusPerTask: o.gpusPerTask,
  });
  if (o.dryRun) {
    process.stdout.write(dryRunCreates(o.outDir, scriptDir, cacheDir) + dryRunText(jobs));
    return 0;
  }
  writeSlurmScripts(jobs, scriptDir);
  log(`[slurm] scripts in ${scriptDir}; shared cache ${cacheDir} (it and ${root} must be on a folder every node sees)`);
  const ids = submitSlurmJobs(jobs, log);
  if (!o.wait) {
    process.stdout.write(`${[...ids.values()].join(' ')}\n`);
    log(`[slurm] not waiting: results.json appears in ${o.outDir} when job ${ids.get('sid-collect')} ends; scancel ${[...ids.values()].join(' ')} stops them`);
    return 0;
  }
  // SIGINT or SIGTERM while waiting stops the wait (exit 130 / 143) and leaves the jobs to the
  // cluster, which owns them now; say how to stop them.
  const forget = onInterrupt(() => {
    process.stderr.write(`[slurm] stopped waiting; the jobs keep running (scancel ${[...ids.values()].join(' ')} stops them)\n`);
  });
  try {
    await whileWaiting(() => waitForSlurmJobs(jobs, ids, { log, pollMs: Number(process.env.SID_SLURM_POLL_MS ?? 5000) }));
  } finally {
    forget();
  }
  log(`[slurm] done in ${formatSeconds((Date.now() - t0) / 1000)}: ${path.join(o.outDir, 'results.json')} (logs in ${path.join(scriptDir, 'logs')})`);
  return 0;
}
