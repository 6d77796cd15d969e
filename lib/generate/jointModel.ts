/**
 * The joint generative model as the pipeline sees it: build the text tokenizer and prompts from the
 * prepared data, train one seq2seq model on search and rec examples, decode prompts into ranked items,
 * and save / load the whole bundle.
 */
import { hitsAtK } from '../util/metrics';
import { PrefixTrie } from '../quantize/trie';
import type { IdSpace } from '../quantize/vocabulary';
import type { Item, PreparedData, RecExample, SearchQuery, Task, UserSequence } from '../types';
import { Rng } from '../util/random';
import { beamSearchAsync, type BeamSearchOptions, type DecodedIds } from './beamSearch';
import { readBundle, weightsFromRecord, weightsToRecord, writeBundle } from './checkpoint';
import { findSpace, idTokensOf, outputGroupsOf, type IdSpaceLike, type IdTrieLike, type IdVocabularyLike } from './idContract';
import { DEFAULT_MODEL_SIZE, Seq2SeqModel, type Seq2SeqConfig } from './seq2seqModel';
import { PAD_ID, PromptEncoder, type PromptEncoderState, type PromptOptions, type Seq2SeqExample } from './prompts';
import { WordTokenizer, type WordTokenizerOptions } from './textTokenizer';
import { exampleLosses, lossSummary, pairedChange } from './validationLoss';
import { trainSeq2Seq, type EpochRecord, type TrainConfig, type TrainOptions, type TrainRuntime, type ValidationScores } from './train';

export interface TaskSpaces {
  search: string;
  rec: string;
}

export type ModelSize = typeof DEFAULT_MODEL_SIZE;

/** Makes the prefix trie of one ID space (default: `new PrefixTrie(space, vocab.size)` from lib/quantize/trie). */
export type TrieFactory = (space: IdSpaceLike) => IdTrieLike;

export interface GenerativeModel {
  net: Seq2SeqModel;
  prompts: PromptEncoder;
  spaces: TaskSpaces;
  vocab: IdVocabularyLike;
}

type DecodeSetting = Required<Pick<BeamSearchOptions, 'numBeams' | 'numGroups' | 'diversityPenalty'>>;

/**
 * Plain beam search with 60 beams: the default of the `tiny` and `small` profiles. How it compares
 * with the paper's groups is measured on the validation split (notebook 03, README "How results are
 * measured").
 */
export const DEFAULT_DECODE: DecodeSetting = { numBeams: 60, numGroups: 1, diversityPenalty: 0 };

/** The paper's decoding, verbatim: 60 beams in 30 groups, Hamming diversity penalty 0.5. */
export const PAPER_DECODE: DecodeSetting = { numBeams: 60, numGroups: 30, diversityPenalty: 0.5 };

/** Settings of the joint model's training (plain data: what a profile holds). */
export interface GenerativeTrainConfig extends TrainConfig, PromptOptions {
  model?: Partial<ModelSize>;
  tokenizer?: WordTokenizerOptions;
  /** Rec training windows per user, most recent first (default: every prefix of the training sequence). */
  maxRecWindowsPerUser?: number;
  /**
   * 'level': at each ID position only that position's codes compete in the softmax, in training
   * and decoding; 'full' (default): every ID token.
   */
  softmax?: 'full' | 'level';
  /**
   * Indexing examples: each item's own text (title, year, genres, tags) as a search prompt for its
   * ID, added this many times to the search training pool (default 0).
   */
  indexingCopies?: number;
  /** Validation examples per task (default 300; 0 = no validation). */
  validLimit?: number;
  /** Decoding used for validation (default: DEFAULT_DECODE). */
  validDecode?: BeamSearchOptions;
  /** Recall cut-off for validation (default 30). */
  validK?: number;
}

export interface GenerativeTrainOptions extends GenerativeTrainConfig, Omit<TrainRuntime, 'validate'> {
  /** Trie per ID space (default: PrefixTrie over the whole ID vocabulary's width). */
  makeTrie?: TrieFactory;
}

/** Training and evaluation examples of both tasks. */
export interface ExampleSets {
  train: { search: Seq2SeqExample[]; rec: Seq2SeqExample[] };
  valid: { search: Seq2SeqExample[]; rec: Seq2SeqExample[] };
  test: { search: Seq2SeqExample[]; rec: Seq2SeqExample[] };
}

