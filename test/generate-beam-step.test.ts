/**
 * The model-free beam step against brute force: random log-probability tables stand in for the
 * model, every sequence of a small trie is enumerated, and diverse group beam search is compared
 * with a reference written plainly here. Also the trie's node walk and the resolved options.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { beamStep, type KeptBeam, type StepHypothesis, type StepSettings } from '../lib/generate/beamStep';
import { resolveBeamSearchOptions } from '../lib/generate/beamSearch';
import { enumerateIds } from '../lib/generate/exactScorer';
import { PrefixTrie } from '../lib/quantize/trie';
import { buildIdVocabulary, type IdSpace } from '../lib/quantize/vocabulary';
import type { SemanticIdSet } from '../lib/types';
import { Rng } from '../lib/util/random';

/** Random codes, duplicates allowed (collisions). */
function randomIds(n: number, cardinalities: number[], seed: number): SemanticIdSet {
  const rng = new Rng(seed);
  const codes = new Int32Array(n * cardinalities.length);
  for (let i = 0; i < n; i++) cardinalities.forEach((c, p) => (codes[i * cardinalities.length + p] = rng.int(c)));
  return { numItems: n, length: cardinalities.length, cardinalities, codes };
}

/** A small trie in the second space of a two-space vocabulary (so token ids do not start at 0). */
function fixture(seed: number, n = 20) {
  const vocab = buildIdVocabulary([
    { name: 'other', ids: randomIds(5, [2, 2, 2], seed + 100) },
    { name: 'main', ids: randomIds(n, [3, 4, 3], seed) },
  ]);
  const space = vocab.spaces[1];
  return { space, trie: new PrefixTrie(space, vocab.size), V: vocab.size };
}

/** Stand-in model: a fixed random log-softmax row over the vocabulary per prefix. */
function logProbTable(V: number, seed: number): (prefix: readonly number[]) => Float32Array {
  const memo = new Map<string, Float32Array>();
  return (prefix) => {
    const key = prefix.join(',');
    let row = memo.get(key);
    if (!row) {
      const rng = new Rng(seed * 7919 + memo.size + 1);
      const logits = Array.from({ length: V }, () => 2 * rng.normal());
      const max = Math.max(...logits);
      const lse = max + Math.log(logits.reduce((a, x) => a + Math.exp(x - max), 0));
      row = Float32Array.from(logits, (x) => x - lse);
      memo.set(key, row);
    }
    return row;
  };
}

/** Every valid ID, from the codes (not the trie), each ID once. */
function validIds(space: IdSpace): number[][] {
  const { ids } = space;
  const seen = new Map<string, number[]>();
  for (let i = 0; i < ids.numItems; i++) {
    const toks = Array.from({ length: ids.length }, (_, p) => space.positionOffsets[p] + ids.codes[i * ids.length + p]);
    seen.set(toks.join(','), toks);
  }
  return [...seen.values()];
}

function seqLogProb(lp: (prefix: readonly number[]) => Float32Array, toks: readonly number[]): number {
  let s = 0;
  for (let t = 0; t < toks.length; t++) s += lp(toks.slice(0, t))[toks[t]];
  return s;
}

type Step = (hyps: readonly (StepHypothesis | null)[], s: StepSettings) => (KeptBeam | null)[];

interface Final {
  tokens: number[];
  score: number;
  logProb: number;
}

/** A model-free driver: runs `step` over the trie for its depth; `bannedAt(node)` applies at the last step. */
function search(step: Step, trie: PrefixTrie, lp: (prefix: readonly number[]) => Float32Array, s: StepSettings, bannedAt?: (node: number) => number[] | undefined): (Final | null)[] {
  let beams: ({ tokens: number[]; node: number; score: number; logProb: number } | null)[] = [{ tokens: [], node: trie.root(), score: 0, logProb: 0 }];
  for (let t = 0; t < trie.depth; t++) {
    const last = t === trie.depth - 1;
    const hyps = beams.map((b) => b && { score: b.score, logProb: b.logProb, nextLogProbs: lp(b.tokens), allowed: trie.children(b.node), banned: last ? bannedAt?.(b.node) : undefined });
    const prev = beams;
    beams = step(hyps, s).map((k) => {
      if (!k) return null;
      const parent = prev[k.parent]!;
      return { tokens: [...parent.tokens, k.token], node: trie.child(parent.node, k.token), score: k.score, logProb: k.logProb };
    });
  }
  return beams.map((b) => b && { tokens: b.tokens, score: b.score, logProb: b.logProb });
}

