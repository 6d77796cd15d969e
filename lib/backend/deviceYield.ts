/**
 * Yields of long loops to the event loop, so that Dawn can release what tfjs dropped (see
 * `releaseWebGpuGarbage`). Only the webgpu backend needs them: elsewhere `tick()` returns at once
 * and costs one resolved await. On webgpu a yield comes after a number of device dispatches, not
 * of steps, since steps differ widely in dispatches (an RQ-VAE batch, a beam-search batch).
 */
import * as tf from '@tensorflow/tfjs';
import { releaseWebGpuGarbage } from './webgpu';

export interface DeviceYieldOptions {
  /**
   * Yield once this many dispatches ran since the last yield (default: SID_WEBGPU_YIELD_DISPATCHES,
   * else 10,000; on llvmpipe each dispatch holds a memory mapping until the next yield).
   */
  dispatches?: number;
}

let dispatchCount = 0;
const counted = new WeakSet<object>();

/** Counts the backend's dispatches (tfjs's webgpu backend records each one through `recordAndSubmit`). */
function countDispatches(backend: object): boolean {
  if (counted.has(backend)) return true;
  const b = backend as { recordAndSubmit?: (...args: unknown[]) => unknown };
  const original = b.recordAndSubmit;
  if (typeof original !== 'function') return false;
  b.recordAndSubmit = function (this: unknown, ...args: unknown[]) {
    dispatchCount++;
    return original.apply(this, args);
  };
  counted.add(backend);
  return true;
}

function defaultDispatches(): number {
  const v = process.env.SID_WEBGPU_YIELD_DISPATCHES;
  if (v === undefined || v === '') return 10000;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`SID_WEBGPU_YIELD_DISPATCHES must be a positive integer, got '${v}'`);
  return n;
}

export class DeviceYield {
  private readonly active: boolean;
  private readonly limit: number;
  private ticks = 0;
  private mark = dispatchCount;

  constructor(opts: DeviceYieldOptions = {}) {
    this.active = tf.getBackend() === 'webgpu';
    this.limit = opts.dispatches ?? defaultDispatches();
    // Without a dispatch count (another tfjs version), every 100 ticks.
    if (this.active && !countDispatches(tf.backend())) this.limit = -1;
    this.mark = dispatchCount;
  }

  /** Call once per step; on webgpu it yields when enough dispatches ran since the last yield. */
  async tick(): Promise<void> {
    if (!this.active) return;
    this.ticks++;
    if (this.limit < 0 ? this.ticks < 100 : dispatchCount - this.mark < this.limit) return;
    await this.now();
  }

  /** Yields now (on webgpu). */
  async now(): Promise<void> {
    if (!this.active) return;
    await releaseWebGpuGarbage();
    this.ticks = 0;
    this.mark = dispatchCount;
  }
}

/**
 * Scalars and small tensors a loop needs as numbers, read back together: `add` keeps a tensor (it
 * now belongs to the log), `flush` reads all of them in one transfer and hands each its values in
 * the order they were added, so sums done on them in JS are the same as with a read per step.
 */
export class DeferredReads {
  private pending: { t: tf.Tensor | null; use: (v: Float32Array) => void }[] = [];

  get size(): number {
    return this.pending.length;
  }

  add(t: tf.Tensor, use: (values: Float32Array) => void): void {
    this.pending.push({ t, use });
  }

  /** Runs `fn` at the next flush, after the callbacks of everything added before it. */
  after(fn: () => void): void {
    this.pending.push({ t: null, use: fn });
  }

  flush(): void {
    const items = this.pending;
    if (!items.length) return;
    this.pending = [];
    const tensors = items.filter((x) => x.t !== null).map((x) => x.t!);
    let all: Float32Array = new Float32Array(0);
    try {
      if (tensors.length === 1) all = tensors[0].dataSync() as Float32Array;
      else if (tensors.length > 1) {
        const joined = tf.tidy(() => tf.concat(tensors.map((t) => tf.reshape(t, [-1]))));
        all = joined.dataSync() as Float32Array;
        joined.dispose();
      }
    } finally {
      tf.dispose(tensors);
    }
    let at = 0;
    for (const { t, use } of items) {
      const n = t ? t.size : 0;
      use(all.subarray(at, at + n));
      at += n;
    }
  }

  dispose(): void {
    tf.dispose(this.pending.filter((x) => x.t !== null).map((x) => x.t!));
    this.pending = [];
  }
}
