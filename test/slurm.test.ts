/**
 * `sid reproduce --executor slurm`: the job plan and its scripts (`--dry-run`, no Slurm needed), and a
 * real run on a single-node cluster started here (test/helpers/slurmCluster.ts) whose results.json
 * must equal a local run's of the same tables. The real run skips, saying why, where the daemons
 * cannot start (not root, slurm-wlm or munge absent).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { getProfile } from '../lib/pipeline/profiles';
import { experimentsFor } from '../lib/pipeline/tables';
import { parseSpecId, specId } from '../lib/pipeline/stages';
import { planSlurmJobs, slurmStages, waitForSlurmJobs, type SlurmJob } from '../lib/pipeline/slurm';
import { projectRoot } from '../lib/util/fs';
import { startSlurmCluster } from './helpers/slurmCluster';
import { comparableResults, sidFromShell, stopAndCheck, until } from './helpers/stopRuns';

const root = projectRoot();
const SID = path.join(root, 'bin', 'sid.mjs');
const TABLE = 'shared-vs-separate';

function sid(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [SID, ...args], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
}

test('the Slurm plan: every stage a task, arrays chained with afterok, one collecting job', () => {
  const profile = getProfile('tiny');
  const specs = experimentsFor(['task-tradeoff', 'quantizers'], profile.generate.replicates);
  const st = slurmStages(specs, 'tiny');
  assert.deepEqual(st.map((x) => x.job), ['sid-embeddings', 'sid-ids', 'sid-train']);
  const [embeddingTasks, idTasks, trainTasks] = st.map((x) => x.tasks);
  // Every experiment is one training task, named by its spec id, which parses back to it.
  assert.deepEqual(trainTasks.map((t) => t.args.at(-1)), specs.map(specId));
  for (const t of trainTasks) assert.deepEqual(parseSpecId(t.args.at(-1)!), specs.find((s) => specId(s) === t.args.at(-1)));
  // Each ID set once (separate needs search and rec), each embedding once, plus the baselines and SASRec.
  const idSets = idTasks.map((t) => t.args.at(-1));
  assert.equal(new Set(idSets).size, idSets.length);
  for (const s of specs) {
    for (const e of s.embedding === 'separate' ? ['search', 'rec'] : [s.embedding]) assert.ok(idSets.includes(`${e}/${s.quantizer}`), `${e}/${s.quantizer} missing`);
  }
  const embedded = embeddingTasks.flatMap((t) => (t.args.includes('embed') ? t.args.at(-1)!.split(',') : []));
  assert.deepEqual([...embedded].sort(), ['content', 'content-lsa', 'fused-concat', 'fused-svd', 'multitask', 'rec', 'search']);
  assert.deepEqual(embeddingTasks.filter((t) => !t.args.includes('embed')).map((t) => t.args.at(-1)), ['baselines', 'sasrec']);

  const jobs = planSlurmJobs(specs, {
    profile: 'tiny', tables: ['task-tradeoff', 'quantizers'], outDir: '/shared/out dir', cacheDir: '/shared/cache', projectRoot: '/shared/sid',
    scriptDir: '/shared/out dir/slurm', notebooks: false, rerunNotebooks: false, partition: 'gpu', gpusPerTask: 2,
  });
  assert.deepEqual(jobs.map((j) => [j.name, j.after]), [['sid-embeddings', null], ['sid-ids', 'sid-embeddings'], ['sid-train', 'sid-ids'], ['sid-collect', 'sid-train']]);
  for (const j of jobs.slice(0, 3)) {
    assert.match(j.script, new RegExp(`^#SBATCH --array=0-${j.tasks.length - 1}$`, 'm'));
    assert.match(j.script, /^#SBATCH --gpus-per-task=2$/m);
    assert.match(j.script, /^#SBATCH --partition=gpu$/m);
    assert.match(j.script, /^export SID_CACHE_DIR=\/shared\/cache$/m);
    assert.match(j.script, /^cd \/shared\/sid$/m);
    j.tasks.forEach((t, i) => assert.ok(j.script.includes(`  ${i}) # ${t.label}\n`), `${j.name} task ${i}`));
  }
  const collect = jobs[3];
  assert.doesNotMatch(collect.script, /--array|--gpus-per-task/);
  assert.match(collect.script, /reproduce --executor local --profile tiny --tables task-tradeoff,quantizers --out '\/shared\/out dir' --no-notebooks/);
  // The scripts are valid bash.
  for (const j of jobs) {
    const r = spawnSync('bash', ['-n'], { input: j.script, encoding: 'utf8' });
    assert.equal(r.status, 0, `${j.name}: ${r.stderr}`);
  }
});

test('sid reproduce --executor slurm --dry-run prints the sbatch chain, submits nothing and creates no folder', (t) => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-slurm-dry-'));
  t.after(() => fs.rmSync(work, { recursive: true, force: true }));
  const out = path.join(work, 'out');
  const cache = path.join(work, 'cache');
  const r = sid(['reproduce', '--profile', 'tiny', '--executor', 'slurm', '--tables', TABLE, '--dry-run', '--out', out], { PATH: '/nonexistent', SID_CACHE_DIR: cache });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(fs.readdirSync(work), [], 'a dry run creates no folder');
  // It says what a run would create instead.
  assert.match(r.stdout, /^# dry run: nothing created, nothing submitted/m);
  for (const dir of [out, path.join(out, 'slurm'), path.join(out, 'slurm', 'logs'), cache]) assert.ok(r.stdout.includes(`#   ${dir} (`), dir);
  // A folder that could not be created is refused before anything else.
  fs.writeFileSync(path.join(work, 'file'), '');
  const bad = sid(['reproduce', '--profile', 'tiny', '--executor', 'slurm', '--tables', TABLE, '--dry-run', '--out', path.join(work, 'file', 'out')], { PATH: '/nonexistent', SID_CACHE_DIR: cache });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /output folder \(--out\) \S+file\/out cannot be created: \S+file is not a directory/);
  fs.rmSync(path.join(work, 'file'));
  assert.match(r.stdout, /^EMBEDDINGS_JOB=\$\(sbatch --parsable \S+sid-embeddings\.sh\)$/m);
  assert.match(r.stdout, /^IDS_JOB=\$\(sbatch --parsable --dependency=afterok:\$EMBEDDINGS_JOB --kill-on-invalid-dep=yes \S+sid-ids\.sh\)$/m);
  assert.match(r.stdout, /^TRAIN_JOB=\$\(sbatch --parsable --dependency=afterok:\$IDS_JOB /m);
  assert.match(r.stdout, /^COLLECT_JOB=\$\(sbatch --parsable --dependency=afterok:\$TRAIN_JOB /m);
  const specs = experimentsFor([TABLE], getProfile('tiny').generate.replicates);
  for (const s of specs) assert.ok(r.stdout.includes(`run-config --profile tiny ${specId(s)} ;;`), specId(s));
  assert.ok(!fs.existsSync(path.join(out, 'slurm')), 'a dry run writes no scripts');
  for (const [args, msg] of [
    [['--dry-run'], /--dry-run needs --executor slurm/],
    [['--partition', 'gpu'], /--partition needs --executor slurm/],
    [['--executor', 'pbs'], /--executor must be one of local, slurm/],
    [['--executor', 'slurm', '--gpus-per-task', '0'], /--gpus-per-task must be an integer >= 1/],
  ] as const) {
    const e = sid(['reproduce', '--profile', 'tiny', '--out', out, ...args]);
    assert.equal(e.status, 2, e.stderr);
    assert.match(e.stderr, msg);
  }
});

/** Fake scontrol/scancel: the n-th `scontrol show job` call prints step n of a scripted sequence. */
function fakeTools(dir: string, steps: Record<string, string[]>): { scontrol: string; scancel: string; sbatch: string } {
  const scontrol = path.join(dir, 'scontrol');
  fs.writeFileSync(path.join(dir, 'steps.json'), JSON.stringify(steps));
  fs.writeFileSync(
    scontrol,
    `#!/usr/bin/env node
const fs = require('fs'); const dir = ${JSON.stringify(dir)};
const id = process.argv.at(-1); const f = dir + '/count-' + id;
const n = fs.existsSync(f) ? Number(fs.readFileSync(f, 'utf8')) : 0; fs.writeFileSync(f, String(n + 1));
const steps = JSON.parse(fs.readFileSync(dir + '/steps.json', 'utf8'))[id];
const out = steps[Math.min(n, steps.length - 1)];
if (out === 'GONE') { process.stderr.write('slurm_load_jobs error: Invalid job id specified'); process.exit(1); }
process.stdout.write(out);
`,
  );
  const scancel = path.join(dir, 'scancel');
  fs.writeFileSync(scancel, `#!/bin/sh\necho "$@" >> ${JSON.stringify(path.join(dir, 'cancelled'))}\n`);
  for (const f of [scontrol, scancel]) fs.chmodSync(f, 0o755);
  return { scontrol, scancel, sbatch: '/bin/false' };
}

