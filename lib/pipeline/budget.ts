/**
 * Run budgets. `full` is a profile as written. `smoke` keeps the profile's data and every size (the
 * catalogue, the embedding and model dimensions, the quantizers, the test sets' sizes) and cuts only
 * the repeated work: training steps, ALS sweeps, SASRec epochs, decoded examples, seeds. A smoke run
 * at two work levels (`scale` 1 and 2) gives each stage's fixed cost and its cost per unit of work,
 * from which lib/pipeline/smoke.ts extrapolates the full run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BiEncoderOptions } from '../embed/index';
import { resolveGenerativeEval } from '../eval/generativeEval';
import { SASREC_DEFAULTS } from '../baselines/sasrec';
import type { PreparedData } from '../types';
import { getProfile, type Profile } from './profiles';

export type BudgetName = 'full' | 'smoke';
const BUDGET_NAMES: readonly BudgetName[] = ['full', 'smoke'];

/** Work per unit of `scale` in a smoke run. */
const SMOKE_UNITS = {
  /** Bi-encoder optimizer steps (one epoch): enough that twice as many take measurably longer. */
  biencoderSteps: 100,
  /** ALS sweeps. */
  alsIterations: 1,
  /** SASRec epochs (no early stop). */
  sasrecEpochs: 1,
  /** Generative training optimizer steps (one epoch). */
  trainSteps: 12,
  /** Validation examples per task decoded after the epoch, and per task for choosing the decoding. */
  validExamples: 10,
  /** Test examples decoded per task. */
  testExamples: 40,
} as const;

/** The profile with the repeated work cut to `scale` smoke units (sizes and data unchanged). */
export function smokeProfile(full: Profile, scale: number): Profile {
  if (!Number.isInteger(scale) || scale < 1) throw new Error(`smokeProfile: scale must be a positive integer, got ${scale}`);
  const u = SMOKE_UNITS;
  const biencoderCut = { epochs: 1, stepsPerEpoch: u.biencoderSteps * scale };
  const train = full.generate.train;
  const batch = train.batchSize ?? 256;
  const { patience: _, ...trainNoPatience } = train;
  return {
    ...full,
    budget: 'smoke',
    embed: {
      ...full.embed,
      biencoder: { ...full.embed.biencoder, ...biencoderCut },
      ...(full.embed.multitask ? { multitask: { ...full.embed.multitask, ...biencoderCut } } : {}),
      cf: { ...full.embed.cf, iterations: u.alsIterations * scale },
    },
    baselines: { ...full.baselines, sasrec: { ...full.baselines.sasrec, maxEpochs: u.sasrecEpochs * scale, patience: u.sasrecEpochs * scale } },
    generate: {
      ...full.generate,
      train: { ...trainNoPatience, epochs: 1, examplesPerEpoch: u.trainSteps * scale * batch, validLimit: u.validExamples * scale },
      eval: { ...full.generate.eval, selectionLimit: u.validExamples * scale, limit: u.testExamples * scale, taskLimits: {} },
      replicates: 1,
    },
  };
}

/** The units of repeated work each stage kind does under a profile (what the extrapolation scales). */
export interface StageWork {
  /** Bi-encoder optimizer steps of the search-tuned and of the multi-task encoder. */
  biencoderSteps: { search: number; multitask: number };
  alsIterations: number;
  /** SASRec epochs at most (a full run may stop earlier on its plateau: an upper bound). */
  sasrecEpochs: number;
  /** Generative training examples, all epochs (at most, where the profile stops on a plateau). */
  trainExamples: number;
  /** Validation examples decoded during training (both tasks, every epoch). */
  validationDecodes: number;
  /** Examples decoded by one experiment's evaluation: the choice of decoding and the test split. */
  evalDecodes: number;
}

/** Generative training examples per epoch when a profile does not cap it: every search pair and rec window. */
export function examplesPerFullEpoch(data: PreparedData, maxRecWindowsPerUser = Infinity): number {
  // One rec window per training position after the first, at most maxRecWindowsPerUser (as recTrainingWindows).
  let rec = 0;
  for (const u of data.rec.train) rec += u.items.length - Math.max(1, u.items.length - maxRecWindowsPerUser);
  return data.queries.train.length + rec;
}

