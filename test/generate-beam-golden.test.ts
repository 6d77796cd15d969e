/**
 * Beam search returns what it returned before the model-free step and the node-walking driver
 * replaced the earlier loop: items, scores and beams below were captured from that implementation on
 * tiny seeded models (one- and two-space vocabularies, groups, penalties, both final rankings,
 * exclusions, collisions, maxItems, promptBatch).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../lib/backend';
import { beamSearch, type BeamSearchOptions, type DecodedIds } from '../lib/generate/beamSearch';
import { Seq2SeqModel } from '../lib/generate/seq2seqModel';
import { PrefixTrie } from '../lib/quantize/trie';
import { buildIdVocabulary, type IdVocabulary } from '../lib/quantize/vocabulary';
import type { SemanticIdSet } from '../lib/types';
import { Rng } from '../lib/util/random';
import { TINY_MODEL, tinyVocab } from './generate-fixtures';

process.env.SID_QUIET = '1';

before(async () => {
  await initBackend();
});

interface Case {
  name: string;
  vocab: IdVocabulary;
  space: number;
  modelSeed: number;
  promptSeed: number;
  numPrompts: number;
  opts: BeamSearchOptions;
  exclude?: number[][];
}

/** Random codes, duplicates allowed (unresolved collisions). */
function randomIds(n: number, cardinalities: number[], seed: number): SemanticIdSet {
  const rng = new Rng(seed);
  const codes = new Int32Array(n * cardinalities.length);
  for (let i = 0; i < n; i++) cardinalities.forEach((c, p) => (codes[i * cardinalities.length + p] = rng.int(c)));
  return { numItems: n, length: cardinalities.length, cardinalities, codes };
}

function cases(): Case[] {
  const tiny = tinyVocab();
  const two = buildIdVocabulary([
    { name: 'a', ids: randomIds(30, [3, 4, 2], 1) },
    { name: 'b', ids: randomIds(120, [5, 40, 3], 2) },
  ]);
  return [
    { name: 'plain', vocab: tiny, space: 0, modelSeed: 3, promptSeed: 21, numPrompts: 3, opts: { numBeams: 4 } },
    { name: 'groups', vocab: tiny, space: 0, modelSeed: 3, promptSeed: 21, numPrompts: 3, opts: { numBeams: 6, numGroups: 3 } },
    { name: 'penalized', vocab: tiny, space: 0, modelSeed: 3, promptSeed: 21, numPrompts: 3, opts: { numBeams: 6, numGroups: 3, diversityPenalty: 2, finalRanking: 'penalized' } },
    { name: 'exclude-maxItems-batch', vocab: tiny, space: 0, modelSeed: 4, promptSeed: 22, numPrompts: 3, opts: { numBeams: 4, numGroups: 2, maxItems: 3, promptBatch: 2 }, exclude: [[0, 5], [], [3]] },
    { name: 'second-space-groups', vocab: two, space: 1, modelSeed: 5, promptSeed: 23, numPrompts: 3, opts: { numBeams: 8, numGroups: 4, diversityPenalty: 0.7, promptBatch: 2 }, exclude: [[1, 2, 3, 40, 41], [7], []] },
    { name: 'collisions', vocab: two, space: 0, modelSeed: 6, promptSeed: 24, numPrompts: 2, opts: { numBeams: 5, maxItems: 6 }, exclude: [[4, 9], []] },
  ];
}

interface Plain {
  items: number[];
  itemScores: number[];
  beams: { tokens: number[]; score: number; logProb: number }[];
}

function run(c: Case): Plain[] {
  const space = c.vocab.spaces[c.space];
  const cfg = { ...TINY_MODEL, inputVocabSize: c.vocab.size + 20, outputVocabSize: c.vocab.size, idInputBase: 20, padId: 0, seed: c.modelSeed };
  const model = new Seq2SeqModel(cfg);
  const rng = new Rng(c.promptSeed);
  const prompts = Array.from({ length: c.numPrompts }, () => Int32Array.from({ length: 1 + rng.int(7) }, () => 1 + rng.int(19)));
  const decoded: DecodedIds[] = beamSearch({ model, prompts, space, trie: new PrefixTrie(space, c.vocab.size), options: c.opts, exclude: c.exclude });
  model.dispose();
  return decoded.map((d) => ({
    items: d.items,
    itemScores: d.itemScores,
    beams: d.beams.map((b) => ({ tokens: Array.from(b.tokens), score: b.score, logProb: b.logProb })),
  }));
}

