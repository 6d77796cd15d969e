/**
 * SIGINT and SIGTERM sent to real runs on the `tiny` profile: `sid reproduce --jobs 2` stops its
 * worker processes and exits, leaves only sound artifacts and checkpoints, and the rerun resumes from
 * the checkpoints; `sid notebooks run` stops its nbconvert driver and the notebook kernel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ArtifactCache } from '../lib/pipeline/cache';
import { bundleProblem } from '../lib/generate/checkpoint';
import { projectRoot } from '../lib/util/fs';

const root = projectRoot();
const SID = path.join(root, 'bin', 'sid.mjs');

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function sid(args: string[], env: NodeJS.ProcessEnv): Run {
  const child = spawn(process.execPath, [SID, ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b) => (out += b));
  child.stderr!.on('data', (b) => (out += b));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, output: () => out, exited };
}

/** Polls `cond` until it holds; fails (with the run's output) if the run ends first. */
async function until(run: Run, what: string, cond: () => boolean): Promise<void> {
  let ended = false;
  void run.exited.then(() => (ended = true));
  while (!cond()) {
    if (ended) {
      const log = run.output().split('\n').filter((l) => /^\s*\[(reproduce|train|cache|sid)\]/.test(l) && !/ETA/.test(l));
      assert.fail(`run ended before ${what}:\n${log.slice(0, 40).join('\n')}\n...\n${run.output().slice(-1500)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function workerPids(out: string): number[] {
  return [...out.matchAll(/\[reproduce\] worker (\d+) started/g)].map((m) => Number(m[1]));
}

/** Every artifact and every checkpoint bundle under the cache folder passes its checks. */
function assertAllSound(cacheDir: string): void {
  const cache = new ArtifactCache(cacheDir);
  for (const stage of fs.readdirSync(cacheDir)) {
    if (stage.startsWith('.') || stage === 'checkpoints' || stage === 'models') continue;
    for (const key of fs.readdirSync(path.join(cacheDir, stage))) {
      assert.ok(!key.startsWith('.') || key.endsWith('.tmp'), `unexpected ${stage}/${key}`);
      if (key.startsWith('.')) continue; // a killed writer's temporary folder: never read, removed by the next writer
      assert.ok(cache.readFiles(stage, key), `${stage}/${key} is not sound`);
    }
  }
  for (const sub of ['checkpoints', 'models']) {
    const dir = path.join(cacheDir, sub);
    if (!fs.existsSync(dir)) continue;
    for (const key of fs.readdirSync(dir).filter((k) => !k.startsWith('.'))) {
      const bundles = sub === 'models' ? [path.join(dir, key)] : fs.readdirSync(path.join(dir, key)).filter((b) => !b.startsWith('.')).map((b) => path.join(dir, key, b));
      for (const b of bundles) assert.equal(bundleProblem(b), null, b);
    }
  }
}

const checkpointsWritten = (cacheDir: string) => {
  const dir = path.join(cacheDir, 'checkpoints');
  return fs.existsSync(dir) && fs.readdirSync(dir).some((k) => fs.existsSync(path.join(dir, k, 'state', 'manifest.json')));
};

test('SIGINT, then SIGTERM on the rerun, stop sid reproduce --jobs 2 and its workers; the rerun resumes', { timeout: 30 * 60 * 1000 }, async () => {
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-signal-cache-'));
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-signal-out-'));
  const args = ['reproduce', '--profile', 'tiny', '--jobs', '2', '--tables', 'quantizers', '--no-notebooks', '--out', out];
  const env = { SID_CACHE_DIR: cacheDir };

  const first = sid(args, env);
  // Interrupt once the workers have written a checkpoint (an epoch done) and are training on.
  await until(first, 'a checkpoint was written', () => workerPids(first.output()).length >= 2 && checkpointsWritten(cacheDir));
  const workers = workerPids(first.output());
  first.child.kill('SIGINT');
  const r1 = await first.exited;
  assert.equal(r1.code, 130, first.output().slice(-2000));
  for (const pid of workers) assert.equal(alive(pid), false, `worker ${pid} outlived the run`);
  assertAllSound(cacheDir);
  assert.equal(fs.existsSync(path.join(out, 'results.json')), false);

  const second = sid(args, env);
  await until(second, 'a training resumed', () => /\[train\] resuming from checkpoint .*after epoch \d+ of \d+/.test(second.output()));
  const workers2 = workerPids(second.output());
  second.child.kill('SIGTERM');
  const r2 = await second.exited;
  assert.equal(r2.code, 143, second.output().slice(-2000));
  for (const pid of workers2) assert.equal(alive(pid), false, `worker ${pid} outlived the rerun`);
  assertAllSound(cacheDir);
  assert.ok(!/checkpoint .*training from the start/.test(second.output()), 'a checkpoint was found damaged after the interruption');
});

/** Processes whose parent is `pid`, and theirs, from /proc. */
function descendants(pid: number): number[] {
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

const cmdline = (pid: number) => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
};

test('SIGTERM to sid notebooks run stops the nbconvert driver and the kernel, and leaves no partial report', { timeout: 10 * 60 * 1000 }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-signal-nb-'));
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-signal-nbcache-'));
  const run = sid(['notebooks', 'run', '00_data', '--profile', 'tiny', '--out', out], { SID_CACHE_DIR: cacheDir });
  let tree: number[] = [];
  await until(run, 'the kernel started', () => {
    tree = descendants(run.child.pid!);
    return tree.some((p) => /tslab/.test(cmdline(p)));
  });
  run.child.kill('SIGTERM');
  const r = await run.exited;
  assert.equal(r.code, 143, run.output().slice(-2000));
  // The driver's process group is gone at once; the kernel (its own session) is killed by the driver.
  await new Promise((ok) => setTimeout(ok, 500));
  for (const pid of tree) assert.equal(alive(pid) && cmdline(pid) !== '', false, `${pid} (${cmdline(pid)}) outlived the run`);
  // No temporary run folder and no report of the interrupted notebook (the index may exist).
  assert.deepEqual(fs.readdirSync(out).filter((f) => f.startsWith('.run-') || f.startsWith('00_data')), []);
});
