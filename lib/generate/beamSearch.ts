/**
 * Batched, trie-constrained beam search with optional diverse group beam search (Hugging Face
 * `num_beam_groups` / `diversity_penalty` semantics): beams are split into G groups of N/G; groups pick
 * their continuations in order at every step, and a token already chosen by earlier groups at this
 * step costs `diversityPenalty` times the number of times it was chosen (Hamming diversity). With one
 * group this is plain beam search.
 *
 * Final ranking. Hugging Face keeps the penalty in the beam score and ranks the final hypotheses of all
 * groups by that penalised score (`finalRanking: 'penalized'`). With trie-constrained Semantic IDs this
 * degenerates: where the trie allows one token only (the collision level, which is 0 for almost every
 * item), every group must take it and group g pays 0.5 x (2g) for it, so the final list comes out in
 * group order, not in order of likelihood. The default (`'likelihood'`) lets the penalty steer which
 * hypotheses each group explores and ranks the finished ones by their log-probability under the
 * model. On the small profile's multi-task model (60 beams, 30 groups) this doubled Recall@30 on both
 * tasks (README, "How results are measured").
 *
 * Scores are log-softmax over the whole ID vocabulary (the training distribution), masked to the tokens
 * the trie allows; they are not renormalised over the allowed tokens.
 *
 * Excluded items (per prompt, e.g. a user's history): at the last position the token that would
 * complete an excluded item's ID is masked, so no beam is spent on it; items of a colliding ID that
 * are excluded are also dropped when the beams are expanded into items.
 *
 * Cost: the encoder runs once per prompt, cross-attention K/V once per prompt, and beams are folded
 * into the cross-attention query length. The first step runs one row per prompt (every beam shares
 * the start token); later steps run one new row per beam against a self-attention KV cache reordered
 * by parent beam. Recomputing the 2-3 token prefix instead costs about twice as much on the last step
 * (measured in lib/bench/seq2seq.ts).
 */
import { tf } from '../backend/index';
import { idTokensOf, type IdSpaceLike, type IdTrieLike } from './idContract';
import { disposeCache, disposeMemory, reorderCache, type DecoderCache, type Seq2SeqModel } from './seq2seqModel';
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
export const FINAL_RANKINGS: readonly FinalRanking[] = ['likelihood', 'penalized'];

export interface DecodedIds {
  /** Final beams, best first: absolute ID tokens, ranking score and log-probability. */
  beams: { tokens: Int32Array; score: number; logProb: number }[];
  /** Distinct items, best first (collision groups expanded in `itemsAt` order). */
  items: number[];
  /** Ranking score of the beam that produced each item (its log-probability under `'likelihood'`). */
  itemScores: number[];
}

interface Beam {
  tokens: number[];
  /** Beam score: log-probability minus the diversity penalties paid (selection within a group). */
  score: number;
  /** Log-probability of the tokens under the model. */
  logProb: number;
  /** Row of the decoder step that produced this beam's last token (its cache row). */
  row: number;
}

export function beamSearch(
  model: Seq2SeqModel,
  prompts: Int32Array[],
  space: IdSpaceLike,
  trie: IdTrieLike,
  opts: BeamSearchOptions = {},
  /** Per prompt, items that must not be returned (aligned with `prompts`; missing = none). */
  exclude?: readonly (ArrayLike<number> | undefined)[],
): DecodedIds[] {
  const numBeams = opts.numBeams ?? 60;
  const numGroups = opts.numGroups ?? 1;
  const penalty = opts.diversityPenalty ?? (numGroups > 1 ? 0.5 : 0);
  if (!Number.isInteger(numBeams) || numBeams < 1) throw new Error(`beamSearch: numBeams must be a positive integer, got ${numBeams}`);
  if (!Number.isInteger(numGroups) || numGroups < 1 || numBeams % numGroups !== 0) {
    throw new Error(`beamSearch: numGroups (${numGroups}) must be a positive divisor of numBeams (${numBeams})`);
  }
  if (trie.depth !== space.ids.length) throw new Error(`beamSearch: trie depth ${trie.depth} != ID length ${space.ids.length} of space "${space.name}"`);
  const finalRanking = opts.finalRanking ?? 'likelihood';
  if (!FINAL_RANKINGS.includes(finalRanking)) throw new Error(`beamSearch: finalRanking must be one of ${FINAL_RANKINGS.join(', ')}, got "${finalRanking}"`);
  if (exclude && exclude.length !== prompts.length) throw new Error(`beamSearch: exclude has ${exclude.length} entries for ${prompts.length} prompts`);
  const promptBatch = opts.promptBatch ?? Math.max(1, Math.floor(4096 / numBeams));
  const out: DecodedIds[] = [];
  for (let start = 0; start < prompts.length; start += promptBatch) {
    const chunk = prompts.slice(start, start + promptBatch);
    const excluded = exclude?.slice(start, start + promptBatch).map((items) => (items && items.length ? new Exclusion(space, items) : null));
    out.push(...decodeChunk(model, chunk, space, trie, numBeams, numGroups, penalty, opts.maxItems ?? Infinity, finalRanking, excluded));
  }
  return out;
}

