/**
 * Evaluation of the joint generative model: decode every test search query and every test user's
 * history into a ranked item list, then Recall@K and NDCG@K with 95% bootstrap intervals, overall and
 * by popularity bucket of the target item, plus recall as a function of beam width.
 */
import type { BeamSearchOptions, FinalRanking } from '../generate/beamSearch';
import {
  buildExampleSets, decodeExamples, DEFAULT_DECODE, makeTries,
  type GenerativeModel, type TaskSpaces, type TrieFactory,
} from '../generate/jointModel';
import type { IdVocabularyLike } from '../generate/idContract';
import type { Seq2SeqExample, Task } from '../generate/prompts';
import type { PreparedData } from '../types';
import { Progress } from '../util/progress';
import { Rng } from '../util/random';
import { bootstrapByGroup, bootstrapMean, hitsAtK, ndcgAtK, type BootstrapOptions, type Estimate } from './metrics';

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

export interface GenerativeEvalOptions {
  /** Decoding for the main metrics (default DEFAULT_DECODE: plain beam search, 60 beams). */
  decode?: BeamSearchOptions;
  /** Cut-offs (default [10, 30]). */
  ks?: number[];
  /** Evaluate at most this many examples per task, a seeded sample (default: all). */
  limit?: number;
  /** Beam settings for the recall-vs-beam-width curve (default none). */
  beamSweep?: BeamSetting[];
  /** Examples per task used for the sweep (default 500). */
  sweepLimit?: number;
  /** Cut-off of the sweep's recall (default 30). */
  sweepK?: number;
  bootstrap?: BootstrapOptions;
  makeTrie?: TrieFactory;
  seed?: number;
  /**
   * Keep items the user has already interacted with in rec rankings (default false: they are left
   * out, as the dense-retrieval and popularity baselines do, so all three rank the same candidates).
   */
  keepSeen?: boolean;
}

export interface SweepPoint extends BeamSetting {
  recall: Estimate;
  seconds: number;
}

export interface TaskEvaluation {
  task: Task;
  n: number;
  /** Per test example: ranked items (best first), target item and its bucket id. */
  rankings: number[][];
  targets: number[];
  buckets: number[];
  /** "recall@10", "ndcg@30", ... */
  metrics: Record<string, Estimate>;
  /** metric -> bucket name -> estimate. */
  byBucket: Record<string, Record<string, Estimate>>;
  sweep: SweepPoint[];
  decodeSeconds: number;
  promptsPerSecond: number;
}

export interface GenerativeEvaluation {
  search: TaskEvaluation;
  rec: TaskEvaluation;
  decode: BeamSearchOptions;
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
  const decode = { ...DEFAULT_DECODE, ...opts.decode };
  const ks = opts.ks ?? [10, 30];
  const sets = buildExampleSets(data, model.prompts, vocab, spaces, 0);
  const tries = makeTries(model, opts.makeTrie);
  const rng = new Rng(opts.seed ?? 0);
  const sample = (xs: Seq2SeqExample[], limit: number | undefined, label: string) => {
    if (limit === undefined || xs.length <= limit) return xs;
    const perm = rng.fork(label).permutation(xs.length).subarray(0, limit);
    return Array.from(perm).sort((a, b) => a - b).map((i) => xs[i]);
  };
  const run = (task: Task): TaskEvaluation => {
    const examples = sample(sets.test[task], opts.limit, `test-${task}`);
    const progress = new Progress({ label: `decode ${task}`, total: examples.length, unit: 'prompts' });
    const t0 = Date.now();
    const rankings: number[][] = [];
    const step = 500;
    for (let s = 0; s < examples.length; s += step) {
      const part = examples.slice(s, s + step);
      for (const d of decodeExamples(model, task, part, tries, decode, opts.keepSeen)) rankings.push(d.items);
      progress.tick(part.length);
    }
    progress.finish();
    const decodeSeconds = (Date.now() - t0) / 1000;
    const targets = examples.map((e) => e.item);
    const buckets = targets.map((i) => data.buckets.bucketOf[i]);
    const metrics: Record<string, Estimate> = {};
    const byBucket: Record<string, Record<string, Estimate>> = {};
    for (const k of ks) {
      for (const [name, values] of [[`recall@${k}`, hitsAtK(rankings, targets, k)], [`ndcg@${k}`, ndcgAtK(rankings, targets, k)]] as const) {
        metrics[name] = bootstrapMean(values, opts.bootstrap);
        byBucket[name] = bootstrapByGroup(values, buckets, data.buckets.names, opts.bootstrap);
      }
    }
    const sweep: SweepPoint[] = [];
    const sweepExamples = sample(sets.test[task], opts.sweepLimit ?? 500, `sweep-${task}`);
    for (const setting of opts.beamSweep ?? []) {
      const s0 = Date.now();
      // The sweep's own groups take beamSearch's default penalty (0.5 with groups, 0 without).
      const dec = decodeExamples(model, task, sweepExamples, tries, { ...decode, diversityPenalty: undefined, ...setting }, opts.keepSeen);
      const hits = hitsAtK(dec.map((d) => d.items), sweepExamples.map((e) => e.item), opts.sweepK ?? 30);
      sweep.push({ ...setting, recall: bootstrapMean(hits, opts.bootstrap), seconds: (Date.now() - s0) / 1000 });
    }
    return { task, n: examples.length, rankings, targets, buckets, metrics, byBucket, sweep, decodeSeconds, promptsPerSecond: examples.length / Math.max(1e-9, decodeSeconds) };
  };
  return { search: run('search'), rec: run('rec'), decode, bucketNames: data.buckets.names };
}
