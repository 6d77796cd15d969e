/**
 * How a run stops on SIGINT or SIGTERM. The first signal stops the run: nothing new starts (callers
 * ask `throwIfInterrupted()` before each worker, kernel or stage, and a child adopted after the
 * signal is killed at once), running children get SIGTERM, then SIGKILL after a grace period, the
 * registered clean-ups run (temporary folders), and the process exits with 128 + signal. A second
 * signal ends it at once.
 *
 * The handlers are installed only while this process is merely waiting: while children run, or
 * inside `whileWaiting` (a scheduler between its workers). There a signal is acted on at once.
 * Elsewhere this process may be inside a long synchronous computation (a training step, k-means)
 * that a JavaScript handler could not interrupt, so the default action applies: the process ends at
 * once, killed by the signal (a shell reports 128 + signal too). Every artifact and checkpoint is
 * published by an atomic rename, so either way nothing half-written is used by the next run.
 */
import type { ChildProcess } from 'node:child_process';

const GRACE_MS = 3000;
const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15 } as const;
type StopSignal = keyof typeof SIGNAL_NUMBERS;

const children = new Map<ChildProcess, { group: boolean }>();
const cleanups = new Set<() => void>();
let waiters = 0;
let installed = false;
let stopSignal: StopSignal | null = null;

/** Thrown by `throwIfInterrupted` once a stop signal was received; the CLI exits with `exitCode`. */
export class InterruptedError extends Error {
  constructor(readonly signal: StopSignal) {
    super(`stopped by ${signal}`);
    this.name = 'InterruptedError';
  }

  get exitCode(): number {
    return 128 + SIGNAL_NUMBERS[this.signal];
  }
}

function say(line: string): void {
  if (process.env.SID_QUIET !== '1') process.stderr.write(line);
}

/** Sends `signal` to a running child, or to its whole process group (one started `detached`). */
export function signalChild(child: ChildProcess, group: boolean, signal: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    // A child started with `detached: true` leads its own process group: signal all of it.
    if (group) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    /* already gone */
  }
}

function runCleanups(): void {
  for (const c of [...cleanups]) {
    try {
      c();
    } catch {
      /* best effort while exiting */
    }
  }
  cleanups.clear();
}

function exitNow(code: number): never {
  runCleanups();
  say(`[sid] stopped (exit code ${code})\n`);
  process.exit(code);
}

function onSignal(signal: NodeJS.Signals): void {
  const sig: StopSignal = signal === 'SIGINT' ? 'SIGINT' : 'SIGTERM';
  const code = 128 + SIGNAL_NUMBERS[sig];
  if (stopSignal) {
    // A second signal: no more waiting.
    for (const [c, o] of children) signalChild(c, o.group, 'SIGKILL');
    exitNow(code);
  }
  stopSignal = sig;
  say(`\n[sid] ${signal}: stopping ${children.size} child process(es); nothing new starts (a second signal ends the run at once)\n`);
  if (children.size === 0) exitNow(code);
  for (const [c, o] of children) signalChild(c, o.group, 'SIGTERM');
  const kill = setTimeout(() => {
    for (const [c, o] of children) signalChild(c, o.group, 'SIGKILL');
  }, GRACE_MS);
  const waitAll = (): void => {
    if (children.size > 0) {
      setTimeout(waitAll, 50);
      return;
    }
    clearTimeout(kill);
    exitNow(code);
  };
  waitAll();
}

/** Installs the handlers while children run or a scheduler waits; once stopping, they stay. */
function updateHandlers(): void {
  const want = stopSignal !== null || children.size > 0 || waiters > 0;
  if (want === installed) return;
  for (const s of ['SIGINT', 'SIGTERM'] as const) {
    if (want) process.on(s, onSignal);
    else process.off(s, onSignal);
  }
  installed = want;
}

/**
 * Registers a running child; it is forgotten when it exits. A child adopted after a stop signal
 * (started by code that did not ask `throwIfInterrupted` first) is killed at once.
 */
export function adoptChild(child: ChildProcess, opts: { group?: boolean } = {}): void {
  const group = opts.group ?? false;
  children.set(child, { group });
  updateHandlers();
  child.once('exit', () => {
    children.delete(child);
    updateHandlers();
  });
  if (stopSignal) signalChild(child, group, 'SIGKILL');
}

/**
 * Runs `fn`, during which this process only schedules children and waits on them: a stop signal is
 * handled at once, also between two children (when none is running).
 */
export async function whileWaiting<T>(fn: () => Promise<T>): Promise<T> {
  waiters++;
  updateHandlers();
  try {
    return await fn();
  } finally {
    waiters--;
    updateHandlers();
  }
}

/** Runs `fn` if this process is stopped by a signal; the returned function unregisters it. */
export function onInterrupt(fn: () => void): () => void {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/** True once a SIGINT or SIGTERM has started stopping the run. */
export function interrupted(): boolean {
  return stopSignal !== null;
}

/** Throws an `InterruptedError` once a stop signal was received: call it before starting work. */
export function throwIfInterrupted(): void {
  if (stopSignal) throw new InterruptedError(stopSignal);
}
