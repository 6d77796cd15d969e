/**
 * The bi-encoder's 'pretrained-adapter' tower (lib/embed/adapterTower.ts, lib/embed/biencoder.ts):
 * a trainable adapter on frozen text features. Most tests use a stand-in for the frozen encoder on
 * the planted data: deterministic word vectors in which an item's alias word (the only link between
 * a search query and its item) partly points at the item's title words, while noise, genre and
 * year words fill a separate nuisance subspace with larger norm. The information is in the
 * features, but raw cosine is swamped by the nuisance; the adapter has to learn to drop it.
 * The last tests run the real path through transformers.js on the tiny model that
 * test/fixtures/make-tiny-sentence-model.py writes, and skip when Debian's python3-onnx is missing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, tf } from '../lib/backend';
import { plantedData } from './helpers/plantedData';
import { trainAdapterBiEncoder, trainBiEncoder, type AdapterLoopOptions, type BiEncoderOptions } from '../lib/embed/biencoder';
import { AdapterTower, encodeWithAdapter, type FrozenFeatures } from '../lib/embed/adapterTower';
import { loadPretrainedEncoder } from '../lib/embed/pretrained';
import { buildEmbeddings } from '../lib/embed/index';
import { evaluateRetrieval } from '../lib/eval/retrieval';
import type { EmbeddingModel } from '../lib/embed/embeddingModel';
import type { Item, PreparedData, SearchQuery } from '../lib/types';
import { Rng, hashString32 } from '../lib/util/random';

process.env.SID_QUIET = '1';
const data = plantedData({ numItems: 160, users: 240, seed: 7 });
const N = data.dataset.items.length;
const SIGNAL = 32;
const NUISANCE = 16;

/**
 * Stand-in frozen encoder: text -> L2(sum of word vectors). Title words: random in the signal
 * subspace; an item's alias: 0.8 * (its title direction) + 0.6 * a random signal direction; every
 * other word (noise, genres, years): random in the nuisance subspace with norm about 2.
 */
function standInFeatures(d: PreparedData): FrozenFeatures {
  const dim = SIGNAL + NUISANCE;
  const unit = (v: Float32Array) => {
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };
  const randomIn = (word: string, from: number, width: number, norm: number) => {
    const r = new Rng(hashString32(word, 0x2545f491));
    const v = new Float32Array(dim);
    for (let j = from; j < from + width; j++) v[j] = r.normal();
    return unit(v).map((x) => x * norm);
  };
  const table = new Map<string, Float32Array>();
  const titleWords = new Set<string>();
  for (const it of d.dataset.items) {
    const [a, b] = it.title.split(' ');
    titleWords.add(a);
    titleWords.add(b);
  }
  // The alias of an item is the word shared by all its training queries.
  const counts = new Map<number, Map<string, number>>();
  for (const q of d.queries.train) {
    const m = counts.get(q.item) ?? new Map<string, number>();
    for (const w of q.text.split(' ')) m.set(w, (m.get(w) ?? 0) + 1);
    counts.set(q.item, m);
  }
  const vec = (w: string): Float32Array => {
    let v = table.get(w);
    if (!v) {
      v = titleWords.has(w) ? randomIn(w, 0, SIGNAL, 1) : randomIn(w, SIGNAL, NUISANCE, 2);
      table.set(w, v);
    }
    return v;
  };
  for (const [item, m] of counts) {
    const alias = [...m.entries()].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))[0][0];
    const [a, b] = d.dataset.items[item].title.split(' ');
    const title = unit(vec(a).map((x, j) => x + vec(b)[j]));
    const own = randomIn(`alias:${alias}`, 0, SIGNAL, 1);
    table.set(alias, title.map((x, j) => 0.8 * x + 0.6 * own[j]));
  }
  const encode = (texts: string[]) => {
    const out = new Float32Array(texts.length * dim);
    texts.forEach((t, i) => {
      const s = new Float32Array(dim);
      for (const w of t.split(/\s+/).filter(Boolean)) vec(w).forEach((x, j) => (s[j] += x));
      out.set(unit(s), i * dim);
    });
    return out;
  };
  return { dim, items: encode(d.dataset.items.map((it) => it.text)), queries: encode, info: { encoder: 'stand-in' } };
}

