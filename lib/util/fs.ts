/**
 * File helpers: atomic writes (temporary file or folder + one rename), so no reader ever sees a
 * half-written file; folders whose manifest records every file's size and sha256; per-key lock files
 * that survive a killed owner; and errors that name the path.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sha256 } from './hash';

let tmpCounter = 0;

function tempPathFor(target: string, suffix = 'tmp'): string {
  tmpCounter += 1;
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${tmpCounter}.${suffix}`);
}

/** Temporary siblings of `target` (from `tempPathFor`) that this process did not create. */
export function foreignTempsOf(target: string): string[] {
  const dir = path.dirname(target);
  const prefix = `.${path.basename(target)}.`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const re = /^\.(.*)\.(\d+)\.(\d+)\.(tmp|old)$/;
  return names
    .filter((n) => n.startsWith(prefix))
    .filter((n) => {
      const m = re.exec(n);
      return m !== null && m[1] === path.basename(target) && Number(m[2]) !== process.pid;
    })
    .map((n) => path.join(dir, n));
}

const FS_REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a parent of it is not a directory',
  ENOENT: 'no such file or directory',
};
const DESCRIBED = Symbol('described');

/** The reason of a file-system error in words, e.g. "permission denied (EACCES)"; null if unknown. */
function fsErrorReason(err: unknown): string | null {
  const code = (err as NodeJS.ErrnoException)?.code;
  return typeof code === 'string' && code in FS_REASONS ? `${FS_REASONS[code]} (${code})` : null;
}

/**
 * Rewrites a file-system error so its message names `file` and says what happened in words
 * (ENOSPC, EACCES and EROFS otherwise reach the user as bare codes or as "not found").
 */
export function describeFsError(err: unknown, file: string, doing = 'writing'): Error {
  const e = err as NodeJS.ErrnoException & { [DESCRIBED]?: true };
  const reason = fsErrorReason(err);
  if (!reason || e[DESCRIBED]) return err instanceof Error ? err : new Error(String(err));
  const out = new Error(`${doing} ${file}: ${reason}`) as NodeJS.ErrnoException & { [DESCRIBED]?: true };
  out.code = e.code;
  out[DESCRIBED] = true;
  return out;
}

/** Writes `data` to `target` atomically: a crash leaves either the old file or the new one. */
export function writeFileAtomic(target: string, data: string | Uint8Array): void {
  const tmp = tempPathFor(target);
  try {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw describeFsError(err, target);
  }
}

/** Writes JSON atomically (pretty-printed when `pretty`). */
export function writeJsonAtomic(target: string, value: unknown, pretty = true): void {
  writeFileAtomic(target, JSON.stringify(value, null, pretty ? 2 : 0) + '\n');
}

export interface PublishOptions {
  /**
   * When `target` already exists: returns true if it is sound, and the new folder is then discarded
   * (another writer got there first). Without it, an existing target is always replaced.
   */
  keepIfValid?: (dir: string) => boolean;
}

/**
 * Creates a folder atomically: `fill` writes into a temporary sibling that one rename puts in place.
 * An existing target is never deleted before the new folder is there: it is kept when sound (see
 * `keepIfValid`), otherwise renamed aside, replaced, and only then removed. Returns false when an
 * existing sound target was kept.
 */
export function publishDir(target: string, fill: (tmpDir: string) => void, opts: PublishOptions = {}): boolean {
  const tmp = tempPathFor(target);
  try {
    fs.mkdirSync(tmp, { recursive: true });
    fill(tmp);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw describeFsError(err, target);
  }
  try {
    fs.renameSync(tmp, target);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR' && code !== 'EISDIR') {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw describeFsError(err, target);
    }
  }
  try {
    if (opts.keepIfValid?.(target)) {
      fs.rmSync(tmp, { recursive: true, force: true });
      return false;
    }
    const aside = tempPathFor(target, 'old');
    fs.renameSync(target, aside);
    fs.renameSync(tmp, target);
    fs.rmSync(aside, { recursive: true, force: true });
    return true;
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw describeFsError(err, target);
  }
}

/** Creates or replaces a directory atomically (see `publishDir`). */
export function writeDirAtomic(target: string, fill: (tmpDir: string) => void): void {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  publishDir(target, fill);
}

// ---------------------------------------------------------------- folders with a manifest

export interface FileEntry {
  bytes: number;
  sha256: string;
}

/** Names a manifest may list: plain file names, no paths, nothing hidden. */
function badFileName(name: string): boolean {
  return name === '' || name === 'manifest.json' || name.includes('/') || name.includes('\\') || name.startsWith('.');
}

