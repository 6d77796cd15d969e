/**
 * The pretrained content-embedding path (lib/embed/pretrained.ts) run end to end through
 * transformers.js on a tiny sentence-transformer-shaped model that test/fixtures/make-tiny-sentence-model.py
 * writes (needs Debian's python3-onnx). The model's hidden state of a token is its word-table row plus
 * the token-type row, so every pooled embedding has a closed form that is computed here independently
 * from the tables and hand-written WordPiece tokenisations.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPretrainedEncoder, buildPretrainedEmbeddings } from '../lib/embed/pretrained';
import { buildEmbeddings, buildContentEmbeddings } from '../lib/embed/index';
import type { Item, PreparedData, SearchQuery } from '../lib/types';

const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'make-tiny-sentence-model.py');
const onnxCheck = spawnSync(PYTHON, ['-c', 'import onnx'], { encoding: 'utf8' });
const SKIP = onnxCheck.status === 0 ? false : `needs ${PYTHON} with the onnx module (apt-get install -y python3-onnx): ${(onnxCheck.stderr || String(onnxCheck.error)).trim()}`;

interface Weights {
  dim: number;
  vocab: Record<string, number>;
  word_table: number[][];
  type_table: number[][];
  word_table_q8: number[][];
  type_table_q8: number[][];
}

let tmp = '';
let modelDir = '';
let w: Weights;

before(() => {
  if (SKIP) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-pretrained-'));
  modelDir = path.join(tmp, 'tiny-sentence-model');
  const r = spawnSync(PYTHON, [SCRIPT, modelDir, '--dim', '8', '--seed', '7'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `make-tiny-sentence-model.py failed: ${r.stderr}`);
  w = JSON.parse(fs.readFileSync(path.join(modelDir, 'weights.json'), 'utf8')) as Weights;
});

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** Texts with their WordPiece tokens (lowercased, punctuation split, "##" continuations, [UNK]). */
const TEXTS: [string, string[]][] = [
  ['Toy Story (1995)', ['[CLS]', 'toy', 'story', '(', '1995', ')', '[SEP]']],
  ['heat', ['[CLS]', 'heat', '[SEP]']],
  ['stars wars zzz', ['[CLS]', 'star', '##s', 'wars', '[UNK]', '[SEP]']],
  ['The Dark Knight', ['[CLS]', 'the', 'dark', 'knight', '[SEP]']],
  ['COMEDY, drama!', ['[CLS]', 'comedy', ',', 'drama', '!', '[SEP]']],
];

type Pool = 'mean' | 'cls' | 'mean-unmasked';

