/**
 * Fetches a transformers.js ONNX export from a Hugging Face-style hub into the models folder
 * (modelStore.ts): `<hub>/<id>/resolve/main/<file>` for config.json, tokenizer.json,
 * tokenizer_config.json and onnx/model.onnx (or onnx/model_quantized.onnx).
 *
 * - Atomic: files download into `<models>/.downloads/<owner>--<name>/` as `<file>.part`, renamed to
 *   `<file>` when complete; the model folder appears (or is replaced) by one rename once every file is
 *   there, with sid-model.json recording each file's size and sha256, the hub id, URLs and time.
 * - Resumable: an interrupted download keeps its `.part` (and the server's validator beside it, in
 *   `.part.json`); a rerun asks for the rest with `Range` (and `If-Range`), and starts over when the
 *   server answers 200 instead of 206.
 * - A file already in the model folder and matching its manifest is kept, not downloaded again.
 * - Offline, an unreachable hub or an HTTP error stops with one line saying how to place the files by hand.
 */
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { acquireLock, publishDir } from '../util/fs';
import { contentHash } from '../util/hash';
import { Progress } from '../util/progress';
import {
  checkHubId, checkModelFile, hubBaseUrl, MODEL_MANIFEST, modelFiles, modelFolder, modelsRoot, newManifest, readModelManifest,
  type ModelFileEntry, type ModelManifest,
} from './modelStore';

const REVISION = 'main';
const MB = 1e6;

export interface FetchModelOptions {
  /** onnx/model_quantized.onnx instead of onnx/model.onnx. Default false. */
  quantized?: boolean;
  /** Hub base URL. Default SID_HUB_URL, else https://huggingface.co. */
  hubUrl?: string;
  /** Models folder. Default SID_MODELS_DIR, else `<project>/.cache/models`. */
  modelsDir?: string;
  /** A request that receives nothing for this long is abandoned (its `.part` kept). Default 60 s. */
  idleTimeoutMs?: number;
  /** Status lines (default: stderr). */
  log?: (line: string) => void;
  /** Files of at least this many bytes get a progress line with rate and ETA on stderr. Default 8 MB. */
  progressMinBytes?: number;
  progressStream?: NodeJS.WritableStream;
}

export interface FetchedModel {
  id: string;
  dir: string;
  manifest: ModelManifest;
  /** Files this call downloaded, in full or the rest of an earlier `.part`. */
  downloaded: string[];
  /** Of those, the ones continued with a Range request. */
  resumed: string[];
  /** Files already in the model folder (or complete in the download folder) and not downloaded again. */
  kept: string[];
}

/** Why a fetch stopped; the message is one line. */
export class ModelFetchError extends Error {}

export function fileUrl(base: string, id: string, file: string): string {
  return `${base}/${id}/resolve/${REVISION}/${file}`;
}

function manualHelp(id: string, base: string, files: string[], target: string): string {
  return (
    `To place ${id} by hand: download ${files.join(', ')} from ${base}/${id}/resolve/${REVISION}/<file> into ${target}${path.sep} ` +
    `(onnx/ as a subfolder) and pass --content-model ${id}, or put them in any folder and pass that folder to --content-model`
  );
}

function describeCause(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as Error & { cause?: unknown }).cause;
  return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
}