const features = standInFeatures(data);
const opts: AdapterLoopOptions = {
  dim: 32, adapter: { layers: 2, hidden: 64 }, batchSize: 64, epochs: 6, stepsPerEpoch: 25, learningRate: 5e-3, validExamples: 160, seed: 3,
};
const r10 = (x: { overall: Record<string, { mean: number }> } | null) => x!.overall['recall@10'].mean;

before(async () => {
  await initBackend({ threads: 1 });
});

test('adapter, search objective: search recall far above random, above the untrained adapter and the raw features', async (ctx) => {
  const random = 10 / N;
  const trained = await trainAdapterBiEncoder(data, 'search', features, opts);
  const untrained = await trainAdapterBiEncoder(data, 'search', features, { ...opts, epochs: 0 });
  const raw: EmbeddingModel = { strategy: 'raw', vectors: features.items, dim: features.dim, numItems: N, encodeQueries: features.queries, info: {} };
  const [rt, ru, rr] = await Promise.all([trained, untrained, raw].map((m) => evaluateRetrieval(m, data, { bootstrapIterations: 20, ks: [10] })));
  const t = r10(rt.search);
  const u = r10(ru.search);
  const w = r10(rr.search);
  ctx.diagnostic(`search R@10: trained ${t.toFixed(3)}, untrained ${u.toFixed(3)}, raw features ${w.toFixed(3)}, random ${random.toFixed(3)}`);
  assert.ok(t > 8 * random, `trained R@10 ${t} vs random ${random}`);
  assert.ok(t > u + 0.2, `trained R@10 ${t} vs untrained ${u}`);
  assert.ok(t > w + 0.2, `trained R@10 ${t} vs raw features ${w}`);
  assert.equal(trained.dim, 32);
  const info = trained.info as { method: string; featureDim: number; adapter: unknown; epochs: Array<{ validSearch: number; meanLoss: number }>; bestEpoch: number; steps: number };
  assert.equal(info.method, 'pretrained-adapter-biencoder');
  assert.equal(info.featureDim, SIGNAL + NUISANCE);
  assert.deepEqual(info.adapter, { layers: 2, hidden: 64 });
  assert.ok(info.epochs[info.bestEpoch].validSearch > info.epochs[0].validSearch + 0.2, 'validation improved over the untrained adapter');
  assert.ok(info.epochs[info.epochs.length - 1].meanLoss < info.epochs[1].meanLoss, 'training loss falls');
  // Item and query vectors are unit rows.
  for (const v of [trained.vectors.subarray(0, 32), trained.encodeQueries!([data.queries.test[0].text])]) {
    assert.ok(Math.abs(v.reduce((s, x) => s + x * x, 0) - 1) < 1e-4);
  }
  // The one-layer adapter (a dense projection) also learns to drop the nuisance subspace.
  const one = await trainAdapterBiEncoder(data, 'search', features, { ...opts, adapter: { layers: 1 } });
  const r1 = r10((await evaluateRetrieval(one, data, { bootstrapIterations: 20, ks: [10] })).search);
  ctx.diagnostic(`search R@10, one-layer adapter: ${r1.toFixed(3)}`);
  assert.ok(r1 > u + 0.15, `one-layer R@10 ${r1} vs untrained ${u}`);
  assert.deepEqual((one.info as { adapter: unknown }).adapter, { layers: 1, hidden: null });
});

test('adapter: same seed gives identical vectors; other seeds, objectives and batch mixes differ', async () => {
  const short = { ...opts, epochs: 2, stepsPerEpoch: 10 };
  const a = await trainAdapterBiEncoder(data, 'multitask', features, short);
  const b = await trainAdapterBiEncoder(data, 'multitask', features, short);
  assert.deepEqual(Array.from(a.vectors), Array.from(b.vectors));
  const q = data.queries.test.slice(0, 5).map((x) => x.text);
  assert.deepEqual(Array.from(a.encodeQueries!(q)), Array.from(b.encodeQueries!(q)));
  const c = await trainAdapterBiEncoder(data, 'multitask', features, { ...short, seed: 4 });
  const m = await trainAdapterBiEncoder(data, 'multitask', features, { ...short, batchMix: 'mixed' });
  const r = await trainAdapterBiEncoder(data, 'rec', features, short);
  for (const [name, other] of [['seed', c], ['batch mix', m], ['rec objective', r]] as const) {
    assert.notDeepEqual(Array.from(other.vectors.slice(0, 32)), Array.from(a.vectors.slice(0, 32)), name);
  }
  const ia = a.info as { batchMix: string; recWeight: number; searchPairs: number; recPairs: number; steps: number };
  assert.equal(ia.batchMix, 'alternating');
  assert.ok(ia.searchPairs === data.queries.train.length && ia.recPairs > 0);
  assert.equal((r.info as { searchPairs: number }).searchPairs, 0);
  assert.equal((r.info as { validSearch?: unknown; epochs: Array<{ validSearch: number | null }> }).epochs[0].validSearch, null);
});

