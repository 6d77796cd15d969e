/**
 * The Universal Sentence Encoder lite encoder (lib/embed/useLite.ts) and its SentencePiece tokenizer
 * (lib/embed/sentencepiece.ts).
 *
 * Reference: the model package's own runtime, run in a child process by
 * test/fixtures/use-lite-reference.cjs: @energetic-ai/embeddings (a devDependency) tokenizes with its
 * port of tfjs-models' tokenizer and runs the graph on @energetic-ai/core, a separately bundled tfjs
 * 4.5 with its own wasm kernels, loaded by the package's own modelSource(). It shares no code with the
 * project's path (own tokenizer, own file loader, tfjs 4.22 with the project's wasm and native
 * kernels), so agreement of ids and of every vector component within 1e-4 checks both.
 *
 * Tests that need the model package skip when it is not installed; the reference tests also skip
 * without @energetic-ai/embeddings. The tokenizer's own rules are checked on a hand-made vocabulary.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend, tf } from '../lib/backend/index';
import { projectRoot } from '../lib/util/fs';
import { SentencePieceTokenizer, type SentencePieceVocabulary } from '../lib/embed/sentencepiece';
import { generateSyntheticMovieLens, writeSyntheticMovieLens } from '../lib/data/synthetic';
import { benchUseLite } from '../lib/bench/useLite';
import {
  installedUseLiteDir, loadUseLiteEncoder, locateUseLiteFiles, planBatches, useLiteModelHash, USE_LITE_DIM, USE_LITE_PACKAGE,
  type UseLiteEncoder,
} from '../lib/embed/useLite';

const MODEL_DIR = installedUseLiteDir();
const SKIP = MODEL_DIR ? false : `needs the npm package ${USE_LITE_PACKAGE} (npm install)`;
const REFERENCE_SCRIPT = path.join(projectRoot(), 'test', 'fixtures', 'use-lite-reference.cjs');
function referenceSkip(): string | false {
  if (SKIP) return SKIP;
  try {
    createRequire(path.join(projectRoot(), 'package.json')).resolve('@energetic-ai/embeddings');
    return false;
  } catch {
    return 'needs the devDependency @energetic-ai/embeddings (npm install) for the reference runtime';
  }
}
const REFERENCE_SKIP = referenceSkip();

/** Punctuation, casing, digits, accents, ligatures, emoji, scripts outside the vocabulary, tabs. */
const SENTENCES = [
  '', // first: the reference runtime keeps an empty row unless it is the last
  'Hello world.',
  'The quick brown fox jumps over the lazy dog',
  'Toy Story (1995). Genres: Adventure, Animation, Children, Comedy, Fantasy. Tags: pixar, fun.',
  'Amélie (Fabuleux destin d\'Amélie Poulain, Le) (2001)',
  'CITY OF GOD (Cidade de Deus) (2002)',
  'what movie has the robot that falls in love?? :) :-(',
  'Señor Spielberg\'s E.T. — the extra-terrestrial',
  'naïve résumé café déjà vu',
  'ﬁne ligatures ＦＵＬＬＷＩＤＴＨ',
  '😀 emoji 🎬 at the movies 🍿',
  '中文字符 and 日本語 mixed with English',
  'Крестный отец',
  'x\ty\nz  double  spaces',
  'zzqxjv qwfpgj xkcd-like oov wordz',
  'https://movielens.org/movies/1 :// 100% $5.99 #1 @user',
  '1234567890 3.14159 1e-4',
  '"quoted" \'single\' (parens) [brackets] {braces}',
  'a',
  '.',
  '   ',
  'sci-fi thriller with time travel and a twist ending',
  'Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb (1964)',
  'Ω ω α β γ δ ∫ √ π',
  'ALL CAPS vs all lower vs Title Case',
];

interface Reference {
  runtime: Record<string, string>;
  ids: number[][];
  vectors: number[][];
}

let encoder: UseLiteEncoder | undefined;

before(async () => {
  if (SKIP) return;
  await initBackend({ backend: 'wasm', threads: 1 });
  encoder = await loadUseLiteEncoder();
});

after(async () => {
  await encoder?.dispose();
});

