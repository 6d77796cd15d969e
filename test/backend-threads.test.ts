/**
 * Backend selection and wasm threads, each in a child process (a process initialises tfjs once).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { projectRoot } from '../lib/util/fs';
import { initBackend } from '../lib/backend';

const root = projectRoot();
const backendModule = path.join(root, 'lib', 'backend', 'index.ts');

interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs an ESM snippet (with `initBackend` and `tf` imported) in a fresh node process. */
function runChild(body: string, env: Record<string, string | undefined> = {}, timeoutMs = 30_000): ChildResult {
  const code = `import { initBackend, tf, embeddingLookup } from ${JSON.stringify(backendModule)};\n${body}`;
  const childEnv: Record<string, string | undefined> = { ...process.env, SID_BACKEND: undefined, SID_THREADS: undefined, SID_QUIET: undefined, ...env };
  for (const k of Object.keys(childEnv)) if (childEnv[k] === undefined) delete childEnv[k];
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
    env: childEnv as NodeJS.ProcessEnv,
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

// A seeded matmul and a transposed-matmul gradient, printed as exact float bits.
const MATMUL_PROBE = `
const info = await initBackend();
const a = tf.randomUniform([300, 257], -1, 1, 'float32', 7);
const b = tf.randomUniform([257, 190], -1, 1, 'float32', 8);
const c = tf.matMul(a, b);
const g = tf.grad((x) => tf.sum(tf.square(tf.matMul(x, b))))(a);
// FNV-1a over the exact float bits, plus the element count.
const bits = (t) => { const u = new Uint32Array(new Float32Array(t.dataSync()).buffer); let h = 0x811c9dc5;
  for (const w of u) { h = Math.imul(h ^ w, 0x01000193) >>> 0; } return { n: u.length, h, first: t.dataSync()[0] }; };
// embeddingLookup reads the (shared, when threaded) wasm heap directly.
const ids = Int32Array.from([4, 0, 4, 299]);
const rows = embeddingLookup(a, ids);
const same = JSON.stringify(Array.from(rows.dataSync())) === JSON.stringify(Array.from(tf.gather(a, tf.tensor1d(ids, 'int32')).dataSync()));
const ge = tf.grad((t) => tf.sum(tf.square(embeddingLookup(t, ids))))(a);
console.log(JSON.stringify({ info, c: bits(c), g: bits(g), same, ge: bits(ge) }));
`;

test('wasm runs with 2 threads, gives the single-thread results bit for bit, and the process exits by itself', () => {
  // The wasm kernels' own threads (OpenBLAS may split a product's sums differently by thread count on
  // some CPUs; test/backend-native-threads.test.ts covers the native side).
  const two = runChild(MATMUL_PROBE, { SID_THREADS: '2', SID_NATIVE: '0' });
  assert.equal(two.signal, null, `threaded child was killed (did not exit by itself): ${two.stderr}`);
  assert.equal(two.status, 0, two.stderr);
  const one = runChild(MATMUL_PROBE, { SID_THREADS: '1', SID_QUIET: '1', SID_NATIVE: '0' });
  assert.equal(one.status, 0, one.stderr);
  assert.equal(one.stderr.includes('[backend]'), false, 'SID_QUIET=1 must silence the report');
  const r2 = JSON.parse(two.stdout.trim().split('\n').pop()!);
  const r1 = JSON.parse(one.stdout.trim().split('\n').pop()!);
  assert.equal(r2.info.name, 'wasm');
  // info.threads is read back from the backend (tfjs-backend-wasm getThreadsCount), not the request.
  assert.ok(r2.info.threads > 1, `expected more than one wasm thread, backend reports ${r2.info.threads}`);
  assert.equal(r1.info.threads, 1);
  assert.match(two.stderr, /\[backend\] wasm \(simd, 2 threads\)/);
  assert.equal(r2.c.n, 300 * 190);
  assert.equal(r2.g.n, 300 * 257);
  assert.notEqual(r2.c.first, 0);
  assert.deepEqual(r2.c, r1.c, 'threaded matmul differs from single-thread');
  assert.deepEqual(r2.g, r1.g, 'threaded gradient differs from single-thread');
  assert.equal(r2.same, true, 'embeddingLookup on threaded wasm differs from tf.gather');
  assert.deepEqual(r2.ge, r1.ge);
});

test('SID_BACKEND forces a backend; unknown or unavailable ones are clear errors', () => {
  const cpu = runChild(`const i = await initBackend(); console.log(JSON.stringify({ i, active: tf.getBackend() }));`, { SID_BACKEND: 'cpu' });
  assert.equal(cpu.status, 0, cpu.stderr);
  const out = JSON.parse(cpu.stdout.trim());
  assert.equal(out.i.name, 'cpu');
  assert.equal(out.active, 'cpu');
  assert.match(cpu.stderr, /\[backend\] cpu/);

});

test('bad or unavailable backend settings are clear errors', async () => {
  const saved = { b: process.env.SID_BACKEND, t: process.env.SID_THREADS };
  try {
    delete process.env.SID_THREADS;
    process.env.SID_BACKEND = 'cuda';
    await assert.rejects(initBackend(), /SID_BACKEND: unknown backend 'cuda'; expected one of webgpu, tfjs-node-gpu, tfjs-node, wasm, cpu/);
    // Here '@tensorflow/tfjs-node' is either absent or the danfojs override alias of plain tfjs.
    process.env.SID_BACKEND = 'tfjs-node';
    await assert.rejects(initBackend(), /forced backend 'tfjs-node'.*(not installed|an alias, not the native backend)/);
    delete process.env.SID_BACKEND;
    process.env.SID_THREADS = 'two';
    await assert.rejects(initBackend(), /SID_THREADS: threads must be an integer >= 1, got 'two'/);
    await assert.rejects(initBackend({ backend: 'cpu', threads: 0 }), /initBackend\(\{ threads \}\): threads must be an integer >= 1, got '0'/);
  } finally {
    if (saved.b === undefined) delete process.env.SID_BACKEND;
    else process.env.SID_BACKEND = saved.b;
    if (saved.t === undefined) delete process.env.SID_THREADS;
    else process.env.SID_THREADS = saved.t;
  }
});

test('without settings the chain falls through the absent native backends to wasm, once', () => {
  const r = runChild(
    `const a = await initBackend(); const b = await initBackend();
     let err = ''; try { await initBackend({ backend: 'cpu' }); } catch (e) { err = e.message; }
     console.log(JSON.stringify({ a, same: a === b, err, active: tf.getBackend() }));`,
    { SID_THREADS: '1' },
  );
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim());
  assert.equal(out.a.name, 'wasm');
  assert.equal(out.active, 'wasm');
  assert.equal(out.same, true);
  assert.match(out.err, /already initialised as 'wasm', cannot switch to 'cpu'/);
  assert.equal((r.stderr.match(/\[backend\]/g) ?? []).length, 1, 'the choice is printed once');
});
