/**
 * On-disk form of models and training state: a folder with `value.json` (configuration, metadata),
 * `arrays.bin` (weights and optimizer moments as Float32Arrays) and `manifest.json` (size and sha256
 * of both), written atomically so a crash leaves the previous checkpoint intact, and checked on every
 * read so that damaged weights are never used.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeValue, encodeValue } from '../util/codec';
import { publishDir, readListedFiles, readManifest, writeListedFiles } from '../util/fs';

const BUNDLE_FORMAT = 'sid-bundle-1';

/** A bundle that exists but fails its checks; the message names the folder and what is wrong. */
export class DamagedBundleError extends Error {
  constructor(
    readonly dir: string,
    readonly problem: string,
  ) {
    super(`${dir}: ${problem}`);
  }
}

export function writeBundle(dir: string, value: unknown): void {
  const files = encodeValue(value);
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  publishDir(dir, (tmp) => {
    const listed = writeListedFiles(tmp, files);
    // The manifest goes last: a folder without it is never trusted.
    fs.writeFileSync(path.join(tmp, 'manifest.json'), JSON.stringify({ format: BUNDLE_FORMAT, files: listed }, null, 1));
  });
}

/**
 * What is wrong with the bundle in `dir`: null when it is sound, 'missing' when there is nothing
 * there, otherwise a sentence. `decoded` receives the value when sound.
 */
export function bundleProblem(dir: string, decoded?: (value: unknown) => void): string | null {
  const m = readManifest(dir);
  if ('missing' in m) return 'missing';
  if ('problem' in m) return m.problem;
  if (m.manifest.format !== BUNDLE_FORMAT) return `manifest format is ${JSON.stringify(m.manifest.format)}, expected "${BUNDLE_FORMAT}"`;
  const r = readListedFiles(dir, m.manifest.files, ['value.json', 'arrays.bin']);
  if ('problem' in r) return r.problem;
  try {
    const value = decodeValue(r.files['value.json'].toString('utf8'), new Uint8Array(r.files['arrays.bin']));
    decoded?.(value);
  } catch (err) {
    return `cannot be decoded (${(err as Error).message})`;
  }
  return null;
}

/** Reads a bundle, verifying it first; throws DamagedBundleError (naming the folder) otherwise. */
export function readBundle<T>(dir: string): T {
  let value: unknown;
  const problem = bundleProblem(dir, (v) => (value = v));
  if (problem) throw new DamagedBundleError(dir, problem === 'missing' ? 'missing (no bundle there)' : problem);
  return value as T;
}

/**
 * Opens a training checkpoint (`state`, and `best` when the state says a best epoch was recorded).
 * Returns null when there is none; when either part is damaged or missing, says so in one line on
 * stderr, removes both, and returns null so the training starts from the beginning.
 */
export function openCheckpoint<S extends { bestEpoch: number }, B>(statePath: string, bestPath: string | null): { state: S; best: B | null } | null {
  let state: S | undefined;
  const sp = bundleProblem(statePath, (v) => (state = v as S));
  if (sp === 'missing') return null;
  let problem = sp ? `${statePath}: ${sp}` : null;
  let best: B | null = null;
  if (!problem && bestPath && state && state.bestEpoch >= 0) {
    const bp = bundleProblem(bestPath, (v) => (best = v as B));
    if (bp) problem = `${bestPath}: ${bp}`;
  }
  if (problem) {
    process.stderr.write(`[train] checkpoint ${problem}; training from the start\n`);
    fs.rmSync(statePath, { recursive: true, force: true });
    if (bestPath) fs.rmSync(bestPath, { recursive: true, force: true });
    return null;
  }
  return { state: state as S, best };
}

export function weightsToRecord(w: Map<string, Float32Array>): Record<string, Float32Array> {
  return Object.fromEntries(w);
}

export function weightsFromRecord(r: Record<string, Float32Array>): Map<string, Float32Array> {
  return new Map(Object.entries(r));
}
