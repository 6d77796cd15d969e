/**
 * GatherV2 and Concat as heap block copies (lib/backend/nativeCopy.ts) against the wasm kernels they
 * replace, on every axis, with repeated and out-of-order indices, int32 and float32, size-1 and empty
 * axes; bad indices are refused.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { initBackend, nativeCallCount, nativeKernelsInstalled, setNativeEnabled, tf } from '../lib/backend';
import { nativeAddonPath } from '../lib/backend/native';
import { Rng } from '../lib/util/random';

const expectNative = process.env.SID_NATIVE !== '0' && fs.existsSync(nativeAddonPath());

before(async () => {
  await initBackend({ backend: 'wasm', threads: 1 });
});

/** The op's values and shape with the heap kernels on, then with the wasm kernels. */
function bothWays(f: () => tf.Tensor): { native: { shape: number[]; values: number[] }; wasm: { shape: number[]; values: number[] } } {
  const read = () => tf.tidy(() => {
    const t = f();
    return { shape: t.shape, values: Array.from(t.dataSync()) };
  });
  const calls = nativeCallCount();
  const native = read();
  assert.ok(nativeCallCount() > calls, 'the heap kernel ran');
  const was = setNativeEnabled(false);
  try {
    return { native, wasm: read() };
  } finally {
    setNativeEnabled(was);
  }
}

test('gather and concat by block copies equal the wasm kernels', { skip: expectNative ? false : 'native addon not built' }, () => {
  assert.ok(nativeKernelsInstalled('wasm').includes('GatherV2') && nativeKernelsInstalled('wasm').includes('Concat'));
  const rng = new Rng(31);
  const shapes = [[5], [4, 3], [6, 1, 5], [3, 4, 2, 5], [2, 0, 3]];
  for (const shape of shapes) {
    for (const dtype of ['float32', 'int32'] as const) {
      const size = shape.reduce((p, d) => p * d, 1);
      const x = tf.tensor(Array.from({ length: size }, () => (dtype === 'int32' ? rng.int(1000) : rng.normal())), shape, dtype);
      for (let axis = 0; axis < shape.length; axis++) {
        const what = `${dtype} ${JSON.stringify(shape)} axis ${axis}`;
        if (shape[axis] > 0) {
          // Repeated, reversed and shuffled indices, as beam search's parents are; a 2-D index tensor too.
          const idx = Array.from({ length: 7 }, () => rng.int(shape[axis]));
          const r = bothWays(() => tf.gather(x, tf.tensor1d(idx, 'int32'), axis));
          const expected = [...shape.slice(0, axis), 7, ...shape.slice(axis + 1)];
          assert.deepEqual(r.native.shape, expected, `gather ${what}: shape`);
          // tfjs's wasm Gather gets the shape of an empty result wrong: only the values compare there.
          if (size === 0) assert.deepEqual(r.native.values, r.wasm.values, `gather ${what}`);
          else assert.deepEqual(r.native, r.wasm, `gather ${what}`);
          const r2 = bothWays(() => tf.gather(x, tf.tensor2d([idx.slice(0, 3), idx.slice(3, 6)], [2, 3], 'int32'), axis));
          if (size > 0) assert.deepEqual(r2.native, r2.wasm, `gather 2-D indices ${what}`);
          assert.throws(() => tf.tidy(() => tf.gather(x, tf.tensor1d([0, shape[axis]], 'int32'), axis).dataSync()), /GatherV2: indices\[1\] = \d+ is not in/);
        }
        const other = shape.slice();
        other[axis] = 2;
        const y = tf.tensor(Array.from({ length: other.reduce((p, d) => p * d, 1) }, () => (dtype === 'int32' ? rng.int(1000) : rng.normal())), other, dtype);
        const c = bothWays(() => tf.concat([x, y, x], axis));
        assert.deepEqual(c.native, c.wasm, `concat ${what}`);
        y.dispose();
      }
      x.dispose();
    }
  }
});

test('no tensors leak through the heap copies', { skip: expectNative ? false : 'native addon not built' }, () => {
  const x = tf.randomNormal([40, 4, 3, 16]);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) tf.tidy(() => tf.concat([tf.gather(x, tf.tensor1d([3, 1, 1, 0], 'int32')), tf.gather(x, tf.tensor1d([2, 2, 3, 39], 'int32'))], 2).dataSync());
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
});