export function searchExamples(prompts: PromptEncoder, space: IdSpaceLike, queries: SearchQuery[]): Seq2SeqExample[] {
  return queries.map((q) => ({ task: 'search' as const, input: prompts.searchPrompt(q.text), target: idTokensOf(space, q.item), item: q.item }));
}

/** Held-out rec examples; each carries its full history as `seen` (left out of its ranking). */
export function recExamples(prompts: PromptEncoder, space: IdSpaceLike, examples: RecExample[]): Seq2SeqExample[] {
  return examples.map((e) => ({ task: 'rec' as const, input: prompts.recPrompt(e.history, space), target: idTokensOf(space, e.target), item: e.target, seen: e.history, user: e.user }));
}

/** Next-item windows of the training sequences: each item (after the first) predicted from its prefix. */
export function recTrainingWindows(prompts: PromptEncoder, space: IdSpaceLike, train: UserSequence[], maxPerUser = Infinity): Seq2SeqExample[] {
  const out: Seq2SeqExample[] = [];
  for (const u of train) {
    const from = Math.max(1, u.items.length - maxPerUser);
    for (let i = from; i < u.items.length; i++) {
      out.push({ task: 'rec', input: prompts.recPrompt(u.items.subarray(0, i), space), target: idTokensOf(space, u.items[i]), item: u.items[i], user: u.user });
    }
  }
  return out;
}

/** The held-out examples of one split, both tasks (the split's own queries and users only). */
export function splitExamples(data: PreparedData, prompts: PromptEncoder, vocab: IdVocabularyLike, spaces: TaskSpaces, split: 'valid' | 'test'): Record<Task, Seq2SeqExample[]> {
  return {
    search: searchExamples(prompts, findSpace(vocab, spaces.search), data.queries[split]),
    rec: recExamples(prompts, findSpace(vocab, spaces.rec), data.rec[split]),
  };
}

/** Indexing examples: `copies` search examples per item whose prompt is the item's own text. */
export function indexingExamples(prompts: PromptEncoder, space: IdSpaceLike, items: readonly Item[], copies: number): Seq2SeqExample[] {
  if (!(Number.isInteger(copies) && copies >= 0)) throw new Error(`indexingCopies must be a non-negative integer, got ${copies}`);
  const once = items.map((it) => ({ task: 'search' as const, input: prompts.searchPrompt(it.text), target: idTokensOf(space, it.index), item: it.index }));
  return Array.from({ length: copies }, () => once).flat();
}

export function buildExampleSets(data: PreparedData, prompts: PromptEncoder, vocab: IdVocabularyLike, spaces: TaskSpaces, opts: Pick<GenerativeTrainConfig, 'maxRecWindowsPerUser' | 'indexingCopies'> = {}): ExampleSets {
  const s = findSpace(vocab, spaces.search);
  const r = findSpace(vocab, spaces.rec);
  const search = searchExamples(prompts, s, data.queries.train);
  return {
    train: {
      search: opts.indexingCopies ? [...search, ...indexingExamples(prompts, s, data.dataset.items, opts.indexingCopies)] : search,
      rec: recTrainingWindows(prompts, r, data.rec.train, opts.maxRecWindowsPerUser),
    },
    valid: splitExamples(data, prompts, vocab, spaces, 'valid'),
    test: splitExamples(data, prompts, vocab, spaces, 'test'),
  };
}

/** Text used to build the word vocabulary: training queries and item texts (never test queries). */
function tokenizerTexts(data: PreparedData): string[] {
  return [...data.queries.train.map((q) => q.text), ...data.dataset.items.map((i) => i.text)];
}

/** A joint model before training: the network, its training and validation examples, and its validation. */
export interface PreparedTraining {
  model: GenerativeModel;
  sets: ExampleSets;
  /** Validation Recall@k of both tasks on the sampled validation examples (absent when validLimit is 0). */
  validate?: TrainOptions['validate'];
  /** The validation examples `validate` decodes, per task. */
  validSample?: { search: Seq2SeqExample[]; rec: Seq2SeqExample[] };
}

