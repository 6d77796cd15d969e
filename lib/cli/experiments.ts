/** `sid embed`, `sid ids`, `sid train`, `sid eval`: one configuration at a time, reusing cached stages. */
import { TASKS } from '../types';
import { EMBEDDING_STRATEGIES, type EmbeddingStrategy } from '../embed/index';
import { parseQuantizerName, quantizerNames, type QuantizerName } from '../quantize/quantizer';
import { initBackend } from '../backend/index';
import {
  createContext, dataStage, embeddingStage, experimentStage, idStage, parseSpecId, replicatesOf, specId, withReplicate,
  type ExperimentSpec, type PipelineContext, type StoredExperiment,
} from '../pipeline/stages';
import { compareRecToBaselines, compareRecToPopularity } from '../baselines/compare';
import { compareReplicates, replicateRankings, type PairedComparison } from '../eval/compare';
import type { Task } from '../types';
import { choice, optionalIntOption, parseArgs, UsageError } from './args';
import type { Profile } from '../pipeline/profiles';
import { PROFILE_OPTIONS, profileOf } from './runOptions';

/** `--quantizer` (default rq-kmeans); `--tokenizer` is its former name, still accepted. */
function quantizerOption(options: Record<string, string>): QuantizerName {
  if (options.quantizer !== undefined && options.tokenizer !== undefined) throw new UsageError('give --quantizer only (--tokenizer is its former name)');
  const flag = options.quantizer !== undefined ? 'quantizer' : 'tokenizer';
  const raw = options[flag];
  if (flag === 'tokenizer' && raw !== undefined) process.stderr.write('sid: --tokenizer is deprecated; use --quantizer\n');
  if (raw === undefined) return 'rq-kmeans';
  const name = parseQuantizerName(raw, `--${flag}`);
  if (!name) throw new UsageError(`--${flag} must be one of ${quantizerNames().join(', ')}, got "${raw}"`);
  return name;
}

function print(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : text() + '\n');
}

function fmt(e: { mean: number; lo: number; hi: number } | undefined): string {
  return e ? `${e.mean.toFixed(4)} [${e.lo.toFixed(4)}, ${e.hi.toFixed(4)}]` : '-';
}

export async function embedCommand(argv: string[]): Promise<number> {
  const { options, flags } = parseArgs(argv, { flags: ['json'], options: ['strategy', ...PROFILE_OPTIONS] });
  const strategy = choice<EmbeddingStrategy>('strategy', options.strategy, EMBEDDING_STRATEGIES);
  // The profile first: a bad --dataset-dir, --queries or --content-model is a usage error before the backend loads.
  const ctx = createContext(profileOf(options));
  await initBackend();
  const res = await embeddingStage(ctx, strategy);
  const r = res.embedding.retrieval;
  print(flags.has('json'), { strategy, profile: ctx.profile.name, key: res.key, cached: res.cached, dim: res.embedding.dim, info: res.embedding.info, retrieval: r }, () =>
    [
      `${strategy} (${ctx.profile.name}): dim ${res.embedding.dim}, ${res.cached ? 'from cache' : 'built'} (${res.key})`,
      `search Recall@30 ${r.search ? fmt(r.search.overall['recall@30']) : `n/a (${r.searchMissing ?? 'no query encoder'})`}`,
      `rec    Recall@30 ${fmt(r.rec.overall['recall@30'])}`,
    ].join('\n'),
  );
  return 0;
}

