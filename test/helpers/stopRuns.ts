/**
 * Runs of `sid` started from a shell as background processes, the way a user starts a long run, so
 * the tests can signal them and read the exit status the shell reports; and what is left of a run
 * afterwards (its processes, its results).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot } from '../../lib/util/fs';

const SID = path.join(projectRoot(), 'bin', 'sid.mjs');
/** How long a stopped run may take to end. */
export const STOP_MS = 10_000;

export interface ShellRun {
  shell: ChildProcess;
  /** Everything the run printed so far (stdout and stderr). */
  output: () => string;
  /** Pid of the `sid` process (the shell's background job), once the shell has printed it. */
  pid: () => number | undefined;
  /** The exit status `wait` reported in the shell (128 + n for a process ended by signal n). */
  exited: Promise<number>;
  /** Calls `fn` with each line as it arrives (for signals sent at an exact moment). */
  onLine: (fn: (line: string) => void) => void;
}

/** `sid <args>` started as `sid ... &` from a non-interactive bash, which then waits for it. */
export function sidFromShell(args: string[], env: NodeJS.ProcessEnv): ShellRun {
  const script = '"$@" & pid=$!; echo "[shell] pid $pid"; wait $pid; echo "[shell] exit $?"';
  const shell = spawn('bash', ['-c', script, 'bash', process.execPath, SID, ...args], {
    cwd: projectRoot(),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let partial = '';
  const listeners: ((line: string) => void)[] = [];
  const take = (b: Buffer) => {
    const text = b.toString('utf8');
    out += text;
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) for (const fn of listeners) fn(l);
  };
  shell.stdout!.on('data', take);
  shell.stderr!.on('data', take);
  const exited = new Promise<number>((resolve, reject) =>
    shell.on('close', () => {
      const m = /\[shell\] exit (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
      else reject(new Error(`the shell ended without an exit status:\n${out.slice(-2000)}`));
    }),
  );
  const pid = () => {
    const m = /\[shell\] pid (\d+)/.exec(out);
    return m ? Number(m[1]) : undefined;
  };
  return { shell, output: () => out, pid, exited, onLine: (fn) => listeners.push(fn) };
}

/** Polls `cond` until it holds; fails (with the run's output) if the run ends first. */
export async function until(run: ShellRun, what: string, cond: () => boolean): Promise<void> {
  let ended = false;
  void run.exited.then(() => (ended = true), () => (ended = true));
  while (!cond()) {
    if (ended) assert.fail(`run ended before ${what}:\n${run.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sends `signal` to the run's `sid` process. */
export function signalRun(run: ShellRun, signal: NodeJS.Signals): void {
  const pid = run.pid();
  assert.ok(pid, 'the shell has not printed the pid yet');
  process.kill(pid, signal);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** Processes whose parent is `pid`, and theirs, from /proc. */
export function descendants(pid: number): number[] {
  const byParent = new Map<number, number[]>();
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      byParent.set(ppid, [...(byParent.get(ppid) ?? []), Number(e)]);
    } catch {
      /* exited meanwhile */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of byParent.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** The run's `sid` process and every process below it, now. */
export function processTree(run: ShellRun): number[] {
  const pid = run.pid()!;
  return [pid, ...descendants(pid)];
}

/** Waits up to `ms` for every process in `pids` to be gone (a zombie with no command line counts as gone). */
export async function assertAllGone(pids: number[], ms: number): Promise<void> {
  const t0 = Date.now();
  const left = () => pids.filter((p) => alive(p) && cmdline(p) !== '');
  while (left().length > 0 && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(left().map((p) => `${p} ${cmdline(p)}`), [], `processes outlived the run by ${ms} ms`);
}

/** The run's output after the stop line the signal handler prints (`[sid] SIGINT: stopping ...`). */
export function afterStopLine(output: string, signal: NodeJS.Signals): string {
  const at = output.indexOf(`[sid] ${signal}: stopping`);
  assert.ok(at >= 0, `no "[sid] ${signal}: stopping" line in:\n${output.slice(-2000)}`);
  return output.slice(at);
}

/** Signals the run, then checks how it ended: the exit status, its processes, nothing started after. */
export async function stopAndCheck(run: ShellRun, signal: 'SIGINT' | 'SIGTERM'): Promise<string> {
  const tree = processTree(run);
  const t0 = Date.now();
  signalRun(run, signal);
  const code = await run.exited;
  assert.ok(Date.now() - t0 < STOP_MS, `the run took ${Date.now() - t0} ms to stop`);
  assert.equal(code, signal === 'SIGINT' ? 130 : 143, run.output().slice(-2000));
  await assertAllGone(tree, 3000);
  const after = afterStopLine(run.output(), signal);
  assert.doesNotMatch(after, /worker \d+ started|: running \(profile/, `something started after the signal:\n${after}`);
  assert.match(after, /\[sid\] stopped \(exit code (130|143)\)/);
  return after;
}

/** results.json without what differs between two correct runs: when it was written, how long stages took. */
export function comparableResults(file: string): unknown {
  return JSON.parse(fs.readFileSync(file, 'utf8'), (k, v) => (k === 'generatedAt' || /Seconds$|PerSecond$/.test(k) ? undefined : v));
}
