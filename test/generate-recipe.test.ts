/**
 * The training recipe's elements against references: the per-level softmax against a brute-force
 * masked softmax (and beam search under it against the exact scorer), the ID tokens' groups, the
 * warmup-stable-decay schedule's shape and its stop, per-group learning rates, user-balanced rec
 * sampling's expected weights, and the indexing examples.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../lib/backend';
import { AdamW, learningRate } from '../lib/generate/adamw';
import { beamSearch } from '../lib/generate/beamSearch';
import { enumerateIds, scoreAllIds } from '../lib/generate/exactScorer';
import { idTokensOf, outputGroupsOf } from '../lib/generate/idContract';
import { indexingExamples } from '../lib/generate/jointModel';
import { padBatch, PromptEncoder, type Seq2SeqExample } from '../lib/generate/prompts';
import { decoderInputs, groupMaskRows, Seq2SeqModel } from '../lib/generate/seq2seqModel';
import { WordTokenizer } from '../lib/generate/textTokenizer';
import { trainSeq2Seq, userBalancedSample } from '../lib/generate/train';
import { PrefixTrie } from '../lib/quantize/trie';
import { buildIdVocabulary } from '../lib/quantize/vocabulary';
import { Rng } from '../lib/util/random';
import { randomIds, TINY_MODEL, tinyData, tinyVocab } from './generate-fixtures';

process.env.SID_QUIET = '1';

before(async () => {
  await initBackend();
});

/** Two spaces (one of depth 3 with collisions) and a random model with a per-level softmax over them. */
function levelSetup(seed: number) {
  const vocab = buildIdVocabulary([
    { name: 'first', ids: randomIds(10, [3, 3], seed + 50) },
    { name: 'second', ids: randomIds(36, [3, 4, 3], seed) },
  ]);
  const groups = outputGroupsOf(vocab);
  const cfg = { ...TINY_MODEL, inputVocabSize: vocab.size + 20, outputVocabSize: vocab.size, idInputBase: 20, padId: 0, seed };
  const level = new Seq2SeqModel({ ...cfg, outputGroups: groups });
  const full = new Seq2SeqModel(cfg, level.getWeights());
  const rng = new Rng(seed + 1);
  const prompts = Array.from({ length: 4 }, () => Int32Array.from({ length: 1 + rng.int(7) }, () => 1 + rng.int(19)));
  return { vocab, groups, level, full, prompts };
}

test('ID tokens are grouped by space and position', () => {
  const { vocab, groups, level, full } = levelSetup(3);
  assert.equal(groups.length, vocab.size);
  // first: positions of 3 and 3 codes; second: 3, 4, 3 codes: five groups, contiguous.
  assert.deepEqual(groups, [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4]);
  for (const s of vocab.spaces) {
    for (let p = 0; p < s.ids.length; p++) {
      const g = groups[s.positionOffsets[p]];
      for (let c = 0; c < s.ids.cardinalities[p]; c++) assert.equal(groups[s.positionOffsets[p] + c], g);
    }
  }
  // Two spaces that share one token range at a position share its group.
  const shared = buildIdVocabulary([{ name: 'a', ids: randomIds(5, [2, 2], 1) }]);
  assert.deepEqual(outputGroupsOf({ size: shared.size, spaces: [shared.spaces[0], { ...shared.spaces[0], name: 'b' }] }), [0, 0, 1, 1]);
  assert.throws(() => new Seq2SeqModel({ ...level.config, outputGroups: [0, 1] }), /outputGroups has 2 entries/);
  level.dispose();
  full.dispose();
});