export async function idsCommand(argv: string[]): Promise<number> {
  const { options, flags } = parseArgs(argv, { flags: ['json'], options: ['embedding', 'quantizer', 'tokenizer', ...PROFILE_OPTIONS, 'collisions'] });
  const strategy = choice<EmbeddingStrategy>('embedding', options.embedding, EMBEDDING_STRATEGIES, 'multitask');
  const quantizer = quantizerOption(options);
  const ctx = createContext(profileOf(options));
  await initBackend();
  const collisions = choice('collisions', options.collisions, ['extra-level', 'none'] as const, ctx.profile.ids.collisions);
  const res = await idStage(ctx, strategy, quantizer, collisions);
  const d = res.ids.diagnostics;
  print(flags.has('json'), { strategy, quantizer, collisions, profile: ctx.profile.name, key: res.key, cached: res.cached, length: res.ids.ids.length, cardinalities: res.ids.ids.cardinalities, seconds: res.ids.seconds, diagnostics: d }, () =>
    [
      `${quantizer} on ${strategy} (${ctx.profile.name}): ${res.ids.ids.length} positions, cardinalities ${res.ids.ids.cardinalities.join(' x ')}`,
      ...d.positions.map((p, i) => `level ${i + 1}: usage ${(100 * p.usage).toFixed(1)}%, entropy ${p.entropyBits.toFixed(2)} bits`),
      `distinct codes ${d.distinctCodes}, collision rate ${(100 * d.collisionRate).toFixed(1)}%, largest group ${d.largestCollisionGroup}`,
      `relative reconstruction error ${d.relativeError === null ? '-' : d.relativeError.toFixed(4)}`,
    ].join('\n'),
  );
  return 0;
}

function specFromOptions(options: Record<string, string>): ExperimentSpec {
  const embedding = choice<ExperimentSpec['embedding']>('embedding', options.embedding, [...EMBEDDING_STRATEGIES, 'separate'], 'multitask');
  const quantizer = quantizerOption(options);
  const space = choice('space', options.space, ['shared', 'separate'] as const, embedding === 'separate' ? 'separate' : 'shared');
  // Replicate r trains with seed profile.seed + r, as the r-th seed of a reproduction does.
  return withReplicate(parseSpecId(specId({ embedding, quantizer, space })), optionalIntOption(options, 'replicate', 0) ?? 0);
}

/** A JSON-friendly summary of an experiment (the per-example rankings left out). */
function experimentSummary(r: StoredExperiment): Record<string, unknown> {
  const task = (t: StoredExperiment['evaluation']['search']) => ({
    n: t.n,
    overall: t.overall,
    byBucket: t.byBucket,
    promptsPerSecond: t.promptsPerSecond,
  });
  return {
    spec: r.spec,
    vocabSize: r.vocabSize,
    bestEpoch: r.bestEpoch,
    stop: r.stop,
    trainSeconds: r.trainSeconds,
    evalSeconds: r.evalSeconds,
    history: r.history,
    settings: r.evaluation.settings,
    search: task(r.evaluation.search),
    rec: task(r.evaluation.rec),
  };
}

/** Training options `sid train` / `sid eval` can override; each changes the experiment's cache key. */
const TRAIN_OVERRIDES = ['epochs', 'patience', 'examples-per-epoch', 'batch-size', 'lr', 'search-fraction', 'history-length', 'task-batches', 'stop-on',
  'decay', 'decay-epochs', 'warmup-steps', 'embedding-lr-scale', 'softmax', 'indexing-copies', 'rec-sampling', 'min-delta'] as const;

/** A number in [min, max] (min excluded when `openMin`), or undefined when the option is absent. */
function numberOption(options: Record<string, string>, name: string, min: number, max: number, openMin: boolean): number | undefined {
  const raw = options[name];
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v > max || (openMin ? v <= min : v < min)) {
    throw new UsageError(`--${name} must be a number in ${openMin ? '(' : '['}${min}, ${max}], got "${raw}"`);
  }
  return v;
}

