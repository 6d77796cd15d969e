/**
 * One Ctrl-C stops a run. Real runs on the `tiny` profile, started from a shell as background
 * processes, are signalled at chosen moments: `sid reproduce --jobs 2` while two workers train, and
 * in the moment between one worker's exit and the next one's start; `sid notebooks run` while a
 * kernel runs; `sid reproduce --budget smoke` between two stages. Each time the run ends within
 * seconds with 128 + signal, no process of it remains, nothing starts after the signal (the log
 * says so), only sound artifacts and checkpoints are left, and the rerun finishes: for reproduce,
 * with the same results.json as an uninterrupted run. (The notebook step of `sid reproduce` is
 * interrupted in test/reproduce-tiny.test.ts, whose run reaches it anyway.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ArtifactCache } from '../lib/pipeline/cache';
import { bundleProblem } from '../lib/generate/checkpoint';
import { projectRoot } from '../lib/util/fs';
import { comparableResults, processTree, sidFromShell, signalRun, STOP_MS, stopAndCheck, until } from './helpers/stopRuns';

const root = projectRoot();
const TABLE = 'quantizers';

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

test('sid reproduce --jobs 2: SIGINT while two workers train, SIGTERM between two workers; the rerun equals an uninterrupted run', { timeout: 30 * 60 * 1000 }, async () => {
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-signal-cache-'));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-signal-out-'));
  const out = path.join(work, 'out');
  const args = ['reproduce', '--profile', 'tiny', '--jobs', '2', '--tables', TABLE, '--no-notebooks', '--out', out];
  const env = { SID_CACHE_DIR: cacheDir };
  try {
    // (a) Once both workers have written a checkpoint (an epoch done) and are training on.
    const first = sidFromShell(args, env);
    await until(first, 'a checkpoint was written', () => workerPids(first.output()).length >= 2 && checkpointsWritten(cacheDir));
    const after1 = await stopAndCheck(first, 'SIGINT');
    // Both workers, unless the signal fell between one's exit and its 'close' (then the other only).
    assert.match(after1, /stopping [12] child process\(es\)/);
    assertAllSound(cacheDir);
    assert.equal(fs.existsSync(path.join(out, 'results.json')), false);

    // (b) The rerun resumes; it is signalled in the pause the scheduler announces between a finished
    // worker and the next one (SID_WORKER_GAP_MS), where the old handler let new workers start.
    const second = sidFromShell(args, { ...env, SID_WORKER_GAP_MS: '3000' });
    await until(second, 'the gap before a new worker', () => /\[reproduce\] next worker \(\S+\) starts in 3000 ms/.test(second.output()));
    assert.match(second.output(), /\[train\] resuming from checkpoint .*after epoch \d+ of \d+/);
    await stopAndCheck(second, 'SIGTERM');
    assertAllSound(cacheDir);
    assert.ok(!/checkpoint .*training from the start/.test(second.output()), 'a checkpoint was found damaged after the interruption');

    // The third run finishes, with the results of a run never interrupted (the tiny test cache that
    // test/reproduce-tiny.test.ts builds in CI; built here when absent).
    const third = sidFromShell(args, env);
    assert.equal(await third.exited, 0, third.output().slice(-3000));
    const refOut = path.join(work, 'reference');
    const reference = sidFromShell(['reproduce', '--profile', 'tiny', '--jobs', '2', '--tables', TABLE, '--no-notebooks', '--out', refOut], {
      SID_CACHE_DIR: process.env.SID_TEST_CACHE_DIR ?? path.join(root, '.cache', 'artifacts-test'),
    });
    assert.equal(await reference.exited, 0, reference.output().slice(-3000));
    assert.deepEqual(comparableResults(path.join(out, 'results.json')), comparableResults(path.join(refOut, 'results.json')));
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test('sid notebooks run: SIGTERM while the first kernel runs stops it, starts no other notebook, leaves no partial report; the rerun finishes', { timeout: 15 * 60 * 1000 }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-signal-nb-'));
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-signal-nbcache-'));
  const args = ['notebooks', 'run', '00_data', '02_semantic_ids', '--profile', 'tiny', '--out', out];
  try {
    const run = sidFromShell(args, { SID_CACHE_DIR: cacheDir });
    await until(run, 'the kernel started', () => processTree(run).some((p) => /tslab/.test(fs.existsSync(`/proc/${p}/cmdline`) ? fs.readFileSync(`/proc/${p}/cmdline`, 'utf8') : '')));
    const after = await stopAndCheck(run, 'SIGTERM');
    assert.doesNotMatch(after, /2\/2 02_semantic_ids/);
    // No temporary run folder and no report of the interrupted notebook (the index may exist).
    assert.deepEqual(fs.readdirSync(out).filter((f) => f.startsWith('.run-') || f.startsWith('00_data') || f.startsWith('02_')), []);

    const rerun = sidFromShell(args, { SID_CACHE_DIR: cacheDir });
    assert.equal(await rerun.exited, 0, rerun.output().slice(-3000));
    for (const f of ['00_data.html', '00_data.ipynb', '02_semantic_ids.html', '02_semantic_ids.ipynb']) assert.ok(fs.existsSync(path.join(out, f)), f);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('sid reproduce --budget smoke: SIGINT between two stages ends it at once; the rerun finishes', { timeout: 10 * 60 * 1000 }, async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-signal-smoke-'));
  const out = path.join(work, 'out');
  const args = ['reproduce', '--profile', 'tiny', '--budget', 'smoke', '--tables', TABLE, '--out', out];
  const env = { SID_CACHE_DIR: path.join(work, 'cache') };
  try {
    const run = sidFromShell(args, env);
    // Signalled from the line that ends the first stage, so the next stage is about to start.
    let at = -1;
    run.onLine((line) => {
      if (at < 0 && /^\[smoke\] level 1 data:/.test(line)) {
        at = run.output().length;
        signalRun(run, 'SIGINT');
      }
    });
    const t0 = Date.now();
    await until(run, 'the first stage ended', () => at >= 0);
    const code = await run.exited;
    assert.ok(Date.now() - t0 < STOP_MS, `the run took ${Date.now() - t0} ms to stop`);
    // The smoke run computes in this process and has no children: the signal's default action ends
    // it (the shell reports 128 + 2); no stage line follows the signal.
    assert.equal(code, 130, run.output().slice(-2000));
    assert.doesNotMatch(run.output().slice(at), /\[smoke\] level/);
    assert.equal(fs.existsSync(path.join(out, 'stages.json')), false);

    const rerun = sidFromShell(args, env);
    assert.equal(await rerun.exited, 0, rerun.output().slice(-3000));
    assert.ok(fs.existsSync(path.join(out, 'stages.json')));
    // The killed run's private cache was removed by the rerun.
    assert.deepEqual(fs.readdirSync(out).filter((f) => f.startsWith('.smoke-cache-')), []);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});