/** Builds the tokenizer, prompts, network and examples of a joint model, and its validation. */
export function prepareGenerativeTraining(data: PreparedData, vocab: IdVocabularyLike, spaces: TaskSpaces, opts: GenerativeTrainOptions): PreparedTraining {
  for (const name of [spaces.search, spaces.rec]) {
    const sp = findSpace(vocab, name);
    if (sp.ids.numItems !== data.dataset.items.length) {
      throw new Error(`trainGenerativeModel: space "${name}" has IDs for ${sp.ids.numItems} items, the data set has ${data.dataset.items.length}`);
    }
  }
  const tokenizer = WordTokenizer.build(tokenizerTexts(data), opts.tokenizer);
  const prompts = new PromptEncoder(tokenizer, vocab.size, opts);
  const size = { ...DEFAULT_MODEL_SIZE, ...opts.model };
  const config: Seq2SeqConfig = {
    ...size,
    inputVocabSize: prompts.inputVocabSize,
    outputVocabSize: vocab.size,
    idInputBase: prompts.idInputBase,
    padId: PAD_ID,
    seed: opts.seed ?? 0,
    ...(opts.softmax === 'level' ? { outputGroups: outputGroupsOf(vocab) } : {}),
  };
  if (opts.softmax !== undefined && opts.softmax !== 'full' && opts.softmax !== 'level') throw new Error(`softmax must be 'full' or 'level', got ${JSON.stringify(opts.softmax)}`);
  const net = new Seq2SeqModel(config);
  const model: GenerativeModel = { net, prompts, spaces, vocab };
  const sets = buildExampleSets(data, prompts, vocab, spaces, opts);
  const validLimit = opts.validLimit ?? 300;
  if (validLimit <= 0) return { model, sets };
  const rng = new Rng(opts.seed ?? 0).fork('valid');
  const vs = rng.sample(sets.valid.search, validLimit);
  const vr = rng.sample(sets.valid.rec, validLimit);
  const tries = makeTries(model, opts.makeTrie);
  const k = opts.validK ?? 30;
  const decode = { ...DEFAULT_DECODE, ...opts.validDecode };
  // Recall by beam search on the samples; the teacher-forced loss on every validation example only
  // where it decides (it costs more than the beam search on small: a forward pass over 10k examples).
  const withLoss = opts.stopOn === 'loss';
  // Per-example hits and losses of the previous validation, for the paired change between epochs.
  let previous: { hits: Record<Task, Float64Array>; losses?: Record<Task, Float64Array> } | null = null;
  const validate = async (): Promise<ValidationScores> => {
    const hits = {
      search: hitsOf(await decodeExamples({ model, task: 'search', tries, options: decode }, vs), vs, k),
      rec: hitsOf(await decodeExamples({ model, task: 'rec', tries, options: decode }, vr), vr, k),
    };
    const losses = withLoss ? { search: exampleLosses(net, sets.valid.search), rec: exampleLosses(net, sets.valid.rec) } : undefined;
    const scores: ValidationScores = { search: meanOf(hits.search), rec: meanOf(hits.rec), ...(losses ? { loss: lossSummary(losses.search, losses.rec) } : {}) };
    if (previous) scores.change = { recall: pairedChange(hits, previous.hits), ...(losses && previous.losses ? { loss: pairedChange(losses, previous.losses) } : {}) };
    previous = { hits, losses };
    return scores;
  };
  return { model, sets, validate, validSample: { search: vs, rec: vr } };
}

export async function trainGenerativeModel(
  data: PreparedData,
  vocab: IdVocabularyLike,
  spaces: TaskSpaces,
  opts: GenerativeTrainOptions,
): Promise<{ model: GenerativeModel; history: EpochRecord[]; bestEpoch: number; stop: 'cap' | 'plateau' }> {
  const { model, sets, validate } = prepareGenerativeTraining(data, vocab, spaces, opts);
  const res = await trainSeq2Seq(model.net, sets.train, { ...opts, validate });
  return { model, history: res.history, bestEpoch: res.bestEpoch, stop: res.stop };
}

/** Per example, 1 when its item is in the top k of its decoded list. */
function hitsOf(decoded: DecodedIds[], examples: Seq2SeqExample[], k: number): Float64Array {
  return Float64Array.from(hitsAtK(decoded.map((d) => d.items), examples.map((e) => e.item), k));
}

function meanOf(xs: Float64Array): number {
  let s = 0;
  for (const x of xs) s += x;
  return xs.length ? s / xs.length : 0;
}

export interface TaskTries {
  search: IdTrieLike;
  rec: IdTrieLike;
}

/** The default trie: lib/quantize's PrefixTrie with masks as wide as the whole ID vocabulary. */
function defaultTrieFactory(vocab: IdVocabularyLike): TrieFactory {
  return (space) => new PrefixTrie(space as IdSpace, vocab.size);
}

