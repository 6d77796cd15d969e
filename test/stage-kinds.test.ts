/**
 * Stage kinds are described once (lib/pipeline/stageKinds.ts) and every executor reads the
 * descriptors: a kind registered here, in the test, is built by the local runner (and cached), has
 * its task in the Slurm plan, and is measured by the smoke run, with no executor changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../lib/backend/index';
import { ArtifactCache } from '../lib/pipeline/cache';
import { getProfile } from '../lib/pipeline/profiles';
import { buildSharedStages } from '../lib/pipeline/runner';
import { planSlurmJobs } from '../lib/pipeline/slurm';
import { runSmoke } from '../lib/pipeline/smoke';
import { smokeProfile } from '../lib/pipeline/budget';
import type { WorkUnit } from '../lib/pipeline/workUnits';
import { protocolsAmong, registerStageKind, stageKind, type StageKind } from '../lib/pipeline/stageKinds';
import { quantizerNames, registerQuantizer, type QuantizerDefinition } from '../lib/quantize/quantizer';
import { Rng } from '../lib/util/random';
import { createContext, dataStage } from '../lib/pipeline/stages';
import { experimentsFor } from '../lib/pipeline/tables';
import { projectRoot } from '../lib/util/fs';

const tiny = getProfile('tiny');

/** A stage that stores each genre's item count: small, cached, keyed on the data. */
const genreCounts: StageKind = {
  name: 'genre-counts',
  argUsage: '',
  wave: 0,
  slurmJob: 'sid-embeddings',
  plan: () => [['']],
  inputsOf: () => [],
  parseArg(arg) {
    if (arg !== '') throw new Error('genre-counts takes no argument');
    return arg;
  },
  label: () => 'genre counts',
  async run(ctx) {
    const { data, key: dataKey } = await dataStage(ctx);
    const res = await ctx.cache.getOrBuild<Record<string, number>>('genre-counts', { version: 1 }, [dataKey], async () => {
      const counts: Record<string, number> = {};
      for (const item of data.dataset.items) for (const g of item.genres) counts[g] = (counts[g] ?? 0) + 1;
      return counts;
    });
    return { key: res.key, cached: res.cached, dirs: [ctx.cache.dirOf('genre-counts', res.key)] };
  },
  units: [],
  unit: () => null,
  runsIn: (specs) => protocolsAmong(specs),
};

/**
 * Random-hyperplane codes: at each level, the signs of log2(k) seeded random projections of the
 * residual from the previous levels' cell means. Each item is reconstructed as its final cell's mean.
 */
const signLsh: QuantizerDefinition = {
  label: 'Sign LSH',
  fit(x, { levels, k, seed }) {
    const ks = Array.isArray(k) ? k : Array.from({ length: levels }, () => k);
    const rng = new Rng(seed);
    const codes = new Int32Array(x.rows * ks.length);
    const residual = Float64Array.from(x.data);
    for (let l = 0; l < ks.length; l++) {
      const bits = Math.log2(ks[l]);
      assert.ok(Number.isInteger(bits), 'sign-lsh needs powers of two');
      const planes = Array.from({ length: bits }, () => Array.from({ length: x.cols }, () => rng.normal()));
      const sums = new Float64Array(ks[l] * x.cols);
      const counts = new Int32Array(ks[l]);
      for (let i = 0; i < x.rows; i++) {
        let c = 0;
        for (let b = 0; b < bits; b++) {
          let dot = 0;
          for (let j = 0; j < x.cols; j++) dot += planes[b][j] * residual[i * x.cols + j];
          if (dot > 0) c |= 1 << b;
        }
        codes[i * ks.length + l] = c;
        counts[c]++;
        for (let j = 0; j < x.cols; j++) sums[c * x.cols + j] += residual[i * x.cols + j];
      }
      for (let i = 0; i < x.rows; i++) {
        const c = codes[i * ks.length + l];
        for (let j = 0; j < x.cols; j++) residual[i * x.cols + j] -= sums[c * x.cols + j] / counts[c];
      }
    }
    const reconstruct = () => Float32Array.from(x.data, (v, i) => v - residual[i]);
    return { codes, ks, model: { ks }, reconstruct };
  },
};

