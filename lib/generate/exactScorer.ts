/**
 * Exact scoring of every valid ID: each ID of the trie is scored under the model by teacher forcing
 * and the IDs are ranked by log-probability. It costs one decoder row per ID and prompt, so it is the
 * reference that beam search is checked against (plain beam search with at least as many beams as
 * valid IDs must return the same ranking), not a decoder for real catalogues.
 */
import type { IdTrieLike } from './idContract';
import type { Seq2SeqModel } from './seq2seqModel';
import { padBatch } from './prompts';

export interface ScoredId {
  /** Absolute ID tokens. */
  tokens: Int32Array;
  /** Log-probability of the tokens under the model (teacher forcing). */
  logProb: number;
  /** Items with this ID (several when IDs collide). */
  items: number[];
}

/** Every full ID of the trie with its items, depth-first in token order. */
export function enumerateIds(trie: IdTrieLike): { tokens: Int32Array; items: number[] }[] {
  const out: { tokens: Int32Array; items: number[] }[] = [];
  const prefix = new Int32Array(trie.depth);
  const walk = (node: number, t: number): void => {
    if (t === trie.depth) {
      out.push({ tokens: prefix.slice(), items: trie.itemsOfNode(node) });
      return;
    }
    for (const tok of Array.from(trie.children(node))) {
      prefix[t] = tok;
      walk(trie.child(node, tok), t + 1);
    }
  };
  walk(trie.root(), 0);
  return out;
}

/** Per prompt, every valid ID ranked by log-probability, best first (ties: enumeration order). */
export function scoreAllIds(model: Seq2SeqModel, prompts: Int32Array[], trie: IdTrieLike, rowsPerPass = 1024): ScoredId[][] {
  const ids = enumerateIds(trie);
  const L = trie.depth;
  return prompts.map((prompt) => {
    const logProbs = new Float64Array(ids.length);
    for (let start = 0; start < ids.length; start += rowsPerPass) {
      const part = ids.slice(start, start + rowsPerPass);
      const { tokens, length } = padBatch(part.map(() => prompt));
      const targets = new Int32Array(part.length * L);
      part.forEach((id, i) => targets.set(id.tokens, i * L));
      logProbs.set(model.sequenceLogProbs(tokens, part.length, length, targets, L), start);
    }
    const order = ids.map((_, i) => i).sort((a, b) => logProbs[b] - logProbs[a] || a - b);
    return order.map((i) => ({ tokens: ids[i].tokens, logProb: logProbs[i], items: ids[i].items }));
  });
}
