/**
 * Two real processes on one cache: no work is done twice, nobody sees a partial artifact, and a lock
 * left by a killed process is taken over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ArtifactCache } from '../lib/pipeline/cache';

const WORKER = path.join(import.meta.dirname ?? __dirname, 'helpers', 'cache-worker.ts');

function start(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; out: string; err: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SID_QUIET: '1' } });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b) => (out += b));
  child.stderr!.on('data', (b) => (err += b));
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on('close', (code) => resolve({ code, out, err })));
  return { child, done };
}

test('two writers and a reader on the same keys: each artifact built once, every value read intact', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-concurrent-'));
  const log = path.join(root, 'builds.log');
  const rounds = 4;
  const keys = 6;
  const runs = [
    start(['write', root, String(rounds), String(keys), log, 'a']),
    start(['write', root, String(rounds), String(keys), log, 'b']),
    start(['read', root, String(rounds), String(keys), '8']),
  ];
  const results = await Promise.all(runs.map((r) => r.done));
  for (const r of results) assert.equal(r.code, 0, r.err);
  const builds = fs.readFileSync(log, 'utf8').trim().split('\n');
  const perKey = new Map<string, number>();
  for (const line of builds) {
    const [, r, k] = line.split(' ');
    perKey.set(`${r}/${k}`, (perKey.get(`${r}/${k}`) ?? 0) + 1);
  }
  assert.equal(perKey.size, rounds * keys);
  for (const [k, n] of perKey) assert.equal(n, 1, `key ${k} was built ${n} times`);
  // Both writers did some of the work (they met in the middle).
  assert.ok(builds.some((l) => l.startsWith('a ')) && builds.some((l) => l.startsWith('b ')));
  // Nothing half-written left behind, and no lock outlives its process.
  assert.deepEqual(fs.readdirSync(path.join(root, 'stage')).filter((n) => n.startsWith('.')), []);
  assert.deepEqual(fs.readdirSync(path.join(root, '.locks')), []);
  const cache = new ArtifactCache(root);
  for (const dir of fs.readdirSync(path.join(root, 'stage'))) assert.ok(cache.readFiles('stage', dir), dir);
});

test('a lock left by a killed process is taken over', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-stale-'));
  const holder = start(['hold', root]);
  await new Promise<void>((resolve) => holder.child.stdout!.on('data', (b) => String(b).includes('building') && resolve()));
  const locks = fs.readdirSync(path.join(root, '.locks'));
  assert.equal(locks.length, 1);
  assert.equal(JSON.parse(fs.readFileSync(path.join(root, '.locks', locks[0]), 'utf8')).pid, holder.child.pid);
  holder.child.kill('SIGKILL');
  await holder.done;
  // The lock file is still there (SIGKILL runs no cleanup), but its owner is gone.
  assert.equal(fs.readdirSync(path.join(root, '.locks')).length, 1);
  const cache = new ArtifactCache(root);
  const res = await cache.getOrBuild('stage', { held: true }, [], () => ({ ok: 1 }));
  assert.equal(res.cached, false);
  assert.equal(res.value.ok, 1);
  assert.deepEqual(fs.readdirSync(path.join(root, '.locks')), []);
});

test('a live lock holder is waited for, then its artifact is used', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-wait-'));
  const log = path.join(root, 'builds.log');
  const writer = start(['write', root, '1', '1', log, 'a']);
  // Wait until the writer holds the lock (its build has started), then ask for the same key here.
  while (!fs.existsSync(log)) await new Promise((r) => setTimeout(r, 5));
  const cache = new ArtifactCache(root);
  let built = false;
  const res = await cache.getOrBuild('stage', { r: 0, k: 0 }, [], () => {
    built = true;
    return {};
  });
  assert.equal((await writer.done).code, 0);
  assert.equal(built, false);
  assert.equal(res.cached, true);
  assert.equal((res.value as { r: number }).r, 0);
});
