/**
 * The bi-encoder's adapter tower on USE-lite features (lib/embed/adapterTower.ts, `encoder: 'use-lite'`)
 * and the tower chosen on the validation split (lib/pipeline/towerChoice.ts): both towers trained, the
 * higher validation score kept (search: search Recall@30; multitask: the mean of search and rec
 * Recall@30), a tie keeping the hashed tower, the test split never read. The rule is checked with a
 * stubbed scorer (scores forced per tower), the default scorer with planted models whose validation
 * and test scores disagree on a data set whose test split throws when read, and real trainings with
 * the test split replaced. USE-lite tests skip when its npm package is not installed.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../lib/backend/index';
import { plantedData } from './helpers/plantedData';
import { pretrainedFeatures, type FrozenFeatures } from '../lib/embed/adapterTower';
import { splitTowerOptions, trainAdapterBiEncoder, trainBiEncoder, type BiEncoderOptions, type BiEncoderTower, type ContrastiveObjective, type TowerChoiceOptions } from '../lib/embed/biencoder';
import { buildEmbeddings } from '../lib/embed/index';
import type { EmbeddingModel } from '../lib/embed/embeddingModel';
import { installedUseLiteDir, loadUseLiteEncoder, locateUseLiteFiles, useLiteModelHash, USE_LITE_DIM, USE_LITE_PACKAGE } from '../lib/embed/useLite';
import { evaluateRetrieval } from '../lib/eval/retrieval';
import { chooseTower, towerChoiceTrainer, towerScore, type TowerChoice, type ValidScores } from '../lib/pipeline/towerChoice';
import { adapterUseLiteHash } from '../lib/pipeline/stages';
import { towerChoiceSentences, towerChoiceTable } from '../lib/views/embeddings';
import type { StoredEmbedding } from '../lib/pipeline/stages';
import type { PreparedData } from '../lib/types';
import { Rng, hashString32 } from '../lib/util/random';

process.env.SID_QUIET = '1';
const USE_LITE_SKIP = installedUseLiteDir() ? false : `needs the npm package ${USE_LITE_PACKAGE} (npm install)`;
const CHOICE: TowerChoiceOptions = { towerChoice: ['hashed', 'pretrained-adapter'], pretrained: { encoder: 'use-lite' }, dim: 16, seed: 5 };

before(async () => {
  await initBackend({ threads: 1 });
});

// ------------------------------------------------------------------ USE-lite features for the adapter

/** A planted data set cut small (every text is encoded by USE-lite). */
function smallData(): PreparedData {
  const d = plantedData({ numItems: 40, users: 60, tasteGroups: 2, queriesPerItem: 2, seed: 11 });
  return { ...d, queries: { train: d.queries.train.slice(0, 40), valid: d.queries.valid.slice(0, 10), test: d.queries.test.slice(0, 10) } };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test("USE-lite adapter features are USE-lite's own vectors of the item and query texts", { skip: USE_LITE_SKIP }, async () => {
  const d = smallData();
  const features = await pretrainedFeatures(d, { encoder: 'use-lite', extraQueries: ['a film about space'] });
  assert.equal(features.dim, USE_LITE_DIM);
  const info = features.info as { encoder: string; modelHash: string; queriesEncoded: number };
  assert.equal(info.encoder, 'use-lite');
  assert.equal(info.modelHash, useLiteModelHash(locateUseLiteFiles()));
  const enc = await loadUseLiteEncoder();
  try {
    const items = await enc.encode(d.dataset.items.map((it) => it.text));
    const worst = maxAbsDiff(features.items, items);
    assert.ok(worst < 1e-6, `item features differ from USE-lite's vectors by up to ${worst}`);
    const q = [d.queries.train[3].text, d.queries.valid[1].text, d.queries.test[2].text, 'a film about space'];
    const worstQ = maxAbsDiff(features.queries(q), await enc.encode(q));
    assert.ok(worstQ < 1e-6, `query features differ from USE-lite's vectors by up to ${worstQ}`);
  } finally {
    await enc.dispose();
  }
  assert.throws(() => features.queries(['never asked for']), /query "never asked for" was not pre-encoded/);
  // The same data, options and texts: the features computed once are served again; other options encode anew.
  assert.equal(await pretrainedFeatures(d, { encoder: 'use-lite', extraQueries: ['a film about space'] }), features);
  assert.notEqual(await pretrainedFeatures(d, { encoder: 'use-lite' }), features);
});

test("the 'pretrained-adapter' tower trains on USE-lite features with pretrained: { encoder: 'use-lite' }", { skip: USE_LITE_SKIP }, async () => {
  const d = smallData();
  const model = await trainBiEncoder(d, 'search', { tower: 'pretrained-adapter', pretrained: { encoder: 'use-lite' }, dim: 16, batchSize: 8, epochs: 1, stepsPerEpoch: 2, validExamples: 10, seed: 2 });
  const info = model.info as { method: string; featureDim: number; features: { encoder: string; modelHash: string } };
  assert.equal(info.method, 'pretrained-adapter-biencoder');
  assert.equal(info.featureDim, USE_LITE_DIM);
  assert.equal(info.features.encoder, 'use-lite');
  assert.equal(info.features.modelHash, useLiteModelHash(locateUseLiteFiles()));
  const v = model.encodeQueries!([d.queries.test[0].text]);
  assert.equal(v.length, 16);
  assert.ok(Math.abs(v.reduce((s, x) => s + x * x, 0) - 1) < 1e-4);
  await assert.rejects(pretrainedFeatures(d, { encoder: 'bert' } as never), /pretrained\.encoder must be 'use-lite' or 'transformers'/);
  await assert.rejects(pretrainedFeatures(d, {} as never), /needs option pretrained\.modelDir .* or pretrained\.encoder 'use-lite'/);
});

test('the embedding stage key covers the USE-lite weights where a bi-encoder adapter reads them', { skip: USE_LITE_SKIP }, () => {
  const hash = useLiteModelHash(locateUseLiteFiles());
  const choice = { biencoder: { towerChoice: ['hashed', 'pretrained-adapter'] as const, pretrained: { encoder: 'use-lite' as const } } };
  for (const s of ['search', 'multitask', 'fused-concat', 'fused-svd'] as const) assert.equal(adapterUseLiteHash(choice, s), hash, s);
  for (const s of ['rec', 'content', 'content-lsa'] as const) assert.equal(adapterUseLiteHash(choice, s), null, s);
  assert.equal(adapterUseLiteHash({ biencoder: { tower: 'pretrained-adapter', pretrained: { encoder: 'use-lite' } } }, 'search'), hash);
  assert.equal(adapterUseLiteHash({ biencoder: { tower: 'pretrained-adapter', pretrained: { encoder: 'use-lite', modelDir: installedUseLiteDir()! } } }, 'search'), hash);
  // The hashed tower, and a transformers.js folder (keyed by its own content), read no USE-lite weights.
  assert.equal(adapterUseLiteHash({ biencoder: { dim: 8 } }, 'search'), null);
  assert.equal(adapterUseLiteHash({ biencoder: { tower: 'pretrained-adapter', pretrained: { modelDir: '/models/x' } } }, 'search'), null);
  // Multi-task settings are the search-tuned ones with its own on top.
  const mtOnly = { multitask: { towerChoice: ['hashed', 'pretrained-adapter'] as const, pretrained: { encoder: 'use-lite' as const } } };
  assert.equal(adapterUseLiteHash(mtOnly, 'multitask'), hash);
  assert.equal(adapterUseLiteHash(mtOnly, 'search'), null);
  assert.throws(() => adapterUseLiteHash({ biencoder: { tower: 'pretrained-adapter', pretrained: { encoder: 'use-lite', modelDir: '/no/such/use-lite' } } }, 'search'), /no model\.json/);
});

// ------------------------------------------------------------------ the rule, with a stubbed scorer

const data = plantedData({ numItems: 120, users: 160, seed: 9 });
const N = data.dataset.items.length;

/** A model standing for one tower's training (its vectors are never ranked by the stubbed scorer). */
function stubModel(tower: BiEncoderTower, objective: ContrastiveObjective): EmbeddingModel {
  return {
    strategy: objective, vectors: new Float32Array(N * 4).fill(tower === 'hashed' ? 1 : 2), dim: 4, numItems: N,
    encodeQueries: (texts) => new Float32Array(texts.length * 4),
    info: { method: `${tower}-stub`, bestEpoch: tower === 'hashed' ? 3 : 4, seconds: 2, stepSeconds: tower === 'hashed' ? 1 : 1.5 },
  };
}

/** chooseTower with stubbed trainings and scores forced per tower; also returns what each training was given. */
async function forced(objective: ContrastiveObjective, scores: Record<BiEncoderTower, ValidScores>, o: TowerChoiceOptions = CHOICE) {
  const given: { tower: BiEncoderTower; data: PreparedData; o: BiEncoderOptions }[] = [];
  const models = new Map<EmbeddingModel, BiEncoderTower>();
  const model = await chooseTower(data, objective, o, {
    train: async (tower, d, obj, opts) => {
      assert.equal(obj, objective);
      given.push({ tower, data: d, o: opts });
      const m = stubModel(tower, obj);
      models.set(m, tower);
      return m;
    },
    score: async (m) => scores[models.get(m)!],
  });
  return { model, tower: models.get(model)!, choice: model.info.towerChoice as TowerChoice, given };
}

test('search keeps the tower with the higher validation search Recall@30, multitask the higher mean of search and rec', async () => {
  // The adapter leads on search, the hashed tower on the mean of the two tasks.
  const scores = { hashed: { search: 0.4, rec: 0.9 }, 'pretrained-adapter': { search: 0.5, rec: 0.1 } };
  const s = await forced('search', scores);
  assert.equal(s.tower, 'pretrained-adapter');
  assert.equal(s.choice.chosen, 'pretrained-adapter');
  const m = await forced('multitask', scores);
  assert.equal(m.tower, 'hashed');
  assert.equal(m.choice.chosen, 'hashed');
  // Swapped scores swap the outcomes: the choice follows the scores, not the towers' order.
  const swapped = { hashed: scores['pretrained-adapter'], 'pretrained-adapter': scores.hashed };
  assert.equal((await forced('search', swapped)).tower, 'hashed');
  assert.equal((await forced('multitask', swapped)).tower, 'pretrained-adapter');
  // The info records both candidates' validation scores, the rule's scores and the choice.
  assert.deepEqual(
    m.choice.candidates.map((c) => ({ tower: c.tower, valid: c.valid, score: Number(c.score.toFixed(6)), chosen: c.chosen, bestEpoch: c.bestEpoch })),
    [
      { tower: 'hashed', valid: { search: 0.4, rec: 0.9 }, score: 0.65, chosen: true, bestEpoch: 3 },
      { tower: 'pretrained-adapter', valid: { search: 0.5, rec: 0.1 }, score: 0.3, chosen: false, bestEpoch: 4 },
    ],
  );
  assert.deepEqual([m.choice.split, m.choice.metric, m.choice.objective], ['valid', 'recall@30', 'multitask']);
  assert.match(m.choice.rule, /mean of validation search and rec recall@30; a tie keeps the hashed tower/);
  assert.match(s.choice.rule, /^validation search recall@30/);
  assert.deepEqual(s.choice.candidates.map((c) => c.score), [0.4, 0.5]);
  // The kept model is the chosen training's; its stepSeconds cover both trainings.
  assert.equal(m.model.info.method, 'hashed-stub');
  assert.equal(m.model.info.stepSeconds, 2.5);
  assert.equal(towerScore('search', { search: 0.25, rec: null }), 0.25);
  assert.throws(() => towerScore('multitask', { search: 0.25, rec: null }), /needs finite validation scores/);
  assert.throws(() => towerScore('rec', { search: 0.25, rec: 0.5 }), /search and multitask objectives only/);
});

test('both towers train with the same seed, the same data and their shared settings; each gets only its own options', async () => {
  const o: TowerChoiceOptions = { ...CHOICE, hashing: { buckets: 512 }, adapter: { layers: 1 }, batchSize: 32, epochs: 2, learningRate: 3e-3 };
  const { given } = await forced('search', { hashed: { search: 0.1, rec: 0.1 }, 'pretrained-adapter': { search: 0.2, rec: 0.1 } }, o);
  assert.deepEqual(given.map((g) => g.tower), ['hashed', 'pretrained-adapter']);
  assert.ok(given.every((g) => g.data === data));
  const [h, a] = given.map((g) => g.o as Record<string, unknown>);
  for (const k of ['seed', 'dim', 'batchSize', 'epochs', 'learningRate']) assert.equal(h[k], a[k], k);
  assert.equal(h.seed, 5);
  assert.equal(h.tower, 'hashed');
  assert.deepEqual(h.hashing, { buckets: 512 });
  assert.equal(h.pretrained, undefined);
  assert.equal(h.towerChoice, undefined);
  assert.equal(a.tower, 'pretrained-adapter');
  assert.deepEqual(a.pretrained, { encoder: 'use-lite' });
  assert.deepEqual(a.adapter, { layers: 1 });
  assert.equal(a.hashing, undefined);
  assert.equal(a.towerChoice, undefined);
});

test('a tie keeps the hashed tower, whatever the order the towers are named in', async () => {
  for (const objective of ['search', 'multitask'] as const) {
    for (const names of [['hashed', 'pretrained-adapter'], ['pretrained-adapter', 'hashed']] as const) {
      const tie = { hashed: { search: 0.3, rec: 0.2 }, 'pretrained-adapter': { search: 0.3, rec: 0.2 } };
      const r = await forced(objective, tie, { ...CHOICE, towerChoice: names });
      assert.equal(r.tower, 'hashed', `${objective}, ${names.join(', ')}`);
      assert.deepEqual(r.choice.candidates.map((c) => c.chosen), [true, false]);
      // A hair above is not a tie.
      const above = { ...tie, 'pretrained-adapter': { search: 0.3 + 1e-9, rec: 0.2 } };
      assert.equal((await forced(objective, above, { ...CHOICE, towerChoice: names })).tower, 'pretrained-adapter');
    }
  }
  // Multitask: equal means from different task scores are a tie too.
  assert.equal((await forced('multitask', { hashed: { search: 0.5, rec: 0.1 }, 'pretrained-adapter': { search: 0.1, rec: 0.5 } })).tower, 'hashed');
});

test('tower choice options are checked; trainBiEncoder alone refuses them and points to the choice', async () => {
  assert.throws(() => splitTowerOptions({ ...CHOICE, towerChoice: ['hashed'] }), /must name both towers/);
  assert.throws(() => splitTowerOptions({ ...CHOICE, towerChoice: ['hashed', 'hashed'] }), /must name both towers/);
  assert.throws(() => splitTowerOptions({ ...CHOICE, tower: 'hashed' } as never), /options tower and towerChoice are both set/);
  assert.throws(() => splitTowerOptions({ towerChoice: ['hashed', 'pretrained-adapter'] } as never), /needs the adapter's option pretrained/);
  await assert.rejects(trainBiEncoder(data, 'search', CHOICE), /option towerChoice .* chooseTower in lib\/pipeline\/towerChoice\.ts/);
  await assert.rejects(chooseTower(data, 'rec', CHOICE, { train: async (t, _d, obj) => stubModel(t, obj), score: async () => ({ search: 1, rec: 1 }) }), /search and multitask objectives only/);
});

test('buildEmbeddings trains search and multitask through its biencoderTrainer, multitask with its own settings on top', async () => {
  const calls: { objective: ContrastiveObjective; o: BiEncoderOptions }[] = [];
  const biencoderTrainer = async (_d: PreparedData, objective: ContrastiveObjective, o: BiEncoderOptions) => {
    calls.push({ objective, o });
    return stubModel('hashed', objective);
  };
  await buildEmbeddings(data, 'search', { seed: 4, biencoder: CHOICE, biencoderTrainer });
  await buildEmbeddings(data, 'multitask', { seed: 4, biencoder: CHOICE, multitask: { recWeight: 0.5 }, biencoderTrainer });
  assert.deepEqual(calls.map((c) => c.objective), ['search', 'multitask']);
  assert.deepEqual(calls[0].o, { seed: 5, ...CHOICE });
  assert.deepEqual(calls[1].o, { seed: 5, ...CHOICE, recWeight: 0.5 });
  // Without towerChoice the pipeline's trainer is plain trainBiEncoder.
  const small: BiEncoderOptions = { dim: 8, hashing: { buckets: 256 }, batchSize: 16, epochs: 1, stepsPerEpoch: 2, validExamples: 20, seed: 3 };
  const plain = await trainBiEncoder(data, 'search', small);
  const viaTrainer = await towerChoiceTrainer()(data, 'search', small);
  assert.deepEqual(Array.from(viaTrainer.vectors), Array.from(plain.vectors));
  assert.equal(viaTrainer.info.towerChoice, undefined);
});

// ------------------------------------------------------------------ the validation split only

/** A deterministic unit vector for a text (stands for a query the model cannot place). */
function noiseVector(text: string, dim: number): Float32Array {
  const r = new Rng(hashString32(text));
  const v = Float32Array.from({ length: dim }, () => r.normal());
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/**
 * A model with one-hot item vectors that places the given queries exactly on their items and every
 * other query at random: perfect search on those queries, chance elsewhere.
 */
function knowsQueries(queries: { item: number; text: string }[], objective: ContrastiveObjective): EmbeddingModel {
  const known = new Map(queries.map((q) => [q.text, q.item]));
  const vectors = new Float32Array(N * N);
  for (let i = 0; i < N; i++) vectors[i * N + i] = 1;
  return {
    strategy: objective, vectors, dim: N, numItems: N, info: { method: 'planted' },
    encodeQueries: (texts) => {
      const out = new Float32Array(texts.length * N);
      texts.forEach((t, i) => {
        const item = known.get(t);
        if (item !== undefined) out[i * N + item] = 1;
        else out.set(noiseVector(t, N), i * N);
      });
      return out;
    },
  };
}

/** The data set with test queries of their own texts, and test-split getters that throw. */
function testSplitThrows(d: PreparedData): PreparedData {
  const fail = (what: string) => () => {
    throw new Error(`the test split was read (${what})`);
  };
  const queries = { train: d.queries.train, valid: d.queries.valid } as PreparedData['queries'];
  Object.defineProperty(queries, 'test', { get: fail('queries.test'), enumerable: true });
  const rec = { train: d.rec.train, valid: d.rec.valid } as PreparedData['rec'];
  Object.defineProperty(rec, 'test', { get: fail('rec.test'), enumerable: true });
  return { ...d, queries, rec };
}

test('the default scorer ranks the validation split only: a test split that throws when read is never touched', async () => {
  // Test queries get texts of their own, so a model can know them apart from the validation ones.
  const d: PreparedData = { ...data, queries: { ...data.queries, test: data.queries.test.map((q, i) => ({ ...q, text: `test query ${i}` })) } };
  // The hashed stand-in knows the validation queries, the adapter's the test queries: a rule that read
  // test would keep the adapter.
  const train = async (tower: BiEncoderTower, _d: PreparedData, objective: ContrastiveObjective) =>
    knowsQueries(tower === 'hashed' ? d.queries.valid : d.queries.test, objective);
  const onTest = async (tower: BiEncoderTower) => (await evaluateRetrieval(await train(tower, d, 'search'), d, { split: 'test', ks: [30], bootstrapIterations: 10 })).search!.overall['recall@30'].mean;
  assert.ok((await onTest('pretrained-adapter')) > (await onTest('hashed')) + 0.5, 'on test the adapter stand-in leads');
  const guarded = testSplitThrows(d);
  assert.throws(() => guarded.queries.test, /the test split was read/);
  for (const objective of ['search', 'multitask'] as const) {
    const model = await chooseTower(guarded, objective, CHOICE, { train, retrieval: { bootstrapIterations: 10 } });
    const choice = model.info.towerChoice as TowerChoice;
    assert.equal(choice.chosen, 'hashed', objective);
    // The recorded scores are dense retrieval's Recall@30 on the validation split.
    for (const c of choice.candidates) {
      const r = await evaluateRetrieval(await train(c.tower, d, objective), d, { split: 'valid', ks: [30], bootstrapIterations: 10 });
      assert.equal(c.valid.search, r.search!.overall['recall@30'].mean);
      assert.equal(c.valid.rec, r.rec.overall['recall@30'].mean);
    }
    assert.equal(choice.candidates[0].valid.search, 1);
  }
});

/** A stand-in frozen encoder: text -> L2(sum of fixed random word vectors). */
function wordFeatures(d: PreparedData, dim = 24): FrozenFeatures {
  const encode = (texts: string[]) => {
    const out = new Float32Array(texts.length * dim);
    texts.forEach((t, i) => {
      const s = new Float32Array(dim);
      for (const w of t.split(/\s+/).filter(Boolean)) noiseVector(w, dim).forEach((x, j) => (s[j] += x));
      const n = Math.hypot(...s) || 1;
      out.set(s.map((x) => x / n), i * dim);
    });
    return out;
  };
  return { dim, items: encode(d.dataset.items.map((it) => it.text)), queries: encode, info: { encoder: 'stand-in' } };
}

test('real trainings: replacing the test queries and targets changes neither the candidates, their scores nor the choice', async () => {
  const o: TowerChoiceOptions = { ...CHOICE, hashing: { buckets: 1024 }, batchSize: 32, epochs: 2, stepsPerEpoch: 8, validExamples: 60 };
  const run = (d: PreparedData, objective: ContrastiveObjective) =>
    chooseTower(d, objective, o, {
      train: (tower, dd, obj, opts) => (tower === 'hashed' ? trainBiEncoder(dd, obj, opts) : trainAdapterBiEncoder(dd, obj, wordFeatures(dd), opts as never)),
      retrieval: { bootstrapIterations: 10 },
    });
  // Other test queries (other texts, other targets) and other rec test targets.
  const rng = new Rng(3);
  const replaced: PreparedData = {
    ...data,
    queries: { ...data.queries, test: data.queries.test.map((q, i) => ({ ...q, item: (q.item + 1 + rng.int(N - 1)) % N, text: `replaced ${i} ${q.text.split(' ').reverse().join(' ')}` })) },
    rec: { ...data.rec, test: data.rec.test.map((e) => ({ ...e, target: (e.target + 1 + rng.int(N - 1)) % N })) },
  };
  for (const objective of ['search', 'multitask'] as const) {
    const a = await run(data, objective);
    const b = await run(replaced, objective);
    const strip = (m: EmbeddingModel) => (m.info.towerChoice as TowerChoice).candidates.map((c) => ({ tower: c.tower, valid: c.valid, score: c.score, chosen: c.chosen }));
    assert.deepEqual(strip(b), strip(a), objective);
    assert.deepEqual(Array.from(b.vectors), Array.from(a.vectors), `${objective}: the kept model`);
    // What a rule reading test would have seen does change.
    const onTest = async (m: EmbeddingModel, d: PreparedData) => (await evaluateRetrieval(m, d, { split: 'test', ks: [30], bootstrapIterations: 10 })).search!.overall['recall@30'].mean;
    assert.notEqual(await onTest(a, data), await onTest(b, replaced), `${objective}: the replaced test split scores differently`);
    const methods = (a.info.towerChoice as TowerChoice).candidates.map((c) => c.method);
    assert.deepEqual(methods, ['hashed-ngram-biencoder', 'pretrained-adapter-biencoder']);
  }
});

// ------------------------------------------------------------------ what notebook 01 shows

test('notebook 01 view: both towers per strategy with their validation scores, and the one kept', async () => {
  const { model } = await forced('multitask', { hashed: { search: 0.4, rec: 0.2 }, 'pretrained-adapter': { search: 0.6, rec: 0.3 } });
  const stored = (strategy: string, info: Record<string, unknown>) => ({ strategy, info, vectors: new Float32Array(0), dim: 4 }) as unknown as StoredEmbedding;
  const embs = [stored('multitask', model.info), stored('search', { method: 'hashed-ngram-biencoder' }), stored('rec', { method: 'als' })];
  const rows = towerChoiceTable(embs);
  assert.deepEqual(rows.map((r) => [r.strategy, r.tower, r['valid search recall@30'], r['valid rec recall@30'], r['rule score'], r.kept]), [
    ['multitask', 'hashed', '0.4000', '0.2000', '0.3000', ''],
    ['multitask', 'pretrained-adapter', '0.6000', '0.3000', '0.4500', 'yes'],
  ]);
  const text = towerChoiceSentences(embs);
  assert.match(text, /\*\*multitask\*\*: kept the \*\*pretrained-adapter\*\* tower, rule score 0\.4500 against 0\.3000 for hashed/);
  assert.match(text, /\*\*search\*\*: the hashed tower, as the profile sets it \(no tower choice\)/);
  assert.deepEqual(towerChoiceTable([embs[1], embs[2]]), []);
});