/** Writes `files` into `dir` and returns the manifest entries (size and sha256) for them. */
export function writeListedFiles(dir: string, files: Record<string, string | Uint8Array>): Record<string, FileEntry> {
  const entries: Record<string, FileEntry> = {};
  for (const [name, data] of Object.entries(files)) {
    if (badFileName(name)) throw new Error(`invalid file name "${name}" for ${dir}`);
    fs.writeFileSync(path.join(dir, name), data);
    entries[name] = { bytes: Buffer.byteLength(data as string | Uint8Array), sha256: sha256(data) };
  }
  return entries;
}

/**
 * Checks the files a manifest lists (any JSON shape accepted as input) against the bytes on disk.
 * Returns the files' contents, or a sentence saying what is wrong.
 */
export function readListedFiles(dir: string, listed: unknown, required: string[] = []): { files: Record<string, Buffer> } | { problem: string } {
  if (!listed || typeof listed !== 'object' || Array.isArray(listed)) return { problem: `manifest "files" is ${listed === null ? 'null' : Array.isArray(listed) ? 'an array' : typeof listed}, expected an object` };
  const entries = listed as Record<string, unknown>;
  for (const r of required) if (!(r in entries)) return { problem: `manifest does not list ${r}` };
  const out: Record<string, Buffer> = {};
  for (const [name, meta] of Object.entries(entries)) {
    if (badFileName(name)) return { problem: `manifest lists an invalid file name "${name}"` };
    const m = meta as Partial<FileEntry> | null;
    if (!m || typeof m !== 'object' || !Number.isInteger(m.bytes) || typeof m.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(m.sha256)) {
      return { problem: `manifest entry for ${name} is malformed` };
    }
    const p = path.join(dir, name);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      return { problem: `${name} is missing` };
    }
    if (!st.isFile()) return { problem: `${name} is ${describeKind(st)}, not a regular file` };
    if (st.size !== m.bytes) return { problem: `${name} has ${st.size} bytes, the manifest says ${m.bytes} (truncated or overwritten)` };
    let data: Buffer;
    try {
      data = fs.readFileSync(p);
    } catch (err) {
      return { problem: `${name} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})` };
    }
    if (sha256(data) !== m.sha256) return { problem: `${name} fails its sha256 check (bytes overwritten)` };
    out[name] = data;
  }
  return { files: out };
}

/** Reads and parses `<dir>/manifest.json`: the parsed object, or what is wrong with it. */
export function readManifest(dir: string): { manifest: Record<string, unknown> } | { problem: string } | { missing: true } {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(dir);
  } catch {
    return { missing: true };
  }
  if (!st.isDirectory()) return { problem: `is ${describeKind(st)}, not a directory` };
  const file = path.join(dir, 'manifest.json');
  let text: string;
  try {
    const mst = fs.lstatSync(file);
    if (!mst.isFile()) return { problem: `manifest.json is ${describeKind(mst)}, not a regular file` };
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { problem: code === 'ENOENT' ? 'manifest.json is missing (partial write)' : `manifest.json cannot be read (${code})` };
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch {
    return { problem: 'manifest.json is not valid JSON (truncated or overwritten)' };
  }
  if (!manifest || typeof manifest !== 'object' || Array.isArray(manifest)) {
    return { problem: `manifest.json holds ${manifest === null ? 'null' : Array.isArray(manifest) ? 'an array' : typeof manifest}, expected an object` };
  }
  return { manifest: manifest as Record<string, unknown> };
}

function describeKind(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

// ---------------------------------------------------------------- lock files

interface LockOwner {
  pid: number;
  host: string;
  nonce: string;
  since: string;
}

const heldLocks = new Map<string, string>();
let exitHookInstalled = false;

function readOwner(file: string): { owner: LockOwner | null; ino: number } | null {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const ino = fs.fstatSync(fd).ino;
      const text = fs.readFileSync(fd, 'utf8');
      try {
        const o = JSON.parse(text) as LockOwner;
        return { owner: o && typeof o.pid === 'number' && typeof o.host === 'string' ? o : null, ino };
      } catch {
        return { owner: null, ino };
      }
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return null;
  }
}

/** Whether a process of this id runs on this host (one of another user's counts). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the lock's owner is known to be gone: a dead process on this host. */
function isStale(owner: LockOwner | null, file: string): boolean {
  if (!owner) {
    // Unparsable content can only come from outside (locks are created whole, by link): stale
    // once it is a few seconds old.
    try {
      return Date.now() - fs.statSync(file).mtimeMs > 5000;
    } catch {
      return true;
    }
  }
  return owner.host === os.hostname() && owner.pid !== process.pid && !processAlive(owner.pid);
}

