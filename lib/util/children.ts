/**
 * Child processes that must not outlive this one (training workers, notebook drivers and their
 * kernels). While any is running, SIGINT and SIGTERM stop them all (SIGTERM, then SIGKILL after a
 * grace period), run the registered clean-ups (temporary folders), and exit with 128 + signal.
 *
 * The handlers are installed only while children run: this process is then only waiting on them, so
 * a signal is acted on at once. Otherwise the default applies (immediate exit), which a synchronous
 * training loop could not honour from a JavaScript handler; locks it held are recovered as stale.
 */
import type { ChildProcess } from 'node:child_process';

const GRACE_MS = 3000;
const children = new Map<ChildProcess, { group: boolean }>();
const cleanups = new Set<() => void>();
let stopping = false;

function send(child: ChildProcess, group: boolean, signal: NodeJS.Signals): void {
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

function onSignal(signal: NodeJS.Signals): void {
  const code = 128 + (signal === 'SIGINT' ? 2 : 15);
  if (stopping) {
    // A second signal: no more waiting.
    for (const [c, o] of children) send(c, o.group, 'SIGKILL');
    runCleanups();
    process.exit(code);
  }
  stopping = true;
  if (process.env.SID_QUIET !== '1') process.stderr.write(`\n[sid] ${signal}: stopping ${children.size} child process(es)\n`);
  for (const [c, o] of children) send(c, o.group, 'SIGTERM');
  const kill = setTimeout(() => {
    for (const [c, o] of children) send(c, o.group, 'SIGKILL');
  }, GRACE_MS);
  const waitAll = (): void => {
    if (children.size > 0) {
      setTimeout(waitAll, 50);
      return;
    }
    clearTimeout(kill);
    runCleanups();
    process.exit(code);
  };
  waitAll();
}

function install(on: boolean): void {
  for (const s of ['SIGINT', 'SIGTERM'] as const) {
    if (on) process.on(s, onSignal);
    else process.off(s, onSignal);
  }
}

/** Registers a running child; it is forgotten when it exits. */
export function adoptChild(child: ChildProcess, opts: { group?: boolean } = {}): void {
  if (children.size === 0 && !stopping) install(true);
  children.set(child, { group: opts.group ?? false });
  child.once('exit', () => {
    children.delete(child);
    // After the last child, restore the default unless a stop is under way (it exits itself).
    if (children.size === 0 && !stopping) install(false);
  });
}

/** Runs `fn` if this process is stopped by a signal; the returned function unregisters it. */
export function onInterrupt(fn: () => void): () => void {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/** True once a SIGINT or SIGTERM has started stopping the children. */
export function interrupted(): boolean {
  return stopping;
}
