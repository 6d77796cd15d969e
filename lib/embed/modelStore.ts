/**
 * The models folder (`SID_MODELS_DIR`, default `<project>/.cache/models`): one `<owner>/<name>/`
 * folder per hub id, each a transformers.js export (config.json, tokenizer.json,
 * tokenizer_config.json, onnx/model.onnx and/or onnx/model_quantized.onnx). A folder written by
 * `sid models fetch` (modelFetch.ts) holds a manifest, sid-model.json, recording each file's size and
 * sha256; `verifyModelFolder` checks the files against it. A folder placed by hand has no manifest and
 * is used as it is.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { contentHash } from '../util/hash';
import { projectRoot } from '../util/fs';

/** The manifest a fetched model folder holds. */
export const MODEL_MANIFEST = 'sid-model.json';
export const DEFAULT_HUB_URL = 'https://huggingface.co';
const FORMAT = 'sid-model/1';

/** The files transformers.js needs besides the ONNX graph. */
export const MODEL_TEXT_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'] as const;

/** The ONNX graph of a variant, relative to the model folder. */
export function onnxFile(quantized: boolean): string {
  return quantized ? 'onnx/model_quantized.onnx' : 'onnx/model.onnx';
}

/** Every file of a variant, relative to the model folder ('/'-separated, as on the hub). */
export function modelFiles(quantized: boolean): string[] {
  return [...MODEL_TEXT_FILES, onnxFile(quantized)];
}

export interface ModelFileEntry {
  bytes: number;
  sha256: string;
  /** Where it was downloaded from. */
  url: string;
}

export interface ModelManifest {
  format: typeof FORMAT;
  /** Hub id, `<owner>/<name>`. */
  id: string;
  hubUrl: string;
  revision: string;
  /** ISO time of the fetch that wrote this manifest. */
  fetchedAt: string;
  /** By path relative to the model folder. */
  files: Record<string, ModelFileEntry>;
}

export function newManifest(id: string, hubUrl: string, revision: string, files: Record<string, ModelFileEntry>): ModelManifest {
  return { format: FORMAT, id, hubUrl, revision, fetchedAt: new Date().toISOString(), files };
}

/** The models folder: `dir` when given, else SID_MODELS_DIR, else `<project>/.cache/models`. */
export function modelsRoot(dir?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (dir !== undefined) return path.resolve(dir);
  if (env.SID_MODELS_DIR) return path.resolve(env.SID_MODELS_DIR);
  return path.join(projectRoot(), '.cache', 'models');
}

/** The hub's base URL without a trailing slash: `url` when given, else SID_HUB_URL, else huggingface.co. */
export function hubBaseUrl(url?: string, env: NodeJS.ProcessEnv = process.env): string {
  const raw = url ?? (env.SID_HUB_URL || DEFAULT_HUB_URL);
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error(`${url !== undefined ? '--hub-url' : 'SID_HUB_URL'} must be an http:// or https:// URL, got "${raw}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`${url !== undefined ? '--hub-url' : 'SID_HUB_URL'} must be an http:// or https:// URL, got "${raw}"`);
  return raw.replace(/\/+$/, '');
}

const HUB_PART = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** True for `<owner>/<name>` made of the characters a hub allows (no `..`). */
export function isHubId(s: string): boolean {
  const parts = s.split('/');
  return parts.length === 2 && parts.every((p) => HUB_PART.test(p) && !p.includes('..'));
}

export function checkHubId(id: string): void {
  if (!isHubId(id)) throw new Error(`expected a hub id <owner>/<name> (letters, digits, '.', '_', '-'), e.g. Xenova/all-mpnet-base-v2, got "${id}"`);
}

/** The folder of a hub id in a models folder. */
export function modelFolder(root: string, id: string): string {
  checkHubId(id);
  return path.join(root, ...id.split('/'));
}

/** The local path of a manifest file name, refusing names that would leave the folder. */
function localPath(dir: string, name: string): string {
  if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(name) || name.split('/').some((s) => s === '.' || s === '..')) {
    throw new Error(`${path.join(dir, MODEL_MANIFEST)} lists an invalid file name "${name}"`);
  }
  return path.join(dir, ...name.split('/'));
}