function decodeChunk(
  model: Seq2SeqModel,
  prompts: Int32Array[],
  space: IdSpaceLike,
  trie: IdTrieLike,
  numBeams: number,
  numGroups: number,
  penalty: number,
  maxItems: number,
  finalRanking: FinalRanking,
  excluded: (Exclusion | null)[] | undefined,
): DecodedIds[] {
  const P = prompts.length;
  const depth = space.ids.length;
  const V = model.config.outputVocabSize;
  const { padId, idInputBase } = model.config;
  const groupSize = numBeams / numGroups;
  const { tokens, length } = padBatch(prompts);
  const mem = model.encode(tokens, P, length);
  // beams[p] holds numBeams slots (group g owns slots g*groupSize..); null = no live hypothesis.
  let beams: (Beam | null)[][] = [];
  let cache: DecoderCache | null = null;
  let stepTokens = new Int32Array(P).fill(padId);
  let rowsPerPrompt = 1;
  try {
    for (let t = 0; t < depth; t++) {
      const rows = P * rowsPerPrompt;
      const step = model.decodeStep(mem, stepTokens, rowsPerPrompt, cache);
      if (cache) disposeCache(cache);
      cache = step.cache;
      const lpT = tf.tidy(() => tf.logSoftmax(model.logits(step.hidden)));
      step.hidden.dispose();
      const logp = lpT.dataSync() as Float32Array;
      lpT.dispose();
      const prefixes = new Int32Array(rows * t);
      if (t > 0) {
        for (let p = 0; p < P; p++) {
          for (let b = 0; b < rowsPerPrompt; b++) {
            // A dead slot repeats the first live beam of its prompt: it is computed but never read.
            const beam = beams[p][b] ?? beams[p].find((x) => x !== null)!;
            prefixes.set(beam.tokens, (p * rowsPerPrompt + b) * t);
          }
        }
      }
      const allowed = trie.allowedNext(prefixes, rows, t);
      const width = allowed.length / rows;
      const lo = space.positionOffsets[t];
      const hi = lo + space.ids.cardinalities[t];
      if (!Number.isInteger(width) || width < hi || hi > V) {
        throw new Error(`beamSearch: trie mask of ${allowed.length} entries for ${rows} rows, or the model's ${V} outputs, do not cover tokens ${lo}..${hi - 1} of space "${space.name}"`);
      }
      const next: (Beam | null)[][] = [];
      const freq = new Float64Array(V);
      const banned = new Uint8Array(V);
      const lastStep = t === depth - 1;
      for (let p = 0; p < P; p++) {
        const cur = t === 0 ? [{ tokens: [], score: 0, logProb: 0, row: p } as Beam] : beams[p];
        const ex = lastStep ? excluded?.[p] ?? null : null;
        const slots: (Beam | null)[] = new Array(numBeams).fill(null);
        freq.fill(0);
        for (let g = 0; g < numGroups; g++) {
          const topScore: number[] = [];
          const topBeam: number[] = [];
          const topTok: number[] = [];
          const from = t === 0 ? 0 : g * groupSize;
          const to = t === 0 ? 1 : (g + 1) * groupSize;
          for (let b = from; b < to; b++) {
            const beam = cur[b];
            if (!beam) continue;
            const r = p * rowsPerPrompt + b;
            const base = r * V;
            const mbase = r * width;
            const ban = ex ? ex.lastTokens(beam.tokens) : undefined;
            if (ban) for (const tok of ban) banned[tok] = 1;
            for (let tok = lo; tok < hi; tok++) {
              if (!allowed[mbase + tok] || banned[tok]) continue;
              const s = beam.score + logp[base + tok] - penalty * freq[tok];
              if (topScore.length === groupSize && s <= topScore[groupSize - 1]) continue;
              let k = topScore.length < groupSize ? topScore.length : groupSize - 1;
              while (k > 0 && topScore[k - 1] < s) {
                if (k < groupSize) {
                  topScore[k] = topScore[k - 1];
                  topBeam[k] = topBeam[k - 1];
                  topTok[k] = topTok[k - 1];
                }
                k--;
              }
              topScore[k] = s;
              topBeam[k] = b;
              topTok[k] = tok;
            }
            if (ban) for (const tok of ban) banned[tok] = 0;
          }
          for (let j = 0; j < topScore.length; j++) {
            const parent = cur[topBeam[j]]!;
            const r = p * rowsPerPrompt + topBeam[j];
            slots[g * groupSize + j] = { tokens: [...parent.tokens, topTok[j]], score: topScore[j], logProb: parent.logProb + logp[r * V + topTok[j]], row: r };
            freq[topTok[j]] += 1;
          }
        }
        next.push(slots);
      }
      beams = next;
      if (t + 1 < depth) {
        // Next step's rows: one per slot, continuing its parent's cache row.
        const parents = new Int32Array(P * numBeams);
        stepTokens = new Int32Array(P * numBeams);
        for (let p = 0; p < P; p++) {
          const firstLive = beams[p].find((x) => x !== null)!;
          for (let j = 0; j < numBeams; j++) {
            const beam = beams[p][j] ?? firstLive;
            parents[p * numBeams + j] = beam.row;
            stepTokens[p * numBeams + j] = idInputBase + beam.tokens[t];
          }
        }
        cache = reorderCache(cache, parents);
        rowsPerPrompt = numBeams;
      }
    }
  } finally {
    disposeMemory(mem);
    if (cache) disposeCache(cache);
  }
  return beams.map((slots, p) => collectItems(slots, trie, maxItems, finalRanking, excluded?.[p] ?? null));
}

