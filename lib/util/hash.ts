/** Hex SHA-256 of bytes, strings, files and folders (files hashed once per process). */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hex SHA-256 of a file's bytes (read whole: for small files). */
export function sha256File(file: string): string {
  return sha256(fs.readFileSync(file));
}

const fileHashes = new Map<string, string>();
const CHUNK = 4 << 20;

/**
 * SHA-256 of a file's content, streamed in 4 MB chunks (ml-25m's 650 MB of CSV never sit in memory)
 * and remembered for this process while the file's identity, size and mtime are unchanged.
 */
export function contentHash(file: string): string {
  const st = fs.statSync(file);
  if (!st.isFile()) throw new Error(`contentHash: ${file} is not a regular file`);
  const id = `${path.resolve(file)}\0${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
  const hit = fileHashes.get(id);
  if (hit) return hit;
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  const v = h.digest('hex');
  fileHashes.set(id, v);
  return v;
}

/** SHA-256 over a folder's files: their relative paths and content hashes, in sorted order. */
function folderHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (rel: string) => {
    const abs = path.join(dir, rel);
    const st = fs.statSync(abs);
    if (st.isDirectory()) {
      for (const e of fs.readdirSync(abs).sort()) walk(path.join(rel, e));
    } else if (st.isFile()) {
      h.update(rel).update('\0').update(contentHash(abs)).update('\0');
    }
  };
  walk('');
  return h.digest('hex');
}

/**
 * Content hashes of the folders named by `key` (e.g. `modelDir`) anywhere in an options object, by
 * path: a model folder whose files change changes the keys of what was built from it.
 */
export function folderHashesIn(options: unknown, key = 'modelDir'): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (v: unknown) => {
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (k === key && typeof x === 'string') out[x] = fs.existsSync(x) ? folderHash(x) : 'missing';
      else visit(x);
    }
  };
  visit(options);
  return out;
}