test('the per-level training loss equals a brute-force softmax over each target position\'s codes', () => {
  const { vocab, groups, level, full, prompts } = levelSetup(5);
  const space = vocab.spaces[1];
  const items = [0, 7, 19, 35];
  const targets = new Int32Array(items.length * 3);
  items.forEach((it, b) => targets.set(idTokensOf(space, it), b * 3));
  const { tokens, length } = padBatch(prompts);
  // Brute force: the full model's logits (same weights), masked by hand to each target's group.
  const logits = tf.tidy(() => {
    const mem = full.encode(tokens, items.length, length);
    const h = full.decodeHidden(mem, decoderInputs(targets, items.length, 3, 0, 20), 1, 3);
    return full.logits(h).reshape([items.length * 3, vocab.size]);
  });
  const lg = logits.dataSync() as Float32Array;
  logits.dispose();
  const want: number[] = [];
  for (let r = 0; r < targets.length; r++) {
    const y = targets[r];
    const inGroup = Array.from({ length: vocab.size }, (_, v) => v).filter((v) => groups[v] === groups[y]);
    const max = Math.max(...inGroup.map((v) => lg[r * vocab.size + v]));
    const z = inGroup.reduce((s, v) => s + Math.exp(lg[r * vocab.size + v] - max), 0);
    want.push(-(lg[r * vocab.size + y] - max - Math.log(z)));
  }
  const got = tf.tidy(() => level.lossTerms(tokens, items.length, length, targets, 3).tokenLoss.arraySync() as number[]);
  got.forEach((g, r) => assert.ok(Math.abs(g - want[r]) < 1e-4, `token ${r}: ${g} vs ${want[r]}`));
  // Masking can only lower a token's loss: the full softmax's denominator has more terms.
  const plain = tf.tidy(() => full.lossTerms(tokens, items.length, length, targets, 3).tokenLoss.arraySync() as number[]);
  plain.forEach((p, r) => assert.ok(p > got[r] + 1e-6, `token ${r}`));
  // The mask rows: 0 over the group, -1e9 elsewhere, all 0 for padding.
  const rows = groupMaskRows(groups, Int32Array.from([9, -1]));
  assert.deepEqual(Array.from(rows.subarray(0, vocab.size), (x) => (x === 0 ? 0 : 1)), groups.map((g) => (g === groups[9] ? 0 : 1)));
  assert.ok(rows.subarray(vocab.size).every((x) => x === 0));
  level.dispose();
  full.dispose();
});

test('beam search under a per-level softmax equals the exact scorer, whose scores are per-level log-probabilities', () => {
  const { vocab, level, full, prompts } = levelSetup(11);
  const space = vocab.spaces[1];
  const trie = new PrefixTrie(space, vocab.size);
  const numIds = enumerateIds(trie).length;
  const exact = scoreAllIds(level, prompts, trie);
  const decoded = beamSearch({ model: level, prompts, space, trie, options: { numBeams: numIds, promptBatch: 3 } });
  prompts.forEach((_, p) => {
    assert.deepEqual(decoded[p].beams.map((b) => Array.from(b.tokens)), exact[p].map((x) => Array.from(x.tokens)), `prompt ${p}`);
    decoded[p].beams.forEach((b, r) => assert.ok(Math.abs(b.logProb - exact[p][r].logProb) < 1e-4));
  });
  // Per-level scores sum to 1 over each position's codes: the probabilities of all IDs of a
  // complete code grid would sum to 1; here, over the valid IDs, they sum to at most 1 and more than
  // under the full softmax, which spreads mass over every ID token.
  const exactFull = scoreAllIds(full, prompts, trie);
  prompts.forEach((_, p) => {
    const mass = exact[p].reduce((s, x) => s + Math.exp(x.logProb), 0);
    const massFull = exactFull[p].reduce((s, x) => s + Math.exp(x.logProb), 0);
    assert.ok(mass <= 1 + 1e-5 && mass > massFull, `prompt ${p}: ${mass} vs ${massFull}`);
  });
  level.dispose();
  full.dispose();
});

test('warmup-stable-decay: linear warmup, the peak until the decay starts, linear decay to the minimum, then the minimum', () => {
  const s = { peakLr: 1, totalSteps: 1000, warmupSteps: 10, decay: 'wsd' as const, decaySteps: 20, minLrRatio: 0.1 };
  assert.equal(learningRate(5, s), 0.5);
  assert.equal(learningRate(10, s), 1);
  // Not decided yet: the peak, whatever the cap.
  assert.equal(learningRate(999, s), 1);
  assert.equal(learningRate(5000, s), 1);
  const d = { ...s, decayStart: 100 };
  assert.equal(learningRate(100, d), 1);
  assert.ok(Math.abs(learningRate(110, d) - 0.55) < 1e-12);
  assert.ok(Math.abs(learningRate(120, d) - 0.1) < 1e-12);
  assert.ok(Math.abs(learningRate(500, d) - 0.1) < 1e-12);
  // The cosine schedule spans the cap: a longer cap moves its early rates.
  assert.notEqual(learningRate(100, { ...s, decay: 'cosine' }), learningRate(100, { ...s, decay: 'cosine', totalSteps: 2000 }));
});

