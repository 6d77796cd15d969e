/**
 * Beam search on a tiny random model against the exact scorer (every valid ID scored by teacher
 * forcing), and the cached decoder step against full decoding: both go through the same decoder layer.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../lib/backend';
import { beamSearch } from '../lib/generate/beamSearch';
import { enumerateIds, scoreAllIds } from '../lib/generate/exactScorer';
import { decoderInputs, disposeCache, disposeMemory, reorderCache, Seq2SeqModel } from '../lib/generate/seq2seqModel';
import { padBatch } from '../lib/generate/prompts';
import { PrefixTrie } from '../lib/quantize/trie';
import { buildIdVocabulary } from '../lib/quantize/vocabulary';
import { Rng } from '../lib/util/random';
import { randomIds, TINY_MODEL } from './generate-fixtures';

process.env.SID_QUIET = '1';

before(async () => {
  await initBackend();
});

/** Depth-3 IDs with collisions, in the second space of the vocabulary; a random model over it. */
function setup(seed: number) {
  const vocab = buildIdVocabulary([
    { name: 'first', ids: randomIds(10, [3, 3], seed + 50) },
    { name: 'second', ids: randomIds(36, [3, 4, 3], seed) },
  ]);
  const space = vocab.spaces[1];
  const trie = new PrefixTrie(space, vocab.size);
  const model = new Seq2SeqModel({ ...TINY_MODEL, inputVocabSize: vocab.size + 20, outputVocabSize: vocab.size, idInputBase: 20, padId: 0, seed });
  const rng = new Rng(seed + 1);
  const prompts = Array.from({ length: 4 }, () => Int32Array.from({ length: 1 + rng.int(7) }, () => 1 + rng.int(19)));
  return { space, trie, model, prompts };
}

test('plain beam search with a beam per valid ID equals the exact scorer', () => {
  for (const seed of [11, 12]) {
    const { space, trie, model, prompts } = setup(seed);
    const numIds = enumerateIds(trie).length;
    assert.ok(numIds < space.ids.numItems, 'the fixture has collisions');
    const exact = scoreAllIds(model, prompts, trie);
    const decoded = beamSearch({ model, prompts, space, trie, options: { numBeams: numIds, promptBatch: 3 } });
    prompts.forEach((_, p) => {
      assert.deepEqual(decoded[p].beams.map((b) => Array.from(b.tokens)), exact[p].map((x) => Array.from(x.tokens)), `seed ${seed} prompt ${p}`);
      decoded[p].beams.forEach((b, r) => assert.ok(Math.abs(b.logProb - exact[p][r].logProb) < 1e-4));
      assert.deepEqual(decoded[p].items, exact[p].flatMap((x) => x.items));
    });
    // Narrow beams find a subset, each with its exact score.
    const narrow = beamSearch({ model, prompts, space, trie, options: { numBeams: 4, numGroups: 2 } });
    prompts.forEach((_, p) => {
      const byKey = new Map(exact[p].map((x) => [Array.from(x.tokens).join(','), x.logProb]));
      for (const b of narrow[p].beams) assert.ok(Math.abs(b.logProb - byKey.get(Array.from(b.tokens).join(','))!) < 1e-4);
    });
    model.dispose();
  }
});

test('with exclusions, wide beam search equals the exact ranking without the excluded IDs', () => {
  const { space, trie, model, prompts } = setup(13);
  const numIds = enumerateIds(trie).length;
  const exclude = [[0, 1, 2], [], [5, 30], [35]];
  const exact = scoreAllIds(model, prompts, trie);
  const decoded = beamSearch({ model, prompts, space, trie, options: { numBeams: numIds }, exclude });
  prompts.forEach((_, p) => {
    // The ID of an excluded item is banned whole, with any item colliding with it.
    const want = exact[p].filter((x) => !x.items.some((i) => exclude[p].includes(i))).flatMap((x) => x.items);
    assert.deepEqual(decoded[p].items, want, `prompt ${p}`);
  });
  model.dispose();
});

test('the cached decoder step equals full teacher-forced decoding, position by position', () => {
  const { model, prompts } = setup(14);
  const before = tf.memory().numTensors;
  const { tokens, length } = padBatch(prompts);
  const P = prompts.length;
  const beams = 3;
  const steps = 3;
  const rng = new Rng(3);
  const targets = Int32Array.from({ length: P * beams * steps }, () => rng.int(model.config.outputVocabSize));
  const mem = model.encode(tokens, P, length);
  const full = tf.tidy(() => model.decodeHidden(mem, decoderInputs(targets, P * beams, steps, model.config.padId, model.config.idInputBase), beams, steps));
  const fullData = full.dataSync();
  const d = model.config.dModel;
  // Step 0 runs one row per prompt; its cache is then spread to every beam, as beam search does.
  let step = model.decodeStep(mem, new Int32Array(P).fill(model.config.padId), 1, null);
  let cache = reorderCache(step.cache, Int32Array.from({ length: P * beams }, (_, i) => Math.floor(i / beams)));
  for (let t = 0; t < steps; t++) {
    const h = step.hidden.dataSync();
    for (let r = 0; r < P * beams; r++) {
      const row = t === 0 ? Math.floor(r / beams) : r;
      for (let k = 0; k < d; k++) assert.ok(Math.abs(h[row * d + k] - fullData[(r * steps + t) * d + k]) < 1e-4, `t ${t} row ${r}`);
    }
    step.hidden.dispose();
    if (t + 1 === steps) break;
    const next = Int32Array.from({ length: P * beams }, (_, r) => model.config.idInputBase + targets[r * steps + t]);
    step = model.decodeStep(mem, next, beams, cache);
    disposeCache(cache);
    cache = step.cache;
  }
  disposeCache(cache);
  tf.dispose(full);
  disposeMemory(mem);
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});