/** Diverse group beam search written plainly: every candidate of the group, sorted (stable), the best kept. */
function referenceStep(hyps: readonly (StepHypothesis | null)[], s: StepSettings): (KeptBeam | null)[] {
  const size = s.numBeams / s.numGroups;
  const chosen = new Map<number, number>();
  const out: (KeptBeam | null)[] = [];
  for (let g = 0; g < s.numGroups; g++) {
    const members = hyps.length === 1 ? [0] : Array.from({ length: size }, (_, j) => g * size + j);
    const cands: KeptBeam[] = [];
    for (const b of members) {
      const h = hyps[b];
      if (!h) continue;
      for (const token of Array.from(h.allowed)) {
        if (h.banned && Array.from(h.banned).includes(token)) continue;
        const penalty = s.diversityPenalty * (chosen.get(token) ?? 0);
        cands.push({ parent: b, token, score: h.score + h.nextLogProbs[token] - penalty, logProb: h.logProb + h.nextLogProbs[token] });
      }
    }
    cands.sort((a, b) => b.score - a.score);
    const best = cands.slice(0, size);
    for (const c of best) chosen.set(c.token, (chosen.get(c.token) ?? 0) + 1);
    out.push(...best, ...new Array(size - best.length).fill(null));
  }
  return out;
}

test('plain beam search as wide as all valid IDs equals the exhaustive ranking by log-probability', () => {
  for (const seed of [1, 2, 3]) {
    const { space, trie, V } = fixture(seed);
    const lp = logProbTable(V, seed);
    const all = validIds(space).map((toks) => ({ toks, s: seqLogProb(lp, toks) })).sort((a, b) => b.s - a.s);
    for (const extra of [0, 3]) {
      const numBeams = all.length + extra;
      const got = search(beamStep, trie, lp, { numBeams, numGroups: 1, diversityPenalty: 0 });
      assert.deepEqual(got.filter((b) => b !== null).map((b) => b!.tokens), all.map((x) => x.toks), `seed ${seed} beams ${numBeams}`);
      got.slice(0, all.length).forEach((b, i) => {
        assert.ok(Math.abs(b!.logProb - all[i].s) < 1e-9);
        assert.equal(b!.score, b!.logProb);
      });
      assert.ok(got.slice(all.length).every((b) => b === null), 'slots beyond the valid IDs stay empty');
    }
  }
});

test('banned last tokens remove exactly those IDs from the exhaustive ranking', () => {
  const { space, trie, V } = fixture(4);
  const lp = logProbTable(V, 4);
  const all = validIds(space);
  const rng = new Rng(9);
  const banned = all.filter(() => rng.next() < 0.3);
  const byNode = new Map<number, number[]>();
  for (const toks of banned) {
    const node = trie.nodeOf(toks.slice(0, -1));
    byNode.set(node, [...(byNode.get(node) ?? []), toks[toks.length - 1]]);
  }
  const key = (t: number[]) => t.join(',');
  const bannedKeys = new Set(banned.map(key));
  const want = all.filter((t) => !bannedKeys.has(key(t))).sort((a, b) => seqLogProb(lp, b) - seqLogProb(lp, a));
  const got = search(beamStep, trie, lp, { numBeams: all.length, numGroups: 1, diversityPenalty: 0 }, (node) => byNode.get(node));
  assert.ok(banned.length > 0);
  assert.deepEqual(got.filter((b) => b !== null).map((b) => b!.tokens), want);
});

test('diverse group beam search equals the plain reference, step by step and over whole searches', () => {
  const settings: StepSettings[] = [
    { numBeams: 4, numGroups: 1, diversityPenalty: 0 },
    { numBeams: 3, numGroups: 1, diversityPenalty: 5 },
    { numBeams: 6, numGroups: 3, diversityPenalty: 0.5 },
    { numBeams: 6, numGroups: 2, diversityPenalty: 2 },
    { numBeams: 8, numGroups: 8, diversityPenalty: 0.3 },
    { numBeams: 12, numGroups: 4, diversityPenalty: 1e3 },
    { numBeams: 40, numGroups: 4, diversityPenalty: 0.7 },
  ];
  let differFromPlain = 0;
  for (const seed of [5, 6, 7]) {
    const { trie, V, space } = fixture(seed, 30);
    const lp = logProbTable(V, seed);
    const all = validIds(space);
    const rng = new Rng(seed);
    const byNode = new Map<number, number[]>();
    for (const toks of all) if (rng.next() < 0.2) byNode.set(trie.nodeOf(toks.slice(0, -1)), [toks[toks.length - 1]]);
    for (const s of settings) {
      for (const ban of [undefined, (node: number) => byNode.get(node)]) {
        const got = search(beamStep, trie, lp, s, ban);
        const want = search(referenceStep, trie, lp, s, ban);
        assert.deepEqual(got, want, `seed ${seed} ${JSON.stringify(s)} banned ${ban !== undefined}`);
        const plain = search(beamStep, trie, lp, { ...s, numGroups: 1, diversityPenalty: 0 }, ban);
        if (s.numGroups > 1 && JSON.stringify(plain.map((b) => b?.tokens)) !== JSON.stringify(got.map((b) => b?.tokens))) differFromPlain++;
        if (s.numGroups === 1) assert.deepEqual(got.map((b) => b?.tokens), plain.map((b) => b?.tokens), 'one group: the penalty never applies');
      }
    }
  }
  assert.ok(differFromPlain > 0, 'groups change the search somewhere');
});

