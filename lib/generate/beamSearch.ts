/**
 * Batched, trie-constrained beam search: the driver. It runs the model, walks the trie by node id
 * and hands each prompt's hypotheses to `beamStep` (beamStep.ts), which knows no model and holds the
 * (diverse group) beam search rule.
 *
 * Final ranking. Hugging Face keeps the diversity penalty in the beam score and ranks the final
 * hypotheses of all groups by that penalised score (`finalRanking: 'penalized'`). With trie-constrained
 * Semantic IDs this degenerates: where the trie allows one token only (the collision level, which is 0
 * for almost every item), every group must take it and group g pays 0.5 x (2g) for it, so the final
 * list comes out in group order, not in order of likelihood. The default (`'likelihood'`) lets the
 * penalty steer which hypotheses each group explores and ranks the finished ones by their
 * log-probability under the model (README, "How results are measured").
 *
 * Scores are log-softmax over the whole ID vocabulary (the training distribution), restricted to the
 * tokens the trie allows; they are not renormalised over the allowed tokens.
 *
 * Excluded items (per prompt, e.g. a user's history): at the last position the token that would
 * complete an excluded item's ID is banned, so no beam is spent on it; items of a colliding ID that
 * are excluded are also dropped when the beams are expanded into items.
 *
 * Cost: the encoder runs once per prompt, cross-attention K/V once per prompt, and beams are folded
 * into the cross-attention query length. The first step runs one row per prompt (every beam shares
 * the start token); later steps run one new row per beam against a self-attention KV cache reordered
 * by parent beam, rather than recomputing the prefix (compared in lib/bench/seq2seq.ts).
 */
import { DeviceYield, logSoftmaxRows, tf } from '../backend/index';
import { beamStep, type StepHypothesis } from './beamStep';
import { idTokensOf, type IdSpaceLike, type IdTrieLike } from './idContract';
import { disposeCache, disposeMemory, reorderCache, type DecoderCache, type EncoderMemory, type Seq2SeqModel } from './seq2seqModel';
import { padBatch } from './prompts';

export interface BeamSearchOptions {
  /** Total beams per prompt (default 60). */
  numBeams?: number;
  /** Beam groups; numBeams must be a multiple (default 1). */
  numGroups?: number;
  /** Hamming diversity penalty between groups (default 0.5 when numGroups > 1). */
  diversityPenalty?: number;
  /** Prompts per forward pass (default: about 4096 beam rows). */
  promptBatch?: number;
  /** Keep at most this many items per prompt (default: all found). */
  maxItems?: number;
  /** How finished hypotheses are ranked: by log-probability (default) or by the penalised beam score. */
  finalRanking?: FinalRanking;
}

export type FinalRanking = 'likelihood' | 'penalized';
const FINAL_RANKINGS: readonly FinalRanking[] = ['likelihood', 'penalized'];

/** Every beam search setting, defaulted and checked. */
export type ResolvedBeamSearchOptions = Required<BeamSearchOptions>;

/** Beam rows per forward pass that the default promptBatch aims at. */
const ROWS_PER_PASS = 4096;