/** Bi-encoder steps: the fixed count when given, else one pass over `pairs` capped per epoch (lib/embed/biencoder.ts's defaults). */
function biencoderSteps(o: BiEncoderOptions, pairs: number | null): number {
  const epochs = o.epochs ?? 10;
  if (o.stepsPerEpoch !== undefined) return epochs * o.stepsPerEpoch;
  const cap = o.maxStepsPerEpoch ?? 400;
  // The multi-task encoder also trains on item pairs (not counted here): its cap is the bound used for it.
  return epochs * (pairs === null ? cap : Math.max(1, Math.min(cap, Math.ceil(pairs / (o.batchSize ?? 256)))));
}

/** What a profile's stages do, counted on its prepared data. */
export function stageWork(p: Profile, data: PreparedData): StageWork {
  const bi = p.embed.biencoder ?? {};
  const t = p.generate.train;
  const e = resolveGenerativeEval(p.generate.eval);
  const epochs = t.epochs ?? 1;
  const validLimit = t.validLimit ?? 300;
  const valid = { search: data.queries.valid.length, rec: data.rec.valid.length };
  const test = { search: data.queries.test.length, rec: data.rec.test.length };
  const capped = (n: number, lim: number | null | undefined) => (lim === null || lim === undefined ? n : Math.min(lim, n));
  const candidates = e.decodeCandidates.length;
  const selection = candidates * (capped(valid.search, e.selectionLimit) + capped(valid.rec, e.selectionLimit));
  // As evaluateGenerative samples each task's test examples.
  const testLimit = (task: 'search' | 'rec') => (e.taskLimits[task] !== undefined ? e.taskLimits[task] : e.limit);
  return {
    biencoderSteps: { search: biencoderSteps(bi, data.queries.train.length), multitask: biencoderSteps({ ...bi, ...(p.embed.multitask ?? {}) }, null) },
    alsIterations: p.embed.cf?.iterations ?? 15,
    sasrecEpochs: p.baselines.sasrec.maxEpochs ?? SASREC_DEFAULTS.maxEpochs,
    trainExamples: epochs * (t.examplesPerEpoch ?? examplesPerFullEpoch(data, t.maxRecWindowsPerUser)),
    validationDecodes: validLimit > 0 ? epochs * (capped(valid.search, validLimit) + capped(valid.rec, validLimit)) : 0,
    evalDecodes: selection + capped(test.search, testLimit('search')) + capped(test.rec, testLimit('rec')),
  };
}

/** What names a profile on a command line: its name, a budget and a MovieLens folder. */
export interface ProfileSelector {
  name?: string;
  budget?: string;
  /** A folder with movies.csv, ratings.csv and tags.csv in place of the profile's data set's. */
  datasetDir?: string;
}

/** The profile a selector names (the smoke budget at work level 1). */
export function selectProfile(sel: ProfileSelector): Profile {
  let p = getProfile(sel.name);
  if (sel.datasetDir !== undefined) {
    if (p.data.dataset === 'synthetic') throw new Error(`--dataset-dir: profile "${p.name}" generates its data; name a MovieLens profile (small or paper)`);
    const dir = path.resolve(sel.datasetDir);
    for (const f of ['movies.csv', 'ratings.csv']) {
      if (!fs.existsSync(path.join(dir, f))) throw new Error(`--dataset-dir ${dir}: no ${f} there (expected a MovieLens folder with movies.csv, ratings.csv and tags.csv)`);
    }
    p = { ...p, data: { ...p.data, dir } };
  }
  const budget = sel.budget ?? 'full';
  if (!(BUDGET_NAMES as readonly string[]).includes(budget)) throw new Error(`--budget must be one of ${BUDGET_NAMES.join(', ')}, got "${budget}"`);
  return budget === 'smoke' ? smokeProfile(p, 1) : p;
}

/** The command-line arguments that select `p` again in another process (the workers of a run). */
export function selectorArgs(p: Profile): string[] {
  const args = ['--profile', p.name];
  if (p.budget) args.push('--budget', p.budget);
  if (p.data.dir) args.push('--dataset-dir', p.data.dir);
  return args;
}
