/**
 * Input files enter cache keys by their content: an edited MovieLens file (same size, same mtime), an
 * edited query file and an edited model folder each change the key; unchanged ones keep it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { contentHash, folderHashesIn } from '../lib/util/hash';
import { projectRoot } from '../lib/util/fs';

const root = projectRoot();

/** dataFingerprint of a profile, computed in a fresh process (nothing remembered from before). */
function fingerprintIn(data: Record<string, unknown>): string {
  const code = `
    import { dataFingerprint } from './lib/pipeline/stages.ts';
    import { getProfile } from './lib/pipeline/profiles.ts';
    const p = getProfile('tiny');
    process.stdout.write(JSON.stringify(dataFingerprint({ ...p, data: { ...p.data, ...${JSON.stringify(data)} } })));`;
  return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' });
}

/** Rewrites one byte of `file` in place and puts its mtime back, as an editor or a copy might. */
function editKeepingSizeAndMtime(file: string, at: number): void {
  const st = fs.statSync(file);
  const b = fs.readFileSync(file);
  b[at] = b[at] === 0x35 ? 0x34 : 0x35;
  fs.writeFileSync(file, b);
  pinMtime(file);
  assert.equal(fs.statSync(file).size, st.size);
  assert.equal(fs.statSync(file).mtimeMs, st.mtimeMs);
}

/** A whole-second mtime, which utimes sets back exactly. */
function pinMtime(...files: string[]): void {
  for (const f of files) fs.utimesSync(f, 1_700_000_000, 1_700_000_000);
}

test('an edited MovieLens file changes the data key even with its size and mtime unchanged', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-keys-ml-'));
  fs.writeFileSync(path.join(dir, 'movies.csv'), 'movieId,title,genres\n1,Toy Story (1995),Animation\n2,Heat (1995),Action\n');
  fs.writeFileSync(path.join(dir, 'ratings.csv'), 'userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,2,5.0,964982931\n');
  fs.writeFileSync(path.join(dir, 'tags.csv'), 'userId,movieId,tag,timestamp\n');
  pinMtime(...['movies.csv', 'ratings.csv', 'tags.csv'].map((f) => path.join(dir, f)));
  const data = { dataset: 'ml-latest-small', dir };
  const a = fingerprintIn(data);
  assert.equal(fingerprintIn(data), a);
  const ratings = path.join(dir, 'ratings.csv');
  editKeepingSizeAndMtime(ratings, fs.readFileSync(ratings, 'utf8').indexOf('4.0'));
  assert.notEqual(fingerprintIn(data), a);
});

test('an edited query file changes the data key; the same content elsewhere does not', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-keys-q-'));
  const file = path.join(dir, 'queries.jsonl');
  fs.writeFileSync(file, '{"item": 1, "text": "toy story"}\n');
  pinMtime(file);
  const a = fingerprintIn({ queryFile: file });
  const copy = path.join(dir, 'copy.jsonl');
  fs.copyFileSync(file, copy);
  assert.deepEqual(JSON.parse(fingerprintIn({ queryFile: copy })), JSON.parse(a));
  editKeepingSizeAndMtime(file, 20);
  assert.notEqual(fingerprintIn({ queryFile: file }), a);
});

test('a local model folder enters the key by its files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-keys-model-'));
  fs.mkdirSync(path.join(dir, 'onnx'));
  fs.writeFileSync(path.join(dir, 'config.json'), '{"hidden_size": 8}');
  fs.writeFileSync(path.join(dir, 'onnx', 'model.onnx'), Buffer.alloc(1000, 1));
  const opts = { content: { pretrained: { modelDir: dir } }, biencoder: { tower: 'hashed' } };
  const a = folderHashesIn(opts);
  assert.deepEqual(Object.keys(a), [dir]);
  assert.deepEqual(folderHashesIn(opts), a);
  fs.writeFileSync(path.join(dir, 'onnx', 'model.onnx'), Buffer.alloc(1000, 2));
  assert.notDeepEqual(folderHashesIn(opts), a);
  assert.deepEqual(folderHashesIn({ content: {} }), {});
});

test('contentHash streams large files and refuses what is not a regular file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-keys-big-'));
  const file = path.join(dir, 'big.bin');
  // Larger than one 4 MB read, not a multiple of it.
  const b = Buffer.alloc((9 << 20) + 123);
  for (let i = 0; i < b.length; i += 4096) b[i] = i & 255;
  fs.writeFileSync(file, b);
  assert.equal(contentHash(file), createHash('sha256').update(b).digest('hex'));
  assert.throws(() => contentHash(dir), /is not a regular file/);
});
