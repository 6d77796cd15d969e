/**
 * The models on webgpu equal the same runs on wasm, and beam search on webgpu equals exhaustive
 * scoring. Each backend runs in its own child process (this file, with SID_WEBGPU_CHILD set), so no
 * process holds two backends. Skips, saying why, where Dawn finds no WebGPU adapter.
 *
 * Tolerances: both backends compute in float32 but sum in different orders, and Adam divides by
 * sqrt(v), so coordinates with near-zero gradients can drift apart. After two epochs of the tiny
 * seq2seq (lr 1e-2, 120 steps) epoch losses must agree to 1e-4 (relative above 1) and every weight
 * to 2e-4; after five bi-encoder steps, losses to 1e-5 and embeddings to 1e-4. Observed gaps on
 * llvmpipe are about twenty times smaller than these bounds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The environment for a nested test run: without the parent runner's context, it reports as TAP. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  return env;
}
import { probeWebGpu } from '../lib/backend/webgpu';

const CHILD = process.env.SID_WEBGPU_CHILD === 'train';
const SELF = fileURLToPath(import.meta.url);

interface RunResult {
  backend: string;
  seq2seq: { losses: number[]; weights: Record<string, number[]>; leaked: number };
  biencoder: Record<'sparse' | 'dense', { losses: number[]; encoded: number[]; leaked: number; afterDispose: number }>;
}

/** Child: trains the tiny models on the backend SID_BACKEND_OVERRIDE names; prints one JSON line. */
async function runChild(): Promise<void> {
  process.env.SID_QUIET = '1';
  const { initBackend, tf } = await import('../lib/backend');
  const { trainGenerativeModel } = await import('../lib/generate/jointModel');
  const { TextTower } = await import('../lib/embed/textTower');
  const { Rng } = await import('../lib/util/random');
  const { TINY_MODEL, tinyData, tinyVocab } = await import('./generate-fixtures');
  const info = await initBackend({ threads: 1 });

  const n0 = tf.memory().numTensors;
  const opts = {
    model: TINY_MODEL, tokenizer: { minCount: 1, hashBuckets: 8 }, historyLength: 3, epochs: 2, batchSize: 24, lr: 1e-2,
    warmupFraction: 0.05, seed: 1, validLimit: 0,
  };
  const { model, history } = await trainGenerativeModel(tinyData(), tinyVocab(), { search: 'shared', rec: 'shared' }, opts);
  const weights: Record<string, number[]> = {};
  for (const [k, v] of model.net.getWeights()) weights[k] = Array.from(v as Float32Array);
  model.net.dispose();
  const seq2seq = { losses: history.map((h) => h.trainLoss), weights, leaked: tf.memory().numTensors - n0 };

  const rng = new Rng(8);
  const bag = (n: number, per: number, vocab: number) => ({
    offsets: Int32Array.from({ length: n + 1 }, (_, i) => i * per),
    ids: Int32Array.from({ length: n * per }, () => rng.int(vocab)),
    weights: new Float32Array(n * per).fill(1 / per),
  });
  const batch = { anchors: bag(32, 5, 500), positives: bag(32, 5, 500), keysA: null, keysP: Int32Array.from({ length: 32 }, (_, i) => i) };
  const biencoder = {} as RunResult['biencoder'];
  for (const tableUpdate of ['sparse', 'dense'] as const) {
    const before = tf.memory().numTensors;
    const tower = new TextTower({ rows: 500, dim: 16, tableUpdate, seed: 1 });
    // The optimizer creates its state on the first step: count from there.
    const losses = [tower.trainStep(batch)];
    const m0 = tf.memory().numTensors;
    for (let s = 1; s < 5; s++) losses.push(tower.trainStep(batch));
    const encoded = Array.from(tower.encode(batch.anchors));
    const leaked = tf.memory().numTensors - m0;
    tower.dispose();
    biencoder[tableUpdate] = { losses, encoded, leaked, afterDispose: tf.memory().numTensors - before };
  }
  const out: RunResult = { backend: info.name, seq2seq, biencoder };
  process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
}