test('beam step by hand: a token chosen by earlier groups costs the penalty times its count', () => {
  const lp = Float32Array.from([-0.1, -0.2, -3]);
  const start: StepHypothesis = { score: 0, logProb: 0, nextLogProbs: lp, allowed: [0, 1, 2] };
  const s = { numBeams: 3, numGroups: 3 };
  // Penalty 1: group 1 avoids token 0 (-1.1 < -0.2); for group 2 both are taken once, and token 0
  // (-0.1 - 1) still beats token 1 (-0.2 - 1).
  const strong = beamStep([start], { ...s, diversityPenalty: 1 });
  assert.deepEqual(strong.map((k) => k && [k.token, +k.score.toFixed(4), +k.logProb.toFixed(4)]), [[0, -0.1, -0.1], [1, -0.2, -0.2], [0, -1.1, -0.1]]);
  // A small penalty lets every group take the likeliest token, each paying for the earlier ones.
  const weak = beamStep([start], { ...s, diversityPenalty: 0.01 });
  assert.deepEqual(weak.map((k) => k && [k.token, +k.score.toFixed(4)]), [[0, -0.1], [0, -0.11], [0, -0.12]]);
  // A group whose slots are all dead keeps none; banned tokens are skipped.
  const next = beamStep([{ ...start, banned: [0] }, null, null, null], { numBeams: 4, numGroups: 2, diversityPenalty: 0 });
  assert.deepEqual(next.map((k) => k && [k.parent, k.token]), [[0, 1], [0, 2], null, null]);
  assert.throws(() => beamStep([start, start], { numBeams: 3, numGroups: 1, diversityPenalty: 0 }), /2 hypotheses, expected 1 or numBeams = 3/);
  assert.throws(() => beamStep([start], { numBeams: 4, numGroups: 3, diversityPenalty: 0 }), /numGroups 3 must divide numBeams 4/);
});

test('trie node walk: root, child, children and itemsOfNode agree with the codes and the masks', () => {
  const { space, trie, V } = fixture(8, 40);
  const { ids } = space;
  const want = new Map<string, number[]>();
  for (let i = 0; i < ids.numItems; i++) {
    const key = Array.from({ length: ids.length }, (_, p) => space.positionOffsets[p] + ids.codes[i * ids.length + p]).join(',');
    want.set(key, [...(want.get(key) ?? []), i]);
  }
  const got = enumerateIds(trie);
  assert.deepEqual(new Map(got.map((x) => [Array.from(x.tokens).join(','), [...x.items].sort((a, b) => a - b)])), want);
  // Depth-first in token order: the enumeration is sorted.
  const keys = got.map((x) => Array.from(x.tokens));
  const before = (a: number[], b: number[]) => {
    const p = a.findIndex((v, i) => v !== b[i]);
    return p >= 0 && a[p] < b[p];
  };
  for (let i = 1; i < keys.length; i++) assert.ok(before(keys[i - 1], keys[i]), `${keys[i - 1]} before ${keys[i]}`);
  for (const x of got) {
    let node = trie.root();
    for (let t = 0; t < trie.depth; t++) {
      const mask = trie.allowedFromNodes(Int32Array.of(node));
      assert.deepEqual(Array.from(trie.children(node)), Array.from({ length: V }, (_, k) => k).filter((k) => mask[k]));
      node = trie.child(node, x.tokens[t]);
      assert.ok(node >= 0);
    }
    assert.equal(trie.children(node).length, 0);
    assert.deepEqual(trie.itemsOfNode(node), trie.itemsAt(x.tokens));
  }
  assert.equal(trie.child(trie.root(), 0), -1, 'token 0 belongs to the other space');
  assert.deepEqual(trie.itemsOfNode(trie.root()), []);
  assert.equal(trie.children(-1).length, 0);
});

test('beam search options resolve once: defaults, the penalty default with groups, and bad values', () => {
  assert.deepEqual(resolveBeamSearchOptions(), { numBeams: 60, numGroups: 1, diversityPenalty: 0, promptBatch: 68, maxItems: Infinity, finalRanking: 'likelihood' });
  assert.deepEqual(resolveBeamSearchOptions({ numBeams: 10, numGroups: 5 }), { numBeams: 10, numGroups: 5, diversityPenalty: 0.5, promptBatch: 409, maxItems: Infinity, finalRanking: 'likelihood' });
  assert.equal(resolveBeamSearchOptions({ numGroups: 2, diversityPenalty: 0 }).diversityPenalty, 0);
  assert.throws(() => resolveBeamSearchOptions({ numBeams: 0 }), /numBeams must be a positive integer/);
  assert.throws(() => resolveBeamSearchOptions({ numBeams: 60, numGroups: 7 }), /positive divisor of numBeams/);
  assert.throws(() => resolveBeamSearchOptions({ diversityPenalty: NaN }), /diversityPenalty must be a finite number/);
  assert.throws(() => resolveBeamSearchOptions({ promptBatch: 0 }), /promptBatch must be a positive integer/);
  assert.throws(() => resolveBeamSearchOptions({ maxItems: 2.5 }), /maxItems must be a non-negative integer/);
  assert.throws(() => resolveBeamSearchOptions({ finalRanking: 'best' as 'likelihood' }), /finalRanking must be one of/);
});