/** Expected embedding: pooled (word row + type-0 row) over the tokens, L2-normalised. */
function expected(tokens: string[], quantized: boolean, pool: Pool = 'mean', padTo = tokens.length): number[] {
  const table = quantized ? w.word_table_q8 : w.word_table;
  const type0 = (quantized ? w.type_table_q8 : w.type_table)[0];
  const ids = tokens.map((t) => {
    const id = w.vocab[t];
    assert.ok(id !== undefined, `token ${t} not in the fixture vocabulary`);
    return id;
  });
  // 'mean-unmasked' averages the padding positions too: what a pooling that ignored the mask would give.
  if (pool === 'mean-unmasked') while (ids.length < padTo) ids.push(w.vocab['[PAD]']);
  const used = pool === 'cls' ? ids.slice(0, 1) : ids;
  const v = new Array<number>(w.dim).fill(0);
  for (const id of used) for (let j = 0; j < w.dim; j++) v[j] += (table[id][j] + type0[j]) / used.length;
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function assertRows(got: Float32Array, rows: number[][], what: string): void {
  const dim = rows[0].length;
  assert.equal(got.length, rows.length * dim, `${what}: size`);
  rows.forEach((r, i) => {
    const d = maxAbsDiff(got.subarray(i * dim, (i + 1) * dim), r);
    assert.ok(d < 1e-5, `${what}: row ${i} differs from the independent computation by ${d}`);
  });
}

test('pretrained encoder: mean-pooled embeddings equal the closed form, with and without padding', { skip: SKIP }, async () => {
  const enc = await loadPretrainedEncoder({ modelDir, batchSize: 2 });
  try {
    assert.equal(enc.dim, 8);
    assert.equal(enc.modelFile, path.join('onnx', 'model.onnx'));
    const texts = TEXTS.map(([t]) => t);
    const want = TEXTS.map(([, toks]) => expected(toks, false));
    // Batches of 2 pad the shorter text of each pair; batches of 1 never pad; one batch of 5 pads four texts.
    assertRows(await enc.encode(texts), want, 'batch 2');
    const singles = await Promise.all(texts.map((t) => enc.encode([t])));
    assertRows(Float32Array.from(singles.flatMap((s) => Array.from(s))), want, 'batch 1');
    const big = await loadPretrainedEncoder({ modelDir, batchSize: 8 });
    try {
      assertRows(await big.encode(texts), want, 'batch 8');
    } finally {
      await big.dispose();
    }
    // The check can fail: pooling over the padding ([PAD] has a non-zero row) gives a different vector.
    const heatUnmasked = expected(TEXTS[1][1], false, 'mean-unmasked', TEXTS[0][1].length);
    assert.ok(maxAbsDiff(heatUnmasked, want[1]) > 1e-2, 'the fixture must make masking observable');
    assert.deepEqual(await enc.encode([]), new Float32Array(0));
  } finally {
    await enc.dispose();
  }
});

test('pretrained encoder: quantized model file and cls pooling', { skip: SKIP }, async () => {
  const q = await loadPretrainedEncoder({ modelDir, quantized: true, batchSize: 3 });
  const cls = await loadPretrainedEncoder({ modelDir, pooling: 'cls', batchSize: 3 });
  try {
    assert.equal(q.modelFile, path.join('onnx', 'model_quantized.onnx'));
    const texts = TEXTS.map(([t]) => t);
    const wantQ = TEXTS.map(([, toks]) => expected(toks, true));
    assertRows(await q.encode(texts), wantQ, 'q8');
    // int8 tables really were used: they differ from fp32 by more than float noise.
    assert.ok(maxAbsDiff(wantQ[0], expected(TEXTS[0][1], false)) > 1e-4);
    const clsRow = expected(['[CLS]'], false);
    assertRows(await cls.encode(texts), texts.map(() => clsRow), 'cls');
  } finally {
    await q.dispose();
    await cls.dispose();
  }
});

function tinyData(): PreparedData {
  const titles = ['Toy Story (1995)', 'The Dark Knight (2008)', 'The Matrix (1999)', 'Heat (1995)'];
  const items: Item[] = titles.map((title, index) => ({
    index,
    id: 100 + index,
    title,
    year: null,
    genres: [],
    tags: [],
    text: `${title} ${['animation comedy', 'action crime drama', 'action sci-fi', 'action crime'][index]}`,
  }));
  const q = (item: number, text: string): SearchQuery => ({ item, text, style: 'title' });
  return {
    dataset: { name: 'pretrained-fixture', items, users: [], stats: {} as PreparedData['dataset']['stats'] },
    rec: { train: [], valid: [], test: [] },
    queries: {
      train: [q(0, 'a funny toy movie')],
      valid: [q(2, 'robot matrix'), q(1, 'dark knight')],
      test: [q(0, 'toy story'), q(3, 'heat 1995'), q(1, 'dark knight')],
    },
    buckets: { names: ['head'], bucketOf: new Uint8Array(4), counts: new Int32Array(4), rule: 'fixture' },
  };
}

const ITEM_TOKENS = [
  ['[CLS]', 'toy', 'story', '(', '1995', ')', 'animation', 'comedy', '[SEP]'],
  ['[CLS]', 'the', 'dark', 'knight', '(', '2008', ')', 'action', 'crime', 'drama', '[SEP]'],
  ['[CLS]', 'the', 'matrix', '(', '1999', ')', 'action', 'sci', '-', 'fi', '[SEP]'],
  ['[CLS]', 'heat', '(', '1995', ')', 'action', 'crime', '[SEP]'],
];

test("buildEmbeddings('content') with content.pretrained: item vectors and query encoder", { skip: SKIP }, async () => {
  const data = tinyData();
  const model = await buildEmbeddings(data, 'content', { content: { dim: 3, pretrained: { modelDir, batchSize: 3 } } });
  assert.equal(model.strategy, 'content');
  assert.equal(model.numItems, 4);
  assert.equal(model.dim, 8, 'the model output size, not content.dim, sets the dimension');
  assert.equal(model.info.method, 'pretrained-sentence-transformer');
  assert.equal(model.info.queriesEncoded, 4, 'distinct validation + test query texts');
  assertRows(model.vectors, ITEM_TOKENS.map((t) => expected(t, false)), 'items');

  const qs = data.queries.test.map((x) => x.text);
  const qTokens = [['[CLS]', 'toy', 'story', '[SEP]'], ['[CLS]', 'heat', '1995', '[SEP]'], ['[CLS]', 'dark', 'knight', '[SEP]']];
  assertRows(model.encodeQueries!(qs), qTokens.map((t) => expected(t, false)), 'test queries');
  assertRows(model.encodeQueries!(['robot matrix']), [expected(['[CLS]', 'robot', 'matrix', '[SEP]'], false)], 'valid query');
  assert.throws(() => model.encodeQueries!(['a funny toy movie']), /pretrained\.ts encodeQueries: query "a funny toy movie" was not pre-encoded/);

  // extraQueries widens what encodeQueries serves; the direct entry point gives the same vectors.
  const direct = await buildPretrainedEmbeddings(data, { modelDir, extraQueries: ['a funny toy movie'] });
  assertRows(direct.encodeQueries!(['a funny toy movie']), [expected(['[CLS]', 'a', 'funny', 'toy', 'movie', '[SEP]'], false)], 'extra query');
  assert.deepEqual(direct.vectors, model.vectors);
});

test('pretrained options: bad model folders and options are clear errors', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-pretrained-bad-'));
  try {
    fs.writeFileSync(path.join(dir, 'config.json'), '{}');
    await assert.rejects(loadPretrainedEncoder({ modelDir: dir }), /modelDir ".*" has no tokenizer\.json, tokenizer_config\.json, onnx\/model\.onnx/);
    await assert.rejects(loadPretrainedEncoder({ modelDir: dir, quantized: true }), /onnx\/model_quantized\.onnx.*option quantized is set/);
    assert.throws(() => buildContentEmbeddings(tinyData(), { pretrained: { modelDir: dir } }), /content\.ts buildContentEmbeddings: option pretrained is set/);
    if (!SKIP) {
      await assert.rejects(loadPretrainedEncoder({ modelDir, batchSize: 0 }), /option batchSize must be a positive integer, got 0/);
      await assert.rejects(loadPretrainedEncoder({ modelDir, pooling: 'max' as 'mean' }), /option pooling must be 'mean' or 'cls'/);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