test('adapter: no tensor leak across training steps, loss falls on a fixed batch', async () => {
  const rng = new Rng(8);
  const d = 24;
  const B = 32;
  const rows = () => Float32Array.from({ length: B * d }, () => rng.normal());
  const batch = { anchors: rows(), positives: rows(), keysA: null, keysP: Int32Array.from({ length: B }, (_, i) => i) };
  for (const layers of [1, 2] as const) {
    const tower = new AdapterTower({ inputDim: d, dim: 16, layers, hidden: 32, seed: 1 });
    const n0 = tf.memory().numTensors;
    const losses: number[] = [];
    for (let s = 0; s < 15; s++) losses.push(tower.trainStep(batch));
    tower.trainStepParts([{ batch, weight: 1 }, { batch: { ...batch, keysA: batch.keysP }, weight: 0.5 }]);
    const enc = tower.encode(batch.anchors);
    assert.equal(tf.memory().numTensors, n0, `layers ${layers}: tensors stable across steps`);
    assert.ok(losses[14] < losses[0] - 0.5, `layers ${layers}: loss decreases on a fixed batch (${losses[0]} -> ${losses[14]})`);
    assert.deepEqual(Array.from(enc), Array.from(encodeWithAdapter(tower.snapshot(), batch.anchors)));
    tower.dispose();
  }
  // A whole training run, validation and encoders included, also leaves no tensor behind.
  const n0 = tf.memory().numTensors;
  const m = await trainAdapterBiEncoder(data, 'multitask', features, { ...opts, epochs: 2, stepsPerEpoch: 5, batchMix: 'mixed' });
  m.encodeQueries!(data.queries.test.slice(0, 3).map((x) => x.text));
  assert.equal(tf.memory().numTensors, n0, 'training run leaves the tensor count unchanged');
});

test('adapter: an untrained two-layer adapter equals the one-layer projection (residual starts at zero)', async () => {
  const two = await trainAdapterBiEncoder(data, 'search', features, { ...opts, epochs: 0 });
  const one = await trainAdapterBiEncoder(data, 'search', features, { ...opts, epochs: 0, adapter: { layers: 1 } });
  let m = 0;
  for (let i = 0; i < two.vectors.length; i++) m = Math.max(m, Math.abs(two.vectors[i] - one.vectors[i]));
  assert.ok(m < 1e-6, `max difference ${m}`);
});

test('bi-encoder options: tower choice and adapter options are validated with clear errors', async () => {
  const base = { ...opts, epochs: 1, stepsPerEpoch: 1 };
  await assert.rejects(trainBiEncoder(data, 'search', { tower: 'bert' as never }), /option tower must be 'hashed' or 'pretrained-adapter', got "bert"/);
  // The option types rule these combinations out; options read from JSON can still hold them.
  await assert.rejects(trainBiEncoder(data, 'search', { tower: 'pretrained-adapter' } as never), /option tower is 'pretrained-adapter' but option pretrained is missing/);
  await assert.rejects(trainBiEncoder(data, 'search', { tower: 'pretrained-adapter', pretrained: { modelDir: '' } }), /needs option pretrained\.modelDir/);
  await assert.rejects(trainBiEncoder(data, 'search', { pretrained: { modelDir: '/models/x' } } as never), /option pretrained is set but option tower is 'hashed'/);
  await assert.rejects(trainBiEncoder(data, 'search', { adapter: { layers: 1 } } as never), /option adapter is set but option tower is 'hashed'/);
  const missing = path.join(os.tmpdir(), 'sid-no-such-model');
  await assert.rejects(trainBiEncoder(data, 'search', { tower: 'pretrained-adapter', pretrained: { modelDir: missing } }), /modelDir ".*sid-no-such-model" has no config\.json/);
  await assert.rejects(trainBiEncoder(data, 'search', { tower: 'pretrained-adapter', pretrained: { modelDir: missing }, itemIdEmbedding: true } as never), /option itemIdEmbedding is only available with tower 'hashed'/);
  await assert.rejects(trainAdapterBiEncoder(data, 'search', features, { ...base, adapter: { layers: 3 as 1 } }), /option adapter\.layers must be 1 or 2, got 3/);
  await assert.rejects(trainAdapterBiEncoder(data, 'search', features, { ...base, adapter: { hidden: 0 } }), /option adapter\.hidden must be a positive integer, got 0/);
  await assert.rejects(trainAdapterBiEncoder(data, 'search', features, { ...base, learningRate: -1 }), /option learningRate must be > 0/);
  await assert.rejects(trainAdapterBiEncoder(data, 'search', features, { ...base, batchMix: 'both' as never }), /batchMix must be 'alternating' or 'mixed'/);
  await assert.rejects(trainAdapterBiEncoder(data, 'search', { ...features, items: features.items.subarray(48) }), /features\.items must be a Float32Array of 160 items x 48/);
  await assert.rejects(trainAdapterBiEncoder(data, 'search', { ...features, queries: () => new Float32Array(3) }, base), /features\.queries gave 3 values for \d+ training queries of width 48/);
  await assert.rejects(trainAdapterBiEncoder(data, 'nope' as never, features), /objective must be search, rec or multitask/);
});

