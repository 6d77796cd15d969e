/**
 * On-disk artifact cache. A stage's output lives in `<root>/<stage>/<key>/`, where the key hashes the
 * stage name, its config and its inputs' keys. Each artifact directory carries a manifest with the
 * size and sha256 of every file; it is written to a temporary directory and renamed into place, and
 * on read any mismatch (a damaged or partial artifact) makes the cache rebuild it, never use it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot, writeDirAtomic } from '../util/fs';
import { sha256 } from '../util/hash';
import { decodeValue, encodeValue } from '../util/codec';

/** Bumped when the on-disk format changes, so old artifacts are rebuilt rather than misread. */
export const CACHE_FORMAT = 1;

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

export class ArtifactCache {
  readonly root: string;

  constructor(root?: string) {
    this.root = path.resolve(root ?? process.env.SID_CACHE_DIR ?? path.join(projectRoot(), '.cache', 'artifacts'));
  }

  dirOf(stage: string, key: string): string {
    return path.join(this.root, stage, key);
  }

  /** Reads an artifact's files, or null when it is missing or fails its manifest check. */
  readFiles(stage: string, key: string): Record<string, Buffer> | null {
    const dir = this.dirOf(stage, key);
    const manifestPath = path.join(dir, 'manifest.json');
    if (!fs.existsSync(manifestPath)) return null;
    let manifest: Manifest;
    try {
      manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
    } catch {
      return this.discard(dir, 'unreadable manifest');
    }
    if (manifest.format !== CACHE_FORMAT || manifest.key !== key) return this.discard(dir, 'format or key mismatch');
    const out: Record<string, Buffer> = {};
    for (const [name, meta] of Object.entries(manifest.files)) {
      const p = path.join(dir, name);
      if (!fs.existsSync(p)) return this.discard(dir, `missing ${name}`);
      const data = fs.readFileSync(p);
      if (data.byteLength !== meta.bytes || sha256(data) !== meta.sha256) return this.discard(dir, `damaged ${name}`);
      out[name] = data;
    }
    return out;
  }

  /** Writes an artifact atomically with its manifest. */
  writeFiles(stage: string, key: string, config: unknown, inputs: string[], files: ArtifactFiles, buildSeconds = 0): string {
    const dir = this.dirOf(stage, key);
    writeDirAtomic(dir, (tmp) => {
      const manifest: Manifest = {
        format: CACHE_FORMAT,
        stage,
        key,
        config,
        inputs,
        files: {},
        createdAt: new Date().toISOString(),
        buildSeconds,
      };
      for (const [name, data] of Object.entries(files)) {
        if (name === 'manifest.json' || name.includes('/') || name.startsWith('.')) {
          throw new Error(`ArtifactCache: invalid artifact file name "${name}" in stage ${stage}`);
        }
        fs.writeFileSync(path.join(tmp, name), data);
        manifest.files[name] = { bytes: Buffer.byteLength(data as string | Uint8Array), sha256: sha256(data) };
      }
      // The manifest goes last: a directory without it is never trusted.
      fs.writeFileSync(path.join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2));
    });
    return dir;
  }

  /**
   * Returns the cached value for (stage, config, inputs), or builds, stores and returns it.
   * `build` returns a plain object whose typed arrays are stored in binary.
   */
  async getOrBuild<T>(
    stage: string,
    config: unknown,
    inputs: string[],
    build: () => Promise<T> | T,
  ): Promise<CacheResult<T>> {
    const key = artifactKey(stage, config, inputs);
    const files = this.readFiles(stage, key);
    if (files && files['value.json'] && files['arrays.bin']) {
      const value = decodeValue<T>(files['value.json'].toString('utf8'), new Uint8Array(files['arrays.bin']));
      return { value, key, cached: true, dir: this.dirOf(stage, key) };
    }
    const t0 = Date.now();
    const value = await build();
    const dir = this.writeFiles(stage, key, config, inputs, encodeValue(value), (Date.now() - t0) / 1000);
    return { value, key, cached: false, dir };
  }

  private discard(dir: string, why: string): null {
    if (process.env.SID_QUIET !== '1') process.stderr.write(`[cache] rebuilding ${path.relative(this.root, dir)}: ${why}\n`);
    fs.rmSync(dir, { recursive: true, force: true });
    return null;
  }
}