const line = (task: string, state: string, out = '/x.out', reason = 'None') => `JobId=9 ArrayJobId=1 ArrayTaskId=${task} JobState=${state} Reason=${reason} StdOut=${out}\n`;

test('waiting on Slurm: tasks forgotten after completing still count; a failed task stops everything with its log', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-slurm-wait-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const job = (name: string, tasks: number, after: string | null): SlurmJob => ({
    name, after, file: path.join(dir, `${name}.sh`), array: tasks > 1, script: '', tasks: Array.from({ length: tasks }, (_, i) => ({ label: `${name} task ${i}`, args: [] })),
  });
  const jobs = [job('sid-a', 3, null), job('sid-b', 1, 'sid-a')];
  const ids = new Map([['sid-a', '1'], ['sid-b', '2']]);
  const single = (state: string) => `JobId=2 JobState=${state} Reason=None StdOut=/y.out\n`;
  const lines: string[] = [];
  await waitForSlurmJobs(jobs, ids, {
    log: (l) => lines.push(l),
    sleep: async () => {},
    tools: fakeTools(dir, {
      // Pending range, then one by one; task 0 is forgotten before the last one ends; then the whole job.
      '1': [line('0-2', 'PENDING'), line('0', 'COMPLETED') + line('1', 'RUNNING') + line('2', 'RUNNING'), line('1', 'COMPLETED') + line('2', 'RUNNING'), line('2', 'COMPLETED'), 'GONE'],
      '2': [single('PENDING'), single('PENDING'), single('PENDING'), single('RUNNING'), single('COMPLETED')],
    }),
  });
  assert.match(lines.at(-1)!, /done: a 3\/3, b 1\/1/);
  assert.ok(!fs.existsSync(path.join(dir, 'cancelled')));

  fs.writeFileSync(path.join(dir, 'task1.out'), 'loading\nError: out of memory in stage ids\n');
  for (const f of fs.readdirSync(dir)) if (f.startsWith('count-')) fs.rmSync(path.join(dir, f));
  const failing = fakeTools(dir, {
    '1': [line('0', 'COMPLETED') + line('1', 'FAILED', path.join(dir, 'task1.out'), 'NonZeroExitCode') + line('2', 'RUNNING')],
    '2': [single('PENDING')],
  });
  await assert.rejects(
    waitForSlurmJobs(jobs, ids, { log: () => {}, sleep: async () => {}, tools: failing }),
    (err: Error) => /sid-a\[1\] \(sid-a task 1, job 1\) ended FAILED \(NonZeroExitCode\)/.test(err.message) && /out of memory in stage ids/.test(err.message),
  );
  assert.equal(fs.readFileSync(path.join(dir, 'cancelled'), 'utf8').trim(), '1 2');
});


