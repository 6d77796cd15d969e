/**
 * The webgpu backend (Dawn) on this machine's adapter: on CI the software device (Mesa's llvmpipe,
 * installed by environment/setup.sh). Skips, saying why, where Dawn finds no adapter.
 *
 * - Its own pieces against known answers: synchronous reads of values computed on the device, AddN
 *   over more inputs than a shader may bind, the adapter report, automatic choice refusing software.
 * - The kernel and custom-gradient test files written for wasm, rerun on webgpu in a child process
 *   (SID_BACKEND_OVERRIDE=webgpu) with tfjs's CPU forwarding of small ops off, so that every op they
 *   check runs on the device; their known answers are the same.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { initBackend, tf } from '../lib/backend';

/** The environment for a nested test run: without the parent runner's context, it reports as TAP. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  return env;
}
import * as fs from 'node:fs';
import { formatAdapter, probeWebGpu, releaseWebGpuGarbage, startWebGpuBackend } from '../lib/backend/webgpu';

const probe = await probeWebGpu();
const skip = probe.ok ? false : `no WebGPU adapter: ${probe.reason}`;

before(async () => {
  if (!probe.ok) return;
  if (probe.report.software) {
    const auto = await startWebGpuBackend({ allowSoftware: false });
    assert.equal(auto.ok, false, 'a software adapter must not be taken automatically');
    assert.match((auto as { reason: string }).reason, /software adapter/);
  }
  process.env.SID_QUIET = '1';
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  const info = await initBackend({ backend: 'webgpu' });
  assert.equal(info.name, 'webgpu');
});

test('the adapter report names vendor, architecture and limits, and flags a software adapter', { skip }, () => {
  if (!probe.ok) return;
  const r = probe.report;
  assert.ok(r.vendor.length > 0 && r.architecture.length > 0);
  assert.ok(r.limits.maxBufferSize > 0 && r.limits.maxStorageBufferBindingSize > 0);
  const line = formatAdapter(r);
  assert.match(line, new RegExp(`^${r.vendor} ${r.architecture}`));
  assert.equal(/SOFTWARE adapter/.test(line), r.software);
  if (/llvmpipe/.test(`${r.device} ${r.description}`)) assert.equal(r.software, true);
});

test('synchronous reads return values computed on the device (float32, int32, bool)', { skip }, () => {
  const n = 64;
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    // Row i of A is i, so (A x ones) has every entry of row i equal to n * i.
    const a = tf.tile(tf.reshape(tf.range(0, n, 1, 'float32'), [n, 1]), [1, n]);
    const y = tf.matMul(a, tf.ones([n, n]));
    const v = y.dataSync();
    for (let i = 0; i < n; i++) for (const j of [0, 17, n - 1]) assert.equal(v[i * n + j], n * i, `(${i},${j})`);
    const ints = tf.add(tf.range(0, 5000, 1, 'int32'), tf.range(0, 5000, 1, 'int32'));
    const iv = ints.dataSync();
    assert.ok(iv instanceof Int32Array);
    for (const i of [0, 1, 2499, 4999]) assert.equal(iv[i], 2 * i);
    const mask = tf.greater(tf.range(0, 5000, 1, 'float32'), 2500.5);
    const bv = mask.dataSync();
    assert.ok(bv instanceof Uint8Array);
    assert.equal(bv[2500], 0);
    assert.equal(bv[2501], 1);
    assert.equal(Array.from(bv).reduce((s, x) => s + x, 0), 5000 - 2501);
    assert.deepEqual((tf.reshape(ints, [2, 2500]).arraySync() as number[][])[1].slice(0, 2), [5000, 5002]);
  });
  assert.equal(tf.memory().numTensors, before);
});

test('AddN over more inputs than a shader may bind equals the sum (a weight used 30 times)', { skip }, () => {
  tf.tidy(() => {
    const parts = Array.from({ length: 30 }, (_, i) => tf.fill([2000], i));
    const s = tf.addN(parts).dataSync();
    assert.equal(s[0], 435);
    assert.equal(s[1999], 435);
    // The gradient of a tensor used k times is an AddN of k terms: d/dx sum_k (k+1) x = sum (k+1).
    const x = tf.ones([3000]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.addN(Array.from({ length: 30 }, (_, k) => tf.mul(t, k + 1)))))(x).dataSync();
    assert.equal(g[0], 465);
    assert.equal(g[2999], 465);
  });
});

test('a long loop that awaits releaseWebGpuGarbage keeps the process memory mappings bounded', {
  skip: skip || (fs.existsSync('/proc/self/maps') ? false : 'needs /proc/self/maps'),
}, async () => {
  // Without the awaits, Dawn objects of every dispatch live until the loop ends (on llvmpipe one
  // memory mapping each): these 6,000 dispatches then add about 5,500 mappings, with them about 130.
  const maps = () => fs.readFileSync('/proc/self/maps', 'utf8').split('\n').length;
  const x = tf.randomNormal([64, 64]);
  for (let i = 0; i < 200; i++) tf.tidy(() => tf.relu(tf.add(x, i))).dispose();
  await releaseWebGpuGarbage();
  const m0 = maps();
  for (let i = 0; i < 3000; i++) {
    tf.tidy(() => tf.relu(tf.add(x, i))).dispose();
    if (i % 250 === 0) await releaseWebGpuGarbage();
  }
  await releaseWebGpuGarbage();
  const grown = maps() - m0;
  x.dispose();
  assert.ok(grown < 1000, `memory mappings grew by ${grown} over 6,000 dispatches`);
});

/** Runs test files on webgpu in a child `node --test`; returns how many tests passed. */
function rerunOnWebGpu(files: string[], pattern?: string): number {
  const args = ['--import', 'tsx', '--test', '--test-concurrency=1', ...(pattern ? [`--test-name-pattern=${pattern}`] : []), ...files];
  const r = spawnSync(process.execPath, args, {
    env: { ...childEnv(), SID_BACKEND_OVERRIDE: 'webgpu', SID_WEBGPU_CPU_FORWARD: '0', SID_QUIET: '1' },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const out = r.stdout;
  const fail = Number(/# fail (\d+)/.exec(out)?.[1] ?? -1);
  assert.equal(r.status, 0, `${files.join(', ')} on webgpu failed:\n${out.slice(-4000)}\n${r.stderr.slice(-1000)}`);
  assert.equal(fail, 0);
  return Number(/# pass (\d+)/.exec(out)?.[1] ?? 0);
}

// The GPU bundle (environment/gpu-bundle.sh) runs those files itself, without tsx.
const rerunSkip = skip || (process.env.SID_BUNDLE === '1' ? 'in the GPU bundle, which runs the kernel test files directly' : false);

test('the wasm kernel and custom-gradient tests pass on webgpu against the same known answers', { skip: rerunSkip }, () => {
  const passed = rerunOnWebGpu(['test/backend-ops.test.ts', 'test/embed-kernels.test.ts']);
  assert.ok(passed >= 8, `expected the kernel tests to run and pass, ${passed} passed`);
  // backend-matmul's first test asserts that the wasm matmul wrappers are registered on wasm: left out.
  const matmul = rerunOnWebGpu(['test/backend-matmul.test.ts'],
    '^(tf\\.matMul equals a brute-force|matMul gradients equal|fused matMul|no tensors or backend buffers leak)');
  assert.equal(matmul, 4, `expected the 4 matmul value and gradient tests to pass, ${matmul} passed`);
});
