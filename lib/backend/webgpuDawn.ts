/**
 * Dawn, WebGPU's implementation in Chromium, as a Node addon (the npm package `webgpu`, which ships
 * a prebuilt `dist/<platform>-<arch>/dawn.node`).
 *
 * The addon is loaded with a plain require of `dawn.node` rather than through the package's ESM entry,
 * so that it loads the same way under tsx, in notebooks (compiled to CommonJS) and in the GPU bundle
 * (which sets the path with `setDawnAddonPath`).
 *
 * Dawn resolves its promises (buffer mapping, device requests) from a callback it schedules with
 * `globalThis.setImmediate`, and nothing else drives its event processing. `installDawnPump` wraps
 * `setImmediate` so those callbacks can also be run on demand: `pumpDawnEvents` runs the pending ones
 * now, which is what lets a synchronous read wait for a buffer mapping (see webgpuReadSync.ts). Each
 * callback still runs once only: whichever of the pump or the event loop comes first.
 */
import * as path from 'node:path';
import { packageDir, projectRequire } from './resolve';

/** The parts of WebGPU's types used here (the project does not load @webgpu/types globally). */
export interface GpuAdapterInfoLike {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter?: boolean;
}
export interface GpuAdapterLike {
  readonly info: GpuAdapterInfoLike;
  readonly limits: Record<string, number>;
  readonly features: ReadonlySet<string>;
  requestDevice(descriptor?: object): Promise<object>;
}
export interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'low-power' | 'high-performance' }): Promise<GpuAdapterLike | null>;
}
export interface DawnAddon {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}

let addonPath: string | null = null;
let addon: DawnAddon | null = null;
const pending = new Set<() => void>();
let pumpInstalled = false;

/** Where `dawn.node` lies, for a layout without node_modules (the GPU bundle). */
export function setDawnAddonPath(file: string): void {
  addonPath = file;
}

/** Path of the `dawn.node` for this platform in the installed `webgpu` package, or null. */
function dawnAddonPath(): string | null {
  if (addonPath) return addonPath;
  const dir = packageDir('webgpu');
  if (!dir) return null;
  const arch = process.platform === 'darwin' ? 'universal' : process.arch;
  return path.join(dir, 'dist', `${process.platform}-${arch}`, 'dawn.node');
}

// Dawn's scheduler is a function created in C++: its source reads as native code, and it takes no
// arguments. JavaScript callbacks are left alone.
function isDawnCallback(fn: unknown, args: unknown[]): fn is () => void {
  return typeof fn === 'function' && args.length === 0 && /\{\s*\[native code\]\s*\}$/.test(Function.prototype.toString.call(fn));
}

function installDawnPump(): void {
  if (pumpInstalled) return;
  pumpInstalled = true;
  const real = globalThis.setImmediate;
  const wrapped = function (this: unknown, fn: unknown, ...args: unknown[]) {
    if (!isDawnCallback(fn, args)) return (real as (...a: unknown[]) => NodeJS.Immediate)(fn, ...args);
    let done = false;
    const once = (): void => {
      if (done) return;
      done = true;
      pending.delete(once);
      fn();
    };
    pending.add(once);
    return real(once);
  };
  Object.assign(wrapped, real);
  globalThis.setImmediate = wrapped as typeof globalThis.setImmediate;
}

/** Runs Dawn's pending event processing now; returns how many callbacks ran. */
export function pumpDawnEvents(): number {
  const now = [...pending];
  for (const f of now) f();
  return now.length;
}

/** Loads the addon once and installs its WebGPU classes (GPUBufferUsage, ...) as globals. */
export function loadDawn(): DawnAddon {
  if (addon) return addon;
  const file = dawnAddonPath();
  if (!file) throw new Error("the npm package 'webgpu' is not installed (npm ci installs it)");
  installDawnPump();
  let loaded: DawnAddon;
  try {
    loaded = projectRequire()(file) as DawnAddon;
  } catch (err) {
    throw new Error(`${file} failed to load: ${(err as Error).message.split('\n')[0]}`);
  }
  Object.assign(globalThis, loaded.globals);
  addon = loaded;
  return loaded;
}
