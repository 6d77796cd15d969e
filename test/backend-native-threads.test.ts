/**
 * The native kernels on the threaded wasm build (its heap is a SharedArrayBuffer): one thread
 * setting for both pools, and products right after the heap has grown.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { initBackend, nativeKernelsInstalled, setNativeEnabled, tf } from '../lib/backend';
import { nativeAddonPath } from '../lib/backend/native';

const expectNative = process.env.SID_NATIVE !== '0' && fs.existsSync(nativeAddonPath());

test('threaded wasm: BLAS gets the same thread count, and products match the wasm kernels after heap growth', async () => {
  const info = await initBackend({ backend: 'wasm', threads: 2 });
  assert.equal(info.threads, 2, 'wasm threads');
  assert.equal(nativeKernelsInstalled('wasm').length > 0, expectNative);
  if (expectNative) assert.equal(info.native?.threads, 2, 'OpenBLAS threads follow the same setting');
  const heapBefore = (tf.backend() as unknown as { wasm: { wasmMemory?: WebAssembly.Memory } }).wasm.wasmMemory?.buffer.byteLength ?? 0;
  // 96 MiB more than the heap had: it must grow, and the kernels must see the grown buffer.
  const big = tf.zeros([24 * 1024 * 1024]);
  const heapAfter = (tf.backend() as unknown as { wasm: { wasmMemory?: WebAssembly.Memory } }).wasm.wasmMemory?.buffer.byteLength ?? 0;
  assert.ok(heapAfter > heapBefore, `heap grew (${heapBefore} -> ${heapAfter})`);
  const a = tf.randomNormal([3, 200, 150], 0, 1, 'float32', 5);
  const b = tf.randomNormal([150, 170], 0, 1, 'float32', 6);
  const run = (on: boolean) => {
    const prev = setNativeEnabled(on);
    try {
      return tf.tidy(() => [tf.matMul(a, b), tf.matMul(a, tf.transpose(b), false, true), tf.mul(a, 2)].map((t) => t.dataSync()));
    } finally {
      setNativeEnabled(prev);
    }
  };
  const native = run(true);
  const wasm = run(false);
  for (let i = 0; i < wasm.length; i++) {
    let worst = 0;
    for (let j = 0; j < wasm[i].length; j++) worst = Math.max(worst, Math.abs(native[i][j] - wasm[i][j]) / (1 + Math.abs(wasm[i][j])));
    assert.ok(worst <= 1e-5, `output ${i}: native vs wasm ${worst}`);
  }
  tf.dispose([big, a, b]);
});
