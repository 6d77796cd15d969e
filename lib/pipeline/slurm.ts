/**
 * `sid reproduce --executor slurm`: the pipeline as Slurm jobs that share one artifact cache.
 *
 *   one array job per wave of stage kinds (stageKinds.ts), each task `sid run-stage <kind> <arg>`:
 *     sid-embeddings  every embedding strategy (the fused ones together, since they build their
 *                     search and rec parts in memory) and the baselines, SASRec included
 *     sid-ids         every (embedding, quantizer) ID set the experiments need; afterok the first
 *   sid-train         array: every experiment (`sid run-config <spec id>`); afterok the last wave
 *   sid-collect       one job: `sid reproduce --executor local` with everything cached, which writes
 *                     results.json and executes the notebooks; afterok sid-train
 *
 * The cache's per-key locks (cache.ts) make concurrent tasks safe: two tasks that need one artifact
 * build it once. `--kill-on-invalid-dep=yes` cancels what follows a failed task instead of leaving
 * it pending for ever, and the waiting side reports the failed task with the end of its log.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/fs';
import { sharedStageInstances } from './stageKinds';
import { specId, type ExperimentSpec } from './stages';

export interface SlurmPlanOptions {
  profile: string;
  /** Arguments that select the profile in each task (default `--profile <profile>`; budget.ts selectorArgs). */
  profileArgs?: string[];
  tables: readonly string[];
  /** Where the final job writes results.json and the reports. */
  outDir: string;
  /** The shared artifact cache (SID_CACHE_DIR of every task). */
  cacheDir: string;
  /** The checkout the tasks run from (on a folder every node sees). */
  projectRoot: string;
  /** Where the scripts and the job logs go. */
  scriptDir: string;
  notebooks: boolean;
  rerunNotebooks: boolean;
  partition?: string;
  gpusPerTask?: number;
  /** Node binary on the compute nodes (default: this one). */
  node?: string;
}

export interface SlurmTask {
  label: string;
  /** `sid` arguments. */
  args: string[];
}

export interface SlurmJob {
  name: string;
  /** Script file. */
  file: string;
  /** Job this one waits for (afterok), by name. */
  after: string | null;
  tasks: SlurmTask[];
  /** An array job (one task per entry of `tasks`), or a single job. */
  array: boolean;
  script: string;
}

/** Single-quoted for bash. */
function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=,@+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** One array job's tasks: every instance of the stage kinds of one wave, then the trainings. */
export interface SlurmStage {
  job: string;
  tasks: SlurmTask[];
}

/** The array jobs of these experiments, in submission order: one per wave of stage kinds, then the trainings. */
export function slurmStages(specs: readonly ExperimentSpec[], profile: string | string[]): SlurmStage[] {
  const p = typeof profile === 'string' ? ['--profile', profile] : profile;
  const waves = new Map<number, SlurmStage>();
  for (const { kind, group } of sharedStageInstances(specs)) {
    let wave = waves.get(kind.wave);
    if (!wave) waves.set(kind.wave, (wave = { job: kind.slurmJob, tasks: [] }));
    const arg = group.join(',');
    wave.tasks.push({ label: kind.label(arg), args: ['run-stage', ...p, kind.name, ...(arg ? [arg] : [])] });
  }
  const train = { job: 'sid-train', tasks: specs.map((s) => ({ label: `train ${specId(s)}`, args: ['run-config', ...p, specId(s)] })) };
  return [...[...waves.keys()].sort((a, b) => a - b).map((w) => waves.get(w)!), train];
}

/** The array jobs, each after the one before, and one collecting job, with their scripts (nothing is written). */
export function planSlurmJobs(specs: readonly ExperimentSpec[], o: SlurmPlanOptions): SlurmJob[] {
  const profileArgs = o.profileArgs ?? ['--profile', o.profile];
  const stages = slurmStages(specs, profileArgs);
  const collectArgs = ['reproduce', '--executor', 'local', ...profileArgs, '--tables', o.tables.join(','), '--out', o.outDir];
  if (!o.notebooks) collectArgs.push('--no-notebooks');
  if (o.rerunNotebooks) collectArgs.push('--rerun-notebooks');
  const defs: Array<Omit<SlurmJob, 'file' | 'script'> & { threads?: string }> = stages.map((st, i) => ({
    name: st.job,
    after: i === 0 ? null : stages[i - 1].job,
    tasks: st.tasks,
    array: true,
    // One thread per training unless the job has more CPUs, as the local workers run.
    ...(st.job === 'sid-train' ? { threads: '${SID_THREADS:-${SLURM_CPUS_PER_TASK:-1}}' } : {}),
  }));
  defs.push({ name: 'sid-collect', after: stages.at(-1)!.job, tasks: [{ label: 'collect results and notebooks', args: [...collectArgs, '--jobs', '${SLURM_CPUS_PER_TASK:-1}'] }], array: false });
  return defs.map((d) => {
    const file = path.join(o.scriptDir, `${d.name}.sh`);
    return { name: d.name, after: d.after, tasks: d.tasks, array: d.array, file, script: scriptFor(d, o, d.threads) };
  });
}

