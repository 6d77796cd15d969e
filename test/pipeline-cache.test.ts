import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ArtifactCache, artifactKey, canonicalJson } from '../lib/pipeline/cache';
import { decodeValue, encodeValue } from '../lib/util/codec';

function tempCache(): ArtifactCache {
  return new ArtifactCache(fs.mkdtempSync(path.join(os.tmpdir(), 'sid-cache-')));
}

test('codec round-trips typed arrays of every kind inside nested objects', () => {
  const value = {
    name: 'x',
    f32: new Float32Array([1.5, -2, 3.25]),
    nested: [{ i32: new Int32Array([7, -8]) }, { u8: new Uint8Array([1, 2, 3]) }],
    f64: new Float64Array([Math.PI]),
    sub: new Float32Array([9, 8, 7, 6]).subarray(1, 3),
  };
  const files = encodeValue(value);
  const back = decodeValue<typeof value>(files['value.json'], files['arrays.bin']);
  assert.equal(back.name, 'x');
  assert.deepEqual(Array.from(back.f32), [1.5, -2, 3.25]);
  assert.ok(back.nested[0].i32 instanceof Int32Array);
  assert.deepEqual(Array.from(back.nested[0].i32), [7, -8]);
  assert.deepEqual(Array.from(back.nested[1].u8 ?? []), [1, 2, 3]);
  assert.equal(back.f64[0], Math.PI);
  assert.deepEqual(Array.from(back.sub), [8, 7]);
});

test('keys depend on config (not key order) and on inputs', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: 2, c: 3 } }), '{"a":{"c":3,"d":2},"b":1}');
  assert.equal(artifactKey('s', { a: 1, b: 2 }), artifactKey('s', { b: 2, a: 1 }));
  assert.notEqual(artifactKey('s', { a: 1 }), artifactKey('s', { a: 2 }));
  assert.notEqual(artifactKey('s', { a: 1 }, ['k1']), artifactKey('s', { a: 1 }, ['k2']));
  assert.notEqual(artifactKey('s', { a: 1 }), artifactKey('t', { a: 1 }));
});

test('second call reuses the artifact without building', async () => {
  const cache = tempCache();
  let builds = 0;
  const build = () => {
    builds++;
    return { v: new Float32Array([1, 2, 3]) };
  };
  const a = await cache.getOrBuild('stage', { n: 3 }, [], build);
  const b = await cache.getOrBuild('stage', { n: 3 }, [], build);
  assert.equal(builds, 1);
  assert.equal(a.cached, false);
  assert.equal(b.cached, true);
  assert.deepEqual(Array.from(b.value.v), [1, 2, 3]);
});

test('a damaged or partial artifact is detected and rebuilt, never used', async () => {
  const cache = tempCache();
  let builds = 0;
  const build = () => ({ v: new Float32Array([++builds]) });
  const first = await cache.getOrBuild('stage', {}, [], build);
  // Corrupt one byte of the binary part.
  const bin = path.join(first.dir, 'arrays.bin');
  const bytes = fs.readFileSync(bin);
  bytes[0] ^= 0xff;
  fs.writeFileSync(bin, bytes);
  const second = await cache.getOrBuild('stage', {}, [], build);
  assert.equal(second.cached, false);
  assert.equal(second.value.v[0], 2);
  // Remove the manifest: a directory without one is partial.
  fs.rmSync(path.join(second.dir, 'manifest.json'));
  const third = await cache.getOrBuild('stage', {}, [], build);
  assert.equal(third.cached, false);
  assert.equal(third.value.v[0], 3);
  // Truncate the JSON part.
  fs.writeFileSync(path.join(third.dir, 'value.json'), '{"v":');
  const fourth = await cache.getOrBuild('stage', {}, [], build);
  assert.equal(fourth.cached, false);
  assert.equal(fourth.value.v[0], 4);
  const fifth = await cache.getOrBuild('stage', {}, [], build);
  assert.equal(fifth.cached, true);
  assert.equal(fifth.value.v[0], 4);
});

test('a failing build leaves nothing behind', async () => {
  const cache = tempCache();
  await assert.rejects(
    cache.getOrBuild('stage', { x: 1 }, [], () => {
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal(fs.existsSync(path.join(cache.root, 'stage')), false);
});
