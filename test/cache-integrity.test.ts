/**
 * Every kind of damage to what the cache folder holds (artifacts, saved models, training checkpoints),
 * made on real files: each is rebuilt, never used, with one stderr line naming the path and the fault.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ArtifactCache } from '../lib/pipeline/cache';
import { bundleProblem, DamagedBundleError, openCheckpoint, readBundle, writeBundle } from '../lib/generate/checkpoint';

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Runs `fn` and returns what it wrote to stderr. */
async function stderrOf(fn: () => Promise<unknown> | unknown): Promise<string> {
  const orig = process.stderr.write.bind(process.stderr);
  let out = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stderr.write;
  try {
    await fn();
  } finally {
    process.stderr.write = orig;
  }
  return out;
}

const manifestOf = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));

/** Damage recipes: each takes an artifact or bundle folder and breaks it one way. */
const DAMAGE: Array<[string, (dir: string) => void, RegExp]> = [
  ['manifest null', (d) => fs.writeFileSync(path.join(d, 'manifest.json'), 'null'), /manifest\.json holds null/],
  ['manifest an array', (d) => fs.writeFileSync(path.join(d, 'manifest.json'), '[1,2]'), /holds an array/],
  ['"files": null', (d) => fs.writeFileSync(path.join(d, 'manifest.json'), JSON.stringify({ ...manifestOf(d), files: null })), /"files" is null/],
  ['"files" entry malformed', (d) => {
    const m = manifestOf(d);
    m.files['arrays.bin'] = { bytes: 'many' };
    fs.writeFileSync(path.join(d, 'manifest.json'), JSON.stringify(m));
  }, /entry for arrays\.bin is malformed/],
  ['manifest truncated', (d) => fs.writeFileSync(path.join(d, 'manifest.json'), '{"format":'), /not valid JSON/],
  ['manifest missing', (d) => fs.rmSync(path.join(d, 'manifest.json')), /manifest\.json is missing/],
  ['data file replaced by a directory', (d) => {
    fs.rmSync(path.join(d, 'value.json'));
    fs.mkdirSync(path.join(d, 'value.json'));
  }, /value\.json is a directory/],
  ['data file replaced by a FIFO', (d) => {
    fs.rmSync(path.join(d, 'arrays.bin'));
    execFileSync('mkfifo', [path.join(d, 'arrays.bin')]);
  }, /arrays\.bin is a FIFO/],
  ['data file missing', (d) => fs.rmSync(path.join(d, 'arrays.bin')), /arrays\.bin is missing/],
  ['data file truncated', (d) => fs.truncateSync(path.join(d, 'arrays.bin'), 8), /arrays\.bin has 8 bytes/],
  ['bytes overwritten in place', (d) => {
    const p = path.join(d, 'arrays.bin');
    const b = fs.readFileSync(p);
    // 4,096 floats (or the whole file when smaller) overwritten, size unchanged.
    b.fill(0x7f, 0, Math.min(b.length, 4096 * 4));
    fs.writeFileSync(p, b);
  }, /arrays\.bin fails its sha256 check/],
  ['folder replaced by a file', (d) => {
    fs.rmSync(d, { recursive: true });
    fs.writeFileSync(d, 'not a folder');
  }, /is a regular file|not a directory/],
];

for (const [name, damage, expected] of DAMAGE) {
  test(`artifact with ${name} is rebuilt with one line naming it`, async () => {
    const cache = new ArtifactCache(tempDir('sid-integrity-'));
    let builds = 0;
    const build = () => ({ n: ++builds, v: new Float32Array(8192).fill(builds) });
    const first = await cache.getOrBuild('stage', { a: 1 }, [], build);
    damage(first.dir);
    let second: Awaited<ReturnType<typeof cache.getOrBuild<ReturnType<typeof build>>>> | undefined;
    const err = await stderrOf(async () => {
      second = await cache.getOrBuild('stage', { a: 1 }, [], build);
    });
    assert.equal(second!.cached, false);
    assert.equal(second!.value.n, 2);
    const lines = err.trim().split('\n');
    assert.equal(lines.length, 1, err);
    assert.ok(lines[0].includes(first.dir), lines[0]);
    assert.match(lines[0], expected);
    // The rebuilt artifact is sound and used from now on.
    const third = await cache.getOrBuild('stage', { a: 1 }, [], build);
    assert.equal(third.cached, true);
    assert.equal(third.value.n, 2);
    assert.equal(third.value.v[8191], 2);
  });
}

for (const [name, damage, expected] of DAMAGE) {
  test(`model bundle with ${name} is refused, naming the folder`, () => {
    const dir = path.join(tempDir('sid-bundle-'), 'model');
    writeBundle(dir, { w: new Float32Array(8192).fill(1.5), config: { d: 4 } });
    assert.equal(bundleProblem(dir), null);
    damage(dir);
    assert.throws(
      () => readBundle(dir),
      (e: unknown) => e instanceof DamagedBundleError && e.message.includes(dir) && (expected.test(e.message) || /is a regular file|not a directory/.test(e.message)),
    );
  });
}

