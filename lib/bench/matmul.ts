/**
 * Matmul throughput of the current tfjs backend, in GFLOP/s (2 n^3 floating-point operations per
 * n x n product). Call after `initBackend()`. Three warm-up products are not timed; the reported
 * figure is the median over `reps` timed products, as ../shared/peers/matmul_peak.py times native BLAS.
 * The wasm backend computes synchronously inside the kernel call; other backends' products are read
 * back so the work is really done.
 */
import { tf } from '../backend/index';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nativeAddonPath } from '../backend/native';

export function measureMatmulGflops(n = 1024, reps = 10): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`measureMatmulGflops: n must be a positive integer, got ${n}`);
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`measureMatmulGflops: reps must be a positive integer, got ${reps}`);
  const a = tf.randomUniform([n, n], -1, 1, 'float32', 1);
  const b = tf.randomUniform([n, n], -1, 1, 'float32', 2);
  const readBack = tf.getBackend() !== 'wasm';
  try {
    // The block body matters: a typed array returned from tidy would be walked element by element.
    const product = (): void => {
      const c = tf.matMul(a, b);
      if (readBack) c.dataSync();
      c.dispose();
    };
    for (let w = 0; w < 3; w++) product();
    const seconds: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t0 = process.hrtime.bigint();
      product();
      seconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    seconds.sort((x, y) => x - y);
    const mid = seconds.length >> 1;
    const median = seconds.length % 2 ? seconds[mid] : (seconds[mid - 1] + seconds[mid]) / 2;
    return (2 * n * n * n) / median / 1e9;
  } finally {
    a.dispose();
    b.dispose();
  }
}

/**
 * This core's float32 FMA peak in GFLOP/s, measured by native/build/fma-peak (native/peak.c:
 * independent FMA chains on 8-lane AVX2 and 16-lane AVX-512 vectors), or null where it is not built.
 */
export function measureFmaPeak(seconds = 1): { avx2: number; avx512: number } | null {
  const probe = path.join(path.dirname(nativeAddonPath()), 'fma-peak');
  if (!fs.existsSync(probe)) return null;
  const r = spawnSync(probe, [String(seconds)], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${probe} failed: ${r.stderr || r.error?.message}`);
  return JSON.parse(r.stdout) as { avx2: number; avx512: number };
}
