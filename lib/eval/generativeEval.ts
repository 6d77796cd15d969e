/**
 * Evaluation of the joint generative model. When the configuration lists candidate decodings, one is
 * chosen on the validation split first (the highest mean validation Recall@K of the two tasks; a tie
 * goes to the first-listed candidate); only then are the test examples built and decoded, once, with
 * the chosen decoding. Test metrics: Recall@K and NDCG@K with 95% bootstrap intervals, overall and by
 * popularity bucket of the target item.
 */
import type { BeamSearchOptions, FinalRanking } from '../generate/beamSearch';
import {
  decodeExamples, DEFAULT_DECODE, makeTries, splitExamples,
  type GenerativeModel, type TaskSpaces, type TaskTries, type TrieFactory,
} from '../generate/jointModel';
import type { IdVocabularyLike } from '../generate/idContract';
import type { Seq2SeqExample } from '../generate/prompts';
import { TASKS, type PreparedData, type Task } from '../types';
import { Progress } from '../util/progress';
import { Rng } from '../util/random';
import { bootstrapMean, hitsAtK, type BootstrapOptions, type Estimate } from '../util/metrics';
import { summarizeTask, type TaskResult } from './summary';

export interface BeamSetting {
  numBeams: number;
  numGroups: number;
  /** Default: likelihood (see beamSearch). */
  finalRanking?: FinalRanking;
}

/** "60 beams / 30 groups" (or "/ no groups"), with "(penalised ranking)" for Hugging Face's final ranking. */
export function beamSettingLabel(s: BeamSetting): string {
  const groups = s.numGroups === 1 ? 'no groups' : `${s.numGroups} groups`;
  return `${s.numBeams} beams / ${groups}${s.finalRanking === 'penalized' ? ' (penalised ranking)' : ''}`;
}

/** Evaluation settings (plain data: what a profile holds). */
export interface GenerativeEvalConfig {
  /** Decoding for the test metrics when no candidates are given (default DEFAULT_DECODE). */
  decode?: BeamSearchOptions;
  /** Decodings to choose from on the validation split (the first is preferred on a tie). */
  decodeCandidates?: BeamSearchOptions[];
  /** Validation examples per task for the choice, a seeded sample (default 300). */
  selectionLimit?: number;
  /** Cut-offs (default [10, 30]). */
  ks?: number[];
  /** Evaluate at most this many examples per task, a seeded sample (default: all). */
  limit?: number;
  /** Per-task limits replacing `limit` for that task (null: every example). */
  taskLimits?: Partial<Record<Task, number | null>>;
  bootstrap?: BootstrapOptions;
  /**
   * Keep items the user has already interacted with in rec rankings (default false: they are left
   * out, as the dense-retrieval and popularity baselines do, so all three rank the same candidates).
   */
  keepSeen?: boolean;
}

/** Every evaluation setting with its default filled in: what an evaluation reports it ran with. */
export interface ResolvedGenerativeEval {
  /** The decoding the test split was decoded with (chosen on validation when candidates were given). */
  decode: BeamSearchOptions;
  decodeCandidates: BeamSearchOptions[];
  selectionLimit: number;
  ks: number[];
  limit: number | null;
  taskLimits: Partial<Record<Task, number | null>>;
  bootstrap: BootstrapOptions;
  keepSeen: boolean;
  seed: number;
}

export function resolveGenerativeEval(o: GenerativeEvalConfig & { seed?: number } = {}): ResolvedGenerativeEval {
  return {
    decode: { ...DEFAULT_DECODE, ...o.decode },
    decodeCandidates: (o.decodeCandidates ?? []).map((c) => ({ ...c })),
    selectionLimit: o.selectionLimit ?? 300,
    ks: o.ks ?? [10, 30],
    limit: o.limit ?? null,
    taskLimits: { ...o.taskLimits },
    bootstrap: o.bootstrap ?? {},
    keepSeen: o.keepSeen ?? false,
    seed: o.seed ?? 0,
  };
}

export interface GenerativeEvalOptions extends GenerativeEvalConfig {
  makeTrie?: TrieFactory;
  seed?: number;
  /** Called with 'decoding fixed' once the test decoding is settled (before any test example is read). */
  trace?: (event: 'decoding fixed') => void;
}

export interface SweepPoint extends BeamSetting {
  recall: Estimate;
  seconds: number;
}

/** One task's evaluation: the shared per-task metric summary plus the rankings behind it. */
export interface TaskEvaluation extends TaskResult {
  task: Task;
  /** Per test example: ranked items (best first), target item and its bucket id. */
  rankings: number[][];
  targets: number[];
  buckets: number[];
  /** Per test example, the cluster the bootstrap resamples: a search query's target item, a rec example's user. */
  clusters?: number[];
  decodeSeconds: number;
  promptsPerSecond: number;
}

/** How the test decoding was chosen: every candidate's validation recall per task. */
export interface DecodingSelection {
  k: number;
  candidates: { decode: BeamSearchOptions; valid: Record<Task, Estimate>; score: number }[];
  chosen: number;
}

export interface GenerativeEvaluation {
  search: TaskEvaluation;
  rec: TaskEvaluation;
  /** Null when the configuration gave no candidates (its `decode` was used as it is). */
  selection: DecodingSelection | null;
  settings: ResolvedGenerativeEval;
  bucketNames: string[];
}

