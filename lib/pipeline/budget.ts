/**
 * Run budgets. `full` is a profile as written. `smoke` keeps the profile's data and every size (the
 * catalogue, the embedding and model dimensions, the quantizers, the test sets' sizes) and cuts only
 * the repeated work: training steps, ALS sweeps, SASRec epochs, decoded examples, seeds. A smoke run
 * at two work levels (`scale` 1 and 2) gives each stage's fixed cost and its cost per unit of work,
 * from which lib/pipeline/smoke.ts extrapolates the full run.
 */
import { resolveGenerativeEval } from '../eval/generativeEval';
import type { PreparedData } from '../types';
import { contentModelOf, getProfile, withContentModel, withDataSources, type DataSources, type Profile } from './profiles';
import { stageKinds } from './stageKinds';
import type { WorkUnit } from './workUnits';

export type BudgetName = 'full' | 'smoke';
const BUDGET_NAMES: readonly BudgetName[] = ['full', 'smoke'];

/** Generative training optimizer steps per smoke unit (one epoch). */
const SMOKE_TRAIN_STEPS = 12;
/** Validation examples per task decoded after the epoch, and per task for choosing the decoding, per smoke unit. */
const SMOKE_VALID_EXAMPLES = 10;
/** Test examples decoded per task, per smoke unit. */
const SMOKE_TEST_EXAMPLES = 40;

/** Generative training examples per epoch when a profile does not cap it: every search pair and rec window. */
export function examplesPerFullEpoch(data: PreparedData, maxRecWindowsPerUser = Infinity): number {
  // One rec window per training position after the first, at most maxRecWindowsPerUser (as recTrainingWindows).
  let rec = 0;
  for (const u of data.rec.train) rec += u.items.length - Math.max(1, u.items.length - maxRecWindowsPerUser);
  return data.queries.train.length + rec;
}

const capped = (n: number, lim: number | null | undefined) => (lim === null || lim === undefined ? n : Math.min(lim, n));

/** The units of a generative training (an experiment): its examples, its validation decodes, its evaluation's decodes. */
export const TRAINING_UNITS: readonly WorkUnit[] = [
  {
    name: 'trainExamples',
    cut(p, scale) {
      const { patience: _, ...train } = p.generate.train;
      return { ...p, generate: { ...p.generate, train: { ...train, epochs: 1, examplesPerEpoch: SMOKE_TRAIN_STEPS * scale * (train.batchSize ?? 256) } } };
    },
    count(p, data) {
      const t = p.generate.train;
      return (t.epochs ?? 1) * (t.examplesPerEpoch ?? examplesPerFullEpoch(data, t.maxRecWindowsPerUser));
    },
  },
  {
    name: 'validationDecodes',
    cut: (p, scale) => ({ ...p, generate: { ...p.generate, train: { ...p.generate.train, validLimit: SMOKE_VALID_EXAMPLES * scale } } }),
    count(p, data) {
      const t = p.generate.train;
      const validLimit = t.validLimit ?? 300;
      return validLimit > 0 ? (t.epochs ?? 1) * (capped(data.queries.valid.length, validLimit) + capped(data.rec.valid.length, validLimit)) : 0;
    },
  },
  {
    name: 'evalDecodes',
    cut: (p, scale) => ({ ...p, generate: { ...p.generate, eval: { ...p.generate.eval, selectionLimit: SMOKE_VALID_EXAMPLES * scale, limit: SMOKE_TEST_EXAMPLES * scale, taskLimits: {} } } }),
    count(p, data) {
      const e = resolveGenerativeEval(p.generate.eval);
      const selection = e.decodeCandidates.length * (capped(data.queries.valid.length, e.selectionLimit) + capped(data.rec.valid.length, e.selectionLimit));
      // As evaluateGenerative samples each task's test examples.
      const testLimit = (task: 'search' | 'rec') => (e.taskLimits[task] !== undefined ? e.taskLimits[task] : e.limit);
      return selection + capped(data.queries.test.length, testLimit('search')) + capped(data.rec.test.length, testLimit('rec'));
    },
  },
];

/** Every unit of repeated work: the stage kinds' (as their descriptors list them) and the training's. */
function workUnits(): WorkUnit[] {
  const byName = new Map<string, WorkUnit>();
  for (const u of [...stageKinds().flatMap((k) => k.units), ...TRAINING_UNITS]) {
    const other = byName.get(u.name);
    // Two kinds may share a unit object; two different units under one name would count one as the other.
    if (other && other !== u) throw new Error(`two different units of work are both named "${u.name}"`);
    byName.set(u.name, u);
  }
  return [...byName.values()];
}

/** The profile with the repeated work cut to `scale` smoke units (sizes and data unchanged). */
export function smokeProfile(full: Profile, scale: number): Profile {
  if (!Number.isInteger(scale) || scale < 1) throw new Error(`smokeProfile: scale must be a positive integer, got ${scale}`);
  const cut = workUnits().reduce((p, u) => u.cut(p, scale), full);
  return { ...cut, budget: 'smoke', generate: { ...cut.generate, replicates: 1 } };
}

/** How much of each unit of repeated work a profile does, by unit name. */
export type StageWork = Record<string, number>;

/** What a profile's stages do, counted on its prepared data. */
export function stageWork(p: Profile, data: PreparedData): StageWork {
  return Object.fromEntries(workUnits().map((u) => [u.name, u.count(p, data)]));
}

/** What names a profile on a command line: its name, a budget, a MovieLens folder, a query file and a content model. */
export interface ProfileSelector extends DataSources {
  name?: string;
  budget?: string;
  /** The 'content' strategy's sentence-transformer: a model folder or a fetched hub id (profiles.ts withContentModel). */
  contentModel?: string;
}

/** The profile a selector names (the smoke budget at work level 1). */
export function selectProfile(sel: ProfileSelector): Profile {
  const p = withContentModel(withDataSources(getProfile(sel.name), sel), sel.contentModel);
  const budget = sel.budget ?? 'full';
  if (!(BUDGET_NAMES as readonly string[]).includes(budget)) throw new Error(`--budget must be one of ${BUDGET_NAMES.join(', ')}, got "${budget}"`);
  return budget === 'smoke' ? smokeProfile(p, 1) : p;
}

/** The command-line arguments that select `p` again in another process (the workers of a run). */
export function selectorArgs(p: Profile): string[] {
  const args = ['--profile', p.name];
  if (p.budget) args.push('--budget', p.budget);
  if (p.data.dir) args.push('--dataset-dir', p.data.dir);
  if (p.data.queryFile) args.push('--queries', p.data.queryFile);
  const model = contentModelOf(p);
  if (model) args.push('--content-model', model);
  return args;
}
