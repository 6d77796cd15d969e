import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend, tf } from '../lib/backend';
import { Rng } from '../lib/util/random';
import type { SemanticIdSet } from '../lib/types';
import { codeOfItem, itemsForCode, makeSemanticIds } from '../lib/quantize/ids';
import { loadSemanticIds, saveSemanticIds } from '../lib/quantize/artifact';
import { buildIdVocabulary, itemTokens, separateVocabulary, sharedVocabulary } from '../lib/quantize/vocabulary';
import { PrefixTrie } from '../lib/quantize/trie';
import { idDiagnostics } from '../lib/quantize/diagnostics';

before(async () => {
  await initBackend();
});

/** Random raw codes with many collisions (small cardinalities). */
function randomCodes(n: number, cards: number[], seed: number): Int32Array {
  const rng = new Rng(seed);
  const codes = new Int32Array(n * cards.length);
  for (let i = 0; i < n; i++) for (let p = 0; p < cards.length; p++) codes[i * cards.length + p] = rng.int(cards[p]);
  return codes;
}

test('extra-level collisions: rank by popularity then index; cardinality = largest group', () => {
  // items 0,2,3 share (1,0); item 1 alone; popularity puts 3 first, then 0 and 2 tie -> index order.
  const codes = Int32Array.from([1, 0, 0, 1, 1, 0, 1, 0]);
  const ids = makeSemanticIds(codes, 4, [2, 2], { collisions: 'extra-level', popularity: [5, 1, 5, 9] });
  assert.equal(ids.length, 3);
  assert.deepEqual(ids.cardinalities, [2, 2, 3]);
  assert.deepEqual(Array.from(ids.codes), [1, 0, 1, 0, 1, 0, 1, 0, 2, 1, 0, 0]);
  const none = makeSemanticIds(codes, 4, [2, 2], { collisions: 'none' });
  assert.deepEqual(itemsForCode(none, [1, 0]), [0, 2, 3]);
  assert.deepEqual(itemsForCode(none, [0, 0]), []);
  assert.deepEqual(itemsForCode(none, [7, 0]), []);
  assert.throws(() => makeSemanticIds(codes, 4, [2, 2], { popularity: [1, 2] }), /option popularity/);
  assert.throws(() => makeSemanticIds(codes, 4, [2, 1]), /outside 0\.\.0/);
});

for (const mode of ['extra-level', 'none'] as const) {
  test(`every item round-trips item -> ID -> item and item -> tokens -> trie -> item (${mode})`, () => {
    const n = 300;
    const ids = makeSemanticIds(randomCodes(n, [6, 7], 3), n, [6, 7], { collisions: mode });
    const vocab = buildIdVocabulary([{ name: 'shared', ids }]);
    const trie = new PrefixTrie(vocab.spaces[0]);
    for (let i = 0; i < n; i++) {
      const code = codeOfItem(ids, i);
      const items = itemsForCode(ids, code);
      if (mode === 'extra-level') assert.deepEqual(items, [i]);
      else assert.ok(items.includes(i));
      const toks = itemTokens(vocab, 'shared', i);
      const viaTrie = trie.itemsAt(toks);
      assert.deepEqual(viaTrie.slice().sort((a, b) => a - b), items.slice().sort((a, b) => a - b));
    }
  });
}

function bruteMask(ids: SemanticIdSet, offsets: number[], prefix: number[], width: number): Uint8Array {
  const m = new Uint8Array(width);
  const t = prefix.length;
  for (let i = 0; i < ids.numItems; i++) {
    let ok = true;
    for (let p = 0; p < t && ok; p++) ok = offsets[p] + ids.codes[i * ids.length + p] === prefix[p];
    if (ok && t < ids.length) m[offsets[t] + ids.codes[i * ids.length + t]] = 1;
  }
  return m;
}

test('trie masks equal a brute-force scan of all valid IDs (separate spaces, valid and invalid prefixes)', () => {
  const rng = new Rng(8);
  const search = makeSemanticIds(randomCodes(150, [5, 4, 3], 1), 150, [5, 4, 3], { collisions: 'none' });
  const rec = makeSemanticIds(randomCodes(150, [4, 6], 2), 150, [4, 6], { collisions: 'extra-level' });
  // A wide space (nodes with > 32 children use the cached-row path).
  const wide = makeSemanticIds(randomCodes(400, [50, 40], 3), 400, [50, 40], { collisions: 'none' });
  const vocab = buildIdVocabulary([
    { name: 'search', ids: search },
    { name: 'rec', ids: rec },
    { name: 'wide', ids: wide },
  ]);
  assert.equal(vocab.size, 12 + 10 + rec.cardinalities[2] + 90);
  for (const space of vocab.spaces) {
    const trie = new PrefixTrie(space, vocab.size);
    assert.equal(trie.depth, space.ids.length);
    for (let t = 0; t < space.ids.length; t++) {
      const batch = 64;
      const prefixes = new Int32Array(batch * t);
      const rows: number[][] = [];
      for (let b = 0; b < batch; b++) {
        const row: number[] = [];
        const item = rng.int(space.ids.numItems);
        for (let p = 0; p < t; p++) {
          // Mostly prefixes of real items; some random tokens anywhere in the vocabulary.
          row.push(rng.next() < 0.8 ? space.positionOffsets[p] + space.ids.codes[item * space.ids.length + p] : rng.int(vocab.size));
        }
        rows.push(row);
        prefixes.set(row, b * t);
      }
      const mask = trie.allowedNext(prefixes, batch, t);
      assert.equal(mask.length, batch * vocab.size);
      for (let b = 0; b < batch; b++) {
        const expect = bruteMask(space.ids, space.positionOffsets, rows[b], vocab.size);
        assert.deepEqual(mask.subarray(b * vocab.size, (b + 1) * vocab.size), expect, `space ${space.name} t=${t} row ${b}`);
        // Carrying node ids gives the same rows.
        let node = 0;
        for (const tok of rows[b]) node = trie.child(node, tok);
        assert.equal(node, trie.nodeOf(rows[b]));
      }
    }
  }
});