export function resolveBeamSearchOptions(opts: BeamSearchOptions = {}): ResolvedBeamSearchOptions {
  const numBeams = opts.numBeams ?? 60;
  const numGroups = opts.numGroups ?? 1;
  if (!Number.isInteger(numBeams) || numBeams < 1) throw new Error(`beamSearch: numBeams must be a positive integer, got ${numBeams}`);
  if (!Number.isInteger(numGroups) || numGroups < 1 || numBeams % numGroups !== 0) {
    throw new Error(`beamSearch: numGroups (${numGroups}) must be a positive divisor of numBeams (${numBeams})`);
  }
  const diversityPenalty = opts.diversityPenalty ?? (numGroups > 1 ? 0.5 : 0);
  if (!Number.isFinite(diversityPenalty)) throw new Error(`beamSearch: diversityPenalty must be a finite number, got ${diversityPenalty}`);
  const promptBatch = opts.promptBatch ?? Math.max(1, Math.floor(ROWS_PER_PASS / numBeams));
  if (!Number.isInteger(promptBatch) || promptBatch < 1) throw new Error(`beamSearch: promptBatch must be a positive integer, got ${promptBatch}`);
  const maxItems = opts.maxItems ?? Infinity;
  if (!(maxItems >= 0) || (maxItems !== Infinity && !Number.isInteger(maxItems))) {
    throw new Error(`beamSearch: maxItems must be a non-negative integer, got ${maxItems}`);
  }
  const finalRanking = opts.finalRanking ?? 'likelihood';
  if (!FINAL_RANKINGS.includes(finalRanking)) throw new Error(`beamSearch: finalRanking must be one of ${FINAL_RANKINGS.join(', ')}, got "${finalRanking}"`);
  return { numBeams, numGroups, diversityPenalty, promptBatch, maxItems, finalRanking };
}

export interface DecodedIds {
  /** Final beams, best first: absolute ID tokens, ranking score and log-probability. */
  beams: { tokens: Int32Array; score: number; logProb: number }[];
  /** Distinct items, best first (collision groups expanded in `itemsOfNode` order). */
  items: number[];
  /** Ranking score of the beam that produced each item (its log-probability under `'likelihood'`). */
  itemScores: number[];
}

interface Beam {
  tokens: number[];
  /** Trie node reached by `tokens`. */
  node: number;
  /** Beam score: log-probability minus the diversity penalties paid (selection within a group). */
  score: number;
  /** Log-probability of the tokens under the model. */
  logProb: number;
  /** Row of the decoder step that produced this beam's last token (its cache row). */
  row: number;
}

/** One decoding: prompts into ranked items of one ID space, constrained by its trie. */
export interface DecodeRequest {
  model: Seq2SeqModel;
  prompts: Int32Array[];
  space: IdSpaceLike;
  trie: IdTrieLike;
  options?: BeamSearchOptions;
  /** Per prompt, items that must not be returned (aligned with `prompts`; missing = none). */
  exclude?: readonly (ArrayLike<number> | undefined)[];
}

/** A request with its options resolved and checked: what every prompt batch is decoded with. */
interface ResolvedRequest {
  model: Seq2SeqModel;
  space: IdSpaceLike;
  trie: IdTrieLike;
  o: ResolvedBeamSearchOptions;
}

export function beamSearch(req: DecodeRequest): DecodedIds[] {
  const out: DecodedIds[] = [];
  for (const part of beamChunks(req)) out.push(...part);
  return out;
}

/**
 * `beamSearch` that yields to the event loop between prompt batches on webgpu (long decodes must,
 * see lib/backend/deviceYield.ts); the same batches, so the same results.
 */
export async function beamSearchAsync(req: DecodeRequest): Promise<DecodedIds[]> {
  const out: DecodedIds[] = [];
  const yielder = new DeviceYield();
  for (const part of beamChunks(req)) {
    out.push(...part);
    await yielder.tick();
  }
  return out;
}

/** The decoded prompts, one prompt batch at a time. */
function* beamChunks({ model, prompts, space, trie, options = {}, exclude }: DecodeRequest): Generator<DecodedIds[]> {
  const r: ResolvedRequest = { model, space, trie, o: resolveBeamSearchOptions(options) };
  if (trie.depth !== space.ids.length) throw new Error(`beamSearch: trie depth ${trie.depth} != ID length ${space.ids.length} of space "${space.name}"`);
  checkOutputsCover(space, model.config.outputVocabSize);
  if (exclude && exclude.length !== prompts.length) throw new Error(`beamSearch: exclude has ${exclude.length} entries for ${prompts.length} prompts`);
  for (let start = 0; start < prompts.length; start += r.o.promptBatch) {
    const chunk = prompts.slice(start, start + r.o.promptBatch);
    const excluded = chunk.map((_, i) => {
      const items = exclude?.[start + i];
      return items && items.length ? new Exclusion(space, trie, items) : null;
    });
    yield decodeChunk(r, chunk, excluded);
  }
}