const EXPECTED: Record<string, Plain[]> = {
  "plain": [
    {
      items: [6,2,10,0],
      itemScores: [-1.7944514155387878,-3.8230315446853638,-4.508609235286713,-4.922929048538208],
      beams: [
        { tokens: [3,5], score: -1.7944514155387878, logProb: -1.7944514155387878 },
        { tokens: [0,5], score: -3.8230315446853638, logProb: -3.8230315446853638 },
        { tokens: [2,5], score: -4.508609235286713, logProb: -4.508609235286713 },
        { tokens: [0,7], score: -4.922929048538208, logProb: -4.922929048538208 },
      ],
    },
    {
      items: [6,4,0,11],
      itemScores: [-3.322762966156006,-3.987490653991699,-4.125392913818359,-4.477562665939331],
      beams: [
        { tokens: [3,5], score: -3.322762966156006, logProb: -3.322762966156006 },
        { tokens: [3,7], score: -3.987490653991699, logProb: -3.987490653991699 },
        { tokens: [0,7], score: -4.125392913818359, logProb: -4.125392913818359 },
        { tokens: [0,4], score: -4.477562665939331, logProb: -4.477562665939331 },
      ],
    },
    {
      items: [6,4,2,0],
      itemScores: [-3.731780171394348,-3.8366676568984985,-4.009461402893066,-4.321266412734985],
      beams: [
        { tokens: [3,5], score: -3.731780171394348, logProb: -3.731780171394348 },
        { tokens: [3,7], score: -3.8366676568984985, logProb: -3.8366676568984985 },
        { tokens: [0,5], score: -4.009461402893066, logProb: -4.009461402893066 },
        { tokens: [0,7], score: -4.321266412734985, logProb: -4.321266412734985 },
      ],
    },
  ],
  "groups": [
    {
      items: [6,2,0],
      itemScores: [-1.7944514155387878,-3.8230315446853638,-4.922929048538208],
      beams: [
        { tokens: [3,5], score: -1.7944514155387878, logProb: -1.7944514155387878 },
        { tokens: [0,5], score: -3.8230315446853638, logProb: -3.8230315446853638 },
        { tokens: [0,7], score: -4.922929048538208, logProb: -4.922929048538208 },
      ],
    },
    {
      items: [6,4,11],
      itemScores: [-3.322762966156006,-3.987490653991699,-4.477562665939331],
      beams: [
        { tokens: [3,5], score: -3.322762966156006, logProb: -3.322762966156006 },
        { tokens: [3,7], score: -3.987490653991699, logProb: -3.987490653991699 },
        { tokens: [0,4], score: -4.477562665939331, logProb: -4.477562665939331 },
      ],
    },
    {
      items: [6,4,11],
      itemScores: [-3.731780171394348,-3.8366676568984985,-4.6107707023620605],
      beams: [
        { tokens: [3,5], score: -3.731780171394348, logProb: -3.731780171394348 },
        { tokens: [3,7], score: -3.8366676568984985, logProb: -3.8366676568984985 },
        { tokens: [0,4], score: -4.6107707023620605, logProb: -4.6107707023620605 },
      ],
    },
  ],
  "penalized": [
    {
      items: [6,2,3,1,0,7],
      itemScores: [-1.7944514155387878,-3.8230315446853638,-6.312402009963989,-6.626120328903198,-6.922929048538208,-7.319545388221741],
      beams: [
        { tokens: [3,5], score: -1.7944514155387878, logProb: -1.7944514155387878 },
        { tokens: [0,5], score: -3.8230315446853638, logProb: -3.8230315446853638 },
        { tokens: [2,4], score: -6.312402009963989, logProb: -6.312402009963989 },
        { tokens: [2,6], score: -6.626120328903198, logProb: -6.626120328903198 },
        { tokens: [0,7], score: -6.922929048538208, logProb: -4.922929048538208 },
        { tokens: [1,4], score: -7.319545388221741, logProb: -5.319545388221741 },
      ],
    },
    {
      items: [6,4,3,1,7,0],
      itemScores: [-3.322762966156006,-3.987490653991699,-5.780344605445862,-6.740485191345215,-7.6585633754730225,-8.12539291381836],
      beams: [
        { tokens: [3,5], score: -3.322762966156006, logProb: -3.322762966156006 },
        { tokens: [3,7], score: -3.987490653991699, logProb: -3.987490653991699 },
        { tokens: [2,4], score: -5.780344605445862, logProb: -5.780344605445862 },
        { tokens: [2,6], score: -6.740485191345215, logProb: -6.740485191345215 },
        { tokens: [1,4], score: -7.6585633754730225, logProb: -5.6585633754730225 },
        { tokens: [0,7], score: -8.12539291381836, logProb: -4.125392913818359 },
      ],
    },
    {
      items: [6,4,11,9,3,10],
      itemScores: [-3.731780171394348,-3.8366676568984985,-6.6107707023620605,-7.085893630981445,-7.580828666687012,-7.748895883560181],
      beams: [
        { tokens: [3,5], score: -3.731780171394348, logProb: -3.731780171394348 },
        { tokens: [3,7], score: -3.8366676568984985, logProb: -3.8366676568984985 },
        { tokens: [0,4], score: -6.6107707023620605, logProb: -4.6107707023620605 },
        { tokens: [0,6], score: -7.085893630981445, logProb: -5.085893630981445 },
        { tokens: [2,4], score: -7.580828666687012, logProb: -5.580828666687012 },
        { tokens: [2,5], score: -7.748895883560181, logProb: -5.748895883560181 },
      ],
    },
  ],
  "exclude-maxItems-batch": [
    {
      items: [3,9,8],
      itemScores: [-3.8682641983032227,-4.3784801959991455,-4.691225051879883],
      beams: [
        { tokens: [2,4], score: -3.8682641983032227, logProb: -3.8682641983032227 },
        { tokens: [0,6], score: -4.3784801959991455, logProb: -4.3784801959991455 },
        { tokens: [2,7], score: -4.691225051879883, logProb: -4.691225051879883 },
        { tokens: [0,5], score: -4.997071027755737, logProb: -4.997071027755737 },
      ],
    },
    {
      items: [9,2,11],
      itemScores: [-3.716267466545105,-3.842589259147644,-3.897395968437195],
      beams: [
        { tokens: [0,6], score: -3.716267466545105, logProb: -3.716267466545105 },
        { tokens: [0,5], score: -3.842589259147644, logProb: -3.842589259147644 },
        { tokens: [0,4], score: -3.897395968437195, logProb: -3.897395968437195 },
      ],
    },
    {
      items: [2,9,4],
      itemScores: [-4.28610897064209,-4.326837062835693,-4.785568475723267],
      beams: [
        { tokens: [0,5], score: -4.28610897064209, logProb: -4.28610897064209 },
        { tokens: [0,6], score: -4.326837062835693, logProb: -4.326837062835693 },
        { tokens: [3,7], score: -4.785568475723267, logProb: -4.785568475723267 },
      ],
    },
  ],
  "second-space-groups": [
    {
      items: [76,15,89,37,117,31],
      itemScores: [-10.745972633361816,-10.788844585418701,-11.023552179336548,-12.509313106536865,-13.267728328704834,-13.439039468765259],
      beams: [
        { tokens: [12,46,55], score: -10.745972633361816, logProb: -10.745972633361816 },
        { tokens: [9,51,55], score: -10.788844585418701, logProb: -10.788844585418701 },
        { tokens: [9,36,54], score: -11.023552179336548, logProb: -11.023552179336548 },
        { tokens: [11,14,54], score: -12.509313106536865, logProb: -12.509313106536865 },
        { tokens: [13,31,56], score: -13.267728328704834, logProb: -13.267728328704834 },
        { tokens: [13,34,56], score: -13.439039468765259, logProb: -13.439039468765259 },
      ],
    },
    {
      items: [15,2,76,85,41,37,31],
      itemScores: [-10.641762733459473,-10.794634819030762,-10.918800592422485,-11.70146632194519,-12.033211946487427,-12.179831743240356,-13.508137941360474],
      beams: [
        { tokens: [9,51,55], score: -10.641762733459473, logProb: -10.641762733459473 },
        { tokens: [9,43,54], score: -10.794634819030762, logProb: -10.794634819030762 },
        { tokens: [12,46,55], score: -10.918800592422485, logProb: -10.918800592422485 },
        { tokens: [13,50,54], score: -11.70146632194519, logProb: -11.70146632194519 },
        { tokens: [11,14,56], score: -12.033211946487427, logProb: -12.033211946487427 },
        { tokens: [11,14,54], score: -12.179831743240356, logProb: -12.179831743240356 },
        { tokens: [13,34,56], score: -13.508137941360474, logProb: -13.508137941360474 },
      ],
    },
    {
      items: [0,102,111,13,15,90,59,51],
      itemScores: [-9.603655099868774,-10.029271125793457,-10.156983852386475,-10.778265237808228,-10.995612621307373,-11.104254245758057,-11.538185119628906,-11.61774492263794],
      beams: [
        { tokens: [9,16,55], score: -9.603655099868774, logProb: -9.603655099868774 },
        { tokens: [9,34,54], score: -10.029271125793457, logProb: -10.029271125793457 },
        { tokens: [11,40,54], score: -10.156983852386475, logProb: -10.156983852386475 },
        { tokens: [9,44,55], score: -10.778265237808228, logProb: -10.778265237808228 },
        { tokens: [9,51,55], score: -10.995612621307373, logProb: -10.995612621307373 },
        { tokens: [12,48,56], score: -11.104254245758057, logProb: -11.104254245758057 },
        { tokens: [12,48,55], score: -11.538185119628906, logProb: -11.538185119628906 },
        { tokens: [11,17,56], score: -11.61774492263794, logProb: -11.61774492263794 },
      ],
    },
  ],
  "collisions": [
    {
      items: [22,27,3,11,18,5],
      itemScores: [-12.59988784790039,-12.59988784790039,-13.370854377746582,-13.370854377746582,-13.370854377746582,-13.558561325073242],
      beams: [
        { tokens: [2,5,7], score: -12.59988784790039, logProb: -12.59988784790039 },
        { tokens: [2,5,8], score: -13.370854377746582, logProb: -13.370854377746582 },
        { tokens: [2,6,8], score: -13.558561325073242, logProb: -13.558561325073242 },
        { tokens: [2,4,7], score: -14.140409469604492, logProb: -14.140409469604492 },
        { tokens: [0,4,7], score: -14.36222243309021, logProb: -14.36222243309021 },
      ],
    },
    {
      items: [0,6,9,22,27,3],
      itemScores: [-12.008460521697998,-12.008460521697998,-12.008460521697998,-12.456929445266724,-12.456929445266724,-13.56178617477417],
      beams: [
        { tokens: [2,3,7], score: -12.008460521697998, logProb: -12.008460521697998 },
        { tokens: [2,5,7], score: -12.456929445266724, logProb: -12.456929445266724 },
        { tokens: [2,5,8], score: -13.56178617477417, logProb: -13.56178617477417 },
        { tokens: [0,3,7], score: -14.210591793060303, logProb: -14.210591793060303 },
        { tokens: [2,6,8], score: -14.302777528762817, logProb: -14.302777528762817 },
      ],
    },
  ],
};

test('beam search decodes the same items, order, scores and beams as the captured implementation', () => {
  const actual = Object.fromEntries(cases().map((c) => [c.name, run(c)]));
  assert.deepEqual(Object.keys(actual), Object.keys(EXPECTED));
  for (const [name, want] of Object.entries(EXPECTED)) {
    const got = actual[name];
    assert.equal(got.length, want.length, name);
    want.forEach((w, p) => {
      const g = got[p];
      assert.deepEqual(g.items, w.items, `${name} prompt ${p} items`);
      assert.deepEqual(g.beams.map((b) => b.tokens), w.beams.map((b) => b.tokens), `${name} prompt ${p} beams`);
      // float32 scores: 1e-6 relative (kernels that fuse operations round differently in the last bit).
      const close = (a: number[], b: number[], what: string) => a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) < 1e-6 * Math.max(1, Math.abs(b[i])), `${name} prompt ${p} ${what}[${i}]: ${x} vs ${b[i]}`));
      close(g.itemScores, w.itemScores, 'itemScores');
      close(g.beams.map((b) => b.score), w.beams.map((b) => b.score), 'beam score');
      close(g.beams.map((b) => b.logProb), w.beams.map((b) => b.logProb), 'beam logProb');
    });
  }
});
