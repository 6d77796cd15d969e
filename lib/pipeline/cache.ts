/**
 * On-disk artifact cache. A stage's output lives in `<root>/<stage>/<key>/`, where the key hashes the
 * stage name, its config and its inputs' keys. Each artifact directory carries a manifest with the
 * size and sha256 of every file, checked on every read: a damaged, partial or malformed artifact (any
 * JSON shape, any file type) is rebuilt with one line on stderr naming it, never used.
 *
 * Several processes may share one cache: a build holds the key's lock file (`<root>/.locks/`), so no
 * work is done twice, and a waiting process reads the artifact when the lock is released. A lock left
 * by a killed process (same host, pid gone) is taken over. Publication is one rename of a complete
 * temporary folder; a sound artifact is never deleted, and readers never see a partial one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { acquireLock, foreignTempsOf, projectRoot, publishDir, readListedFiles, readManifest, writeListedFiles } from '../util/fs';
import { sha256 } from '../util/hash';
import { decodeValue, encodeValue } from '../util/codec';
import { bundleProblem } from '../generate/checkpoint';

/** Bumped when the on-disk format changes, so old artifacts are rebuilt rather than misread. */
const CACHE_FORMAT = 1;

export interface Manifest {
  format: number;
  stage: string;
  key: string;
  config: unknown;
  inputs: string[];
  files: Record<string, { bytes: number; sha256: string }>;
  createdAt: string;
  buildSeconds: number;
}

export type ArtifactFiles = Record<string, string | Uint8Array>;

/** JSON with sorted keys: the same config always hashes the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v)) {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]));
    }
    return v;
  });
}

export function artifactKey(stage: string, config: unknown, inputs: string[] = []): string {
  return sha256(`${CACHE_FORMAT}\n${stage}\n${canonicalJson(config)}\n${inputs.join(',')}`).slice(0, 20);
}

export interface CacheResult<T> {
  value: T;
  key: string;
  cached: boolean;
  dir: string;
}

export interface ArtifactOptions {
  /**
   * Bundle folders (see lib/generate/checkpoint.ts) that belong to the artifact, e.g. its saved model:
   * the artifact counts as sound only while each of them is sound too.
   */
  companions?: string[];
}

/** What a read found: the files, nothing at all, or a sentence saying what is wrong. */
export type Inspection = { files: Record<string, Buffer> } | { missing: true } | { problem: string };

function quiet(): boolean {
  return process.env.SID_QUIET === '1';
}

export class ArtifactCache {
  readonly root: string;

  constructor(root?: string) {
    this.root = path.resolve(root ?? process.env.SID_CACHE_DIR ?? path.join(projectRoot(), '.cache', 'artifacts'));
  }

  dirOf(stage: string, key: string): string {
    return path.join(this.root, stage, key);
  }

  lockFileOf(stage: string, key: string): string {
    return path.join(this.root, '.locks', `${stage}.${key}.lock`);
  }

  /** Checks an artifact against its manifest (and its companions) without changing anything. */
  inspect(stage: string, key: string, opts: ArtifactOptions = {}): Inspection {
    const dir = this.dirOf(stage, key);
    const m = readManifest(dir);
    if ('missing' in m || 'problem' in m) return m;
    const { manifest } = m;
    if (manifest.format !== CACHE_FORMAT) return { problem: `manifest format is ${JSON.stringify(manifest.format)}, expected ${CACHE_FORMAT}` };
    if (manifest.key !== key) return { problem: `manifest key is ${JSON.stringify(manifest.key)}, expected "${key}"` };
    const r = readListedFiles(dir, manifest.files);
    if ('problem' in r) return r;
    for (const c of opts.companions ?? []) {
      const p = bundleProblem(c);
      if (p) return { problem: `its companion ${c} is ${p === 'missing' ? 'missing' : `damaged: ${p}`}` };
    }
    return r;
  }