test('trie mask tensor: 0 where allowed, -1e9 elsewhere, no leaks', () => {
  const ids = makeSemanticIds(randomCodes(50, [4, 4], 5), 50, [4, 4], { collisions: 'none' });
  const space = buildIdVocabulary([{ name: 'shared', ids }]).spaces[0];
  const trie = new PrefixTrie(space);
  const before = tf.memory().numTensors;
  const nodes = Int32Array.from([0, trie.nodeOf([space.positionOffsets[0] + ids.codes[0]]), -1]);
  const t = trie.maskTensor(nodes);
  const v = t.dataSync();
  const m = trie.allowedFromNodes(nodes);
  for (let i = 0; i < m.length; i++) assert.equal(v[i], m[i] ? 0 : -1e9);
  t.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('vocabulary offsets and item tokens', () => {
  const a = makeSemanticIds(Int32Array.from([1, 2, 0, 0]), 2, [3, 3], { collisions: 'none' });
  const b = makeSemanticIds(Int32Array.from([4, 1]), 2, [5], { collisions: 'none' });
  const v = buildIdVocabulary([
    { name: 'search', ids: a },
    { name: 'rec', ids: b },
  ]);
  assert.equal(v.size, 11);
  assert.deepEqual(v.spaces[0].positionOffsets, [0, 3]);
  assert.deepEqual(v.spaces[1].positionOffsets, [6]);
  assert.deepEqual(Array.from(itemTokens(v, 'search', 0)), [1, 5]);
  assert.deepEqual(Array.from(itemTokens(v, 'rec', 1)), [7]);
  assert.throws(() => itemTokens(v, 'other', 0), /no ID space "other"/);
  assert.throws(() => buildIdVocabulary([{ name: 'x', ids: a }, { name: 'x', ids: b }]), /unique/);
});

test('artifact save/load round trip and corruption errors', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sidset-'));
  try {
    const ids = makeSemanticIds(randomCodes(97, [9, 11], 4), 97, [9, 11], { collisions: 'extra-level' });
    const file = path.join(dir, 'ids.bin');
    saveSemanticIds(file, ids, { tokenizer: 'rq-kmeans', seed: 1 });
    const back = loadSemanticIds(file);
    assert.deepEqual(back.ids, ids);
    assert.deepEqual(back.meta, { tokenizer: 'rq-kmeans', seed: 1 });
    fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 60));
    assert.throws(() => loadSemanticIds(file), /artifact\.ts/);
    assert.throws(() => loadSemanticIds(path.join(dir, 'missing.bin')), /no file/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('diagnostics: usage, entropy, collisions on a known example', () => {
  // 4 items, codes (0,0) (0,1) (0,1) (1,1) over cardinalities [4, 2].
  const ids = makeSemanticIds(Int32Array.from([0, 0, 0, 1, 0, 1, 1, 1]), 4, [4, 2], { collisions: 'extra-level' });
  const d = idDiagnostics(ids, { codePositions: 2 });
  assert.equal(d.positions[0].used, 2);
  assert.equal(d.positions[0].usage, 0.5);
  assert.ok(Math.abs(d.positions[0].entropyBits - (-(0.75 * Math.log2(0.75) + 0.25 * Math.log2(0.25)))) < 1e-12);
  assert.equal(d.positions[1].entropyBits, d.positions[0].entropyBits);
  assert.equal(d.collisionRate, 0.5);
  assert.equal(d.largestCollisionGroup, 2);
  assert.equal(d.distinctCodes, 3);
  const full = idDiagnostics(ids);
  assert.equal(full.collisionRate, 0);
  assert.equal(full.relativeError, null);
  assert.deepEqual(JSON.parse(JSON.stringify(d)), d);
});

test('shared and separate vocabularies: 512 and 1024 tokens for 2 x 256 codes', () => {
  const a = makeSemanticIds(randomCodes(40, [256, 256], 1), 40, [256, 256], { collisions: 'none' });
  const b = makeSemanticIds(randomCodes(40, [256, 256], 2), 40, [256, 256], { collisions: 'none' });
  const shared = sharedVocabulary(a);
  assert.equal(shared.size, 512);
  assert.deepEqual(shared.spaces.map((s) => s.name), ['shared']);
  const sep = separateVocabulary(a, b);
  assert.equal(sep.size, 1024);
  assert.deepEqual(sep.spaces.map((s) => [s.name, s.offset]), [['search', 0], ['rec', 512]]);
  const tok = itemTokens(sep, 'rec', 3);
  assert.equal(tok[0], 512 + b.codes[6]);
  assert.equal(tok[1], 768 + b.codes[7]);
  const trie = new PrefixTrie(sep.spaces[1], sep.size);
  assert.ok(trie.itemsAt(tok).includes(3));
  // Tokens of the other space are never allowed in this one.
  const m = trie.allowedNext(new Int32Array(0), 1, 0);
  assert.equal(m.subarray(0, 512).reduce((x, y) => x + y, 0), 0);
});
