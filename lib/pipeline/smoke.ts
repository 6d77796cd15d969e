/**
 * The smoke run (`sid reproduce --budget smoke`): every kind of stage of a profile once, on the
 * profile's full data and sizes, with the repeated work cut (lib/pipeline/budget.ts), at work level
 * 1, then again at level 2 for the stages whose work the budget scales (the others do the same work
 * at both levels). Each stage is measured in this process (stageMeter.ts); the two levels give its fixed
 * cost and its cost per unit of work, and so the time of the full run. Memory is measured at full
 * size, since only the number of steps is cut. Artifacts go to a private cache that is removed after.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../backend/index';
import { formatSeconds, writeProgressLine } from '../util/progress';
import { processAlive, writeFileAtomic, writeJsonAtomic } from '../util/fs';
import { smokeProfile, stageWork, type StageWork } from './budget';
import { ArtifactCache } from './cache';
import type { Profile } from './profiles';
import { importClosure } from './sourceClosure';
import { protocolsAmong, sharedStageInstances, trainingInputs, type StageKind } from './stageKinds';
import { codeVersion, createContext, dataStage, experimentStage, specId, type ExperimentSpec, type PipelineContext } from './stages';
import { meterStage, type StageMeasurement } from './stageMeter';
import { experimentsFor, TABLE_NAMES, type TableName } from './tables';


export interface SmokeStage {
  stage: string;
  /** The name of the unit of work its cost grows with (null: the same work under every budget). */
  unit: string | null;
  /** How many times the full run runs this stage (its protocols, and for a training its rows and seeds). */
  runs: number;
  /** Measurements at work level 1 and 2 (a stage the budget does not scale is measured once, at level 1: both entries are that one). */
  levels: [StageMeasurement, StageMeasurement];
  work: { smoke: [number, number]; full: number } | null;
  /**
   * Seconds of each level spent in the work the stage's unit counts, where the stage reports them:
   * the bi-encoders' optimizer steps (validation left out), ALS's whole build, the generative
   * training's epochs. Its per-unit cost comes from these.
   */
  loopSeconds?: [number, number];
  /** Extrapolated seconds of one full-budget run of the stage on this machine. */
  fullSeconds: number;
}

export interface SmokeReport {
  profile: string;
  dataDir: string | null;
  data: { items: number; users: number; trainInteractions: number; trainQueries: number; testQueries: number; recTest: number };
  machine: { cpus: number; cpuModel: string; totalMemoryBytes: number; node: string };
  backend: string;
  /**
   * Hash of the source files the smoke run executes (smoke.ts and everything it imports): reports
   * with different hashes were measured by different code. Absent in reports from before it was kept.
   */
  codeVersion?: string;
  stages: SmokeStage[];
  /**
   * The experiment stage split into training and evaluation, with the rates they were extrapolated
   * from; a training's full time also holds the data preparation its worker process does first.
   */
  training: { examplesPerSecond: number; decodesPerSecond: number; fullTrainSeconds: number; fullEvalSeconds: number; fixedSeconds: number };
  /** Sum over stages of runs x fullSeconds: one process doing everything in turn. */
  fullRunSeconds: number;
  /**
   * The same with the trainings spread over `jobs` workers of `threads` threads each (the threads
   * this run measured on). `sid reproduce --jobs` runs single-threaded workers: where `threads` > 1,
   * a training on one of those is slower than measured here by the thread speed-up.
   */
  fullRunSecondsWithJobs: { jobs: number; threads: number; seconds: number }[];
  smokeSeconds: number;
  peakRssBytes: number;
}

/** The version `codeVersion` of a report this code writes. */
export const smokeCodeVersion = (): string => codeVersion(importClosure(['lib/pipeline/smoke.ts']));

/** a + b * w through two points (b >= 0, a >= 0): a stage's fixed cost and its cost per unit of work. */
export function linearCost(w: [number, number], t: [number, number]): { fixed: number; perUnit: number } {
  if (w[1] === w[0]) return { fixed: Math.max(t[0], t[1]), perUnit: 0 };
  let perUnit = Math.max(0, (t[1] - t[0]) / (w[1] - w[0]));
  let fixed = t[0] - perUnit * w[0];
  if (fixed < 0) {
    // Noise put the fixed cost below zero: all of the larger run's time is per unit.
    fixed = 0;
    perUnit = t[1] / w[1];
  }
  return { fixed, perUnit };
}


