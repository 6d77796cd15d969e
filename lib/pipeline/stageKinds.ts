/**
 * The stages built before the trainings (embeddings, Semantic IDs, the baselines), each described
 * once: what a run of some experiments needs of it, how one instance runs, its label, the work a
 * budget scales and how often a full run builds it. The local runner, the Slurm executor, the smoke
 * budget and `sid run-stage` read these descriptors and name no stage kind themselves; adding a kind
 * is a descriptor and one `registerStageKind` (or an entry in the list below).
 */
import type { BiEncoderOptions } from '../embed/index';
import { EMBEDDING_STRATEGIES, type EmbeddingStrategy, type QuantizerName } from '../names';
import { SASREC_DEFAULTS, sasrecGridSettings } from '../baselines/sasrec';
import { parseQuantizerName, quantizerNames } from '../quantize/quantizer';
import { baselinesStage, embeddingStage, idStage, sasrecRunsStage, type ExperimentSpec, type PipelineContext } from './stages';
import type { WorkUnit } from './workUnits';

/** What running one instance of a stage kind gave. */
export interface StageRun {
  key: string;
  cached: boolean;
  /** Folders of its artifacts in the cache (their size is reported by the smoke run). */
  dirs: string[];
  /** Seconds spent in the work its unit counts (optimizer steps, sweeps), where the stage reports them. */
  loopSeconds?: number;
}

export interface StageKind {
  /** The word `sid run-stage` takes. */
  name: string;
  /** Its argument in `sid run-stage` ('' when it takes none). */
  argUsage: string;
  /**
   * 0: it needs the prepared data only; 1: it needs stages of wave 0. A Slurm run submits each
   * wave as one array job, after the previous wave.
   */
  wave: 0 | 1;
  /** The Slurm array job of its wave (the first kind of a wave names it). */
  slurmJob: string;
  /**
   * The instances a run of these experiments builds (each a `run-stage` argument, '' for none), in
   * build order; the instances of one group share a process (the fused embeddings reuse search and rec).
   */
  plan(specs: readonly ExperimentSpec[]): string[][];
  /** The instances one experiment's training reads (its embeddings, its ID sets). */
  inputsOf(spec: ExperimentSpec): string[];
  /** The instance a command-line argument names, spelled as `plan` spells it; throws, saying why, when it names none. */
  parseArg(arg: string): string;
  /** How progress lines and the smoke report name an instance ("embeddings search"). */
  label(arg: string): string;
  run(ctx: PipelineContext, arg: string): Promise<StageRun>;
  /** Every unit of repeated work its instances do (what a smoke budget cuts). */
  units: readonly WorkUnit[];
  /** The repeated work of an instance that a budget scales (null: the same work under every budget). */
  unit(arg: string): WorkUnit | null;
  /** How many times a full run of `specs` builds the instance: once per protocol whose rows need it. */
  runsIn(specs: readonly ExperimentSpec[], arg: string): number;
}

/** How many distinct protocols the experiments satisfying `pred` run on (at least 1). */
export function protocolsAmong(specs: readonly ExperimentSpec[], pred: (s: ExperimentSpec) => boolean = () => true): number {
  return new Set(specs.filter(pred).map((s) => s.protocol ?? '')).size || 1;
}

/** The embeddings an experiment's IDs come from (the separate row's: search and rec). */
function embeddingsOf(s: ExperimentSpec): readonly EmbeddingStrategy[] {
  return s.embedding === 'separate' ? ['search', 'rec'] : [s.embedding];
}

function needsEmbedding(s: ExperimentSpec, e: string): boolean {
  return (embeddingsOf(s) as readonly string[]).includes(e);
}

/** The (embedding, quantizer) ID sets the experiments need, each once, in order of first use. */
function idSetsOf(specs: readonly ExperimentSpec[]): [EmbeddingStrategy, QuantizerName][] {
  const pairs = new Map<string, [EmbeddingStrategy, QuantizerName]>();
  for (const s of specs) {
    for (const e of embeddingsOf(s)) pairs.set(`${e}/${s.quantizer}`, [e, s.quantizer]);
  }
  return [...pairs.values()];
}

/** Bi-encoder steps: the fixed count when given, else one pass over `pairs` capped per epoch (lib/embed/biencoder.ts's defaults). */
function biencoderSteps(o: BiEncoderOptions, pairs: number | null): number {
  const epochs = o.epochs ?? 10;
  if (o.stepsPerEpoch !== undefined) return epochs * o.stepsPerEpoch;
  const cap = o.maxStepsPerEpoch ?? 400;
  // The multi-task encoder also trains on item pairs (not counted here): its cap is the bound used for it.
  return epochs * (pairs === null ? cap : Math.max(1, Math.min(cap, Math.ceil(pairs / (o.batchSize ?? 256)))));
}

