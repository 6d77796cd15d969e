/** Small synthetic fixtures for the generative-model tests. */
import type { PreparedData, SemanticIdSet, UserSequence } from '../lib/types';
import { buildIdVocabulary, type IdVocabulary } from '../lib/quantize/vocabulary';
import { Rng } from '../lib/util/random';

const WORDS = ['apple', 'river', 'stone', 'cloud', 'ember', 'frost', 'grove', 'harbor', 'island', 'jungle', 'kettle', 'lantern'];

/** `n` items with distinct IDs over cardinalities [4, 4] (12 of 16 possible IDs are valid). */
export function tinyIds(n = 12): SemanticIdSet {
  const codes = new Int32Array(n * 2);
  for (let i = 0; i < n; i++) {
    // A scrambled but injective assignment so valid IDs are not a simple prefix block.
    const code = (i * 7 + 3) % 16;
    codes[i * 2] = code >> 2;
    codes[i * 2 + 1] = code & 3;
  }
  return { numItems: n, length: 2, cardinalities: [4, 4], codes };
}

export function tinyVocab(n = 12): IdVocabulary {
  return buildIdVocabulary([{ name: 'shared', ids: tinyIds(n) }]);
}

/**
 * Items 0..n-1; item i's query is its word; users walk the catalogue cyclically (next = last + 1),
 * so the rec task is a deterministic function of the last item.
 */
export function tinyData(n = 12): PreparedData {
  const items = Array.from({ length: n }, (_, i) => ({
    index: i,
    id: 100 + i,
    title: WORDS[i % WORDS.length],
    year: 2000 + i,
    genres: ['drama'],
    tags: [],
    text: `${WORDS[i % WORDS.length]} drama`,
  }));
  const users: UserSequence[] = [];
  for (let u = 0; u < n; u++) {
    const seq = Int32Array.from({ length: 6 }, (_, k) => (u + k) % n);
    users.push({ user: u, items: seq, timestamps: Float64Array.from(seq, (_, k) => k) });
  }
  const train = users.map((s) => ({ ...s, items: s.items.slice(0, 4), timestamps: s.timestamps.slice(0, 4) }));
  const valid = users.map((s) => ({ user: s.user, history: s.items.slice(0, 4), target: s.items[4] }));
  const test = users.map((s) => ({ user: s.user, history: s.items.slice(0, 5), target: s.items[5] }));
  const q = items.map((it) => ({ item: it.index, text: it.title, style: 'title' }));
  const zeros = new Int32Array(n);
  return {
    dataset: {
      name: 'generate-tiny',
      items,
      users,
      stats: {} as PreparedData['dataset']['stats'],
    },
    rec: { train, valid, test },
    queries: { train: q, valid: q, test: q },
    buckets: { names: ['head', 'torso'], bucketOf: Uint8Array.from(items, (_, i) => (i < n / 2 ? 0 : 1)), counts: zeros, rule: 'first half head' },
  };
}

export const TINY_MODEL = { dModel: 32, numHeads: 2, dFF: 64, encoderLayers: 1, decoderLayers: 1, relBuckets: 8, relMaxDistance: 16 };

/** `n` items with seeded random codes over `cardinalities` (collisions likely when the grid is small). */
export function randomIds(n: number, cardinalities: number[], seed: number): SemanticIdSet {
  const rng = new Rng(seed);
  const codes = new Int32Array(n * cardinalities.length);
  for (let i = 0; i < n; i++) cardinalities.forEach((c, p) => (codes[i * cardinalities.length + p] = rng.int(c)));
  return { numItems: n, length: cardinalities.length, cardinalities, codes };
}