/** SHA-256 state over a file's bytes so far (a resumed download continues it). */
function hashOf(file: string): Hash {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(4 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h;
}

interface PartMeta {
  url: string;
  /** A strong ETag or Last-Modified, sent back as If-Range. */
  validator?: string;
}

function readPartMeta(file: string): PartMeta | null {
  try {
    const m = JSON.parse(fs.readFileSync(file, 'utf8')) as PartMeta;
    return typeof m?.url === 'string' ? m : null;
  } catch {
    return null;
  }
}

interface DownloadContext {
  id: string;
  base: string;
  target: string;
  files: string[];
  idleTimeoutMs: number;
  progressMinBytes: number;
  progressStream?: NodeJS.WritableStream;
  log: (line: string) => void;
}

/** Downloads `url` to `dest` through `dest.part`, resuming a `.part` left by an earlier run. */
async function downloadFile(ctx: DownloadContext, file: string, url: string, dest: string): Promise<{ entry: ModelFileEntry; resumed: boolean }> {
  const part = `${dest}.part`;
  const metaFile = `${dest}.part.json`;
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const meta = readPartMeta(metaFile);
  let have = fs.existsSync(part) && meta?.url === url ? fs.statSync(part).size : 0;
  const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': 'sid-models-fetch' };
  if (have > 0) {
    headers.range = `bytes=${have}-`;
    if (meta?.validator) headers['if-range'] = meta.validator;
  }
  const manual = () => manualHelp(ctx.id, ctx.base, ctx.files, ctx.target);

  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => ac.abort(new Error(`nothing received for ${ctx.idleTimeoutMs / 1000} s`)), ctx.idleTimeoutMs);
  };
  arm();
  try {
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: ac.signal, redirect: 'follow' });
    } catch (err) {
      throw new ModelFetchError(`could not reach ${ctx.base} for ${url} (${describeCause(err)}). ${manual()}`);
    }
    const range = res.status === 206 ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '') : null;
    if (have > 0 && (res.status === 416 || (res.status === 206 && (!range || Number(range[1]) !== have)))) {
      // The kept part is not a prefix the server continues (the file changed or shrank): start over.
      ctx.log(`${ctx.id}: ${file}: the server cannot continue the kept ${have} bytes (HTTP ${res.status}): downloading it again from the start`);
      await res.body?.cancel();
      fs.rmSync(part, { force: true });
      fs.rmSync(metaFile, { force: true });
      clearTimeout(timer);
      return downloadFile(ctx, file, url, dest);
    }
    let total: number | null;
    let resumed = false;
    if (res.status === 206 && have > 0 && range) {
      total = range[3] === '*' ? null : Number(range[3]);
      resumed = true;
    } else if (res.status === 200) {
      if (have > 0) ctx.log(`${ctx.id}: ${file}: the server sent the whole file (HTTP 200, not 206): downloading it again from the start`);
      have = 0;
      const len = res.headers.get('content-length');
      total = len !== null && /^\d+$/.test(len) ? Number(len) : null;
    } else {
      await res.body?.cancel();
      const hint =
        res.status === 404 ? ' (no such file: check the id, and that the repository is a transformers.js export with an onnx/ folder)'
        : res.status === 401 || res.status === 403 ? ' (the repository does not exist, or is private or gated; this command sends no token)'
        : '';
      throw new ModelFetchError(`${url} answered HTTP ${res.status} ${res.statusText}${hint}. ${manual()}`);
    }
    const etag = res.headers.get('etag');
    const validator = etag && !etag.startsWith('W/') ? etag : (res.headers.get('last-modified') ?? undefined);
    fs.writeFileSync(metaFile, JSON.stringify({ url, validator } satisfies PartMeta));

    const hash = have > 0 ? hashOf(part) : createHash('sha256');
    const remaining = total === null ? null : total - have;
    if (resumed) ctx.log(`${ctx.id}: ${file}: resuming at ${(have / MB).toFixed(1)} MB${total === null ? '' : ` of ${(total / MB).toFixed(1)} MB`}`);
    else ctx.log(`${ctx.id}: ${file}: downloading${total === null ? '' : ` ${(total / MB).toFixed(1)} MB`} from ${url}`);
    const progress = remaining !== null && remaining >= ctx.progressMinBytes
      ? new Progress({ label: `fetch ${ctx.id} ${file}`, total: Math.max(1, Math.ceil(remaining / MB)), unit: 'MB', stream: ctx.progressStream })
      : null;
    const fd = fs.openSync(part, have > 0 ? 'a' : 'w');
    let received = 0;
    let ticked = 0;
    try {
      const reader = res.body?.getReader();
      for (;;) {
        const chunk = reader ? await reader.read() : { done: true as const, value: undefined };
        if (chunk.done) break;
        arm();
        fs.writeSync(fd, chunk.value);
        hash.update(chunk.value);
        received += chunk.value.length;
        const mb = Math.floor(received / MB);
        if (progress && mb > ticked) {
          progress.tick(mb - ticked);
          ticked = mb;
        }
      }
    } catch (err) {
      throw new ModelFetchError(
        `download of ${file} from ${url} broke off after ${have + received}${total === null ? '' : ` of ${total}`} bytes (${describeCause(err)}); ` +
          `run the same command again to resume (kept in ${part})`,
      );
    } finally {
      fs.closeSync(fd);
    }
    const bytes = have + received;
    if (total !== null && bytes !== total) {
      if (bytes > total) fs.rmSync(part, { force: true });
      throw new ModelFetchError(`download of ${file} from ${url} ended after ${bytes} bytes, expected ${total}; run the same command again${bytes < total ? ' to resume' : ''}`);
    }
    const rest = progress && remaining !== null ? Math.max(1, Math.ceil(remaining / MB)) - ticked : 0;
    if (rest > 0) progress!.tick(rest);
    fs.renameSync(part, dest);
    fs.rmSync(metaFile, { force: true });
    return { entry: { bytes, sha256: hash.digest('hex'), url }, resumed };
  } finally {
    clearTimeout(timer);
  }
}

