/**
 * Where MovieLens files live, and how to get them.
 *
 * Lookup order for `resolveMovieLensDir(name)`:
 * 1. `MOVIELENS_DIR`: either the data set folder itself (holding movies.csv), or a folder holding
 *    `<name>/movies.csv`. The folder itself is used only when its name is not another known MovieLens
 *    data set (so MOVIELENS_DIR=.../ml-latest-small never answers for ml-25m).
 * 2. `<projectRoot>/data/movielens/<name>/` (git-ignored; `sid data fetch <name>` fills it).
 *
 * `fetchMovieLens` downloads the official GroupLens zip, checks it against the checksums below,
 * unzips it with Debian's `unzip`, checks the expected files are there and moves the folder into place
 * atomically.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot, writeDirAtomic } from '../util/fs';

export type MovieLensName = 'ml-latest-small' | 'ml-25m';

export interface MovieLensArchive {
  url: string;
  /** sha256 of the zip. */
  sha256: string;
  /** md5 GroupLens publishes beside the zip (`<name>.zip.md5`), checked too when known. */
  md5?: string;
  bytes?: number;
  /** Files that must be in the zip's `<name>/` folder. */
  files: string[];
}

/**
 * Checksums of the official archives. ml-25m's md5 is the one GroupLens publishes in ml-25m.zip.md5;
 * both sha256 values are those recorded by several independent projects pinning these archives
 * (ml-latest-small.zip as generated 2018-09-26, the version described in its README).
 */
export const MOVIELENS_ARCHIVES: Record<MovieLensName, MovieLensArchive> = {
  'ml-latest-small': {
    url: 'https://files.grouplens.org/datasets/movielens/ml-latest-small.zip',
    sha256: '696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436',
    files: ['movies.csv', 'ratings.csv', 'tags.csv', 'links.csv', 'README.txt'],
  },
  'ml-25m': {
    url: 'https://files.grouplens.org/datasets/movielens/ml-25m.zip',
    sha256: '8b21cfb7eb1706b4ec0aac894368d90acf26ebdfb6aced3ebd4ad5bd1eb9c6aa',
    md5: '6b51fb2759a8657d3bfcbfc42b592ada',
    bytes: 261_978_986,
    files: ['movies.csv', 'ratings.csv', 'tags.csv', 'links.csv', 'genome-scores.csv', 'genome-tags.csv', 'README.txt'],
  },
};

const KNOWN_NAMES = ['ml-latest-small', 'ml-25m', 'ml-latest', 'ml-20m', 'ml-1m', 'ml-100k', 'ml-10m', 'ml-32m'];
const REQUIRED = ['movies.csv', 'ratings.csv', 'tags.csv'];

/** True when `dir` holds the three files; a folder that exists but cannot be read is an error, not "absent". */
function hasFiles(dir: string): boolean {
  return REQUIRED.every((f) => {
    const p = path.join(dir, f);
    try {
      fs.statSync(p);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') throw new Error(`MovieLens folder ${dir} cannot be read: permission denied (${code} on ${p})`);
      return false;
    }
  });
}

/** Folder where `sid data fetch` puts data sets: `<projectRoot>/data/movielens`. */
export function defaultMovieLensRoot(): string {
  return path.join(projectRoot(), 'data', 'movielens');
}

/** Finds the folder of a MovieLens data set, or throws an Error saying where to put the files. */
export function resolveMovieLensDir(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const tried: string[] = [];
  const fromEnv = env.MOVIELENS_DIR;
  if (fromEnv) {
    const base = path.resolve(fromEnv);
    const nested = path.join(base, name);
    if (hasFiles(nested)) return nested;
    tried.push(nested);
    const baseName = path.basename(base);
    const otherDataSet = KNOWN_NAMES.includes(baseName) && baseName !== name;
    if (!otherDataSet && hasFiles(base)) return base;
    tried.push(otherDataSet ? `${base} (holds ${baseName}, not ${name})` : base);
  }
  let local: string | null = null;
  try {
    local = path.join(defaultMovieLensRoot(), name);
  } catch {
    local = null; // not inside the project: only MOVIELENS_DIR can answer
  }
  if (local) {
    if (hasFiles(local)) return local;
    tried.push(local);
  }
  throw new Error(
    `MovieLens data set "${name}" not found (looked in: ${tried.join('; ')}). ` +
      `Put movies.csv, ratings.csv and tags.csv from the official ${name}.zip ` +
      `(https://files.grouplens.org/datasets/movielens/${name}.zip) into ${local ?? `data/movielens/${name}/`}, ` +
      `or set MOVIELENS_DIR to the folder holding them, or run \`sid data fetch ${name}\` to download them. ` +
      `To try everything without MovieLens first: npx sid notebooks run 00_data --profile tiny`,
  );
}

export interface FetchOptions {
  /** Replaces the archive URL (a mirror). */
  url?: string;
  /** Replaces the global fetch (tests). */
  fetch?: typeof fetch;
  /** Abort the download after this many ms without completing (default 30 minutes). */
  timeoutMs?: number;
  /** Expected sha256, replacing the built-in constant (a mirror with another packaging). */
  sha256?: string;
  /** Re-download even when the folder is already complete. */
  force?: boolean;
  log?: (line: string) => void;
}