/** A prompt's excluded items, indexed by the ID prefix that precedes each one's last token. */
class Exclusion {
  readonly items: Set<number>;
  private readonly byPrefix = new Map<string, number[]>();

  constructor(space: IdSpaceLike, items: ArrayLike<number>) {
    this.items = new Set(Array.from(items));
    const L = space.ids.length;
    for (const item of this.items) {
      const toks = idTokensOf(space, item);
      const key = toks.subarray(0, L - 1).join(',');
      const list = this.byPrefix.get(key);
      if (list) list.push(toks[L - 1]);
      else this.byPrefix.set(key, [toks[L - 1]]);
    }
  }

  /** Last tokens that would complete an excluded item's ID after `prefix` (absolute token ids). */
  lastTokens(prefix: readonly number[]): number[] | undefined {
    return this.byPrefix.get(prefix.join(','));
  }
}

/** Ranks the final beams (ties: slot order) and expands them into distinct items. */
function collectItems(slots: (Beam | null)[], trie: IdTrieLike, maxItems: number, finalRanking: FinalRanking, excluded: Exclusion | null): DecodedIds {
  const rankScore = (b: Beam) => (finalRanking === 'likelihood' ? b.logProb : b.score);
  const live = slots
    .map((b, i) => ({ b, i }))
    .filter((x): x is { b: Beam; i: number } => x.b !== null)
    .sort((a, b) => rankScore(b.b) - rankScore(a.b) || a.i - b.i);
  const seenIds = new Set<string>();
  const seenItems = new Set<number>();
  const res: DecodedIds = { beams: [], items: [], itemScores: [] };
  for (const { b } of live) {
    const key = b.tokens.join(',');
    if (seenIds.has(key)) continue; // the same ID reached by two groups
    seenIds.add(key);
    res.beams.push({ tokens: Int32Array.from(b.tokens), score: rankScore(b), logProb: b.logProb });
    for (const item of trie.itemsAt(b.tokens)) {
      if (seenItems.has(item) || res.items.length >= maxItems || excluded?.items.has(item)) continue;
      seenItems.add(item);
      res.items.push(item);
      res.itemScores.push(rankScore(b));
    }
  }
  return res;
}