function checkOutputsCover(space: IdSpaceLike, outputs: number): void {
  const L = space.ids.length;
  const end = space.positionOffsets[L - 1] + space.ids.cardinalities[L - 1];
  if (end > outputs) throw new Error(`beamSearch: the model's ${outputs} outputs do not cover tokens ${space.offset}..${end - 1} of space "${space.name}"`);
}

/** Decodes one batch of prompts: one model step per ID position, one `beamStep` per prompt and step. */
function decodeChunk({ model, space, trie, o }: ResolvedRequest, prompts: Int32Array[], excluded: (Exclusion | null)[]): DecodedIds[] {
  const P = prompts.length;
  const depth = space.ids.length;
  const { padId, idInputBase } = model.config;
  const { tokens, length } = padBatch(prompts);
  const mem = model.encode(tokens, P, length);
  // beams[p]: one start hypothesis, then numBeams slots (group g owns slots g*N/G..); null = none live.
  let beams: (Beam | null)[][] = prompts.map((_, p) => [{ tokens: [], node: trie.root(), score: 0, logProb: 0, row: p }]);
  let cache: DecoderCache | null = null;
  let stepTokens: Int32Array = new Int32Array(P).fill(padId);
  try {
    for (let t = 0; t < depth; t++) {
      const rowsPerPrompt = beams[0].length;
      // Only a per-level softmax reads each row's group; a full softmax skips the trie walk.
      const groups = model.config.outputGroups ? rowGroupTokens(beams, trie) : NO_GROUPS;
      const step = nextLogProbs(model, mem, stepTokens, rowsPerPrompt, cache, groups);
      cache = step.cache;
      const V = step.width;
      const lastStep = t === depth - 1;
      beams = beams.map((slots, p) => {
        const hyps = slots.map((beam, b): StepHypothesis | null => {
          if (!beam) return null;
          const r = p * rowsPerPrompt + b;
          const banned = lastStep ? excluded[p]?.lastTokens(beam.node) : undefined;
          return { score: beam.score, logProb: beam.logProb, nextLogProbs: step.logp.subarray(r * V, (r + 1) * V), allowed: trie.children(beam.node), banned };
        });
        return beamStep(hyps, o).map((k) => {
          if (!k) return null;
          const parent = slots[k.parent]!;
          const node = trie.child(parent.node, k.token);
          return { tokens: [...parent.tokens, k.token], node, score: k.score, logProb: k.logProb, row: p * rowsPerPrompt + k.parent };
        });
      });
      if (t + 1 < depth) {
        const next = continueRows(beams, t, idInputBase);
        cache = reorderCache(cache, next.parents);
        stepTokens = next.tokens;
      }
    }
  } finally {
    disposeMemory(mem);
    if (cache) disposeCache(cache);
  }
  return beams.map((slots, p) => collectItems(slots, trie, o, excluded[p]));
}

const NO_GROUPS = new Int32Array(0);

/**
 * Per decoder row, a token of the softmax group its next token falls in (the first allowed child of
 * its node), for a model with a per-level softmax; -1 for a dead slot.
 */
function rowGroupTokens(beams: (Beam | null)[][], trie: IdTrieLike): Int32Array {
  const N = beams[0].length;
  const out = new Int32Array(beams.length * N).fill(-1);
  beams.forEach((slots, p) => slots.forEach((beam, b) => {
    const next = beam ? trie.children(beam.node) : [];
    if (next.length > 0) out[p * N + b] = next[0];
  }));
  return out;
}