function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; tail: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SID, ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (b: Buffer) => (tail = (tail + b.toString('utf8')).slice(-6000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('close', (code) => resolve({ code, tail }));
  });
}

test('sid reproduce --executor slurm on a real single-node cluster equals the local run', { timeout: 40 * 60 * 1000 }, async (t) => {
  const cluster = await startSlurmCluster();
  if ('skip' in cluster) {
    t.skip(cluster.skip);
    return;
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-slurm-run-'));
  try {
    const slurmOut = path.join(work, 'slurm-out');
    const slurmRun = await run(['reproduce', '--profile', 'tiny', '--executor', 'slurm', '--tables', TABLE, '--no-notebooks', '--out', slurmOut], {
      ...cluster.env,
      // Its own, empty cache: every stage is built by a Slurm task.
      SID_CACHE_DIR: path.join(work, 'cache'),
      SID_SLURM_POLL_MS: '1000',
    });
    assert.equal(slurmRun.code, 0, `slurm run failed:\n${slurmRun.tail}`);
    const logs = fs.readdirSync(path.join(slurmOut, 'slurm', 'logs'));
    for (const name of ['sid-embeddings', 'sid-ids', 'sid-train', 'sid-collect']) assert.ok(logs.some((l) => l.startsWith(name)), `no log of ${name}`);
    const trained = logs.filter((l) => l.startsWith('sid-train')).map((l) => fs.readFileSync(path.join(slurmOut, 'slurm', 'logs', l), 'utf8'));
    assert.equal(trained.filter((l) => / trained [0-9a-f]+\n/.test(l)).length, experimentsFor([TABLE], getProfile('tiny').generate.replicates).length, 'each experiment trained by its task');

    // The local run shares the tiny test cache with reproduce-tiny.test.ts (CI builds it there first).
    const localOut = path.join(work, 'local-out');
    const localRun = await run(['reproduce', '--profile', 'tiny', '--tables', TABLE, '--no-notebooks', '--jobs', '2', '--out', localOut], {
      SID_CACHE_DIR: process.env.SID_TEST_CACHE_DIR ?? path.join(root, '.cache', 'artifacts-test'),
    });
    assert.equal(localRun.code, 0, `local run failed:\n${localRun.tail}`);
    assert.deepEqual(comparableResults(path.join(slurmOut, 'results.json')), comparableResults(path.join(localOut, 'results.json')));
  } finally {
    await cluster.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test('SIGINT while sid reproduce waits on Slurm: exit 130, the jobs are left running and the message says how to cancel them', { timeout: 120_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-slurm-stop-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  // sbatch hands out ids 101, 102, ...; every job stays pending; scancel records what it was asked.
  const tool = (name: string, body: string) => {
    fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`);
    fs.chmodSync(path.join(bin, name), 0o755);
  };
  const counter = path.join(dir, 'next-id');
  tool('sbatch', `n=$(cat ${counter} 2>/dev/null || echo 101); echo $((n + 1)) > ${counter}; echo $n`);
  tool('scontrol', 'echo "JobId=$4 JobState=PENDING Reason=Priority StdOut=/dev/null"');
  tool('scancel', `echo "$@" >> ${path.join(dir, 'cancelled')}`);
  const run = sidFromShell(['reproduce', '--profile', 'tiny', '--executor', 'slurm', '--tables', TABLE, '--no-notebooks', '--out', path.join(dir, 'out')], {
    PATH: `${bin}:${process.env.PATH}`,
    SID_CACHE_DIR: path.join(dir, 'cache'),
    SID_SLURM_POLL_MS: '200',
  });
  await until(run, 'the wait', () => /\[slurm\] done: embeddings 0\/\d+/.test(run.output()));
  const after = await stopAndCheck(run, 'SIGINT');
  assert.match(after, /\[slurm\] stopped waiting; the jobs keep running \(scancel 101 102 103 104 stops them\)/);
  assert.equal(fs.existsSync(path.join(dir, 'cancelled')), false, 'no job was cancelled');
});