/** The profile with the training options given on the command line (the profile itself is unchanged). */
export function withTrainOverrides(profile: Profile, options: Record<string, string>): Profile {
  const t = { ...profile.generate.train };
  const set = <K extends keyof typeof t>(key: K, value: (typeof t)[K] | undefined) => {
    if (value !== undefined) t[key] = value;
  };
  const positiveInt = (name: string) => optionalIntOption(options, name);
  set('epochs', positiveInt('epochs'));
  // 0 turns the plateau rule off: every epoch of the cap runs (the best validation epoch is still kept).
  const patience = optionalIntOption(options, 'patience', 0);
  if (patience !== undefined) t.patience = patience === 0 ? undefined : patience;
  set('examplesPerEpoch', positiveInt('examples-per-epoch'));
  set('batchSize', positiveInt('batch-size'));
  set('lr', numberOption(options, 'lr', 0, 1, true));
  set('searchFraction', numberOption(options, 'search-fraction', 0, 1, false));
  set('historyLength', positiveInt('history-length'));
  set('stopOn', options['stop-on'] === undefined ? undefined : choice('stop-on', options['stop-on'], ['recall', 'loss'] as const, 'recall'));
  set('taskBatches', options['task-batches'] === undefined ? undefined : choice('task-batches', options['task-batches'], ['single', 'mixed'] as const, 'single'));
  set('decay', options.decay === undefined ? undefined : choice('decay', options.decay, ['cosine', 'linear', 'constant', 'wsd'] as const, 'cosine'));
  set('decayEpochs', positiveInt('decay-epochs'));
  set('warmupSteps', optionalIntOption(options, 'warmup-steps', 0));
  set('embeddingLrScale', numberOption(options, 'embedding-lr-scale', 0, 1000, true));
  set('softmax', options.softmax === undefined ? undefined : choice('softmax', options.softmax, ['full', 'level'] as const, 'full'));
  set('minDelta', numberOption(options, 'min-delta', 0, 1000, false));
  set('indexingCopies', optionalIntOption(options, 'indexing-copies', 0));
  set('recSampling', options['rec-sampling'] === undefined ? undefined : choice('rec-sampling', options['rec-sampling'], ['window', 'user'] as const, 'window'));
  return { ...profile, generate: { ...profile.generate, train: t } };
}

/** Every seed of a row (trained when missing). */
async function replicateResults(ctx: PipelineContext, s: ExperimentSpec): Promise<StoredExperiment[]> {
  const out: StoredExperiment[] = [];
  for (const r of replicatesOf(s, ctx.profile.generate.replicates)) out.push((await experimentStage(ctx, r)).result);
  return out;
}

/** Two rows on the same test examples, every seed of each: Recall@30 paired per task. */
async function compareRows(ctx: PipelineContext, a: ExperimentSpec, b: ExperimentSpec): Promise<Record<Task, PairedComparison>> {
  const [ra, rb] = [await replicateResults(ctx, a), await replicateResults(ctx, b)];
  const side = (rs: StoredExperiment[], t: Task) => replicateRankings(rs.map((r) => r.evaluation[t]));
  const bootstrap = ra[0].evaluation.settings.bootstrap;
  return {
    search: compareReplicates(side(ra, 'search'), side(rb, 'search'), 30, bootstrap),
    rec: compareReplicates(side(ra, 'rec'), side(rb, 'rec'), 30, bootstrap),
  };
}

