/**
 * lib/embed/graphRewrite.ts on a small hand-written GraphModel: a 1x1 Conv2D becomes BatchMatMulV2
 * and gives the same output; a 3x3, a strided and a kernel-sharing Conv2D are left alone.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../lib/backend/index';
import { pointwiseConvsAsMatMuls, type GraphTopology, type WeightSpec } from '../lib/embed/graphRewrite';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const ints = (xs: number[]) => ({ list: { i: xs.map(String) } });
const float = { type: 1 };

function conv(name: string, input: string, kernel: string, strides = [1, 1, 1, 1], padding = 'VALID') {
  return { name, op: 'Conv2D', input: [input, kernel], attr: { T: float, strides: ints(strides), dilations: ints([1, 1, 1, 1]), padding: { s: b64(padding) }, data_format: { s: b64('NHWC') } } };
}
function constant(name: string, shape: number[]) {
  return { name, op: 'Const', attr: { dtype: float, value: { tensor: { dtype: 1, tensorShape: { dim: shape.map((s) => ({ size: String(s) })) } } } } };
}

const SPECS: WeightSpec[] = [
  { name: 'k1', shape: [1, 1, 3, 4], dtype: 'float32' },
  { name: 'k3', shape: [3, 3, 3, 2], dtype: 'float32' },
  { name: 'ks', shape: [1, 1, 3, 2], dtype: 'float32' },
  { name: 'kshared', shape: [1, 1, 3, 2], dtype: 'float32' },
];
const TOPOLOGY: GraphTopology & { versions: { producer: number } } = {
  versions: { producer: 1 },
  node: [
    { name: 'x', op: 'Placeholder', attr: { dtype: float, shape: { shape: { dim: [{ size: '-1' }, { size: '4' }, { size: '5' }, { size: '3' }] } } } as never },
    ...SPECS.map((w) => constant(w.name, w.shape)),
    conv('pointwise', 'x', 'k1'),
    conv('spatial', 'x', 'k3', [1, 1, 1, 1], 'SAME'),
    conv('strided', 'x', 'ks', [1, 2, 2, 1]),
    conv('shared1', 'x', 'kshared'),
    conv('shared2', 'x', 'kshared', [1, 1, 1, 1], 'SAME'),
  ],
};
const OUTPUTS = ['pointwise', 'spatial', 'strided', 'shared1', 'shared2'];

function weights(): ArrayBuffer {
  const n = SPECS.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7) * 0.5).buffer;
}

async function run(topology: GraphTopology, specs: WeightSpec[], x: tf.Tensor): Promise<Float32Array[]> {
  const model = await tf.loadGraphModel(tf.io.fromMemory({ modelTopology: topology as never, weightSpecs: specs as tf.io.WeightsManifestEntry[], weightData: weights() }));
  try {
    const outs = model.execute(x, OUTPUTS) as tf.Tensor[];
    const data = outs.map((t) => t.dataSync() as Float32Array);
    tf.dispose(outs);
    return data;
  } finally {
    model.dispose();
  }
}

before(async () => {
  await initBackend({ backend: 'wasm', threads: 1 });
});

test('only the pointwise, unstrided Conv2D with its own kernel is rewritten', () => {
  const before = JSON.stringify([TOPOLOGY, SPECS]);
  const r = pointwiseConvsAsMatMuls(TOPOLOGY, SPECS);
  assert.equal(r.rewritten, 1);
  assert.equal(JSON.stringify([TOPOLOGY, SPECS]), before, 'the inputs are not changed');
  const op = (name: string) => r.topology.node.find((n) => n.name === name)!.op;
  assert.deepEqual(OUTPUTS.map(op), ['BatchMatMulV2', 'Conv2D', 'Conv2D', 'Conv2D', 'Conv2D']);
  assert.deepEqual(r.weightSpecs.find((w) => w.name === 'k1')!.shape, [3, 4]);
  assert.deepEqual(r.weightSpecs.find((w) => w.name === 'ks')!.shape, [1, 1, 3, 2]);
});

test('the rewritten graph computes what the original does', async () => {
  const x = tf.tensor4d(Float32Array.from({ length: 2 * 4 * 5 * 3 }, (_, i) => Math.cos(i * 0.3)), [2, 4, 5, 3]);
  try {
    const original = await run(TOPOLOGY, SPECS, x);
    const r = pointwiseConvsAsMatMuls(TOPOLOGY, SPECS);
    const rewritten = await run(r.topology, r.weightSpecs, x);
    original.forEach((o, i) => {
      assert.equal(rewritten[i].length, o.length, OUTPUTS[i]);
      for (let j = 0; j < o.length; j++) assert.ok(Math.abs(rewritten[i][j] - o[j]) < 1e-5, `${OUTPUTS[i]}[${j}]`);
    });
  } finally {
    x.dispose();
  }
});