/** Files of an existing model folder that match its manifest (by size and sha256), with their entries. */
function soundFiles(target: string, id: string, log: (line: string) => void): Record<string, ModelFileEntry> {
  if (!fs.existsSync(target)) return {};
  let m: ModelManifest | null;
  try {
    m = readModelManifest(target);
  } catch (err) {
    log(`${id}: ${(err as Error).message}: fetching every file again`);
    return {};
  }
  if (!m) {
    log(`${id}: ${target} has no ${MODEL_MANIFEST} (placed by hand): replacing it with fetched, checked files`);
    return {};
  }
  const out: Record<string, ModelFileEntry> = {};
  for (const [name, entry] of Object.entries(m.files)) {
    const problem = checkModelFile(target, name, entry);
    if (problem) log(`${id}: ${problem}: fetching it again`);
    else out[name] = entry;
  }
  return out;
}

/** Removes `dir` and its subfolders when they hold no file (a fetch that stopped before any byte arrived). */
function removeIfEmpty(dir: string): void {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeIfEmpty(path.join(dir, e.name));
  if (fs.readdirSync(dir).length === 0) fs.rmdirSync(dir);
}

function linkOrCopy(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  try {
    fs.linkSync(from, to);
  } catch {
    fs.copyFileSync(from, to);
  }
}

/**
 * Fetches hub model `id` (`<owner>/<name>`) into `<models>/<owner>/<name>/`; returns the folder and
 * its manifest. A folder that already holds the asked files, checked against its manifest, is left as it is.
 */
export async function fetchModel(id: string, o: FetchModelOptions = {}): Promise<FetchedModel> {
  checkHubId(id);
  const root = modelsRoot(o.modelsDir);
  const base = hubBaseUrl(o.hubUrl);
  const target = modelFolder(root, id);
  const files = modelFiles(!!o.quantized);
  const log = o.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const staging = path.join(root, '.downloads', id.replace('/', '--'));
  const lock = await acquireLock(`${staging}.lock`, (owner) => log(`${id}: waiting for another fetch of it (pid ${owner?.pid ?? 'unknown'})`));
  try {
    const sound = soundFiles(target, id, log);
    if (files.every((f) => f in sound)) {
      log(`${id}: already in ${target} (sizes and sha256 checked)`);
      return { id, dir: target, manifest: readModelManifest(target)!, downloaded: [], resumed: [], kept: files };
    }
    const ctx: DownloadContext = {
      id, base, target, files, log,
      idleTimeoutMs: o.idleTimeoutMs ?? 60_000,
      progressMinBytes: o.progressMinBytes ?? 8 * MB,
      progressStream: o.progressStream,
    };
    const entries: Record<string, ModelFileEntry> = { ...sound };
    const staged: string[] = [];
    const downloaded: string[] = [];
    const resumed: string[] = [];
    for (const f of files.filter((x) => !(x in sound))) {
      const dest = path.join(staging, ...f.split('/'));
      const url = fileUrl(base, id, f);
      if (fs.existsSync(dest)) {
        // Completed by an earlier, interrupted run.
        entries[f] = { bytes: fs.statSync(dest).size, sha256: contentHash(dest), url };
      } else {
        const r = await downloadFile(ctx, f, url, dest);
        entries[f] = r.entry;
        downloaded.push(f);
        if (r.resumed) resumed.push(f);
      }
      staged.push(f);
    }
    const manifest = newManifest(id, base, REVISION, Object.fromEntries(Object.keys(entries).sort().map((k) => [k, entries[k]])));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    publishDir(target, (tmp) => {
      for (const f of Object.keys(sound)) linkOrCopy(path.join(target, ...f.split('/')), path.join(tmp, ...f.split('/')));
      for (const f of staged) {
        const to = path.join(tmp, ...f.split('/'));
        fs.mkdirSync(path.dirname(to), { recursive: true });
        fs.renameSync(path.join(staging, ...f.split('/')), to);
      }
      fs.writeFileSync(path.join(tmp, MODEL_MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
    });
    const kept = files.filter((f) => !downloaded.includes(f));
    log(`${id}: ready in ${target} (${downloaded.length} file(s) downloaded${resumed.length ? `, ${resumed.length} resumed` : ''}, ${kept.length} kept)`);
    return { id, dir: target, manifest, downloaded, resumed, kept };
  } finally {
    removeIfEmpty(staging);
    lock.release();
  }
}