function scriptFor(job: Omit<SlurmJob, 'file' | 'script'>, o: SlurmPlanOptions, threads?: string): string {
  const q = shellQuote;
  const node = o.node ?? process.execPath;
  const sid = (args: string[]) => [q(node), 'bin/sid.mjs', ...args.map((a) => (a.startsWith('${') ? `"${a}"` : q(a)))].join(' ');
  const logs = path.join(o.scriptDir, 'logs');
  const lines = ['#!/bin/bash', `#SBATCH --job-name=${job.name}`];
  if (job.array) lines.push(`#SBATCH --array=0-${job.tasks.length - 1}`);
  lines.push(`#SBATCH --output=${q(path.join(logs, job.array ? `${job.name}-%A_%a.out` : `${job.name}-%j.out`))}`);
  if (o.partition) lines.push(`#SBATCH --partition=${q(o.partition)}`);
  if (job.array && o.gpusPerTask) lines.push(`#SBATCH --gpus-per-task=${o.gpusPerTask}`);
  lines.push(
    '# Written by sid reproduce --executor slurm; every task shares the artifact cache below.',
    'set -euo pipefail',
    `cd ${q(o.projectRoot)}`,
    `export SID_CACHE_DIR=${q(o.cacheDir)}`,
  );
  if (threads) lines.push(`export SID_THREADS="${threads}"`);
  if (job.array) {
    lines.push('case "$SLURM_ARRAY_TASK_ID" in');
    job.tasks.forEach((t, i) => lines.push(`  ${i}) # ${t.label}`, `     exec ${sid(t.args)} ;;`));
    lines.push('  *) echo "sid: no task $SLURM_ARRAY_TASK_ID in this array" >&2; exit 2 ;;', 'esac');
  } else {
    lines.push(`# ${job.tasks[0].label}`, `exec ${sid(job.tasks[0].args)}`);
  }
  return lines.join('\n') + '\n';
}

/** The sbatch command line of a job, given its dependency's job id (or a placeholder). */
function sbatchArgs(job: SlurmJob, afterId: string | null): string[] {
  const args = ['--parsable'];
  if (job.after) args.push(`--dependency=afterok:${afterId}`, '--kill-on-invalid-dep=yes');
  args.push(job.file);
  return args;
}

/** What `--dry-run` prints: each sbatch command followed by its script. */
export function dryRunText(jobs: SlurmJob[]): string {
  const parts: string[] = [];
  for (const j of jobs) {
    const dep = j.after ? `$${j.after.replace(/^sid-/, '').toUpperCase()}_JOB` : null;
    const cmd = `${j.name.replace(/^sid-/, '').toUpperCase()}_JOB=$(sbatch ${sbatchArgs(j, dep).map((a) => (a.includes('$') ? a : shellQuote(a))).join(' ')})`;
    parts.push(`# ${j.name}: ${j.array ? `${j.tasks.length} task${j.tasks.length > 1 ? 's' : ''}` : 'one job'}`, cmd, `# --- ${j.file}`, j.script.trimEnd(), '');
  }
  return parts.join('\n');
}

/** Writes the scripts (atomically) and the log folder. */
export function writeSlurmScripts(jobs: SlurmJob[], scriptDir: string): void {
  fs.mkdirSync(path.join(scriptDir, 'logs'), { recursive: true });
  for (const j of jobs) {
    writeFileAtomic(j.file, j.script);
    fs.chmodSync(j.file, 0o755);
  }
}

export interface SlurmCommands {
  sbatch: string;
  scontrol: string;
  scancel: string;
}

const DEFAULT_COMMANDS: SlurmCommands = { sbatch: 'sbatch', scontrol: 'scontrol', scancel: 'scancel' };

