/**
 * Measures one stage in this process: wall time, peak resident memory, the wasm heap, and the size
 * of the artifact it leaves. The peak RSS is the kernel's high-water mark (VmHWM), reset before the
 * stage through /proc/self/clear_refs, so it is the stage's own peak even though the process ran other
 * stages before; where /proc is not writable it is the process's peak so far, and says so.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from '../backend/index';
import { heapOf, type WasmBackendLike } from '../backend/nativeRegistry';

export interface StageMeasurement {
  stage: string;
  seconds: number;
  /** Peak resident set size during the stage, bytes. */
  peakRssBytes: number;
  /** 'stage': reset before the stage; 'process': the whole process's peak (no reset possible). */
  peakRssScope: 'stage' | 'process';
  /** Size of the wasm memory after the stage (it only grows, so this is its peak so far); null off wasm. */
  wasmHeapBytes: number | null;
  /** Bytes of the artifact folder(s) the stage wrote (0 when it stores nothing). */
  artifactBytes: number;
}

function readHwmBytes(): number | null {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Resets the kernel's peak-RSS mark of this process; false where that is not possible. */
function resetPeakRss(): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** The wasm backend's memory size in bytes, or null on another backend. */
export function wasmHeapBytes(): number | null {
  if (tf.getBackend() !== 'wasm') return null;
  return heapOf(tf.backend() as unknown as WasmBackendLike).byteLength;
}

/** Total size of the files under `dir` (0 when it does not exist). */
function folderBytes(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  const st = fs.statSync(dir);
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const e of fs.readdirSync(dir)) total += folderBytes(path.join(dir, e));
  return total;
}

/**
 * Runs `fn` as the stage `stage` and measures it; `artifactDirs` maps its result to the folders it
 * stored (measured after it returns).
 */
export async function meterStage<T>(stage: string, fn: () => Promise<T>, artifactDirs: (value: T) => string[] = () => []): Promise<{ value: T; measurement: StageMeasurement }> {
  const reset = resetPeakRss();
  const t0 = process.hrtime.bigint();
  const value = await fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const hwm = readHwmBytes();
  const peakRssBytes = hwm ?? process.resourceUsage().maxRSS * 1024;
  return {
    value,
    measurement: {
      stage,
      seconds,
      peakRssBytes,
      peakRssScope: reset && hwm !== null ? 'stage' : 'process',
      wasmHeapBytes: wasmHeapBytes(),
      artifactBytes: artifactDirs(value).reduce((s, d) => s + folderBytes(d), 0),
    },
  };
}
