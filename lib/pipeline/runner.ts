/**
 * Runs many experiments: first the shared stages (stageKinds.ts: embeddings, IDs, baselines) in this process, then the
 * generative trainings, in parallel worker processes when `jobs > 1` (each single-threaded, so two
 * workers fill two cores), with overall progress and ETA. Everything lands in the artifact cache, so
 * an interrupted run resumes where it stopped (trainings from their last epoch's checkpoint). After
 * SIGINT or SIGTERM no worker starts, and the running ones stop with this process (lib/util/children.ts).
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { adoptChild, interrupted, throwIfInterrupted, whileWaiting } from '../util/children';
import { projectRoot } from '../util/fs';
import { formatSeconds } from '../util/progress';
import { selectorArgs } from './budget';
import type { Profile } from './profiles';
import { sharedStageInstances } from './stageKinds';
import { cachedExperiment, createContext, experimentStage, specId, type ExperimentSpec, type PipelineContext } from './stages';

export interface RunOptions {
  jobs?: number;
  /** Writes progress lines (default: stderr). */
  log?: (line: string) => void;
}

function defaultLog(line: string): void {
  if (process.env.SID_QUIET !== '1') process.stderr.write(line + '\n');
}

/**
 * Builds what the experiments need before their trainings, and what results.json reports beside
 * them (every stage kind of stageKinds.ts), each instance once, in this process.
 */
export async function buildSharedStages(ctx: PipelineContext, specs: readonly ExperimentSpec[], log = defaultLog): Promise<void> {
  for (const { kind, group } of sharedStageInstances(specs)) {
    for (const arg of group) {
      const t0 = Date.now();
      const r = await kind.run(ctx, arg);
      log(`[reproduce] ${kind.label(arg)}: ${r.cached ? 'cached' : `built in ${formatSeconds((Date.now() - t0) / 1000)}`}`);
    }
  }
}

/** Trains and evaluates every experiment not yet in the cache. */
export async function runExperiments(profile: Profile, specs: ExperimentSpec[], opts: RunOptions = {}): Promise<void> {
  const log = opts.log ?? defaultLog;
  const ctx = createContext(profile);
  await buildSharedStages(ctx, specs, log);
  const todo: ExperimentSpec[] = [];
  for (const s of specs) if (!(await cachedExperiment(ctx, s))) todo.push(s);
  log(`[reproduce] ${specs.length - todo.length}/${specs.length} experiments cached; ${todo.length} to train`);
  if (todo.length === 0) return;
  const jobs = Math.max(1, Math.min(opts.jobs ?? 1, todo.length));
  const t0 = Date.now();
  let done = 0;
  const finished = (s: ExperimentSpec) => {
    done++;
    const secs = (Date.now() - t0) / 1000;
    const eta = (secs / done) * (todo.length - done);
    log(`[reproduce] ${done}/${todo.length} experiments trained (${specId(s)}); elapsed ${formatSeconds(secs)}, ETA ${formatSeconds(eta)}`);
  };
  if (jobs === 1) {
    for (const s of todo) {
      await experimentStage(ctx, s);
      finished(s);
    }
    return;
  }
  const queue = [...todo];
  const failures: string[] = [];
  const gapMs = workerGapMs();
  let started = 0;
  const worker = async () => {
    // After a stop signal no worker starts; the queue's rest is trained by the next run.
    for (let s = queue.shift(); s && !interrupted(); s = queue.shift()) {
      const spec = s;
      if (gapMs > 0 && started++ >= jobs) {
        log(`[reproduce] next worker (${specId(spec)}) starts in ${gapMs} ms`);
        await new Promise((r) => setTimeout(r, gapMs));
        if (interrupted()) break;
      }
      try {
        await runWorker(selectorArgs(profile), spec, log);
        finished(spec);
      } catch (err) {
        if (!interrupted()) failures.push(`${specId(spec)}: ${(err as Error).message}`);
      }
    }
  };
  await whileWaiting(() => Promise.all(Array.from({ length: jobs }, worker)));
  throwIfInterrupted();
  if (failures.length) throw new Error(`${failures.length} experiment(s) failed:\n${failures.join('\n')}`);
}

/**
 * SID_WORKER_GAP_MS: a pause before each worker that replaces a finished one, announced on the log,
 * so a test can signal the run in the moment between one worker's exit and the next one's start.
 */
function workerGapMs(): number {
  const v = Number(process.env.SID_WORKER_GAP_MS ?? 0);
  return Number.isFinite(v) && v > 0 ? v : 0;
}

/** One experiment in a child process (`sid run-config`), single-threaded, its lines prefixed. */
function runWorker(profileArgs: string[], spec: ExperimentSpec, log: (line: string) => void): Promise<void> {
  const root = projectRoot();
  const id = specId(spec);
  throwIfInterrupted();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'bin', 'sid.mjs'), 'run-config', ...profileArgs, id], {
      cwd: root,
      env: { ...process.env, SID_THREADS: '1', SID_ROOT: root },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // SIGINT/SIGTERM to this process stops the worker too (see lib/util/children.ts).
    adoptChild(child);
    log(`[reproduce] worker ${child.pid} started: ${id}`);
    let tail = '';
    let lastProgress = 0;
    const onData = (buf: Buffer) => {
      const text = buf.toString('utf8');
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n')) {
        if (!line.trim() || line.startsWith('[backend]')) continue;
        // Progress lines arrive every few seconds per worker: pass on one in ~20 s.
        const isProgress = /ETA/.test(line);
        if (isProgress && Date.now() - lastProgress < 20000) continue;
        if (isProgress) lastProgress = Date.now();
        log(`  ${line}`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`worker for ${id} exited with code ${code}; last output:\n${tail.split('\n').slice(-15).join('\n')}`));
    });
  });
}