/** The manifest of a model folder, or null when it has none (placed by hand); a malformed one is an error. */
export function readModelManifest(dir: string): ModelManifest | null {
  const file = path.join(dir, MODEL_MANIFEST);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let m: Partial<ModelManifest>;
  try {
    m = JSON.parse(text) as Partial<ModelManifest>;
  } catch {
    throw new Error(`${file} is not valid JSON (truncated or overwritten); fetch the model again with sid models fetch`);
  }
  const files = m?.files;
  if (m?.format !== FORMAT || typeof m.id !== 'string' || !files || typeof files !== 'object' || Array.isArray(files)) {
    throw new Error(`${file} is not a ${FORMAT} manifest (expected format, id and files); fetch the model again with sid models fetch`);
  }
  for (const [name, e] of Object.entries(files)) {
    localPath(dir, name);
    if (!e || !Number.isInteger(e.bytes) || e.bytes < 0 || typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256)) {
      throw new Error(`${file}: the entry of ${name} is malformed (expected bytes and a hex sha256)`);
    }
  }
  return m as ModelManifest;
}

/** What is wrong with one listed file (size first, then sha256 unless `sha` is false), or null when it matches. */
export function checkModelFile(dir: string, name: string, entry: ModelFileEntry, sha = true): string | null {
  const p = localPath(dir, name);
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    return `${name} is missing`;
  }
  if (!st.isFile()) return `${name} is not a regular file`;
  if (st.size !== entry.bytes) return `${name} has ${st.size} bytes, expected ${entry.bytes} (truncated or replaced)`;
  if (!sha) return null;
  // contentHash remembers each file's hash for this process while its size and mtime are unchanged.
  const got = contentHash(p);
  if (got !== entry.sha256) return `${name} has sha256 ${got}, expected ${entry.sha256} (changed on disk)`;
  return null;
}

/**
 * Checks every file a model folder's manifest lists; returns the manifest, or null when the folder
 * has none. A missing, truncated or changed file is an error naming it and what was expected.
 */
export function verifyModelFolder(dir: string): ModelManifest | null {
  const m = readModelManifest(dir);
  if (!m) return null;
  for (const [name, entry] of Object.entries(m.files)) {
    const problem = checkModelFile(dir, name, entry);
    if (problem) {
      throw new Error(`model folder ${dir}: ${problem}, as ${MODEL_MANIFEST} records from ${entry.url}; fetch it again with: sid models fetch ${m.id}`);
    }
  }
  return m;
}

export interface StoredModel {
  /** `<owner>/<name>` from the folder's place in the models folder. */
  id: string;
  dir: string;
  /** Null for a folder placed by hand. */
  manifest: ModelManifest | null;
  /** Bytes of every file under the folder. */
  bytes: number;
  /** The ONNX graphs present. */
  onnx: string[];
}

function folderBytes(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) n += folderBytes(p);
    else if (e.isFile()) n += fs.statSync(p).size;
  }
  return n;
}

/** The model folders under `root` (`<owner>/<name>/`, hidden names skipped), sorted by id. */
export function listModels(root: string): StoredModel[] {
  const out: StoredModel[] = [];
  const dirs = (d: string) => (fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name) : []);
  for (const owner of dirs(root)) {
    for (const name of dirs(path.join(root, owner))) {
      const dir = path.join(root, owner, name);
      let manifest: ModelManifest | null;
      try {
        manifest = readModelManifest(dir);
      } catch {
        manifest = null;
      }
      const onnx = [false, true].map(onnxFile).filter((f) => fs.existsSync(path.join(dir, f)));
      out.push({ id: `${owner}/${name}`, dir, manifest, bytes: folderBytes(dir), onnx });
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

export interface ResolvedModel {
  dir: string;
  /** True when the folder has onnx/model_quantized.onnx only. */
  quantized: boolean;
}

/**
 * A model named by a folder or a hub id: an existing folder is used as it is; a hub id is its folder
 * under `root`, which must have been fetched. The variant is the folder's: onnx/model.onnx when
 * present, else onnx/model_quantized.onnx.
 */
export function resolveModelRef(ref: string, root: string): ResolvedModel {
  const asPath = path.resolve(ref);
  let dir: string;
  if (fs.existsSync(asPath) && fs.statSync(asPath).isDirectory()) {
    dir = asPath;
  } else if (isHubId(ref)) {
    dir = modelFolder(root, ref);
    if (!fs.existsSync(dir)) throw new Error(`${ref} is not fetched (no folder ${dir}); run: sid models fetch ${ref}`);
  } else {
    throw new Error(`no such folder ${asPath}, and "${ref}" is not a hub id <owner>/<name>`);
  }
  const missing: string[] = MODEL_TEXT_FILES.filter((f) => !fs.existsSync(path.join(dir, f)));
  const fp32 = fs.existsSync(path.join(dir, onnxFile(false)));
  if (!fp32 && !fs.existsSync(path.join(dir, onnxFile(true)))) missing.push(`${onnxFile(false)} (or ${onnxFile(true)})`);
  if (missing.length) throw new Error(`${dir} has no ${missing.join(', ')} (expected a transformers.js model folder: ${modelFiles(false).join(', ')})`);
  return { dir, quantized: !fp32 };
}
