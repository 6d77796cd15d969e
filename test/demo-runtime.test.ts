/**
 * The demo's decoder (lib/demo/runtime.ts) in Node, on a small random model: rebuilt from the
 * exported payload, it ranks exactly what jointModel's decoding ranks (the path sid eval takes), for
 * search and rec, plain and diverse beams; the payload's arrays survive base64; a broken payload is
 * rejected with the field named. The browser side of the same check is test/demo-browser.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as vm from 'node:vm';
import { initBackend } from '../lib/backend/index';
import { buildDemoPayload, demoDecodings } from '../lib/demo/export';
import { base64ToFloat32, base64ToInt32, bytesToBase64, checkPayload, demoDataScript, type DemoPayload } from '../lib/demo/payload';
import { DemoModel } from '../lib/demo/runtime';
import { decodePrompts, makeTries, recommendItems, searchItems, type GenerativeModel } from '../lib/generate/jointModel';
import { PAD_ID, PromptEncoder } from '../lib/generate/prompts';
import { Seq2SeqModel } from '../lib/generate/seq2seqModel';
import { WordTokenizer } from '../lib/generate/textTokenizer';
import { TINY_MODEL, tinyData, tinyVocab } from './generate-fixtures';

const N = 12;

async function fixture(): Promise<{ model: GenerativeModel; payload: DemoPayload }> {
  await initBackend();
  const data = tinyData(N);
  const vocab = tinyVocab(N);
  const prompts = new PromptEncoder(WordTokenizer.build(data.dataset.items.map((i) => i.text), { minCount: 1, hashBuckets: 8 }), vocab.size, { historyLength: 3 });
  const net = new Seq2SeqModel({ ...TINY_MODEL, inputVocabSize: prompts.inputVocabSize, outputVocabSize: vocab.size, idInputBase: prompts.idInputBase, padId: PAD_ID, seed: 3 });
  const model: GenerativeModel = { net, prompts, spaces: { search: 'shared', rec: 'shared' }, vocab };
  const payload = await buildDemoPayload(model, data, {
    profile: 'fixture', experiment: 'fixture/rq-kmeans/shared', modelKey: 'k',
    decode: { numBeams: 6, numGroups: 1 }, candidates: [{ numBeams: 6, numGroups: 1 }, { numBeams: 6, numGroups: 3 }],
    sampleQueries: 5, sampleUsers: 4, seed: 1,
  });
  return { model, payload };
}

test('base64 round trip of float32 and int32 arrays, odd lengths included', () => {
  for (const n of [0, 1, 2, 3, 5, 1000]) {
    const f = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 1e3 - i);
    assert.deepEqual(base64ToFloat32(bytesToBase64(f), 'f'), f);
    const k = Int32Array.from({ length: n }, (_, i) => (i * 2654435761) | 0);
    assert.deepEqual(base64ToInt32(bytesToBase64(k), 'k'), k);
    assert.equal(bytesToBase64(f), Buffer.from(f.buffer).toString('base64'));
  }
  assert.throws(() => base64ToInt32('abc', 'k'), /k: base64 length 3 is not a multiple of 4/);
  assert.throws(() => base64ToFloat32('ab$=', 'w'), /w: invalid base64 character/);
});

test('plain and diverse decodings come from the candidates, else from the chosen setting', () => {
  const d = demoDecodings({ numBeams: 30, numGroups: 15 }, [{ numBeams: 30, numGroups: 1 }, { numBeams: 30, numGroups: 15 }]);
  assert.deepEqual(d.plain, { numBeams: 30, numGroups: 1, diversityPenalty: 0 });
  assert.deepEqual(d.diverse, { numBeams: 30, numGroups: 15, diversityPenalty: 0.5 });
  assert.equal(d.chosen, 'diverse');
  const e = demoDecodings({ numBeams: 8, numGroups: 1 });
  assert.deepEqual(e.diverse, { numBeams: 8, numGroups: 4, diversityPenalty: 0.5 });
  assert.equal(e.chosen, 'plain');
});

test('the demo decoder ranks what jointModel decoding ranks (search and rec, plain and diverse)', async () => {
  const { model, payload } = await fixture();
  // Through the data script, as the page gets it.
  const sandbox: { window: Record<string, unknown> } = { window: {} };
  vm.runInNewContext(demoDataScript(payload), sandbox);
  const demo = new DemoModel(sandbox.window.SID_DEMO as DemoPayload);
  const tries = makeTries(model);
  try {
    for (const mode of ['plain', 'diverse'] as const) {
      const opts = payload.decode[mode];
      for (const q of payload.queries) {
        const want = (await searchItems(model, [q], tries, opts))[0];
        const got = demo.search(q, mode);
        assert.deepEqual(got.hits.map((h) => h.item), want.items, `search "${q}" (${mode})`);
        assert.deepEqual(got.hits.map((h) => h.score), want.itemScores);
        assert.ok(got.hits.length > 0);
      }
      for (const u of payload.users) {
        const want = (await recommendItems(model, [u.history], tries, opts))[0];
        const got = demo.recommend(u.history, mode);
        assert.deepEqual(got.hits.map((h) => h.item), want.items, `user ${u.user} (${mode})`);
        for (const h of got.hits) assert.ok(!u.history.includes(h.item), `history item ${h.item} recommended`);
      }
    }
    // The exported reference is the same decoding, batched as sid eval batches it.
    for (const r of payload.reference.search) {
      const got = demo.search(r.query!, r.mode);
      assert.deepEqual(got.hits.map((h) => h.item), r.items);
      got.hits.forEach((h, i) => assert.ok(Math.abs(h.score - r.scores[i]) < 1e-4));
    }
    assert.equal(payload.reference.search.length, 2 * payload.queries.length);
    assert.equal(payload.reference.rec.length, 2 * payload.users.length);
    // Codes shown on the page are the item's ID.
    const first = demo.search(payload.queries[0], 'plain').hits[0];
    assert.deepEqual(first.codes, Array.from(model.vocab.spaces[0].ids.codes.subarray(first.item * 2, first.item * 2 + 2)));
    // Same model, same weights: a prompt decoded both ways gives identical beams.
    const prompt = model.prompts.searchPrompt(payload.queries[1]);
    assert.deepEqual(demo.search(payload.queries[1], 'plain').beams.map((b) => b.logProb), (await decodePrompts({ model, task: 'search', tries, options: payload.decode.plain }, [prompt]))[0].beams.map((b) => b.logProb));
  } finally {
    demo.dispose();
    model.net.dispose();
  }
});

test('a broken payload is rejected with the field named', async () => {
  const { model, payload } = await fixture();
  model.net.dispose();
  assert.throws(() => checkPayload(undefined, 'demo-data.js'), /demo-data\.js: expected an object/);
  assert.throws(() => checkPayload({ ...payload, format: 'other' }, 'demo-data.js'), /format "other", expected "sid-demo-1"/);
  const { weights: _w, ...noWeights } = payload;
  assert.throws(() => new DemoModel(noWeights as DemoPayload), /field "weights" is missing/);
  const short = { ...payload, weights: payload.weights.map((w, i) => (i === 0 ? { ...w, data: bytesToBase64(new Float32Array(3)) } : w)) };
  assert.throws(() => new DemoModel(short), /weight .* has 3 values, expected/);
  const demo = new DemoModel(payload);
  try {
    assert.throws(() => demo.recommend([N + 5], 'plain'), /history item 17 is outside 0\.\.11/);
    assert.throws(() => demo.search('x', 'fancy' as 'plain'), /unknown decoding "fancy"/);
  } finally {
    demo.dispose();
  }
});