function tinyPools() {
  const space = tinyVocab().spaces[0];
  const rng = new Rng(4);
  const pool = Array.from({ length: 24 }, (_, i) => ({
    task: 'search' as const,
    input: Int32Array.from({ length: 1 + rng.int(6) }, () => 1 + rng.int(30)),
    target: idTokensOf(space, i % 12),
    item: i % 12,
  }));
  return { space, pools: { search: pool, rec: [] as Seq2SeqExample[] } };
}

test('wsd training decays after the plateau rule fires, then stops; without a plateau the decay ends at the cap', async () => {
  const { space, pools } = tinyPools();
  const outputs = space.ids.cardinalities.reduce((a, b) => a + b, 0) + 8;
  const run = async (scores: number[], epochs: number) => {
    const model = new Seq2SeqModel({ ...TINY_MODEL, inputVocabSize: 40, outputVocabSize: outputs, idInputBase: 40 - outputs, padId: 0, seed: 1 });
    const res = await trainSeq2Seq(model, pools, {
      epochs, batchSize: 8, seed: 2, lr: 1e-3, decay: 'wsd', decayEpochs: 2, warmupSteps: 3, patience: 2,
      validate: (_m, epoch) => ({ search: scores[epoch], rec: scores[epoch] }),
    });
    model.dispose();
    return res;
  };
  // Best at epoch 1, no better at 2 and 3: the decay runs over epochs 4 and 5 (0-based), then training stops.
  const stopped = await run([0.2, 0.5, 0.4, 0.45, 0.6, 0.55, 0.9, 0.9, 0.9, 0.9], 10);
  assert.equal(stopped.stop, 'plateau');
  assert.deepEqual(stopped.history.map((h) => h.epoch), [0, 1, 2, 3, 4, 5]);
  const lrs = stopped.history.map((h) => h.lr);
  assert.equal(lrs[1], 1e-3);
  assert.equal(lrs[3], 1e-3);
  assert.ok(lrs[4] < 1e-3 && lrs[4] > 1e-4, `decaying: ${lrs[4]}`);
  assert.ok(Math.abs(lrs[5] - 1e-4) < 1e-12, `at the minimum after the decay: ${lrs[5]}`);
  // The best epoch counts the decay's epochs too.
  assert.equal(stopped.bestEpoch, 4);
  // Rising throughout: the decay takes the cap's last two epochs.
  const capped = await run([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], 6);
  assert.equal(capped.stop, 'cap');
  assert.equal(capped.history.length, 6);
  assert.equal(capped.history[3].lr, 1e-3);
  assert.ok(Math.abs(capped.history[5].lr - 1e-4) < 1e-12);
  // A cap shorter than the decay (a smoke run's one epoch) decays over the whole cap.
  const model = new Seq2SeqModel({ ...TINY_MODEL, inputVocabSize: 40, outputVocabSize: outputs, idInputBase: 40 - outputs, padId: 0, seed: 1 });
  const short = await trainSeq2Seq(model, pools, { epochs: 1, batchSize: 4, seed: 2, lr: 1e-3, decay: 'wsd', decayEpochs: 2, warmupSteps: 0 });
  model.dispose();
  assert.equal(short.stop, 'cap');
  assert.equal(short.history.length, 1);
  assert.ok(Math.abs(short.history[0].lr - 1e-4) < 1e-12, `decayed to the minimum within the one epoch: ${short.history[0].lr}`);
});

test('a learning-rate scale moves a variable as a scaled learning rate does', () => {
  const make = () => [tf.variable(tf.tensor1d([1, -2, 3])), tf.variable(tf.tensor1d([0.5, 0.5]))];
  const grads = () => [tf.tensor1d([0.3, -0.1, 0.2]), tf.tensor1d([-0.4, 0.1])];
  const a = make();
  const b = make();
  const oa = new AdamW(a, [true, true], { lrScales: [4, 1], clipNorm: 0 });
  const ob = new AdamW([b[0]], [true], { clipNorm: 0 });
  const oc = new AdamW([b[1]], [true], { clipNorm: 0 });
  for (let i = 0; i < 3; i++) {
    const g1 = grads();
    const g2 = grads();
    oa.apply(g1, 0.01);
    ob.apply([g2[0]], 0.04);
    oc.apply([g2[1]], 0.01);
    tf.dispose([...g1, ...g2]);
  }
  a.forEach((v, i) => {
    const x = v.dataSync();
    const y = b[i].dataSync();
    x.forEach((xv, j) => assert.ok(Math.abs(xv - y[j]) < 1e-6, `var ${i}[${j}]: ${xv} vs ${y[j]}`));
  });
  assert.throws(() => new AdamW(a, [true, true], { lrScales: [1] }), /1 learning-rate scales for 2 variables/);
  for (const o of [oa, ob, oc]) o.dispose();
  tf.dispose([...a, ...b]);
});