test('an artifact whose saved model (a companion bundle) is damaged is rebuilt, model and all', async () => {
  const root = tempDir('sid-companion-');
  const cache = new ArtifactCache(root);
  const modelDir = path.join(root, 'models', 'm');
  let builds = 0;
  const build = () => {
    builds++;
    writeBundle(modelDir, { w: new Float32Array(16).fill(builds) });
    return { builds };
  };
  await cache.getOrBuild('experiment', {}, [], build, { companions: [modelDir] });
  const bin = path.join(modelDir, 'arrays.bin');
  const b = fs.readFileSync(bin);
  b[3] ^= 1;
  fs.writeFileSync(bin, b);
  const err = await stderrOf(async () => {
    const again = await cache.getOrBuild('experiment', {}, [], build, { companions: [modelDir] });
    assert.equal(again.cached, false);
    assert.equal(again.value.builds, 2);
  });
  assert.match(err, new RegExp(`companion ${modelDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is damaged: arrays\\.bin fails its sha256 check`));
  assert.equal(readBundle<{ w: Float32Array }>(modelDir).w[0], 2);
  // A missing model counts too.
  fs.rmSync(modelDir, { recursive: true });
  assert.equal(cache.readFiles('experiment', (await cache.getOrBuild('experiment', {}, [], build, { companions: [modelDir] })).key, { companions: [modelDir] }) !== null, true);
  assert.equal(builds, 3);
});

test('a training checkpoint with damage is reported and dropped; a sound one is resumed', () => {
  const root = tempDir('sid-ckpt-');
  const state = path.join(root, 'state');
  const best = path.join(root, 'best');
  writeBundle(state, { epoch: 0, bestEpoch: 0, weights: { w: new Float32Array(8192).fill(3) } });
  writeBundle(best, { weights: { w: new Float32Array(8192).fill(2) } });
  const ok = openCheckpoint<{ epoch: number; bestEpoch: number; weights: { w: Float32Array } }, { weights: { w: Float32Array } }>(state, best);
  assert.ok(ok);
  assert.equal(ok.state.weights.w[0], 3);
  assert.equal(ok.best?.weights.w[0], 2);

  // The case: 4,096 floats overwritten in the checkpoint after a killed training.
  const p = path.join(state, 'arrays.bin');
  const b = fs.readFileSync(p);
  new Float32Array(b.buffer, b.byteOffset, 4096).fill(0);
  fs.writeFileSync(p, b);
  const orig = process.stderr.write.bind(process.stderr);
  let err = '';
  process.stderr.write = ((c: string) => ((err += c), true)) as typeof process.stderr.write;
  let damaged: unknown;
  try {
    damaged = openCheckpoint(state, best);
  } finally {
    process.stderr.write = orig;
  }
  assert.equal(damaged, null);
  assert.match(err, new RegExp(`^\\[train\\] checkpoint ${state}: arrays\\.bin fails its sha256 check \\(bytes overwritten\\); training from the start\\n$`));
  assert.equal(fs.existsSync(state), false);
  assert.equal(fs.existsSync(best), false);
  assert.equal(openCheckpoint(state, best), null); // nothing there: a fresh start, silently

  // A state that records a best epoch whose weights are missing cannot be resumed faithfully.
  writeBundle(state, { epoch: 1, bestEpoch: 0, weights: {} });
  err = '';
  process.stderr.write = ((c: string) => ((err += c), true)) as typeof process.stderr.write;
  try {
    assert.equal(openCheckpoint(state, best), null);
  } finally {
    process.stderr.write = orig;
  }
  assert.match(err, /checkpoint .*best: missing; training from the start/);
});

test('bundles written by the old format (no manifest) are refused, not trusted', () => {
  const dir = tempDir('sid-oldbundle-');
  fs.writeFileSync(path.join(dir, 'value.json'), '{"a":1}');
  fs.writeFileSync(path.join(dir, 'arrays.bin'), Buffer.alloc(0));
  assert.throws(() => readBundle(dir), /manifest\.json is missing/);
});

test('publication never replaces a sound artifact, and replaces a damaged one without a gap', () => {
  const cache = new ArtifactCache(tempDir('sid-publish-'));
  const files = (n: number) => ({ 'value.json': JSON.stringify({ n }), 'arrays.bin': new Uint8Array(8) });
  const dir = cache.writeFiles('stage', 'k1', {}, [], files(1));
  // A second writer that lost the race: the sound artifact in place is kept, the new one discarded.
  cache.writeFiles('stage', 'k1', {}, [], files(2));
  assert.equal(JSON.parse(cache.readFiles('stage', 'k1')!['value.json'].toString()).n, 1);
  // Damaged in place: the next writer replaces it.
  fs.writeFileSync(path.join(dir, 'value.json'), '{"n":9}');
  assert.equal(cache.readFiles('stage', 'k1'), null);
  cache.writeFiles('stage', 'k1', {}, [], files(3));
  assert.equal(JSON.parse(cache.readFiles('stage', 'k1')!['value.json'].toString()).n, 3);
  // No temporary or set-aside folder is left next to it.
  assert.deepEqual(fs.readdirSync(path.dirname(dir)), ['k1']);
});
