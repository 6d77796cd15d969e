/**
 * Evaluation of the joint generative model: decode every test search query and every test user's
 * history into a ranked item list, then Recall@K and NDCG@K with 95% bootstrap intervals, overall and
 * by popularity bucket of the target item, plus recall as a function of beam width.
 */
import type { BeamSearchOptions, FinalRanking } from '../generate/beamSearch';
import {
  buildExampleSets, decodeExamples, DEFAULT_DECODE, makeTries,
  type GenerativeModel, type TaskSpaces, type TaskTries, type TrieFactory,
} from '../generate/jointModel';
import type { IdVocabularyLike } from '../generate/idContract';
import type { Seq2SeqExample } from '../generate/prompts';
import type { PreparedData, Task } from '../types';
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

/** "60 beams / 30 groups", with "(penalised ranking)" for Hugging Face's final ranking. */
export function beamSettingLabel(s: BeamSetting): string {
  return `${s.numBeams} beams / ${s.numGroups} groups${s.finalRanking === 'penalized' ? ' (penalised ranking)' : ''}`;
}

/** Evaluation settings (plain data: what a profile holds). */
export interface GenerativeEvalConfig {
  /** Decoding for the main metrics (default DEFAULT_DECODE: plain beam search, 60 beams). */
  decode?: BeamSearchOptions;
  /** Cut-offs (default [10, 30]). */
  ks?: number[];
  /** Evaluate at most this many examples per task, a seeded sample (default: all). */
  limit?: number;
  bootstrap?: BootstrapOptions;
  /**
   * Keep items the user has already interacted with in rec rankings (default false: they are left
   * out, as the dense-retrieval and popularity baselines do, so all three rank the same candidates).
   */
  keepSeen?: boolean;
}

/** Every evaluation setting with its default filled in: what an evaluation reports it ran with. */
export interface ResolvedGenerativeEval {
  decode: BeamSearchOptions;
  ks: number[];
  limit: number | null;
  bootstrap: BootstrapOptions;
  keepSeen: boolean;
  seed: number;
}

export function resolveGenerativeEval(o: GenerativeEvalConfig & { seed?: number } = {}): ResolvedGenerativeEval {
  return {
    decode: { ...DEFAULT_DECODE, ...o.decode },
    ks: o.ks ?? [10, 30],
    limit: o.limit ?? null,
    bootstrap: o.bootstrap ?? {},
    keepSeen: o.keepSeen ?? false,
    seed: o.seed ?? 0,
  };
}

export interface GenerativeEvalOptions extends GenerativeEvalConfig {
  makeTrie?: TrieFactory;
  seed?: number;
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
  decodeSeconds: number;
  promptsPerSecond: number;
}

export interface GenerativeEvaluation {
  search: TaskEvaluation;
  rec: TaskEvaluation;
  settings: ResolvedGenerativeEval;
  bucketNames: string[];
}

export function evaluateGenerative(
  model: GenerativeModel,
  data: PreparedData,
  vocab: IdVocabularyLike,
  spaces: TaskSpaces,
  opts: GenerativeEvalOptions = {},
): GenerativeEvaluation {
  if (vocab.size !== model.vocab.size || spaces.search !== model.spaces.search || spaces.rec !== model.spaces.rec) {
    throw new Error(
      `evaluateGenerative: the model was trained on spaces ${JSON.stringify(model.spaces)} with ${model.vocab.size} ID tokens; ` +
        `asked to evaluate ${JSON.stringify(spaces)} with ${vocab.size}`,
    );
  }
  const settings = resolveGenerativeEval(opts);
  const { decode, ks } = settings;
  const sets = buildExampleSets(data, model.prompts, vocab, spaces, 0);
  const tries = makeTries(model, opts.makeTrie);
  const rng = new Rng(settings.seed);
  const run = (task: Task): TaskEvaluation => {
    const examples = settings.limit === null ? sets.test[task] : rng.fork(`test-${task}`).sample(sets.test[task], settings.limit, true);
    const progress = new Progress({ label: `decode ${task}`, total: examples.length, unit: 'prompts' });
    const t0 = Date.now();
    const rankings: number[][] = [];
    const step = 500;
    for (let s = 0; s < examples.length; s += step) {
      const part = examples.slice(s, s + step);
      for (const d of decodeExamples(model, task, part, tries, decode, settings.keepSeen)) rankings.push(d.items);
      progress.tick(part.length);
    }
    progress.finish();
    const decodeSeconds = (Date.now() - t0) / 1000;
    const targets = examples.map((e) => e.item);
    const buckets = targets.map((i) => data.buckets.bucketOf[i]);
    const summary = summarizeTask(rankings, targets, data, ks, settings.bootstrap);
    return { task, ...summary, rankings, targets, buckets, decodeSeconds, promptsPerSecond: examples.length / Math.max(1e-9, decodeSeconds) };
  };
  return { search: run('search'), rec: run('rec'), settings, bucketNames: data.buckets.names };
}

/**
 * Recall@K of each beam setting on the given examples of one task (a setting's groups take beam
 * search's default penalty: 0.5 with groups, 0 without).
 */
export function sweepBeamSettings(
  model: GenerativeModel,
  task: Task,
  examples: Seq2SeqExample[],
  tries: TaskTries,
  settings: readonly BeamSetting[],
  opts: { base?: BeamSearchOptions; k?: number; bootstrap?: BootstrapOptions; keepSeen?: boolean } = {},
): SweepPoint[] {
  return settings.map((setting) => {
    const t0 = Date.now();
    const dec = decodeExamples(model, task, examples, tries, { ...opts.base, diversityPenalty: undefined, ...setting }, opts.keepSeen);
    const hits = hitsAtK(dec.map((d) => d.items), examples.map((e) => e.item), opts.k ?? 30);
    return { ...setting, recall: bootstrapMean(hits, opts.bootstrap), seconds: (Date.now() - t0) / 1000 };
  });
}