/** Bi-encoder optimizer steps per smoke unit (one epoch): enough that twice as many take measurably longer. */
const SMOKE_BIENCODER_STEPS = 100;

const searchSteps: WorkUnit = {
  name: 'searchSteps',
  cut: (p, scale) => ({ ...p, embed: { ...p.embed, biencoder: { ...p.embed.biencoder, epochs: 1, stepsPerEpoch: SMOKE_BIENCODER_STEPS * scale } } }),
  count: (p, data) => biencoderSteps(p.embed.biencoder ?? {}, data.queries.train.length),
};

/** The multi-task encoder's settings are the search-tuned one's with its own on top: cut where it has its own. */
const multitaskSteps: WorkUnit = {
  name: 'multitaskSteps',
  cut: (p, scale) => (p.embed.multitask ? { ...p, embed: { ...p.embed, multitask: { ...p.embed.multitask, epochs: 1, stepsPerEpoch: SMOKE_BIENCODER_STEPS * scale } } } : p),
  count: (p) => biencoderSteps({ ...(p.embed.biencoder ?? {}), ...(p.embed.multitask ?? {}) }, null),
};

const alsIterations: WorkUnit = {
  name: 'alsIterations',
  cut: (p, scale) => ({ ...p, embed: { ...p.embed, cf: { ...p.embed.cf, iterations: scale } } }),
  count: (p) => p.embed.cf?.iterations ?? 15,
};

const EMBEDDING_UNIT: Record<EmbeddingStrategy, WorkUnit | null> = {
  search: searchSteps,
  rec: alsIterations,
  content: null,
  'content-lsa': null,
  // The fused strategies reuse the search and rec models built before them in this process.
  'fused-concat': null,
  'fused-svd': null,
  multitask: multitaskSteps,
};

/** SASRec epochs over the grid's settings and the chosen setting's other seeds (no early stop in a smoke run; at most, in a full one). */
const sasrecEpochs: WorkUnit = {
  name: 'sasrecEpochs',
  cut: (p, scale) => ({ ...p, baselines: { ...p.baselines, sasrec: { ...p.baselines.sasrec, maxEpochs: scale, patience: scale } } }),
  count: (p) => {
    const trainings = sasrecGridSettings({ ...SASREC_DEFAULTS, ...p.baselines.sasrec }, p.baselines.sasrecGrid).length + p.generate.replicates - 1;
    return trainings * (p.baselines.sasrec.maxEpochs ?? SASREC_DEFAULTS.maxEpochs);
  },
};

const embeddings: StageKind = {
  name: 'embed',
  argUsage: '<strategy>[,<strategy>...]',
  wave: 0,
  slurmJob: 'sid-embeddings',
  // Every strategy, not only those the experiments' IDs come from: results.json lists each one's
  // dense retrieval. search and rec first, and the fused ones in one group after them, since they
  // reuse the search and rec models in memory.
  inputsOf: (spec) => [...embeddingsOf(spec)],
  plan() {
    const plain = EMBEDDING_STRATEGIES.filter((s) => !s.startsWith('fused-'));
    const fused = EMBEDDING_STRATEGIES.filter((s) => s.startsWith('fused-'));
    const ordered = [...plain.filter((s) => s === 'search' || s === 'rec'), ...plain.filter((s) => s !== 'search' && s !== 'rec')];
    return [...ordered.map((s) => [s]), ...(fused.length ? [fused] : [])];
  },
  parseArg(arg) {
    if (!(EMBEDDING_STRATEGIES as readonly string[]).includes(arg)) throw new Error(`unknown embedding strategy "${arg}" (known: ${EMBEDDING_STRATEGIES.join(', ')})`);
    return arg;
  },
  label: (arg) => `embeddings ${arg}`,
  async run(ctx, arg) {
    const r = await embeddingStage(ctx, arg as EmbeddingStrategy);
    const { stepSeconds, seconds } = r.embedding.info;
    const loop = typeof stepSeconds === 'number' ? stepSeconds : seconds;
    return { key: r.key, cached: r.cached, dirs: [ctx.cache.dirOf(`embed-${arg}`, r.key)], ...(typeof loop === 'number' ? { loopSeconds: loop } : {}) };
  },
  units: [...new Set(Object.values(EMBEDDING_UNIT))].filter((u): u is WorkUnit => u !== null),
  unit: (arg) => EMBEDDING_UNIT[arg as EmbeddingStrategy] ?? null,
  runsIn: (specs, arg) => protocolsAmong(specs, (s) => needsEmbedding(s, arg)),
};