test("default tower is 'hashed' and unchanged by naming it", async () => {
  const small: BiEncoderOptions = { dim: 16, hashing: { buckets: 1024 }, batchSize: 32, epochs: 1, stepsPerEpoch: 4, validExamples: 50, seed: 3 };
  const a = await trainBiEncoder(data, 'search', small);
  const b = await trainBiEncoder(data, 'search', { ...small, tower: 'hashed' });
  assert.equal(a.info.method, 'hashed-ngram-biencoder');
  assert.deepEqual(Array.from(a.vectors), Array.from(b.vectors));
});

// The real frozen encoder: the tiny transformers.js model of test/embed-pretrained.test.ts.
const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'make-tiny-sentence-model.py');
const onnxCheck = spawnSync(PYTHON, ['-c', 'import onnx'], { encoding: 'utf8' });
const SKIP = onnxCheck.status === 0 ? false : `needs ${PYTHON} with the onnx module (apt-get install -y python3-onnx): ${(onnxCheck.stderr || String(onnxCheck.error)).trim()}`;
let tmp = '';
let modelDir = '';

before(() => {
  if (SKIP) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-adapter-'));
  modelDir = path.join(tmp, 'tiny-sentence-model');
  const r = spawnSync(PYTHON, [SCRIPT, modelDir, '--dim', '8', '--seed', '7'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `make-tiny-sentence-model.py failed: ${r.stderr}`);
});

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** Items and queries in the fixture model's vocabulary. */
function vocabData(): PreparedData {
  const texts = [
    'toy story animation comedy', 'star wars space action', 'the matrix robot sci fi', 'heat crime action',
    'dark knight crime drama', 'love city romance', 'funny movie comedy', 'night day drama film',
  ];
  const items: Item[] = texts.map((text, index) => ({ index, id: 100 + index, title: text, year: null, genres: [], tags: [], text }));
  const q = (item: number, text: string): SearchQuery => ({ item, text, style: 'fixture' });
  const train = [
    q(0, 'toy story'), q(0, 'animation'), q(1, 'star wars'), q(1, 'space'), q(2, 'matrix'), q(2, 'robot'), q(3, 'heat'), q(3, 'crime action'),
    q(4, 'dark knight'), q(4, 'knight'), q(5, 'love'), q(5, 'city romance'), q(6, 'funny'), q(6, 'funny comedy'), q(7, 'night day'), q(7, 'film'),
  ];
  return {
    dataset: { name: 'adapter-fixture', items, users: [], stats: {} as PreparedData['dataset']['stats'] },
    rec: { train: [], valid: [], test: [] },
    queries: {
      train,
      valid: [q(0, 'toy'), q(1, 'wars'), q(2, 'sci fi'), q(4, 'dark')],
      test: [q(0, 'story'), q(1, 'star'), q(5, 'romance'), q(7, 'day')],
    },
    buckets: { names: ['head'], bucketOf: new Uint8Array(8), counts: new Int32Array(8), rule: 'fixture' },
  };
}

const tinyOpts = (dir: string): BiEncoderOptions => ({
  tower: 'pretrained-adapter', pretrained: { modelDir: dir, batchSize: 3, extraQueries: ['comedy movie'] },
  dim: 6, adapter: { layers: 2, hidden: 8 }, batchSize: 4, epochs: 3, stepsPerEpoch: 6, patience: 5, validK: 1, learningRate: 1e-2, seed: 2,
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('pretrained-adapter tower with the tiny sentence model: frozen encoder then adapter, items and queries', { skip: SKIP }, async () => {
  const d = vocabData();
  const model = await trainBiEncoder(d, 'search', tinyOpts(modelDir));
  assert.equal(model.dim, 6);
  assert.equal(model.vectors.length, 8 * 6);
  const info = model.info as { method: string; featureDim: number; features: { modelDir: string; queriesEncoded: number }; steps: number };
  assert.equal(info.method, 'pretrained-adapter-biencoder');
  assert.equal(info.featureDim, 8, "the frozen model's hidden size");
  assert.equal(info.features.modelDir, path.resolve(modelDir));
  assert.equal(info.features.queriesEncoded, 16 + 4 + 4 + 1, 'distinct training, validation, test and extra query texts');
  assert.equal(info.steps, 18);
  const log = model.info.epochs as Array<{ validSearch: number; meanLoss: number }>;
  assert.ok(log[3].meanLoss < log[1].meanLoss, 'training loss falls');
  assert.ok((model.info.bestEpoch as number) > 0 && log[model.info.bestEpoch as number].validSearch > log[0].validSearch, 'validation Recall@1 improved over the untrained adapter');

  // The same training on features computed here directly from the frozen encoder gives the same
  // vectors and query vectors: the tower is that encoder followed by the adapter.
  const enc = await loadPretrainedEncoder({ modelDir, batchSize: 3 });
  const qTexts = [...d.queries.train, ...d.queries.valid, ...d.queries.test].map((x) => x.text).concat(['comedy movie']);
  let items: Float32Array;
  let qf: Float32Array;
  try {
    items = await enc.encode(d.dataset.items.map((it) => it.text));
    qf = await enc.encode(qTexts);
  } finally {
    await enc.dispose();
  }
  const lookup = (texts: string[]) => {
    const out = new Float32Array(texts.length * 8);
    texts.forEach((t, i) => out.set(qf.subarray(qTexts.indexOf(t) * 8, (qTexts.indexOf(t) + 1) * 8), i * 8));
    return out;
  };
  const direct = await trainAdapterBiEncoder(d, 'search', { dim: 8, items, queries: lookup }, tinyOpts(modelDir));
  assert.ok(maxAbsDiff(direct.vectors, model.vectors) < 1e-4, `items differ by ${maxAbsDiff(direct.vectors, model.vectors)}`);
  const testQ = d.queries.test.map((x) => x.text).concat(['comedy movie']);
  assert.ok(maxAbsDiff(direct.encodeQueries!(testQ), model.encodeQueries!(testQ)) < 1e-4);
  // The kept epoch is a trained one: its vectors differ from the initial adapter's.
  const init = await trainAdapterBiEncoder(d, 'search', { dim: 8, items, queries: lookup }, { ...tinyOpts(modelDir), epochs: 0 });
  assert.ok(maxAbsDiff(init.vectors, model.vectors) > 1e-3);
  assert.throws(() => model.encodeQueries!(['robot movie']), /adapterTower\.ts encodeQueries: query "robot movie" was not pre-encoded/);
});

test("buildEmbeddings('search') with biencoder.tower 'pretrained-adapter'", { skip: SKIP }, async () => {
  const d = vocabData();
  const m = await buildEmbeddings(d, 'search', { biencoder: { ...tinyOpts(modelDir), epochs: 1, stepsPerEpoch: 2 } });
  assert.equal(m.strategy, 'search');
  assert.equal(m.dim, 6);
  assert.equal(m.info.method, 'pretrained-adapter-biencoder');
  const q = m.encodeQueries!(d.queries.test.map((x) => x.text));
  assert.equal(q.length, 4 * 6);
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(q.subarray(i * 6, (i + 1) * 6).reduce((s, x) => s + x * x, 0) - 1) < 1e-4, `query ${i} is a unit vector`);
});