test('a stage kind and a quantizer registered outside lib are built by the runner, planned for Slurm and measured by the smoke run', { timeout: 15 * 60 * 1000 }, async () => {
  await initBackend();
  const unregister = registerStageKind(genreCounts);
  const unregisterQuantizer = registerQuantizer('sign-lsh', signLsh);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-stage-kinds-'));
  try {
    assert.equal(stageKind('genre-counts'), genreCounts);
    assert.throws(() => registerStageKind(genreCounts), /a stage kind "genre-counts" exists already/);
    assert.throws(() => registerQuantizer('rq-kmeans', signLsh), /a quantizer "rq-kmeans" exists already/);
    assert.throws(() => registerQuantizer('Sign LSH', signLsh), /lower-case letters, digits and dashes/);
    // The quantizers table gains its row; run-stage's parser accepts its ID set.
    const lshSpec = experimentsFor(['quantizers'], 1).find((s) => s.quantizer === 'sign-lsh');
    assert.deepEqual(lshSpec, { embedding: 'multitask', quantizer: 'sign-lsh', space: 'shared' });
    assert.equal(stageKind('ids')!.parseArg('multitask/sign-lsh'), 'multitask/sign-lsh');
    const specs = [...experimentsFor(['shared-vs-separate'], 1), lshSpec];

    // The local runner builds it with the other shared stages, then finds it cached.
    const cache = new ArtifactCache(path.join(dir, 'cache'));
    const lines: string[] = [];
    await buildSharedStages(createContext(tiny, cache), specs, (l) => lines.push(l));
    assert.ok(lines.some((l) => /^\[reproduce\] genre counts: built in/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /^\[reproduce\] IDs multitask\/sign-lsh: built in/.test(l)), lines.join('\n'));
    const again: string[] = [];
    await buildSharedStages(createContext(tiny, cache), specs, (l) => again.push(l));
    assert.ok(again.includes('[reproduce] genre counts: cached'), again.join('\n'));
    // Its artifact holds what it computed: every item counted once per genre it has.
    const ctx = createContext(tiny, cache);
    const { data } = await dataStage(ctx);
    const stored = (await cache.getOrBuild<Record<string, number>>('genre-counts', { version: 1 }, [(await dataStage(ctx)).key], async () => assert.fail('rebuilt'))).value;
    assert.equal(Object.values(stored).reduce((a, b) => a + b, 0), data.dataset.items.reduce((a, i) => a + i.genres.length, 0));

    // The Slurm plan runs it as a task of its wave's array job.
    const jobs = planSlurmJobs(specs, { profile: 'tiny', tables: ['shared-vs-separate'], outDir: '/o', cacheDir: '/c', projectRoot: '/p', scriptDir: '/o/slurm', notebooks: false, rerunNotebooks: false });
    const first = jobs.find((j) => j.name === 'sid-embeddings')!;
    assert.ok(first.tasks.some((t) => t.label === 'genre counts' && t.args.join(' ') === 'run-stage --profile tiny genre-counts'), JSON.stringify(first.tasks));
    assert.match(first.script, /# genre counts\n\s+exec \S+ bin\/sid\.mjs run-stage --profile tiny genre-counts ;;/);
    const idJob = jobs.find((j) => j.name === 'sid-ids')!;
    assert.ok(idJob.tasks.some((t) => t.args.join(' ') === 'run-stage --profile tiny ids multitask/sign-lsh'), JSON.stringify(idJob.tasks));

    // The smoke run measures it once (no unit of work), as often as the full run builds it.
    const report = await runSmoke(tiny, { outDir: path.join(dir, 'smoke'), tables: ['shared-vs-separate', 'quantizers'], jobs: [1], log: () => {} });
    const measured = report.stages.find((s) => s.stage === 'genre counts');
    assert.ok(measured, report.stages.map((s) => s.stage).join(', '));
    assert.equal(measured.unit, null);
    assert.equal(measured.runs, 1);
    assert.deepEqual(measured.levels[1], measured.levels[0]);
    assert.ok(measured.levels[0].artifactBytes > 0);
    const lsh = report.stages.find((s) => s.stage === 'IDs multitask/sign-lsh');
    assert.ok(lsh && lsh.runs === 1 && lsh.unit === null, JSON.stringify(lsh));
  } finally {
    unregister();
    unregisterQuantizer();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(stageKind('genre-counts'), undefined);
  assert.ok(!quantizerNames().includes('sign-lsh'));
});

test('two different units of work under one name are refused, not counted as each other', () => {
  const impostor: WorkUnit = { name: 'searchSteps', cut: (p) => p, count: () => 1 };
  const unregister = registerStageKind({ ...genreCounts, name: 'impostor', units: [impostor], unit: () => impostor });
  try {
    assert.throws(() => smokeProfile(tiny, 1), /two different units of work are both named "searchSteps"/);
  } finally {
    unregister();
  }
  assert.equal(smokeProfile(tiny, 1).budget, 'smoke');
});

test('sid run-stage: instances by kind and argument, usage errors naming the problem, former quantizer names spelled anew', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-run-stage-'));
  const sid = (...args: string[]) =>
    spawnSync(process.execPath, [path.join(projectRoot(), 'bin', 'sid.mjs'), 'run-stage', '--profile', 'tiny', ...args], { env: { ...process.env, SID_CACHE_DIR: dir }, encoding: 'utf8', timeout: 300_000 });
  try {
    for (const [args, message] of [
      [['bogus'], /expected one of "embed <strategy>\[,<strategy>\.\.\.\]", .*"ids <embedding>\/<quantizer>", got "bogus"/],
      [['sasrec', 'extra'], /got "sasrec extra"/],
      [['embed'], /got "embed"/],
      [['embed', 'search,nope'], /unknown embedding strategy "nope"/],
      [['ids', 'multitask/nope'], /unknown quantizer "nope" \(known: rq-kmeans, hier-kmeans, rq-vae, rlfq\)/],
      [['ids', 'multitask'], /expected <embedding>\/<quantizer>, got "multitask"/],
    ] as const) {
      const r = sid(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    const r = sid('ids', 'multitask/kmeans');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^IDs multitask\/hier-kmeans built [0-9a-f]+$/m);
    assert.match(r.stderr, /quantizer "kmeans" is deprecated; it is now called "hier-kmeans"/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