function manualInstructions(name: string, archive: MovieLensArchive, destDir: string): string {
  return (
    `To place the files by hand: on a machine with internet download ${archive.url} ` +
    `(sha256 ${archive.sha256}${archive.md5 ? `, md5 ${archive.md5}` : ''}), unzip it and copy the ${name}/ folder so that ` +
    `${path.join(destDir, 'movies.csv')} exists (with ratings.csv and tags.csv beside it), ` +
    `or point MOVIELENS_DIR at the unzipped folder.`
  );
}

/**
 * Downloads `<name>.zip` from GroupLens into `<destRoot>/<name>/`, checking its checksums.
 * Returns the data set folder. Offline, or on a checksum mismatch, throws with manual instructions.
 */
export async function fetchMovieLens(name: string, destRoot: string = defaultMovieLensRoot(), opts: FetchOptions = {}): Promise<string> {
  const archive = (MOVIELENS_ARCHIVES as Record<string, MovieLensArchive | undefined>)[name];
  if (!archive) {
    throw new Error(`fetchMovieLens: unknown data set "${name}": expected one of ${Object.keys(MOVIELENS_ARCHIVES).join(', ')}`);
  }
  const destDir = path.join(destRoot, name);
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  if (!opts.force && hasFiles(destDir)) {
    log(`${name}: already present in ${destDir}`);
    return destDir;
  }
  const url = opts.url ?? archive.url;
  const expectedSha = (opts.sha256 ?? archive.sha256).toLowerCase();
  const doFetch = opts.fetch ?? fetch;
  fs.mkdirSync(destRoot, { recursive: true });
  const zipPath = path.join(destRoot, `.${name}.${process.pid}.zip.tmp`);
  try {
    let res: Response;
    try {
      res = await doFetch(url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 30 * 60_000) });
    } catch (err) {
      throw new Error(`fetchMovieLens: could not download ${url} (${describeCause(err)}). ${manualInstructions(name, archive, destDir)}`);
    }
    if (!res.ok || !res.body) {
      throw new Error(`fetchMovieLens: ${url} answered HTTP ${res.status} ${res.statusText}. ${manualInstructions(name, archive, destDir)}`);
    }
    log(`${name}: downloading ${url}`);
    const sha = createHash('sha256');
    const md5 = createHash('md5');
    const out = fs.openSync(zipPath, 'w');
    let bytes = 0;
    try {
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        sha.update(value);
        md5.update(value);
        fs.writeSync(out, value);
        bytes += value.length;
      }
    } catch (err) {
      throw new Error(`fetchMovieLens: download of ${url} broke off after ${bytes} bytes (${describeCause(err)}). ${manualInstructions(name, archive, destDir)}`);
    } finally {
      fs.closeSync(out);
    }
    const gotSha = sha.digest('hex');
    const gotMd5 = md5.digest('hex');
    if (gotSha !== expectedSha || (!opts.sha256 && archive.md5 && gotMd5 !== archive.md5)) {
      throw new Error(
        `fetchMovieLens: checksum mismatch for ${url}: expected sha256 ${expectedSha}, got ${gotSha} (md5 ${gotMd5}, ${bytes} bytes). ` +
          `The download is damaged or GroupLens changed the archive. ${manualInstructions(name, archive, destDir)}`,
      );
    }
    log(`${name}: ${bytes} bytes, sha256 ${gotSha} verified; unzipping`);
    extractInto(zipPath, name, archive.files, destDir);
    log(`${name}: ready in ${destDir}`);
    return destDir;
  } finally {
    fs.rmSync(zipPath, { force: true });
  }
}

/** Unzips `<name>/...` from the archive and moves it to `destDir` atomically after checking its files. */
function extractInto(zipPath: string, name: string, files: string[], destDir: string): void {
  writeDirAtomic(destDir, (tmpDir) => {
    const unpack = path.join(tmpDir, '.unpack');
    try {
      execFileSync('unzip', ['-q', '-o', zipPath, '-d', unpack], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      throw new Error(`fetchMovieLens: could not unzip ${zipPath} with \`unzip\` (${describeCause(err)}); install it with \`apt-get install unzip\``);
    }
    const inner = path.join(unpack, name);
    const missing = files.filter((f) => !fs.existsSync(path.join(inner, f)));
    if (missing.length) throw new Error(`fetchMovieLens: the archive lacks ${missing.map((f) => `${name}/${f}`).join(', ')}`);
    for (const f of fs.readdirSync(inner)) fs.renameSync(path.join(inner, f), path.join(tmpDir, f));
    fs.rmSync(unpack, { recursive: true, force: true });
  });
}

function describeCause(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    const inner = cause instanceof Error ? `: ${cause.message}` : '';
    return `${err.message}${inner}`;
  }
  return String(err);
}

/**
 * The folder of a MovieLens data set for a run that needs it: found as `resolveMovieLensDir` finds
 * it, or else downloaded (sha256-checked) into `data/movielens/<name>/`. With MOVIELENS_DIR set the
 * user has said where the files are, so nothing is downloaded: a miss there is an error. Offline, the
 * error says how to place the files by hand.
 */
export async function ensureMovieLens(name: MovieLensName, opts: FetchOptions & { env?: NodeJS.ProcessEnv; destRoot?: string } = {}): Promise<string> {
  const env = opts.env ?? process.env;
  try {
    return resolveMovieLensDir(name, env);
  } catch (notFound) {
    if (env.MOVIELENS_DIR) throw notFound;
    const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
    log(`${name}: not found locally; downloading the official archive (sha256-checked)`);
    return fetchMovieLens(name, opts.destRoot ?? defaultMovieLensRoot(), opts);
  }
}