function tryCreateLock(file: string): string | null {
  const nonce = randomBytes(8).toString('hex');
  const owner: LockOwner = { pid: process.pid, host: os.hostname(), nonce, since: new Date().toISOString() };
  const tmp = tempPathFor(file);
  fs.writeFileSync(tmp, JSON.stringify(owner));
  try {
    // link() fails when the lock exists, so the lock appears whole or not at all.
    fs.linkSync(tmp, file);
    return nonce;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw describeFsError(err, file, 'creating lock');
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** Removes a stale lock, taking care not to remove a fresh one created meanwhile by someone else. */
function breakStaleLock(file: string, staleIno: number): void {
  const moved = tempPathFor(file, 'old');
  try {
    fs.renameSync(file, moved);
  } catch {
    return; // already gone
  }
  const now = readOwner(moved);
  if (now && now.ino !== staleIno) {
    // Someone else's fresh lock: put it back (fails harmlessly if yet another one exists).
    try {
      fs.linkSync(moved, file);
    } catch {
      /* a newer lock is in place */
    }
  }
  fs.rmSync(moved, { force: true });
}

export interface HeldLock {
  file: string;
  release(): void;
}

/**
 * Takes the lock file `file`, waiting while a live process holds it. A lock whose owner died (same
 * host, pid no longer running) is broken. Held locks are released when this process exits.
 */
export async function acquireLock(file: string, onWait?: (owner: LockOwner | null) => void, pollMs = 200): Promise<HeldLock> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const f of [...heldLocks.keys()]) releaseLock(f);
    });
  }
  let warned = false;
  for (;;) {
    const nonce = tryCreateLock(file);
    if (nonce) {
      heldLocks.set(file, nonce);
      return { file, release: () => releaseLock(file) };
    }
    const cur = readOwner(file);
    if (!cur) continue; // released in between
    if (isStale(cur.owner, file)) {
      breakStaleLock(file, cur.ino);
      continue;
    }
    if (!warned) {
      warned = true;
      onWait?.(cur.owner);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

function releaseLock(file: string): void {
  const nonce = heldLocks.get(file);
  if (!nonce) return;
  heldLocks.delete(file);
  const cur = readOwner(file);
  if (cur?.owner?.nonce === nonce) fs.rmSync(file, { force: true });
}

/**
 * The project root: the nearest folder at or above `start` whose package.json names this project.
 * Used instead of `import.meta` so that the same code runs under tsx (ESM) and in notebooks (tslab).
 */
export function projectRoot(start = process.cwd()): string {
  if (process.env.SID_ROOT) return path.resolve(process.env.SID_ROOT);
  let dir = path.resolve(start);
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if (JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'semantic-ids-joint') return dir;
      } catch {
        /* not ours: keep walking */
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`projectRoot: no package.json of semantic-ids-joint at or above ${start}`);
    dir = parent;
  }
}

/**
 * Proves that `dir` can be written (creating it if needed) by writing and removing a probe file;
 * throws an error naming `what` and the folder otherwise. Run before any long work starts.
 */
/**
 * Checks, without creating anything, that `dir` is a writable folder or could be created (its
 * nearest existing ancestor is a writable folder): for dry runs.
 */
export function assertCreatableDir(dir: string, what: string): void {
  let at = path.resolve(dir);
  while (!fs.existsSync(at) && path.dirname(at) !== at) at = path.dirname(at);
  let why: string | null = null;
  try {
    if (!fs.statSync(at).isDirectory()) why = `${at} is not a directory`;
    else fs.accessSync(at, fs.constants.W_OK | fs.constants.X_OK);
  } catch (err) {
    why = fsErrorReason(err) ?? (err as Error).message;
  }
  if (why) throw new Error(`${what} ${dir} ${at === path.resolve(dir) ? 'is not writable' : 'cannot be created'}: ${why}`);
}

export function assertWritableDir(dir: string, what: string): void {
  const probe = path.join(dir, `.sid-write-probe.${process.pid}`);
  try {
    fs.mkdirSync(dir, { recursive: true });
    const st = fs.statSync(dir);
    if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    fs.writeFileSync(probe, 'ok');
    fs.rmSync(probe, { force: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EEXIST' || e.code === 'ENOTDIR' ? 'it (or a parent) is not a directory' : (fsErrorReason(err) ?? e.message);
    throw new Error(`${what} ${dir} is not writable: ${why}`);
  }
}