export interface SmokeOptions {
  outDir: string;
  /** Tables whose full run is extrapolated (default all). */
  tables?: readonly TableName[];
  /** Worker counts the report gives the full run's time for (default 1, 2, 8, 32). */
  jobs?: number[];
  log?: (line: string) => void;
  backend?: string;
}

/** The reference row's training stands for every row's: the same model and data, within the IDs' vocabulary size. */
const MEASURED_SPEC: ExperimentSpec = { embedding: 'multitask', quantizer: 'rq-kmeans', space: 'shared' };
/** The label of its measurement. */
const TRAINING_LABEL = `training ${specId(MEASURED_SPEC)}`;

/**
 * The private cache of a run is `.smoke-cache-<pid>-XXXXXX` in its output folder. A run killed by a
 * signal cannot remove it (a stage may hold the thread for minutes, so no handler is installed); the
 * next run in that folder removes those whose process is gone.
 */
const CACHE_PREFIX = '.smoke-cache-';
export function removeAbandonedCaches(outDir: string): string[] {
  const re = /^\.smoke-cache-(\d+)-/;
  const removed: string[] = [];
  for (const name of fs.readdirSync(outDir)) {
    const m = re.exec(name);
    if (!m || processAlive(Number(m[1]))) continue;
    fs.rmSync(path.join(outDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/**
 * A training of WARM_UP_STEPS steps, not measured, before the measured ones: the first training in a
 * process pays once for what later ones do not (the wasm heap growing to the model's size, first
 * calls of each kernel), which in level 1 alone would read as a smaller cost per example. It shares
 * level 1's artifacts (data, embeddings, IDs) and differs only in its work, so it trains anew.
 */
const WARM_UP_STEPS = 2;
async function warmUpTraining(ctx: PipelineContext): Promise<void> {
  const g = ctx.profile.generate;
  const batch = g.train.batchSize ?? 256;
  const profile: Profile = {
    ...ctx.profile,
    generate: {
      ...g,
      train: { ...g.train, examplesPerEpoch: WARM_UP_STEPS * batch, validLimit: 1 },
      eval: { ...g.eval, selectionLimit: 1, limit: 2 },
    },
  };
  await experimentStage({ ...ctx, profile }, MEASURED_SPEC);
}

/** What the two work levels of a smoke run measured, and the work each level and the full run do. */
interface SmokeMeasurements {
  fullSpecs: ExperimentSpec[];
  instances: { kind: StageKind; arg: string; label: string }[];
  /** Per level, each stage's measurement by label. */
  perLevel: Map<string, StageMeasurement>[];
  /** Per level, seconds a stage spent in the work its unit scales (steps, sweeps), where it reports them. */
  loopSeconds: Map<string, number>[];
  /** Per level, the measured training's seconds, its epochs' seconds and its evaluation's. */
  experiments: { trainSeconds: number; epochSeconds: number; evalSeconds: number }[];
  works: StageWork[];
  fullWork: StageWork;
  data: SmokeReport['data'];
  seconds: number;
}

/** Runs every stage at work levels 1 and 2 in a private cache (removed after), measuring each. */
async function measureSmoke(full: Profile, opts: SmokeOptions): Promise<SmokeMeasurements> {
  const log = opts.log ?? writeProgressLine;
  const tables = opts.tables ?? TABLE_NAMES;
  const fullSpecs = experimentsFor(tables, full.generate.replicates);
  // Every instance of every stage kind a full run builds, by label (stageKinds.ts). Level 2 reruns
  // those whose work the budget scales, and those the measured training needs (its ID set).
  const instances = sharedStageInstances(fullSpecs).flatMap(({ kind, group }) => group.map((arg) => ({ kind, arg, label: kind.label(arg) })));
  const trainingNeeds = trainingInputs(MEASURED_SPEC);
  fs.mkdirSync(opts.outDir, { recursive: true });
  removeAbandonedCaches(opts.outDir);
  const cacheRoot = fs.mkdtempSync(path.join(opts.outDir, `${CACHE_PREFIX}${process.pid}-`));
  const t0 = Date.now();
  const perLevel: Map<string, StageMeasurement>[] = [new Map(), new Map()];
  const experiments: { trainSeconds: number; epochSeconds: number; evalSeconds: number }[] = [];
  const works: StageWork[] = [];
  const loopSeconds: Map<string, number>[] = [new Map(), new Map()];
  let fullWork: StageWork | null = null;
  let dataSummary: SmokeReport['data'] | null = null;
  let prepared: { memo: [string, unknown][]; measurement: StageMeasurement } | null = null;
  try {
    for (const level of [1, 2] as const) {
      const profile = smokeProfile(full, level);
      const ctx: PipelineContext = createContext(profile, new ArtifactCache(path.join(cacheRoot, `level-${level}`)));
      const m = perLevel[level - 1];
      const record = (x: StageMeasurement) => {
        m.set(x.stage, x);
        log(`[smoke] level ${level} ${x.stage}: ${formatSeconds(x.seconds)}, peak RSS ${formatMiB(x.peakRssBytes)}${x.wasmHeapBytes === null ? '' : `, wasm heap ${formatMiB(x.wasmHeapBytes)}`}`);
      };
      // The budget leaves the data alone: it is prepared (and measured) once, and level 2 reuses it.
      if (prepared) {
        for (const [k, v] of prepared.memo) ctx.memo.set(k, v);
        m.set('data', prepared.measurement);
      } else {
        const r = await meterStage('data', () => dataStage(ctx));
        record(r.measurement);
        prepared = { memo: [...ctx.memo.entries()], measurement: r.measurement };
      }
      const d = (await dataStage(ctx)).data;
      works.push(stageWork(profile, d));
      fullWork ??= stageWork(full, d);
      dataSummary ??= {
        items: d.dataset.items.length,
        users: d.rec.train.length,
        trainInteractions: d.rec.train.reduce((s, u) => s + u.items.length, 0),
        trainQueries: d.queries.train.length,
        testQueries: d.queries.test.length,
        recTest: d.rec.test.length,
      };
      // Level 2 reruns only what the budget scales (and the ID set the training needs): the other
      // stages do the same work at both levels, so level 1's measurement stands for both.
      const reuseLevel1 = (stage: string): boolean => {
        if (level === 1) return false;
        m.set(stage, perLevel[0].get(stage)!);
        return true;
      };
      for (const { kind, arg, label } of instances) {
        if (kind.unit(arg) === null && !trainingNeeds.has(label) && reuseLevel1(label)) continue;
        const r = await meterStage(label, () => kind.run(ctx, arg), (v) => v.dirs);
        record(r.measurement);
        if (r.value.loopSeconds !== undefined) loopSeconds[level - 1].set(label, r.value.loopSeconds);
      }
      if (level === 1) {
        const tw = Date.now();
        await warmUpTraining(ctx);
        log(`[smoke] warm-up training (${WARM_UP_STEPS} steps, not measured): ${formatSeconds((Date.now() - tw) / 1000)}`);
      }
      const exp = await meterStage(TRAINING_LABEL, () => experimentStage(ctx, MEASURED_SPEC), (v) => [ctx.cache.dirOf('experiment', v.key), v.modelDir]);
      record(exp.measurement);
      const { trainSeconds, evalSeconds, history } = exp.value.result;
      experiments.push({ trainSeconds, epochSeconds: history.reduce((sum, e) => sum + e.seconds, 0), evalSeconds });
    }
  } finally {
    fs.rmSync(cacheRoot, { recursive: true, force: true });
  }
  return { fullSpecs, instances, perLevel, loopSeconds, experiments, works, fullWork: fullWork!, data: dataSummary!, seconds: (Date.now() - t0) / 1000 };
}

/** Each stage's full-run time from its two measurements: a fixed cost plus a cost per unit of work. */
function fitSmoke({ fullSpecs, instances, perLevel, loopSeconds, experiments, works, fullWork: W }: SmokeMeasurements): { stages: SmokeStage[]; training: SmokeReport['training']; trainingStage: SmokeStage } {
  const byLabel = new Map(instances.map((x) => [x.label, x]));
  const stages: SmokeStage[] = [];
  for (const [name, a] of perLevel[0]) {
    if (name === TRAINING_LABEL) continue;
    const b = perLevel[1].get(name)!;
    const levels: [StageMeasurement, StageMeasurement] = [a, b];
    // Prepared data is not cached: the main process prepares each protocol's (and every training
    // worker its own, counted with the training below).
    const instance = byLabel.get(name);
    const unit = instance ? (instance.kind.unit(instance.arg)?.name ?? null) : null;
    const runs = instance ? instance.kind.runsIn(fullSpecs, instance.arg) : protocolsAmong(fullSpecs);
    const work = unit ? { smoke: [works[0][unit], works[1][unit]] as [number, number], full: W[unit] } : null;
    const [la, lb] = [loopSeconds[0].get(name), loopSeconds[1].get(name)];
    const loops: [number, number] | undefined = la !== undefined && lb !== undefined ? [la, lb] : undefined;
    let fullSeconds: number;
    if (work && loops) {
      // A bi-encoder's steps are seconds of a stage of minutes (encoding, retrieval evaluation): the
      // difference of the stage times is noise, so the per-step cost comes from the steps' own times.
      // Should those not grow with twice the steps (noise again), all of the second level's step
      // time counts per step: an upper bound.
      const fit = linearCost(work.smoke, loops);
      const loop = fit.perUnit > 0 ? fit : { fixed: 0, perUnit: loops[1] / work.smoke[1] };
      const rest = (a.seconds - loops[0] + b.seconds - loops[1]) / 2;
      fullSeconds = Math.max(0, rest) + loop.fixed + loop.perUnit * work.full;
    } else {
      const cost = work ? linearCost(work.smoke, [a.seconds, b.seconds]) : { fixed: (a.seconds + b.seconds) / 2, perUnit: 0 };
      fullSeconds = cost.fixed + cost.perUnit * (work?.full ?? 0);
    }
    stages.push({ stage: name, unit, runs, levels, work, ...(loops ? { loopSeconds: loops } : {}), fullSeconds });
  }
  // Training: evaluation time is linear in decoded examples; the epochs' time in examples plus their
  // validation decodes. What a training does before its first epoch (prompts, pools, the model) is
  // fixed, and kept out of the fit: it varies by seconds, as much as 12 more steps take.
  const dec = linearCost([works[0].evalDecodes, works[1].evalDecodes], [experiments[0].evalSeconds, experiments[1].evalSeconds]);
  const stepsOnly = experiments.map((x, i) => x.epochSeconds - dec.perUnit * works[i].validationDecodes) as [number, number];
  const examples: [number, number] = [works[0].trainExamples, works[1].trainExamples];
  const fit = linearCost(examples, stepsOnly);
  // As for the bi-encoders: epochs that did not get slower with twice the examples count all per example.
  const tr = fit.perUnit > 0 ? fit : { fixed: 0, perUnit: stepsOnly[1] / examples[1] };
  const beforeEpochs = Math.max(0, (experiments[0].trainSeconds - experiments[0].epochSeconds + experiments[1].trainSeconds - experiments[1].epochSeconds) / 2);
  const fullTrainSeconds = beforeEpochs + tr.fixed + tr.perUnit * W.trainExamples + dec.perUnit * W.validationDecodes;
  const fullEvalSeconds = dec.fixed + dec.perUnit * W.evalDecodes;
  const [ea, eb] = [perLevel[0], perLevel[1]].map((m) => m.get(TRAINING_LABEL)!);
  const overhead = Math.max(0, (ea.seconds - experiments[0].trainSeconds - experiments[0].evalSeconds + eb.seconds - experiments[1].trainSeconds - experiments[1].evalSeconds) / 2);
  const dataSeconds = perLevel[0].get('data')!.seconds;
  const trainingStage: SmokeStage = {
    stage: 'training (one row, one seed)',
    unit: null,
    runs: fullSpecs.length,
    levels: [ea, eb],
    work: { smoke: examples, full: W.trainExamples },
    loopSeconds: [experiments[0].epochSeconds, experiments[1].epochSeconds],
    fullSeconds: dataSeconds + overhead + fullTrainSeconds + fullEvalSeconds,
  };
  stages.push(trainingStage);
  const training: SmokeReport['training'] = {
    examplesPerSecond: tr.perUnit > 0 ? 1 / tr.perUnit : Infinity,
    decodesPerSecond: dec.perUnit > 0 ? 1 / dec.perUnit : Infinity,
    fullTrainSeconds,
    fullEvalSeconds,
    fixedSeconds: overhead + beforeEpochs + tr.fixed + dec.fixed,
  };
  return { stages, training, trainingStage };
}

export async function runSmoke(full: Profile, opts: SmokeOptions): Promise<SmokeReport> {
  const measured = await measureSmoke(full, opts);
  const { stages, training, trainingStage } = fitSmoke(measured);
  const report = await smokeReport(full, opts, measured, stages, training, trainingStage);
  writeJsonAtomic(path.join(opts.outDir, 'stages.json'), report);
  writeFileAtomic(path.join(opts.outDir, 'stages.md'), smokeMarkdown(report));
  return report;
}

/** The report of a smoke run: its stages, the training's rates, and the full run's time by worker count. */
async function smokeReport(
  full: Profile, opts: SmokeOptions, measured: SmokeMeasurements, stages: SmokeStage[], training: SmokeReport['training'], trainingStage: SmokeStage,
): Promise<SmokeReport> {
  const shared = stages.filter((s) => s !== trainingStage).reduce((sum, s) => sum + s.runs * s.fullSeconds, 0);
  const trainingTotal = trainingStage.runs * trainingStage.fullSeconds;
  const jobs = opts.jobs ?? [1, 2, 8, 32];
  const { threads } = await initBackend();
  return {
    profile: full.name,
    dataDir: full.data.dir ?? null,
    data: measured.data,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', totalMemoryBytes: os.totalmem(), node: process.version },
    backend: opts.backend ?? 'unknown',
    codeVersion: smokeCodeVersion(),
    stages,
    training,
    fullRunSeconds: shared + trainingTotal,
    // The shared stages run before the trainings, in one process (as the local runner does).
    fullRunSecondsWithJobs: jobs.map((j) => ({ jobs: j, threads, seconds: shared + Math.ceil(trainingStage.runs / j) * trainingStage.fullSeconds })),
    smokeSeconds: measured.seconds,
    peakRssBytes: Math.max(...stages.flatMap((s) => s.levels.map((l) => l.peakRssBytes))),
  };
}

/** "8 workers of 2 threads" (a report from before the thread count was kept: "8 workers"). */
const workersLabel = (j: { jobs: number; threads?: number }): string =>
  `${j.jobs} worker${j.jobs === 1 ? '' : 's'}${j.threads ? ` of ${j.threads} thread${j.threads === 1 ? '' : 's'}` : ''}`;

/** Bytes as whole MiB ('-' for none). */
export const formatMiB = (b: number | null): string => (b === null ? '-' : `${(b / 2 ** 20).toFixed(0)} MiB`);

/** The per-stage table of a smoke report. */
export function smokeMarkdown(r: SmokeReport): string {
  const lines = [
    `# Smoke run of the ${r.profile} profile`,
    '',
    `${r.data.items.toLocaleString('en-US')} items, ${r.data.users.toLocaleString('en-US')} users, ${r.data.trainInteractions.toLocaleString('en-US')} training interactions, ` +
      `${r.data.trainQueries.toLocaleString('en-US')} training queries${r.dataDir ? ` (${r.dataDir})` : ''}. ` +
      `Machine: ${r.machine.cpus} x ${r.machine.cpuModel}, ${formatMiB(r.machine.totalMemoryBytes)}; backend ${r.backend}; the smoke run took ${formatSeconds(r.smokeSeconds)}.`,
    '',
    '| stage | runs in the full run | smoke time (level 1 / 2) | peak RSS | wasm heap | artifact | work (smoke / full) | full time, one run |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...r.stages.map((s) => {
      const [a, b] = s.levels;
      const work = s.work ? `${s.work.smoke.join(' / ')} → ${s.work.full.toLocaleString('en-US')}` : 'same';
      const peak = Math.max(a.peakRssBytes, b.peakRssBytes);
      return `| ${s.stage} | ${s.runs} | ${formatSeconds(a.seconds)} / ${formatSeconds(b.seconds)} | ${formatMiB(peak)}${a.peakRssScope === 'process' ? ' (process)' : ''} | ${formatMiB(b.wasmHeapBytes)} | ${formatMiB(b.artifactBytes)} | ${work} | ${formatSeconds(s.fullSeconds)} |`;
    }),
    '',
    `Training extrapolated from ${r.training.examplesPerSecond.toFixed(1)} examples/s and ${r.training.decodesPerSecond.toFixed(1)} decoded examples/s: ` +
      `${formatSeconds(r.training.fullTrainSeconds)} of training and ${formatSeconds(r.training.fullEvalSeconds)} of evaluation per row and seed.`,
    '',
    `Full run: ${formatSeconds(r.fullRunSeconds)} in one process; ` + r.fullRunSecondsWithJobs.map((j) => `${formatSeconds(j.seconds)} with ${workersLabel(j)}`).join(', ') + '.',
    '',
  ];
  return lines.join('\n');
}
