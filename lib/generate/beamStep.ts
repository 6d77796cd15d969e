/**
 * One step of constrained beam search for one prompt, with no model and no tensors: the live
 * hypotheses, their next-token log-probabilities and allowed tokens in; the kept beams and their
 * parents out. The driver (beamSearch.ts) runs the model and the trie around it.
 *
 * Diverse group beam search as in Hugging Face (`num_beam_groups`, `diversity_penalty`): the beams are
 * split into G groups of N/G; groups pick in order, and a token that earlier groups chose at this
 * step costs `diversityPenalty` times the number of times they chose it (Hamming diversity). The
 * penalty enters the beam score, which selection within a group uses; the log-probability is kept
 * apart. With one group this is plain beam search.
 */

/** A live hypothesis of one prompt, as the step sees it. */
export interface StepHypothesis {
  /** Beam score: log-probability minus the diversity penalties paid. */
  score: number;
  /** Log-probability of its tokens under the model. */
  logProb: number;
  /** Log-probability of each next token, over the whole output vocabulary. */
  nextLogProbs: ArrayLike<number>;
  /** Tokens it may take next, ascending (its trie node's children). */
  allowed: ArrayLike<number>;
  /** Tokens it must not take next (last tokens of excluded items); absent = none. */
  banned?: ArrayLike<number>;
}

export interface StepSettings {
  numBeams: number;
  numGroups: number;
  diversityPenalty: number;
}

/** A kept continuation: index of its parent among the step's hypotheses, the token, its new scores. */
export interface KeptBeam {
  parent: number;
  token: number;
  score: number;
  logProb: number;
}

/**
 * `hyps` holds numBeams slots, group g owning slots g*N/G .. (g+1)*N/G - 1 (null = no live
 * hypothesis), or a single hypothesis that every group expands (the start of decoding). Returns
 * numBeams slots in the same layout, each group's best first; a group with fewer candidates than
 * slots leaves the rest null. Ties keep the earlier (parent, token) pair.
 */
export function beamStep(hyps: readonly (StepHypothesis | null)[], s: StepSettings): (KeptBeam | null)[] {
  const { numBeams, numGroups, diversityPenalty: penalty } = s;
  if (!(numGroups >= 1 && numBeams % numGroups === 0)) throw new Error(`beamStep: numGroups ${numGroups} must divide numBeams ${numBeams}`);
  const shared = hyps.length === 1;
  if (!shared && hyps.length !== numBeams) throw new Error(`beamStep: ${hyps.length} hypotheses, expected 1 or numBeams = ${numBeams}`);
  const groupSize = numBeams / numGroups;
  const width = hyps.find((h) => h !== null)?.nextLogProbs.length ?? 0;
  // Times each token was chosen by earlier groups at this step; banned marks for the current hypothesis.
  const freq = new Float64Array(width);
  const banned = new Uint8Array(width);
  const kept: (KeptBeam | null)[] = new Array(numBeams).fill(null);
  for (let g = 0; g < numGroups; g++) {
    const top = new TopK(groupSize);
    const from = shared ? 0 : g * groupSize;
    const to = shared ? 1 : (g + 1) * groupSize;
    for (let b = from; b < to; b++) {
      const h = hyps[b];
      if (!h) continue;
      if (h.nextLogProbs.length !== width) throw new Error(`beamStep: hypothesis ${b} has ${h.nextLogProbs.length} log-probabilities, expected ${width}`);
      const ban = h.banned;
      if (ban) for (let i = 0; i < ban.length; i++) banned[ban[i]] = 1;
      for (let i = 0; i < h.allowed.length; i++) {
        const tok = h.allowed[i];
        if (banned[tok]) continue;
        top.offer(h.score + h.nextLogProbs[tok] - penalty * freq[tok], b, tok);
      }
      if (ban) for (let i = 0; i < ban.length; i++) banned[ban[i]] = 0;
    }
    for (let j = 0; j < top.size; j++) {
      const parent = top.parent[j];
      const token = top.token[j];
      const h = hyps[parent]!;
      kept[g * groupSize + j] = { parent, token, score: top.score[j], logProb: h.logProb + h.nextLogProbs[token] };
      freq[token] += 1;
    }
  }
  return kept;
}

/** The k best (score, parent, token) offers, best first, by insertion (k is a beam group's size). */
class TopK {
  readonly score: number[] = [];
  readonly parent: number[] = [];
  readonly token: number[] = [];

  constructor(private readonly k: number) {}

  get size(): number {
    return this.score.length;
  }

  offer(s: number, parent: number, token: number): void {
    const { k, score } = this;
    if (score.length === k && s <= score[k - 1]) return;
    let i = score.length < k ? score.length : k - 1;
    // Strictly worse entries move down one place; equal ones stay ahead (earlier offers win ties).
    while (i > 0 && score[i - 1] < s) {
      score[i] = score[i - 1];
      this.parent[i] = this.parent[i - 1];
      this.token[i] = this.token[i - 1];
      i--;
    }
    score[i] = s;
    this.parent[i] = parent;
    this.token[i] = token;
  }
}