export async function evaluateGenerative(
  model: GenerativeModel,
  data: PreparedData,
  vocab: IdVocabularyLike,
  spaces: TaskSpaces,
  opts: GenerativeEvalOptions = {},
): Promise<GenerativeEvaluation> {
  if (vocab.size !== model.vocab.size || spaces.search !== model.spaces.search || spaces.rec !== model.spaces.rec) {
    throw new Error(
      `evaluateGenerative: the model was trained on spaces ${JSON.stringify(model.spaces)} with ${model.vocab.size} ID tokens; ` +
        `asked to evaluate ${JSON.stringify(spaces)} with ${vocab.size}`,
    );
  }
  const resolved = resolveGenerativeEval(opts);
  const tries = makeTries(model, opts.makeTrie);
  const selection = resolved.decodeCandidates.length
    ? await selectDecoding(model, splitExamples(data, model.prompts, vocab, spaces, 'valid'), tries, resolved)
    : null;
  opts.trace?.('decoding fixed');
  const settings: ResolvedGenerativeEval = selection ? { ...resolved, decode: selection.candidates[selection.chosen].decode } : resolved;
  const { decode, ks } = settings;
  const test = splitExamples(data, model.prompts, vocab, spaces, 'test');
  const rng = new Rng(settings.seed);
  const run = async (task: Task): Promise<TaskEvaluation> => {
    const limit = settings.taskLimits?.[task] !== undefined ? settings.taskLimits[task]! : settings.limit;
    const examples = limit === null ? test[task] : rng.fork(`test-${task}`).sample(test[task], limit, true);
    const progress = new Progress({ label: `decode ${task}`, total: examples.length, unit: 'prompts' });
    const t0 = Date.now();
    const rankings: number[][] = [];
    const step = 500;
    for (let s = 0; s < examples.length; s += step) {
      const part = examples.slice(s, s + step);
      for (const d of await decodeExamples({ model, task, tries, options: decode }, part, settings.keepSeen)) rankings.push(d.items);
      progress.tick(part.length);
    }
    progress.finish();
    const decodeSeconds = (Date.now() - t0) / 1000;
    const targets = examples.map((e) => e.item);
    const buckets = targets.map((i) => data.buckets.bucketOf[i]);
    const clusters = examples.map((e, i) => (task === 'search' ? e.item : e.user ?? -1 - i));
    const summary = summarizeTask(rankings, targets, data, ks, { ...settings.bootstrap, clusters });
    return { task, ...summary, rankings, targets, buckets, clusters, decodeSeconds, promptsPerSecond: examples.length / Math.max(1e-9, decodeSeconds) };
  };
  const search = await run('search');
  const rec = await run('rec');
  return { search, rec, selection, settings, bucketNames: data.buckets.names };
}

/**
 * Recall@K of each beam setting on the given examples of one task (a setting's groups take beam
 * search's default penalty: 0.5 with groups, 0 without).
 */
export async function sweepBeamSettings(
  model: GenerativeModel,
  task: Task,
  examples: Seq2SeqExample[],
  tries: TaskTries,
  settings: readonly BeamSetting[],
  opts: { base?: BeamSearchOptions; k?: number; bootstrap?: BootstrapOptions; keepSeen?: boolean } = {},
): Promise<SweepPoint[]> {
  const out: SweepPoint[] = [];
  for (const setting of settings) {
    const t0 = Date.now();
    const dec = await decodeExamples({ model, task, tries, options: { ...opts.base, diversityPenalty: undefined, ...setting } }, examples, opts.keepSeen);
    const hits = hitsAtK(dec.map((d) => d.items), examples.map((e) => e.item), opts.k ?? 30);
    out.push({ ...setting, recall: bootstrapMean(hits, opts.bootstrap), seconds: (Date.now() - t0) / 1000 });
  }
  return out;
}

/**
 * Chooses the test decoding on validation examples: each candidate's Recall@K per task on a seeded
 * sample, scored by the mean of the two tasks; the first-listed candidate wins a tie.
 */
export async function selectDecoding(model: GenerativeModel, valid: Record<Task, Seq2SeqExample[]>, tries: TaskTries, o: ResolvedGenerativeEval, k = 30): Promise<DecodingSelection> {
  const rng = new Rng(o.seed);
  const samples = { search: rng.fork('select-search').sample(valid.search, o.selectionLimit, true), rec: rng.fork('select-rec').sample(valid.rec, o.selectionLimit, true) };
  const candidates: DecodingSelection['candidates'] = [];
  for (const decode of o.decodeCandidates) {
    const v = {} as Record<Task, Estimate>;
    for (const task of TASKS) {
      const dec = await decodeExamples({ model, task, tries, options: decode }, samples[task], o.keepSeen);
      v[task] = bootstrapMean(hitsAtK(dec.map((d) => d.items), samples[task].map((e) => e.item), k), o.bootstrap);
    }
    const score = TASKS.reduce((sum, t) => sum + (samples[t].length ? v[t].mean : 0), 0) / TASKS.length;
    candidates.push({ decode, valid: v, score });
  }
  let chosen = 0;
  candidates.forEach((c, i) => { if (c.score > candidates[chosen].score) chosen = i; });
  return { k, candidates, chosen };
}