export function makeTries(model: GenerativeModel, makeTrie: TrieFactory = defaultTrieFactory(model.vocab)): TaskTries {
  const search = makeTrie(findSpace(model.vocab, model.spaces.search));
  const rec = model.spaces.rec === model.spaces.search ? search : makeTrie(findSpace(model.vocab, model.spaces.rec));
  return { search, rec };
}

/** How one task of a joint model is decoded: its ID space's trie and the beam settings. */
export interface TaskDecoding {
  model: GenerativeModel;
  task: Task;
  tries: TaskTries;
  options?: BeamSearchOptions;
}

/**
 * Decodes the prompts of `examples` (all of `d.task`) into ranked items. An example's `seen` items
 * are never returned (the same protocol as the dense and popularity baselines), unless `keepSeen`.
 */
export function decodeExamples(d: TaskDecoding, examples: Seq2SeqExample[], keepSeen = false): Promise<DecodedIds[]> {
  const exclude = keepSeen || !examples.some((e) => e.seen) ? undefined : examples.map((e) => e.seen);
  return decodePrompts(d, examples.map((e) => e.input), exclude);
}

export function decodePrompts({ model, task, tries, options = DEFAULT_DECODE }: TaskDecoding, prompts: Int32Array[], exclude?: (ArrayLike<number> | undefined)[]): Promise<DecodedIds[]> {
  const space = findSpace(model.vocab, model.spaces[task]);
  return beamSearchAsync({ model: model.net, prompts, space, trie: tries[task], options, exclude });
}

/** Ranked items for free-text queries. */
export function searchItems(model: GenerativeModel, queries: string[], tries: TaskTries, options: BeamSearchOptions = DEFAULT_DECODE): Promise<DecodedIds[]> {
  return decodePrompts({ model, task: 'search', tries, options }, queries.map((q) => model.prompts.searchPrompt(q)));
}

/** Ranked next items for histories (oldest first); items already in a history are left out unless `keepSeen`. */
export function recommendItems(model: GenerativeModel, histories: ArrayLike<number>[], tries: TaskTries, options: BeamSearchOptions = DEFAULT_DECODE, keepSeen = false): Promise<DecodedIds[]> {
  const space = findSpace(model.vocab, model.spaces.rec);
  return decodePrompts({ model, task: 'rec', tries, options }, histories.map((h) => model.prompts.recPrompt(h, space)), keepSeen ? undefined : histories);
}

const FORMAT = 'sid-seq2seq-1';

interface SavedModel {
  format: string;
  config: Seq2SeqConfig;
  prompts: PromptEncoderState;
  spaces: TaskSpaces;
  idSpaces: { name: string; numItems: number; length: number; cardinalities: number[] }[];
  idVocabSize: number;
  weights: Record<string, Float32Array>;
}

/** Writes the model (configuration, tokenizer, weights) to the folder `dir` atomically. */
export function saveModel(model: GenerativeModel, dir: string): void {
  const saved: SavedModel = {
    format: FORMAT,
    config: model.net.config,
    prompts: model.prompts.toJSON(),
    spaces: model.spaces,
    idSpaces: model.vocab.spaces.map((s) => ({ name: s.name, numItems: s.ids.numItems, length: s.ids.length, cardinalities: s.ids.cardinalities })),
    idVocabSize: model.vocab.size,
    weights: weightsToRecord(model.net.getWeights()),
  };
  writeBundle(dir, saved);
}

/** Reads a model written by `saveModel`; `vocab` must be the ID vocabulary it was trained with. */
export function loadModel(dir: string, vocab: IdVocabularyLike): GenerativeModel {
  const saved = readBundle<SavedModel>(dir);
  if (saved.format !== FORMAT) throw new Error(`loadModel: ${dir} has format "${saved.format}", expected "${FORMAT}"`);
  if (saved.idVocabSize !== vocab.size) throw new Error(`loadModel: ${dir} was trained with ${saved.idVocabSize} ID tokens, the given vocabulary has ${vocab.size}`);
  for (const s of saved.idSpaces) {
    const sp = findSpace(vocab, s.name);
    if (sp.ids.numItems !== s.numItems || sp.ids.length !== s.length || sp.ids.cardinalities.join() !== s.cardinalities.join()) {
      throw new Error(`loadModel: ID space "${s.name}" differs from the one ${dir} was trained with`);
    }
  }
  const net = new Seq2SeqModel(saved.config, weightsFromRecord(saved.weights));
  return { net, prompts: PromptEncoder.fromJSON(saved.prompts), spaces: saved.spaces, vocab };
}