test('user-balanced sampling gives each user the same weight, split evenly over the user\'s windows', () => {
  // Users with 1, 3 and 12 windows: expected weight 1/3 per user, 1/(3 n_u) per window.
  const sizes = [1, 3, 12];
  const examples: Seq2SeqExample[] = [];
  sizes.forEach((n, u) => {
    for (let k = 0; k < n; k++) examples.push({ task: 'rec', input: new Int32Array([1]), target: new Int32Array([0]), item: k, user: 100 + u });
  });
  const draws = 60000;
  const idx = userBalancedSample(examples, draws, new Rng(9));
  const counts = new Array(examples.length).fill(0);
  for (const i of idx) counts[i]++;
  examples.forEach((e, i) => {
    const p = 1 / (sizes.length * sizes[e.user! - 100]);
    const sd = Math.sqrt(draws * p * (1 - p));
    assert.ok(Math.abs(counts[i] - draws * p) < 5 * sd, `window ${i}: ${counts[i]} vs ${draws * p}`);
  });
  // Windows drawn uniformly would give the busiest user 12/16 of the draws; here a third.
  const busiest = idx.filter((i) => examples[i].user === 102).length / draws;
  assert.ok(Math.abs(busiest - 1 / 3) < 0.01, `${busiest}`);
  // Same seed, same draws.
  assert.deepEqual(userBalancedSample(examples, 50, new Rng(9)), idx.slice(0, 50));
  assert.throws(() => userBalancedSample([{ ...examples[0], user: undefined }], 1, new Rng(1)), /has no user/);
});

test('indexing examples map each item\'s own text to its ID, as a search prompt', () => {
  const data = tinyData();
  const space = tinyVocab().spaces[0];
  const tokenizer = WordTokenizer.build(data.dataset.items.map((i) => i.text));
  const prompts = new PromptEncoder(tokenizer, 16);
  const ex = indexingExamples(prompts, space, data.dataset.items, 2);
  assert.equal(ex.length, 24);
  ex.forEach((e, i) => {
    const item = data.dataset.items[i % 12];
    assert.equal(e.task, 'search');
    assert.equal(e.item, item.index);
    assert.deepEqual(Array.from(e.input), Array.from(prompts.searchPrompt(item.text)));
    assert.deepEqual(Array.from(e.target), Array.from(idTokensOf(space, item.index)));
  });
  assert.equal(indexingExamples(prompts, space, data.dataset.items, 0).length, 0);
  assert.throws(() => indexingExamples(prompts, space, data.dataset.items, 1.5), /non-negative integer/);
});

test('minDelta: gains inside the noise do not reset the patience, and the best epoch is still the best score', async () => {
  const { space, pools } = tinyPools();
  const outputs = space.ids.cardinalities.reduce((a, b) => a + b, 0) + 8;
  const scores = [0.5, 0.51, 0.52, 0.6, 0.61, 0.62];
  const run = async (minDelta: number) => {
    const model = new Seq2SeqModel({ ...TINY_MODEL, inputVocabSize: 40, outputVocabSize: outputs, idInputBase: 40 - outputs, padId: 0, seed: 1 });
    const res = await trainSeq2Seq(model, pools, { epochs: 6, batchSize: 8, seed: 2, patience: 2, minDelta, validate: (_m, e) => ({ search: scores[e], rec: scores[e] }) });
    model.dispose();
    return res;
  };
  // Gains of 0.01 are noise at minDelta 0.05: two epochs without a counted gain after epoch 0.
  const strict = await run(0.05);
  assert.equal(strict.stop, 'plateau');
  assert.equal(strict.history.length, 3);
  assert.equal(strict.bestEpoch, 2);
  // Without it every small gain counts and the run goes to the cap.
  const loose = await run(0);
  assert.equal(loose.stop, 'cap');
  assert.equal(loose.bestEpoch, 5);
});
