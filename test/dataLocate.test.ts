/** Locating MovieLens folders and downloading archives (offline error path; checksum and unzip against a local server). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureMovieLens, fetchMovieLens, resolveMovieLensDir } from '../lib/data/locate';

function makeDataDir(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['movies.csv', 'ratings.csv', 'tags.csv']) fs.writeFileSync(path.join(dir, f), 'x\n');
  return dir;
}

function hasZip(): boolean {
  try {
    execFileSync('zip', ['-v'], { stdio: 'ignore' });
    execFileSync('unzip', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('resolveMovieLensDir: MOVIELENS_DIR (folder itself or parent), then data/movielens/<name>, else a helpful error', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-loc-'));
  const oldRoot = process.env.SID_ROOT;
  process.env.SID_ROOT = path.join(root, 'project');
  try {
    const parent = path.join(root, 'shared');
    const small = makeDataDir(path.join(parent, 'ml-latest-small'));
    assert.equal(resolveMovieLensDir('ml-latest-small', { MOVIELENS_DIR: small }), small);
    assert.equal(resolveMovieLensDir('ml-latest-small', { MOVIELENS_DIR: parent }), small);
    const custom = makeDataDir(path.join(root, 'my-copy'));
    assert.equal(resolveMovieLensDir('ml-latest-small', { MOVIELENS_DIR: custom }), custom);
    // A folder named after another data set never answers for this one.
    assert.throws(() => resolveMovieLensDir('ml-25m', { MOVIELENS_DIR: small }), /holds ml-latest-small, not ml-25m/);
    const local = makeDataDir(path.join(root, 'project', 'data', 'movielens', 'ml-25m'));
    assert.equal(resolveMovieLensDir('ml-25m', { MOVIELENS_DIR: small }), local);
    assert.equal(resolveMovieLensDir('ml-25m', {}), local);
    let msg = '';
    try {
      resolveMovieLensDir('ml-latest-small', {});
    } catch (err) {
      msg = (err as Error).message;
    }
    assert.match(msg, /not found/);
    assert.ok(msg.includes(path.join(root, 'project', 'data', 'movielens', 'ml-latest-small')), msg);
    assert.match(msg, /MOVIELENS_DIR/);
    assert.match(msg, /sid data fetch ml-latest-small/);
  } finally {
    if (oldRoot === undefined) delete process.env.SID_ROOT;
    else process.env.SID_ROOT = oldRoot;
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('fetchMovieLens offline: fails with instructions to place the files by hand', async () => {
  const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-fetch-'));
  const offline = (async () => {
    throw new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND files.grouplens.org') });
  }) as typeof fetch;
  await assert.rejects(fetchMovieLens('ml-25m', dest, { fetch: offline, log: () => {} }), (err: Error) => {
    assert.match(err.message, /could not download https:\/\/files\.grouplens\.org\/datasets\/movielens\/ml-25m\.zip/);
    assert.match(err.message, /ENOTFOUND/);
    assert.match(err.message, /place the files by hand/);
    assert.ok(err.message.includes(path.join(dest, 'ml-25m', 'movies.csv')), err.message);
    assert.match(err.message, /sha256 8b21cfb7eb1706b4ec0aac894368d90acf26ebdfb6aced3ebd4ad5bd1eb9c6aa/);
    return true;
  });
  // A refused connection (nothing listens on port 1) takes the same path with the real fetch.
  await assert.rejects(fetchMovieLens('ml-latest-small', dest, { url: 'http://127.0.0.1:1/ml-latest-small.zip', log: () => {} }), /could not download .*place the files by hand/);
  await assert.rejects(fetchMovieLens('ml-1m', dest), /unknown data set "ml-1m": expected one of ml-latest-small, ml-25m/);
  assert.deepEqual(fs.readdirSync(dest), [], 'nothing left behind');
  fs.rmSync(dest, { recursive: true, force: true });
});

test('fetchMovieLens: checksum checked, archive unzipped into place atomically', { skip: hasZip() ? false : 'zip/unzip not installed' }, async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-zip-'));
  const src = path.join(work, 'src');
  const inner = path.join(src, 'ml-latest-small');
  fs.mkdirSync(inner, { recursive: true });
  for (const f of ['movies.csv', 'ratings.csv', 'tags.csv', 'links.csv', 'README.txt']) fs.writeFileSync(path.join(inner, f), `content of ${f}\n`);
  const zipPath = path.join(work, 'a.zip');
  execFileSync('zip', ['-q', '-r', zipPath, 'ml-latest-small'], { cwd: src });
  const bytes = fs.readFileSync(zipPath);
  const sha = createHash('sha256').update(bytes).digest('hex');
  const server = http.createServer((req, res) => {
    if (req.url === '/missing.zip') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/zip' }).end(bytes);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dest = path.join(work, 'dest');
  try {
    await assert.rejects(fetchMovieLens('ml-latest-small', dest, { url: `${base}/a.zip`, log: () => {} }), /checksum mismatch .*expected sha256 696d65a3/);
    assert.ok(!fs.existsSync(path.join(dest, 'ml-latest-small')));
    await assert.rejects(fetchMovieLens('ml-latest-small', dest, { url: `${base}/missing.zip`, log: () => {} }), /HTTP 404/);
    const dir = await fetchMovieLens('ml-latest-small', dest, { url: `${base}/a.zip`, sha256: sha, log: () => {} });
    assert.equal(dir, path.join(dest, 'ml-latest-small'));
    assert.equal(fs.readFileSync(path.join(dir, 'movies.csv'), 'utf8'), 'content of movies.csv\n');
    assert.deepEqual(fs.readdirSync(dest), ['ml-latest-small'], 'no temporary files left');
  } finally {
    server.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test('ensureMovieLens: uses a present folder, downloads a missing one, and never downloads past MOVIELENS_DIR', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-ensure-'));
  const oldRoot = process.env.SID_ROOT;
  process.env.SID_ROOT = root;
  let calls = 0;
  const offline = (async () => {
    calls += 1;
    throw new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND files.grouplens.org') });
  }) as typeof fetch;
  try {
    // Absent and offline: one download attempt, then the instructions; nothing is left behind.
    await assert.rejects(ensureMovieLens('ml-latest-small', { env: {}, fetch: offline, log: () => {} }), /could not download .*place the files by hand/);
    assert.equal(calls, 1);
    assert.ok(!fs.existsSync(path.join(root, 'data', 'movielens', 'ml-latest-small')));
    // MOVIELENS_DIR pointing at an empty folder: the lookup error, and no download.
    const empty = path.join(root, 'empty');
    fs.mkdirSync(empty);
    await assert.rejects(ensureMovieLens('ml-latest-small', { env: { MOVIELENS_DIR: empty }, fetch: offline, log: () => {} }), /not found \(looked in/);
    assert.equal(calls, 1);
    // Present under data/movielens: returned as it is.
    const dir = path.join(root, 'data', 'movielens', 'ml-latest-small');
    fs.mkdirSync(dir, { recursive: true });
    for (const f of ['movies.csv', 'ratings.csv', 'tags.csv']) fs.writeFileSync(path.join(dir, f), '');
    assert.equal(await ensureMovieLens('ml-latest-small', { env: {}, fetch: offline, log: () => {} }), dir);
    assert.equal(calls, 1);
  } finally {
    if (oldRoot === undefined) delete process.env.SID_ROOT;
    else process.env.SID_ROOT = oldRoot;
    fs.rmSync(root, { recursive: true, force: true });
  }
});