function runTool(cmd: string, args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${cmd} not found: the Slurm client commands must be on PATH (Debian: apt-get install slurm-client)` : `${cmd} could not run: ${r.error.message}`);
  }
  return { ok: r.status === 0, out: r.stdout ?? '', err: (r.stderr ?? '').trim() };
}

/** Submits the jobs in order, each after the one it depends on; returns job ids by name. */
export function submitSlurmJobs(jobs: SlurmJob[], log: (line: string) => void, tools: SlurmCommands = DEFAULT_COMMANDS): Map<string, string> {
  const ids = new Map<string, string>();
  for (const j of jobs) {
    const afterId = j.after ? ids.get(j.after) ?? null : null;
    const r = runTool(tools.sbatch, sbatchArgs(j, afterId));
    const id = r.out.trim().split(';')[0];
    if (!r.ok || !/^\d+$/.test(id)) {
      if (ids.size) runTool(tools.scancel, [...ids.values()]);
      throw new Error(`sbatch ${j.file} failed${r.err ? `: ${r.err}` : ` (printed "${r.out.trim()}")`}${ids.size ? `; cancelled jobs ${[...ids.values()].join(', ')}` : ''}`);
    }
    ids.set(j.name, id);
    log(`[slurm] submitted ${j.name} as job ${id}${j.array ? ` (${j.tasks.length} tasks)` : ''}${afterId ? `, after job ${afterId}` : ''}`);
  }
  return ids;
}

const FINAL_STATES = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE']);

interface TaskState {
  task: number | null;
  state: string;
  reason: string;
  stdout: string;
}

/** Every task of a job as `scontrol show job -o` reports it; null once Slurm has forgotten the job. */
function jobStates(id: string, tools: SlurmCommands): TaskState[] | null {
  const r = runTool(tools.scontrol, ['show', 'job', '-o', id]);
  if (!r.ok) {
    if (/Invalid job id/i.test(r.err)) return null;
    throw new Error(`scontrol show job ${id} failed: ${r.err}`);
  }
  const out: TaskState[] = [];
  for (const line of r.out.split('\n')) {
    if (!line.trim()) continue;
    const field = (k: string) => line.match(new RegExp(`(?:^|\\s)${k}=(\\S*)`))?.[1] ?? '';
    const t = field('ArrayTaskId');
    // A pending array shows its remaining tasks as a range on one line ("ArrayTaskId=2-5").
    const state = field('JobState');
    const base = { state, reason: field('Reason'), stdout: field('StdOut') };
    if (t === '') out.push({ task: null, ...base });
    for (const part of t === '' ? [] : t.replace(/%.*$/, '').split(',')) {
      const range = part.match(/^(\d+)-(\d+)$/);
      if (range) for (let k = Number(range[1]); k <= Number(range[2]); k++) out.push({ task: k, ...base });
      else out.push({ task: Number(part), ...base });
    }
  }
  return out;
}

function tailOf(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return `(no log at ${file})`;
  }
}

export interface WaitOptions {
  pollMs?: number;
  log: (line: string) => void;
  tools?: SlurmCommands;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Waits until every job has finished. Throws on the first failed task, naming it with the end of its
 * log, after cancelling the jobs still queued.
 */
export async function waitForSlurmJobs(jobs: SlurmJob[], ids: Map<string, string>, o: WaitOptions): Promise<void> {
  const tools = o.tools ?? DEFAULT_COMMANDS;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const t0 = Date.now();
  let last = '';
  // Completed tasks are remembered: Slurm forgets finished tasks a few minutes after they end.
  const completed = new Map<string, Set<number>>(jobs.map((j) => [j.name, new Set<number>()]));
  for (;;) {
    const summary: string[] = [];
    let allDone = true;
    for (const j of jobs) {
      const id = ids.get(j.name)!;
      const total = j.array ? j.tasks.length : 1;
      const done = completed.get(j.name)!;
      if (done.size < total) {
        const states = jobStates(id, tools);
        if (states === null) throw new Error(`Slurm no longer knows job ${id} (${j.name}) and ${total - done.size} of its tasks were never seen to complete; see the logs in ${path.dirname(j.file)}/logs`);
        for (const s of states) {
          const base = s.state.split(/\s/)[0];
          const task = j.array ? s.task ?? 0 : 0;
          if (base === 'COMPLETED') done.add(task);
          else if (FINAL_STATES.has(base)) {
            const failed = `${j.name}${j.array ? `[${task}]` : ''} (${j.tasks[task]?.label ?? '?'}, job ${id}) ended ${base}${s.reason && s.reason !== 'None' ? ` (${s.reason})` : ''}`;
            const all = [...ids.values()];
            runTool(tools.scancel, all);
            throw new Error(`${failed}; cancelled jobs ${all.join(', ')}. Log ${s.stdout}:\n${tailOf(s.stdout)}`);
          }
        }
      }
      if (done.size < total) allDone = false;
      summary.push(`${j.name.replace(/^sid-/, '')} ${done.size}/${total}`);
    }
    const line = summary.join(', ');
    if (line !== last) {
      o.log(`[slurm] done: ${line} (${Math.round((Date.now() - t0) / 1000)} s)`);
      last = line;
    }
    if (allDone) return;
    await sleep(o.pollMs ?? 5000);
  }
}