  /** Reads an artifact's files, or null when it is missing or fails its checks (nothing is removed). */
  readFiles(stage: string, key: string, opts: ArtifactOptions = {}): Record<string, Buffer> | null {
    const r = this.inspect(stage, key, opts);
    return 'files' in r ? r.files : null;
  }

  /**
   * Writes an artifact atomically with its manifest. If a sound artifact is already in place (another
   * writer got there first) it is kept and this one discarded; a damaged one is replaced.
   */
  writeFiles(stage: string, key: string, config: unknown, inputs: string[], files: ArtifactFiles, buildSeconds = 0): string {
    return this.publish(stage, key, config, inputs, files, buildSeconds, true);
  }

  private publish(stage: string, key: string, config: unknown, inputs: string[], files: ArtifactFiles, buildSeconds: number, keepSound: boolean): string {
    const dir = this.dirOf(stage, key);
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    publishDir(
      dir,
      (tmp) => {
        const listed = writeListedFiles(tmp, files);
        const manifest: Manifest = { format: CACHE_FORMAT, stage, key, config, inputs, files: listed, createdAt: new Date().toISOString(), buildSeconds };
        // The manifest goes last: a directory without it is never trusted.
        fs.writeFileSync(path.join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2));
      },
      { keepIfValid: keepSound ? () => 'files' in this.inspect(stage, key) : undefined },
    );
    return dir;
  }

  /** Decodes a sound artifact's value, or says why it cannot be. */
  private decode<T>(r: Inspection): { value: T } | { problem: string } | null {
    if (!('files' in r)) return null;
    const json = r.files['value.json'];
    const bin = r.files['arrays.bin'];
    if (!json || !bin) return { problem: 'manifest does not list value.json and arrays.bin' };
    try {
      return { value: decodeValue<T>(json.toString('utf8'), new Uint8Array(bin)) };
    } catch (err) {
      return { problem: `value cannot be decoded (${(err as Error).message})` };
    }
  }

  /**
   * Returns the cached value for (stage, config, inputs), or builds, stores and returns it.
   * `build` returns a plain object whose typed arrays are stored in binary. It runs while this
   * process holds the key's lock, so files it writes for the artifact (`companions`) are private.
   */
  async getOrBuild<T>(
    stage: string,
    config: unknown,
    inputs: string[],
    build: () => Promise<T> | T,
    opts: ArtifactOptions = {},
  ): Promise<CacheResult<T>> {
    const key = artifactKey(stage, config, inputs);
    const dir = this.dirOf(stage, key);
    const fast = this.decode<T>(this.inspect(stage, key, opts));
    if (fast && 'value' in fast) return { value: fast.value, key, cached: true, dir };

    const lock = await acquireLock(this.lockFileOf(stage, key), (owner) => {
      if (!quiet()) process.stderr.write(`[cache] waiting for ${dir}: being built by pid ${owner?.pid ?? '?'} on ${owner?.host ?? '?'}\n`);
    });
    try {
      // Look again: another process may have built it while this one waited.
      const seen = this.inspect(stage, key, opts);
      const again = this.decode<T>(seen);
      if (again && 'value' in again) return { value: again.value, key, cached: true, dir };
      const problem = again && 'problem' in again ? again.problem : 'problem' in seen ? seen.problem : null;
      if (problem && !quiet()) process.stderr.write(`[cache] ${dir}: ${problem}; rebuilding\n`);
      // Left by a writer that was killed (only the lock holder writes these).
      for (const t of foreignTempsOf(dir)) fs.rmSync(t, { recursive: true, force: true });
      const t0 = Date.now();
      const value = await build();
      // Under the lock whatever is in place is known unsound (or its companions are): replace it.
      this.publish(stage, key, config, inputs, encodeValue(value), (Date.now() - t0) / 1000, false);
      return { value, key, cached: false, dir };
    } finally {
      lock.release();
    }
  }
}