/** One decoder step: log-softmax over the ID tokens (over each row's group, for a per-level softmax), row-major [rows * width], and the extended cache. */
function nextLogProbs(
  model: Seq2SeqModel, mem: EncoderMemory, tokens: Int32Array, rowsPerPrompt: number, cache: DecoderCache | null, groupTokens: Int32Array,
): { logp: Float32Array; width: number; cache: DecoderCache } {
  const step = model.decodeStep(mem, tokens, rowsPerPrompt, cache);
  if (cache) disposeCache(cache);
  const lpT = tf.tidy(() => logSoftmaxRows(model.groupedLogits(step.hidden, groupTokens)));
  step.hidden.dispose();
  const logp = lpT.dataSync() as Float32Array;
  lpT.dispose();
  return { logp, width: model.config.outputVocabSize, cache: step.cache };
}

/**
 * The next step's rows, one per slot: the cache row each continues and its input token. A dead slot
 * repeats the first live beam of its prompt: it is computed but never read.
 */
function continueRows(beams: (Beam | null)[][], t: number, idInputBase: number): { parents: Int32Array; tokens: Int32Array } {
  const N = beams[0].length;
  const parents = new Int32Array(beams.length * N);
  const tokens = new Int32Array(beams.length * N);
  beams.forEach((slots, p) => {
    const firstLive = slots.find((x) => x !== null);
    if (!firstLive) throw new Error(`beamSearch: no live hypothesis after ${t + 1} tokens (a trie node without children)`);
    slots.forEach((slot, j) => {
      const beam = slot ?? firstLive;
      parents[p * N + j] = beam.row;
      tokens[p * N + j] = idInputBase + beam.tokens[t];
    });
  });
  return { parents, tokens };
}

/** A prompt's excluded items, indexed by the trie node that precedes each one's last token. */
class Exclusion {
  readonly items: Set<number>;
  private readonly byNode = new Map<number, number[]>();

  constructor(space: IdSpaceLike, trie: IdTrieLike, items: ArrayLike<number>) {
    this.items = new Set(Array.from(items));
    const L = space.ids.length;
    for (const item of this.items) {
      const toks = idTokensOf(space, item);
      let node = trie.root();
      for (let p = 0; p < L - 1 && node >= 0; p++) node = trie.child(node, toks[p]);
      if (node < 0) continue; // not a valid prefix: no beam reaches it
      const list = this.byNode.get(node);
      if (list) list.push(toks[L - 1]);
      else this.byNode.set(node, [toks[L - 1]]);
    }
  }

  /** Last tokens that would complete an excluded item's ID after `node`. */
  lastTokens(node: number): number[] | undefined {
    return this.byNode.get(node);
  }
}

/** Ranks the final beams (ties: slot order) and expands them into distinct items. */
function collectItems(slots: (Beam | null)[], trie: IdTrieLike, o: ResolvedBeamSearchOptions, excluded: Exclusion | null): DecodedIds {
  const rankScore = (b: Beam) => (o.finalRanking === 'likelihood' ? b.logProb : b.score);
  const live = slots
    .map((b, i) => ({ b, i }))
    .filter((x): x is { b: Beam; i: number } => x.b !== null)
    .sort((a, b) => rankScore(b.b) - rankScore(a.b) || a.i - b.i);
  const seenNodes = new Set<number>();
  const seenItems = new Set<number>();
  const res: DecodedIds = { beams: [], items: [], itemScores: [] };
  for (const { b } of live) {
    if (seenNodes.has(b.node)) continue; // the same ID reached by two groups
    seenNodes.add(b.node);
    res.beams.push({ tokens: Int32Array.from(b.tokens), score: rankScore(b), logProb: b.logProb });
    for (const item of trie.itemsOfNode(b.node)) {
      if (seenItems.has(item) || res.items.length >= o.maxItems || excluded?.items.has(item)) continue;
      seenItems.add(item);
      res.items.push(item);
      res.itemScores.push(rankScore(b));
    }
  }
  return res;
}