async function runExperiment(argv: string[], mode: 'train' | 'eval'): Promise<number> {
  const { options, flags } = parseArgs(argv, { flags: ['json'], options: ['embedding', 'quantizer', 'tokenizer', 'space', 'replicate', ...PROFILE_OPTIONS, 'compare', ...TRAIN_OVERRIDES] });
  const spec = specFromOptions(options);
  let other: ExperimentSpec | null = null;
  const againstBaselines = options.compare === 'baselines';
  if (options.compare !== undefined && !againstBaselines) {
    try {
      other = parseSpecId(options.compare);
    } catch (e) {
      throw new UsageError(`--compare: ${(e as Error).message}`);
    }
    if (other.replicate) throw new UsageError(`--compare takes a row id without /r<N> (every seed of the row is compared), got "${options.compare}"`);
  }
  const ctx = createContext(withTrainOverrides(profileOf(options), options));
  await initBackend();
  const exp = await experimentStage(ctx, spec);
  const r = exp.result;
  const { data } = await dataStage(ctx);
  // Only when every test user was decoded (the stored rankings carry no user index).
  let recVsPopularity: PairedComparison | null = null;
  if (r.evaluation.rec.n === data.rec.test.length) recVsPopularity = compareRecToPopularity(data, r.evaluation.rec, 30, { seed: ctx.profile.seed });
  const comparison = other ? { against: specId(other), seeds: ctx.profile.generate.replicates, ...(await compareRows(ctx, spec, other)) } : null;
  let recVsBaselines: Record<string, PairedComparison> | null = null;
  if (againstBaselines) {
    const recs = (await replicateResults(ctx, spec)).map((x) => x.evaluation.rec);
    try {
      recVsBaselines = compareRecToBaselines(data, recs, 30, r.evaluation.settings.bootstrap);
    } catch (e) {
      throw new UsageError(`--compare baselines: ${(e as Error).message}`);
    }
  }
  const summary = { profile: ctx.profile.name, key: exp.key, cached: exp.cached, modelDir: exp.modelDir, ...experimentSummary(r), recVsPopularity, comparison, recVsBaselines };
  print(flags.has('json'), summary, () => {
    const lines = [`${specId(spec)} (${ctx.profile.name}): ${r.vocabSize} ID tokens, ${exp.cached ? 'from cache' : 'trained'} (${exp.key})`];
    if (mode === 'train') {
      for (const h of r.history) {
        lines.push(
          `epoch ${h.epoch + 1}: loss ${h.trainLoss.toFixed(4)} (search ${h.searchLoss.toFixed(4)}, rec ${h.recLoss.toFixed(4)}), ` +
            `${h.examplesPerSecond.toFixed(0)} ex/s` +
            (h.valid ? `, valid R@30 search ${h.valid.search.toFixed(4)} rec ${h.valid.rec.toFixed(4)}` : '') +
            (h.valid?.loss ? `, valid loss ${h.valid.loss.mean.toFixed(4)} ± ${h.valid.loss.se.toFixed(4)}` : ''),
        );
      }
      lines.push(`best epoch ${r.bestEpoch + 1} of ${r.history.length} (${r.stop === 'plateau' ? 'stopped on a validation plateau' : 'the epoch cap'}); trained in ${r.trainSeconds.toFixed(0)} s`);
    }
    for (const t of TASKS) {
      const m = r.evaluation[t].overall;
      lines.push(`${t.padEnd(6)} n=${r.evaluation[t].n} Recall@10 ${fmt(m['recall@10'])} Recall@30 ${fmt(m['recall@30'])} NDCG@30 ${fmt(m['ndcg@30'])}`);
    }
    if (recVsPopularity) {
      const c = recVsPopularity;
      lines.push(`rec Recall@30 against popularity on the same ${c.model.n} users: ${c.model.mean.toFixed(4)} vs ${c.baseline.mean.toFixed(4)}, difference ${fmt(c.difference)} (paired bootstrap)`);
    }
    if (recVsBaselines) {
      lines.push(`rec Recall@30 against each baseline, every seed of this row (${ctx.profile.generate.replicates}), paired on the same test users (this row minus the baseline):`);
      for (const [name, c] of Object.entries(recVsBaselines)) lines.push(`  ${name.padEnd(12)} ${fmt(c.model)} vs ${fmt(c.baseline)}: difference ${fmt(c.difference)}`);
    }
    if (comparison) {
      lines.push(`against ${comparison.against}, ${comparison.seeds} seed(s) each, paired on the same test examples (Recall@30, this row minus the other):`);
      for (const t of TASKS) {
        const c = comparison[t];
        lines.push(`  ${t.padEnd(6)} ${fmt(c.model)} vs ${fmt(c.baseline)}: difference ${fmt(c.difference)} on ${c.difference.n} examples`);
      }
    }
    return lines.join('\n');
  });
  return 0;
}

export const trainCommand = (argv: string[]) => runExperiment(argv, 'train');
export const evalCommand = (argv: string[]) => runExperiment(argv, 'eval');