const idSets: StageKind = {
  name: 'ids',
  argUsage: '<embedding>/<quantizer>',
  wave: 1,
  slurmJob: 'sid-ids',
  plan: (specs) => idSetsOf(specs).map(([e, q]) => [`${e}/${q}`]),
  inputsOf: (spec) => idSetsOf([spec]).map(([e, q]) => `${e}/${q}`),
  parseArg(arg) {
    const [e, q, extra] = arg.split('/');
    if (!e || !q || extra !== undefined) throw new Error(`expected <embedding>/<quantizer>, got "${arg}"`);
    if (!(EMBEDDING_STRATEGIES as readonly string[]).includes(e)) throw new Error(`unknown embedding strategy "${e}" (known: ${EMBEDDING_STRATEGIES.join(', ')})`);
    const quantizer = parseQuantizerName(q, 'sid run-stage');
    if (!quantizer) throw new Error(`unknown quantizer "${q}" (known: ${quantizerNames().join(', ')})`);
    return `${e}/${quantizer}`;
  },
  label: (arg) => `IDs ${arg}`,
  async run(ctx, arg) {
    const [e, q] = arg.split('/');
    const r = await idStage(ctx, e as EmbeddingStrategy, q as QuantizerName);
    return { key: r.key, cached: r.cached, dirs: [ctx.cache.dirOf('ids', r.key)] };
  },
  units: [],
  unit: () => null,
  runsIn(specs, arg) {
    const [e, q] = arg.split('/');
    return protocolsAmong(specs, (s) => s.quantizer === q && needsEmbedding(s, e));
  },
};

/** A stage with a single instance (no argument). */
function single(o: Pick<StageKind, 'name' | 'wave' | 'slurmJob'> & { label: string; unit: WorkUnit | null; build: (ctx: PipelineContext) => Promise<{ key: string; cached: boolean; keys?: string[] }>; stage: string }): StageKind {
  return {
    name: o.name,
    argUsage: '',
    wave: o.wave,
    slurmJob: o.slurmJob,
    plan: () => [['']],
    inputsOf: () => [],
    parseArg(arg) {
      if (arg !== '') throw new Error(`${o.name} takes no argument, got "${arg}"`);
      return arg;
    },
    label: () => o.label,
    async run(ctx) {
      const r = await o.build(ctx);
      return { key: r.key, cached: r.cached, dirs: (r.keys ?? [r.key]).map((k) => ctx.cache.dirOf(o.stage, k)) };
    },
    units: o.unit ? [o.unit] : [],
    unit: () => o.unit,
    runsIn: (specs) => protocolsAmong(specs),
  };
}

const untrainedBaselines = single({ name: 'baselines', wave: 0, slurmJob: 'sid-embeddings', label: 'baselines', unit: null, build: baselinesStage, stage: 'baselines' });
const sasrec = single({ name: 'sasrec', wave: 0, slurmJob: 'sid-embeddings', label: 'SASRec', unit: sasrecEpochs, build: sasrecRunsStage, stage: 'sasrec' });

const kinds: StageKind[] = [embeddings, idSets, untrainedBaselines, sasrec];

/** Every stage kind, in build order (waves in order; within a wave, as registered). */
export function stageKinds(): readonly StageKind[] {
  return [...kinds].sort((a, b) => a.wave - b.wave);
}

/** Adds a stage kind; every executor then plans, runs and measures it. */
export function registerStageKind(kind: StageKind): () => void {
  if (kinds.some((k) => k.name === kind.name)) throw new Error(`registerStageKind: a stage kind "${kind.name}" exists already`);
  kinds.push(kind);
  return () => {
    const i = kinds.indexOf(kind);
    if (i >= 0) kinds.splice(i, 1);
  };
}

export function stageKind(name: string): StageKind | undefined {
  return kinds.find((k) => k.name === name);
}

/** The labels of the instances one experiment's training reads. */
export function trainingInputs(spec: ExperimentSpec): Set<string> {
  return new Set(stageKinds().flatMap((kind) => kind.inputsOf(spec).map((arg) => kind.label(arg))));
}

/** Every instance a run of these experiments builds before its trainings, in build order. */
export function sharedStageInstances(specs: readonly ExperimentSpec[]): { kind: StageKind; group: string[] }[] {
  return stageKinds().flatMap((kind) => kind.plan(specs).map((group) => ({ kind, group })));
}