function rows(v: Float32Array, dim = USE_LITE_DIM): Float32Array[] {
  return Array.from({ length: v.length / dim }, (_, i) => v.subarray(i * dim, (i + 1) * dim));
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function runReference(texts: string[]): Reference {
  const r = spawnSync(process.execPath, [REFERENCE_SCRIPT], { input: JSON.stringify(texts), encoding: 'utf8', cwd: projectRoot(), maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, `use-lite-reference.cjs failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Reference;
}

// --- (a) against the package's own runtime -------------------------------------------------------

test('tokenizer ids and vectors agree with the package runtime within 1e-4', { skip: REFERENCE_SKIP }, async (t) => {
  const enc = encoder!;
  const ref = runReference(SENTENCES);
  assert.equal(ref.vectors.length, SENTENCES.length, 'the reference returned one vector per text');
  SENTENCES.forEach((s, i) => assert.deepEqual(enc.tokenizer.encode(s), ref.ids[i], `ids of ${JSON.stringify(s)}`));
  const mine = rows(await enc.encode(SENTENCES));
  let worst = 0;
  SENTENCES.forEach((s, i) => {
    const d = maxAbsDiff(mine[i], ref.vectors[i]);
    worst = Math.max(worst, d);
    assert.ok(d < 1e-4, `${JSON.stringify(s)}: max |difference| ${d} (reference ${JSON.stringify(ref.runtime)})`);
  });
  t.diagnostic(`largest component difference over ${SENTENCES.length} texts: ${worst.toExponential(2)}`);
});

test('tokenizer ids agree with the package runtime on MovieLens-like titles and tags', { skip: REFERENCE_SKIP }, () => {
  const genres = ['Action', 'Sci-Fi', 'Film-Noir', '(no genres listed)', 'Children', 'Musical'];
  const tags = ['dark comedy', 'Oscar (Best Picture)', 'based on a book', 'twist ending', 'Tom Hanks', 'visually appealing', 'BD-R'];
  const texts = Array.from({ length: 40 }, (_, i) =>
    `Movie ${i}: ${['Léon', 'Æon Flux', 'Zoolander', 'WALL·E', 'Se7en'][i % 5]} (${1950 + i}). Genres: ${genres.slice(i % 4, (i % 4) + 2).join(', ')}. Tags: ${tags.slice(i % 5).join(', ')}.`,
  );
  const ref = runReference(['x', ...texts]);
  texts.forEach((t, i) => assert.deepEqual(encoder!.tokenizer.encode(t), ref.ids[i + 1], `ids of ${JSON.stringify(t)}`));
});

// --- (b) known properties -----------------------------------------------------------------------

test('vectors are 512-d, unit norm, deterministic, and independent of the batch they are in', { skip: SKIP }, async () => {
  const enc = encoder!;
  assert.equal(enc.dim, 512);
  const texts = SENTENCES.slice(1, 12);
  const a = await enc.encode(texts);
  assert.equal(a.length, texts.length * 512);
  for (const r of rows(a)) assert.ok(Math.abs(Math.sqrt(dot(r, r)) - 1) < 1e-5);
  const b = await enc.encode(texts);
  assert.deepEqual(b, a, 'the same texts give the same vectors');
  // One text at a time, and a batch size that splits the texts differently.
  const single = new Float32Array(a.length);
  for (let i = 0; i < texts.length; i++) single.set(await enc.encode([texts[i]]), i * 512);
  assert.ok(maxAbsDiff(single, a) < 1e-5);
  const small = await loadUseLiteEncoder({ batchSize: 3, batchTokens: 40 });
  try {
    assert.ok(maxAbsDiff(await small.encode(texts), a) < 1e-5);
  } finally {
    await small.dispose();
  }
});

test('the 1x1 projections run as matmuls give the original graph\'s vectors', { skip: SKIP }, async () => {
  const asConvs = await loadUseLiteEncoder({ convsAsMatMuls: false });
  try {
    const texts = SENTENCES.slice(0, 10);
    assert.ok(maxAbsDiff(await asConvs.encode(texts), await encoder!.encode(texts)) < 1e-5);
  } finally {
    await asConvs.dispose();
  }
});

test('paraphrases are closer than unrelated sentences', { skip: SKIP }, async () => {
  const pairs: [string, string][] = [
    ['How old are you?', 'What is your age?'],
    ['The movie was fantastic and I loved it.', 'I really enjoyed this film, it was great.'],
    ['A scary film about a haunted house', 'horror movie with ghosts in a mansion'],
    ['Funny animated movie for kids', 'a cartoon comedy for children'],
    ['The stock market fell sharply today.', 'Shares dropped steeply on the exchange today.'],
  ];
  const v = rows(await encoder!.encode(pairs.flat()));
  for (let i = 0; i < pairs.length; i++) {
    const para = dot(v[2 * i], v[2 * i + 1]);
    for (let j = 0; j < pairs.length; j++) {
      if (j === i) continue;
      const unrelated = dot(v[2 * i], v[2 * j + 1]);
      assert.ok(para > unrelated, `"${pairs[i][0]}": paraphrase ${para.toFixed(3)} vs "${pairs[j][1]}" ${unrelated.toFixed(3)}`);
    }
  }
});

test('encode leaves no tensor behind and refuses after dispose', { skip: SKIP }, async () => {
  const enc = encoder!;
  await enc.encode(['warm up']);
  const before = tf.memory().numTensors;
  for (let k = 0; k < 3; k++) await enc.encode(SENTENCES);
  assert.equal(tf.memory().numTensors, before);
  const other = await loadUseLiteEncoder();
  const loaded = tf.memory().numTensors;
  assert.ok(loaded > before, 'a second encoder holds its weights');
  await other.dispose();
  assert.equal(tf.memory().numTensors, before, 'dispose releases the weights');
  await assert.rejects(other.encode(['x']), /after dispose/);
});

test('empty texts get one fixed unit vector wherever they sit in the input', { skip: SKIP }, async () => {
  const v = rows(await encoder!.encode(['', 'hello', '', 'world', '']));
  assert.deepEqual(v[2], v[0]);
  assert.deepEqual(v[4], v[0]);
  assert.ok(Math.abs(dot(v[0], v[0]) - 1) < 1e-5);
  assert.ok(dot(v[0], v[1]) < 0.999);
});

test('long texts keep their first maxTokens tokens', { skip: SKIP }, async () => {
  const head = 'the cat sat on the mat';
  const enc = await loadUseLiteEncoder({ maxTokens: encoder!.tokenizer.encode(head).length });
  try {
    const v = rows(await enc.encode([head, `${head} and then ran away`, `${head} ${'very '.repeat(5000)}long`]));
    assert.ok(maxAbsDiff(v[1], v[0]) < 1e-6);
    assert.ok(maxAbsDiff(v[2], v[0]) < 1e-6);
  } finally {
    await enc.dispose();
  }
  const full = rows(await encoder!.encode([`${'a long text about movies. '.repeat(400)}`]));
  assert.ok(Math.abs(dot(full[0], full[0]) - 1) < 1e-5);
});

test('the model hash covers model.json, the shards and vocab.json', { skip: SKIP }, () => {
  const files = locateUseLiteFiles();
  assert.equal(files.shards.length, 7);
  const h = useLiteModelHash(files);
  assert.match(h, /^[0-9a-f]{64}$/);
  assert.equal(encoder!.modelHash, h);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-use-lite-'));
  try {
    fs.copyFileSync(files.modelJson, path.join(tmp, 'model.json'));
    for (const s of files.shards) fs.symlinkSync(s, path.join(tmp, path.basename(s)));
    fs.copyFileSync(files.vocab, path.join(tmp, 'vocab.json'));
    assert.equal(useLiteModelHash(locateUseLiteFiles(tmp)), h, 'same files, same hash');
    fs.appendFileSync(path.join(tmp, 'vocab.json'), '\n');
    assert.notEqual(useLiteModelHash(locateUseLiteFiles(tmp)), h, 'a changed vocab.json changes the hash');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('the speed bench times item and query texts of a MovieLens folder', { skip: SKIP }, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-use-lite-bench-'));
  try {
    const dir = writeSyntheticMovieLens(path.join(tmp, 'synthetic'), generateSyntheticMovieLens({ seed: 3, numItems: 40, numUsers: 20, meanHistory: 10 }));
    const r = await benchUseLite({ movieLensDir: dir, items: 12, queries: 10, repeats: 1 });
    assert.equal(r.items.count, 12);
    assert.equal(r.queries.count, 10);
    for (const t of [r.items, r.queries]) assert.ok(t.perSecond > 0 && t.perCpuSecond > 0 && t.meanTokens > 1);
    assert.ok(r.items.meanTokens > r.queries.meanTokens, 'item texts are longer than queries');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

// --- (c) the tokenizer on edge cases -------------------------------------------------------------

test('tokenizer edge cases on the USE-lite vocabulary', { skip: SKIP }, () => {
  const tok = encoder!.tokenizer;
  assert.deepEqual(tok.encode(''), []);
  const space = tok.encode(' ');
  assert.ok(space.length > 0 && space.every((id) => id === space[0]), 'only spaces: word-start pieces');
  assert.equal(tok.encode('    ').length, 5, 'each space is a piece, plus the leading one');
  // Accented letters: composed and decomposed forms are the same text after NFKC.
  assert.deepEqual(tok.encode('Cafe\u0301 de\u0301ja\u0300 vu'), tok.encode('Café déjà vu'));
  assert.deepEqual(tok.encode('ﬁne'), tok.encode('fine'));
  assert.ok(!tok.encode('Café').includes(0), 'é is in the vocabulary');
  // Characters outside the vocabulary: one unknown token per run.
  const cjk = tok.encode('中文字符');
  assert.equal(cjk.filter((id) => id === 0).length, 1);
  // Casing matters (the vocabulary is cased).
  assert.notDeepEqual(tok.encode('Hello'), tok.encode('hello'));
  // Very long text: linear time, every id in range, same pieces as its repeated unit.
  const unit = ' the movie';
  const long = 'the movie' + unit.repeat(19_999);
  const t0 = Date.now();
  const ids = tok.encode(long);
  assert.ok(Date.now() - t0 < 5000, 'a 200k-character text tokenizes in under 5 s');
  assert.ok(ids.every((id) => Number.isInteger(id) && id >= 0 && id < tok.size));
  assert.equal(ids.length, 20_000 * tok.encode('the movie').length);
});

/**
 * A vocabulary small enough to work the Viterbi choice out by hand. Its unknown piece is one
 * character, as in USE-lite's vocabulary: the runtimes step back over an unknown token by the length
 * of piece 0, which only then is the one character it covers.
 */
const TOY: SentencePieceVocabulary = [
  ['\ufffd', 0], ['<s>', 0], ['</s>', 0], ['x1', 0], ['x2', 0], ['x3', 0],
  ['\u2581', -2], ['a', -3], ['b', -3], ['ab', -4], ['\u2581a', -2.5], ['abc', -9], ['c', -2], [':', null],
];

test('tokenizer on a hand-made vocabulary: best segmentation, ties, unknowns, null scores', () => {
  const tok = new SentencePieceTokenizer(TOY);
  // "▁ab": ▁a + b = -5.5 beats ▁ + ab = -6 and ▁ + a + b = -8.
  assert.deepEqual(tok.encode('ab'), [10, 8]);
  // "▁abc": ▁a + b + c = -7.5 beats ▁ + abc = -11.
  assert.deepEqual(tok.encode('abc'), [10, 8, 12]);
  // Two unknown characters in a row give one unknown token.
  assert.deepEqual(tok.encode('a??b'), [10, 0, 8]);
  // Spaces become word-start pieces; nothing is collapsed.
  assert.deepEqual(tok.encode('a  c'), [10, 6, 6, 12]);
  // A null score counts as 0.
  assert.deepEqual(tok.encode(':'), [6, 13]);
  // Reserved ids never come out of text, even when the text spells them.
  assert.ok(!tok.encode('x1').some((id) => id >= 3 && id <= 5));
  assert.deepEqual(tok.encode(''), []);
  assert.throws(() => new SentencePieceTokenizer([['a', 0]]), /more than 6/);
  assert.throws(() => new SentencePieceTokenizer([...TOY, ['', -1]]), /entry 14/);
});

test('tokenizer ties go to the later start, as in the runtimes', () => {
  // "▁ab" as ▁a + b or ▁ + ab: both -5; the runtimes keep the one whose last piece starts later.
  const tie: SentencePieceVocabulary = [...TOY.slice(0, 6), ['\u2581', -1], ['a', -3], ['b', -3], ['ab', -4], ['\u2581a', -2]];
  assert.deepEqual(new SentencePieceTokenizer(tie).encode('ab'), [10, 8]);
});

test('batches: sorted by length, within the text and padded-token limits', () => {
  const counts = [5, 1, 9, 3, 3, 7, 2, 20];
  const b = planBatches(counts, 3, 16);
  assert.deepEqual(b.flat().map((i) => counts[i]), [...counts].sort((x, y) => x - y));
  for (const batch of b) {
    assert.ok(batch.length <= 3);
    const longest = Math.max(...batch.map((i) => counts[i]));
    assert.ok(batch.length === 1 || batch.length * longest <= 16);
  }
  assert.deepEqual(b[b.length - 1], [7], 'a text longer than the token limit gets a batch of its own');
  assert.deepEqual(planBatches([], 4, 10), []);
});

// --- (d) errors ----------------------------------------------------------------------------------

test('a missing model folder is an error naming the folder and how to install the package', async () => {
  const missing = path.join(os.tmpdir(), 'sid-no-such-use-lite-folder');
  assert.throws(() => locateUseLiteFiles(missing), (err: Error) => {
    assert.ok(err.message.includes(missing), err.message);
    assert.match(err.message, /npm install/);
    assert.ok(err.message.includes(USE_LITE_PACKAGE));
    return true;
  });
  await assert.rejects(loadUseLiteEncoder({ modelDir: missing }), new RegExp(missing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
});

test('a model folder without its weight shards is an error naming them', { skip: SKIP }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-use-lite-'));
  try {
    fs.copyFileSync(path.join(MODEL_DIR!, 'model.json'), path.join(tmp, 'model.json'));
    fs.copyFileSync(path.join(MODEL_DIR!, 'vocab.json'), path.join(tmp, 'vocab.json'));
    assert.throws(() => locateUseLiteFiles(tmp), /lacks weight shards named in model\.json: group1-shard1of7/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('option values are checked', async () => {
  await assert.rejects(loadUseLiteEncoder({ batchSize: 0 }), /batchSize must be a positive integer/);
  await assert.rejects(loadUseLiteEncoder({ maxTokens: 1.5 }), /maxTokens must be a positive integer/);
});

test("the content strategy: USE-lite vectors of the item texts and a query encoder over the validation and test queries; LSA as content-lsa", { skip: SKIP }, async () => {
  const { prepareData } = await import('../lib/data/index');
  const { getProfile } = await import('../lib/pipeline/profiles');
  const { buildEmbeddings } = await import('../lib/embed/index');
  const data = prepareData(getProfile('tiny').data);
  data.dataset.items = data.dataset.items.slice(0, 40).map((it, i) => ({ ...it, index: i }));
  data.queries.valid = data.queries.valid.filter((q) => q.item < 40).slice(0, 10);
  data.queries.test = data.queries.test.filter((q) => q.item < 40).slice(0, 10);
  const model = await buildEmbeddings(data, 'content', { seed: 1, content: { useLite: { extraQueries: ['a film about space'] } } });
  assert.equal(model.strategy, 'content');
  assert.equal(model.dim, USE_LITE_DIM);
  const info = model.info as { method: string; modelHash: string; queriesEncoded: number };
  assert.equal(info.method, 'use-lite');
  assert.equal(info.modelHash, useLiteModelHash(locateUseLiteFiles()));
  // The same vectors as the encoder gives the item texts directly.
  const enc = await loadUseLiteEncoder();
  try {
    const direct = await enc.encode(data.dataset.items.map((it) => it.text));
    let worst = 0;
    for (let i = 0; i < direct.length; i++) worst = Math.max(worst, Math.abs(direct[i] - model.vectors[i]));
    assert.ok(worst < 1e-6, `largest difference ${worst}`);
    const q = [data.queries.test[3].text, 'a film about space'];
    const served = model.encodeQueries!(q);
    const fresh = await enc.encode(q);
    for (let i = 0; i < fresh.length; i++) assert.ok(Math.abs(fresh[i] - served[i]) < 1e-6);
  } finally {
    await enc.dispose();
  }
  assert.throws(() => model.encodeQueries!(['never asked for']), /useLiteContent\.ts encodeQueries: query "never asked for" was not pre-encoded/);
  const lsa = await buildEmbeddings(data, 'content-lsa', { seed: 1 });
  assert.equal(lsa.strategy, 'content-lsa');
  assert.equal((lsa.info as { method: string }).method, 'tfidf-lsa');
});