function runOn(backend: 'wasm' | 'webgpu'): RunResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', SELF], {
    env: { ...childEnv(), SID_WEBGPU_CHILD: 'train', SID_BACKEND_OVERRIDE: backend },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `${backend} child failed (exit ${r.status}, signal ${r.signal}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(line.slice('RESULT '.length)) as RunResult;
}

function maxAbsDiff(a: number[], b: number[]): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function closeRel(a: number, b: number, rel: number, what: string): void {
  assert.ok(Number.isFinite(a) && Number.isFinite(b), `${what}: ${a} vs ${b}`);
  assert.ok(Math.abs(a - b) <= rel * Math.max(1, Math.abs(b)), `${what}: webgpu ${a} vs wasm ${b}`);
}

if (CHILD) {
  await runChild();
} else {
  const probe = await probeWebGpu();
  const skip = probe.ok ? false : `no WebGPU adapter: ${probe.reason}`;

  test('tiny seq2seq and bi-encoder trained on webgpu equal the same runs on wasm; no tensor leaks', { skip }, () => {
    const gpu = runOn('webgpu');
    const cpu = runOn('wasm');
    assert.equal(gpu.backend, 'webgpu');
    assert.equal(cpu.backend, 'wasm');
    assert.equal(gpu.seq2seq.leaked, 0, 'seq2seq training leaked tensors on webgpu');
    assert.equal(gpu.seq2seq.losses.length, 2);
    gpu.seq2seq.losses.forEach((l, i) => closeRel(l, cpu.seq2seq.losses[i], 1e-4, `seq2seq epoch ${i} loss`));
    const names = Object.keys(cpu.seq2seq.weights);
    assert.deepEqual(Object.keys(gpu.seq2seq.weights).sort(), [...names].sort());
    for (const k of names) {
      const d = maxAbsDiff(gpu.seq2seq.weights[k], cpu.seq2seq.weights[k]);
      assert.ok(d < 2e-4, `seq2seq weight ${k}: max |webgpu - wasm| = ${d}`);
    }
    for (const mode of ['sparse', 'dense'] as const) {
      const g = gpu.biencoder[mode];
      const c = cpu.biencoder[mode];
      assert.equal(g.leaked, 0, `bi-encoder (${mode}) leaked tensors across steps on webgpu`);
      // What dispose leaves behind is the tower's own business; it must not differ by backend.
      assert.equal(g.afterDispose, c.afterDispose, `bi-encoder (${mode}) tensors left after dispose: webgpu ${g.afterDispose}, wasm ${c.afterDispose}`);
      g.losses.forEach((l, i) => closeRel(l, c.losses[i], 1e-5, `bi-encoder (${mode}) step ${i} loss`));
      assert.ok(g.losses[4] < g.losses[0], `bi-encoder (${mode}) loss decreases: ${g.losses[0]} -> ${g.losses[4]}`);
      const d = maxAbsDiff(g.encoded, c.encoded);
      assert.ok(d < 1e-4, `bi-encoder (${mode}) embeddings: max |webgpu - wasm| = ${d}`);
    }
  });

  test('beam search on webgpu equals exhaustive scoring (the generate tests, rerun on webgpu)', { skip }, () => {
    // The known-answer decoding tests of test/generate.test.ts, on the device.
    const pattern = '^(beam search as wide as all valid IDs|excluded items are never returned|one group equals plain beam search|padding never changes)';
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-name-pattern=${pattern}`, 'test/generate.test.ts'], {
      env: { ...childEnv(), SID_BACKEND_OVERRIDE: 'webgpu' },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    const out = r.stdout;
    const pass = Number(/# pass (\d+)/.exec(out)?.[1] ?? 0);
    const fail = Number(/# fail (\d+)/.exec(out)?.[1] ?? -1);
    assert.equal(r.status, 0, `generate tests on webgpu failed:\n${out.slice(-3000)}\n${r.stderr.slice(-1000)}`);
    assert.equal(fail, 0);
    assert.ok(pass >= 4, `expected the 4 decoding tests to run and pass, ${pass} passed`);
  });
}
