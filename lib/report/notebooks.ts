/**
 * Headless notebook runs: executes `notebooks/NN_name.ipynb` on the project-local TypeScript kernel
 * (`sid-ts`, written by environment/setup.sh) with Debian's nbconvert, and writes
 * `reports/<profile>/<name>.ipynb` (executed, with a static image of each figure), `<name>.html`
 * (a report that opens offline, with a table of contents), `plotly.min.js` (one copy of the library
 * for every page of the folder) and `index.html`.
 *
 * Progress lines of the kernel (lib/util/progress.ts) reach the runner through SID_PROGRESS_FD and
 * are printed on its terminal, not captured into the report; other stderr output stays in the cells.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { adoptChild, interrupted, onInterrupt, throwIfInterrupted, whileWaiting } from '../util/children';
import { projectRoot, writeFileAtomic } from '../util/fs';
import { sha256, sha256File } from '../util/hash';
import { formatSeconds, PROGRESS_MARKER } from '../util/progress';
import { findChromium } from './chromium';
import { addStaticImages } from './figure-images';
import { extractHeadStyles, IndexEntry, injectIntoHead, removeRemoteScripts, renderIndexPage } from './pages';
import { NBCONVERT_DRIVER } from './nbconvert-driver';
import { injectParameters, ParamValue } from './parameters';
import { PLOT_DIV_CLASS, PLOTLY_BUNDLE_FILE, PLOTLY_LIB_MARKER, plotlyBundleScriptTag, plotlyBundleSource } from '../display/plotly-lib';
import { insertToc } from './toc';

/** Name of the project-local kernelspec. */
const KERNEL_NAME = 'sid-ts';

/** Notebooks numbered 90..99 are tests and scratch: run only when named. */
const FIRST_RESERVED_NUMBER = 90;

const NOTEBOOK_FILE = /^(\d{2})_[A-Za-z0-9_.-]+\.ipynb$/;

export interface RunNotebooksOptions {
  /** Notebook names (`04_task_tradeoff` or `04_task_tradeoff.ipynb`); default: every NN_name notebook numbered below 90. */
  names?: string[];
  /** Profile passed to the notebooks as SID_PROFILE; also names the default output folder. */
  profile: string;
  /** Output folder (default `<project>/reports/<profile>`). */
  outDir?: string;
  /** Per-cell timeout in seconds (default 7200; 0 or less: none). */
  timeoutSec?: number;
  /** Extra environment for the kernel (overrides the defaults set here). */
  env?: Record<string, string>;
  /** Folder holding the notebooks (default `<project>/notebooks`). */
  notebooksDir?: string;
  /** Run the remaining notebooks after a failure, then throw one error naming every failure (default false). */
  keepGoing?: boolean;
  /** Notebooks executed at once (default 1). */
  jobs?: number;
  /**
   * Everything the notebooks' outputs depend on besides their own source (results, code, data),
   * hashed by the caller. When set, an executed copy recorded with the same key and the same source
   * is up to date and is not run again; when unset every notebook runs.
   */
  reuseKey?: string;
  /** Values that override the notebooks' parameters (papermill style); each must be declared in every notebook run. */
  params?: Record<string, ParamValue>;
  /** Leave the code cells out of the HTML reports (the executed notebooks keep them). */
  noCode?: boolean;
  /** Receives each progress line of the kernels (default: printed on stderr unless SID_QUIET=1). */
  onProgress?: (notebook: string, line: string) => void;
  /** Static images of the figures in the executed notebooks (default true; needs Chromium, else skipped with a note). */
  images?: boolean;
}

/** One executed notebook. */
export interface NotebookRun {
  name: string;
  /** The source notebook. */
  source: string;
  /** The executed notebook. */
  notebook: string;
  /** The HTML report. */
  html: string;
  seconds: number;
  /** True when the executed copy was up to date (see `reuseKey`) and was not run again. */
  reused?: boolean;
}

/** The folder Jupyter must search (JUPYTER_PATH) to find the `sid-ts` kernel. */
function jupyterPath(root = projectRoot()): string {
  return path.join(root, '.jupyter', 'share', 'jupyter');
}

function pythonExecutable(): string {
  // Debian's interpreter, which has nbconvert; a `python3` earlier on PATH may not.
  return process.env.SID_JUPYTER_PYTHON ?? '/usr/bin/python3';
}

/** Throws unless the kernelspec exists and was written for this checkout. */
export function checkKernel(root = projectRoot()): void {
  const specFile = path.join(jupyterPath(root), 'kernels', KERNEL_NAME, 'kernel.json');
  if (!fs.existsSync(specFile)) {
    throw new Error(`Jupyter kernel "${KERNEL_NAME}" is not installed (${specFile} is missing): run environment/setup.sh`);
  }
  let argv: unknown;
  try {
    argv = JSON.parse(fs.readFileSync(specFile, 'utf8')).argv;
  } catch (err) {
    throw new Error(`${specFile}: not valid JSON (${(err as Error).message}): run environment/setup.sh`);
  }
  const command = Array.isArray(argv) ? argv.join(' ') : '';
  if (!command.includes(path.join(root, 'node_modules', '.bin', 'tslab'))) {
    throw new Error(`${specFile} starts a kernel for another checkout (argv: ${command || 'missing'}); run environment/setup.sh in ${root}`);
  }
  const python = pythonExecutable();
  if (!fs.existsSync(python)) {
    throw new Error(`${python} not found: install Debian's python3-nbconvert (environment/setup.sh) or set SID_JUPYTER_PYTHON`);
  }
}

/** Every `NN_name` notebook in `dir`, sorted by file name, without the `.ipynb`. */
export function listNotebooks(dir = path.join(projectRoot(), 'notebooks')): string[] {
  if (!fs.existsSync(dir)) throw new Error(`notebook folder ${dir} does not exist`);
  return fs
    .readdirSync(dir)
    .filter((f) => NOTEBOOK_FILE.test(f))
    .sort()
    .map((f) => f.slice(0, -'.ipynb'.length));
}

/** The notebooks to run: the names given (validated, in the order given), else every one numbered below 90. */
export function selectNotebooks(dir: string, names?: string[]): string[] {
  const available = listNotebooks(dir);
  if (!names || names.length === 0) {
    return available.filter((n) => Number(n.slice(0, 2)) < FIRST_RESERVED_NUMBER);
  }
  return names.map((raw) => {
    const name = raw.replace(/\.ipynb$/, '');
    if (!available.includes(name)) {
      throw new Error(`notebook "${raw}" not found in ${dir}; available: ${available.join(', ') || '(none)'}`);
    }
    return name;
  });
}

const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

function joinText(text: unknown): string {
  return Array.isArray(text) ? text.join('') : typeof text === 'string' ? text : '';
}

/** The error text of a failed cell: its error outputs and stderr streams, without ANSI colours. */
export function cellErrorText(cell: any): string {
  const parts: string[] = [];
  for (const o of cell?.outputs ?? []) {
    if (o.output_type === 'error') {
      const tb = Array.isArray(o.traceback) ? o.traceback.join('\n') : '';
      parts.push(`${o.ename}: ${o.evalue}${tb && !tb.includes(String(o.evalue)) ? `\n${tb}` : ''}`);
    } else if (o.output_type === 'stream' && o.name === 'stderr') {
      parts.push(joinText(o.text));
    }
  }
  const text = parts.join('\n').replace(ANSI, '').trim();
  const lines = text.split('\n');
  return lines.length > 40 ? [...lines.slice(0, 40), `... (${lines.length - 40} more lines)`].join('\n') : text;
}

interface DriverStatus {
  ok: boolean;
  cell: number | null;
  error: string | null;
}

function describeFailure(name: string, source: string, partial: any, status: DriverStatus | undefined, stderr: string): string {
  const head = `notebook ${name} (${source}) failed`;
  if (!status) return `${head}: nbconvert did not finish:\n${stderr.trim().split('\n').slice(-25).join('\n')}`;
  const cells: any[] = partial?.cells ?? [];
  if (status.cell === null || !cells[status.cell]) return `${head}: ${status.error ?? 'unknown error'}`;
  const cell = cells[status.cell];
  const firstLine = joinText(cell.source).split('\n').find((l) => l.trim()) ?? '';
  const text = cellErrorText(cell) || (status.error ?? '').replace(ANSI, '').trim();
  return `${head} in cell ${status.cell + 1} of ${cells.length}${cell.id ? ` (id ${cell.id})` : ''}, which starts "${firstLine.trim().slice(0, 80)}":\n${text}`;
}

/** Runs the driver and collects its output; resolves with the exit code and the status line, if any. */
function runDriver(
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  onTick: () => void,
  onProgress: (line: string) => void,
): Promise<{ code: number | null; status?: DriverStatus; stderr: string }> {
  return new Promise((resolve, reject) => {
    // Its own process group, so a stop signal reaches the driver (which stops its kernel) and nothing
    // it started is left behind.
    throwIfInterrupted();
    const child = spawn(pythonExecutable(), ['-c', NBCONVERT_DRIVER, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    adoptChild(child, { group: true });
    let stdout = '';
    let stderr = '';
    let partialLine = '';
    const keep = (s: string, add: string) => (s + add).slice(-200_000);
    child.stdout.on('data', (d) => (stdout = keep(stdout, d.toString())));
    // The kernel's progress lines arrive on this stream (SID_PROGRESS_FD=2), marked: pass them on,
    // keep the rest for the error message of a failed run.
    child.stderr.on('data', (d) => {
      const lines = (partialLine + d.toString()).split('\n');
      partialLine = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith(PROGRESS_MARKER)) onProgress(line.slice(PROGRESS_MARKER.length));
        else stderr = keep(stderr, line + '\n');
      }
    });
    const timer = setInterval(onTick, 30_000);
    timer.unref();
    child.on('error', (err) => {
      clearInterval(timer);
      reject(new Error(`cannot start ${pythonExecutable()}: ${err.message}`));
    });
    child.on('close', (code) => {
      clearInterval(timer);
      if (partialLine) stderr = keep(stderr, partialLine);
      const line = stdout.split('\n').find((l) => l.startsWith('SID_STATUS '));
      let status: DriverStatus | undefined;
      if (line) status = JSON.parse(line.slice('SID_STATUS '.length)) as DriverStatus;
      resolve({ code, status, stderr });
    });
  });
}

/** A path relative to `base` (default: the working directory) when it lies below it, else absolute. */
function displayPath(file: string, base = process.cwd()): string {
  const rel = path.relative(base, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

function log(line: string): void {
  if (process.env.SID_QUIET !== '1') process.stderr.write(`[notebooks] ${line}\n`);
}

/**
 * Makes nbconvert's HTML shareable: no remote scripts, a table of contents, and (when the page has
 * a plot) a <script src> in the <head> loading the folder's plotly.min.js (see writePlotlyBundle).
 */
export function finishReportHtml(html: string): string {
  let out = insertToc(removeRemoteScripts(html));
  if (out.includes(`class="${PLOT_DIV_CLASS}"`) && !out.includes(PLOTLY_LIB_MARKER)) {
    out = injectIntoHead(out, plotlyBundleScriptTag());
  }
  return out;
}

/**
 * Moves the page's <head> styles into `<outDir>/report-<hash>.css` (shared by every page with the
 * same template; named by content, so a page never loads another template's styles); returns the
 * page with a <link> in their place.
 */
function shareReportStyles(outDir: string, html: string): string {
  let name = '';
  const out = extractHeadStyles(html, (css) => (name = `report-${sha256(css).slice(0, 16)}.css`));
  if (!out.css) return html;
  const file = path.join(outDir, name);
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== out.css) writeFileAtomic(file, out.css);
  return out.html;
}

/** Writes `<outDir>/plotly.min.js` unless an identical copy is there; returns its path. */
export function writePlotlyBundle(outDir: string): string {
  const file = path.join(outDir, PLOTLY_BUNDLE_FILE);
  const source = plotlyBundleSource();
  const same = fs.existsSync(file) && fs.statSync(file).size === Buffer.byteLength(source) && fs.readFileSync(file, 'utf8') === source;
  if (!same) writeFileAtomic(file, source);
  return file;
}

interface RunContext {
  root: string;
  dir: string;
  outDir: string;
  profile: string;
  timeoutSec: number;
  env: NodeJS.ProcessEnv;
  reuseKey?: string;
  params: Record<string, ParamValue>;
  noCode: boolean;
  onProgress: (notebook: string, line: string) => void;
  chromium?: string;
}

/** The recorded run of an executed copy, if it matches `reuseKey` and the source's current hash. */
function upToDate(notebook: string, html: string, reuseKey: string, sourceSha: string, options: string): number | null {
  if (!fs.existsSync(notebook) || !fs.existsSync(html)) return null;
  try {
    const sid = JSON.parse(fs.readFileSync(notebook, 'utf8')).metadata?.sid;
    const sameOptions = JSON.stringify({ params: sid?.params ?? {}, noCode: sid?.noCode === true }) === options;
    return sid?.reuseKey === reuseKey && sid?.sourceSha256 === sourceSha && sameOptions && typeof sid.seconds === 'number' ? sid.seconds : null;
  } catch {
    return null; // unreadable copy: run again
  }
}

async function runOne(name: string, position: string, ctx: RunContext): Promise<NotebookRun> {
  const source = path.join(ctx.dir, `${name}.ipynb`);
  const notebook = path.join(ctx.outDir, `${name}.ipynb`);
  const html = path.join(ctx.outDir, `${name}.html`);
  fs.mkdirSync(ctx.outDir, { recursive: true });
  const sourceSha = sha256File(source);
  if (ctx.reuseKey) {
    const seconds = upToDate(notebook, html, ctx.reuseKey, sourceSha, JSON.stringify({ params: ctx.params, noCode: ctx.noCode }));
    if (seconds !== null) {
      log(`${position} ${name}: up to date (results, code and notebook unchanged) -> ${displayPath(html)}`);
      return { name, source, notebook, html, seconds, reused: true };
    }
  }
  const tmp = fs.mkdtempSync(path.join(ctx.outDir, `.run-${name}-`));
  const forget = onInterrupt(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const tmpNb = path.join(tmp, `${name}.ipynb`);
  const tmpHtml = path.join(tmp, `${name}.html`);
  const start = Date.now();
  const paramText = Object.entries(ctx.params).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');
  log(`${position} ${name}: running (profile ${ctx.profile}${paramText ? `, ${paramText}` : ''})`);
  try {
    let toRun = source;
    if (Object.keys(ctx.params).length > 0) {
      toRun = path.join(tmp, `${name}.source.ipynb`);
      const nb = injectParameters(JSON.parse(fs.readFileSync(source, 'utf8')), ctx.params, `notebook ${name}`);
      fs.writeFileSync(toRun, JSON.stringify(nb, null, 1) + '\n');
    }
    const result = await runDriver(
      [toRun, tmpNb, tmpHtml, KERNEL_NAME, String(ctx.timeoutSec), ctx.dir, ctx.noCode ? '1' : '0'],
      ctx.env,
      ctx.root,
      () => log(`${name}: still running after ${formatSeconds((Date.now() - start) / 1000)}`),
      (line) => ctx.onProgress(name, line),
    );
    const seconds = (Date.now() - start) / 1000;
    // Stopped by a signal: the earlier report (if any) stays, the notebook runs again next time.
    throwIfInterrupted();
    if (result.code !== 0 || !result.status?.ok || !fs.existsSync(tmpHtml)) {
      const partial = fs.existsSync(tmpNb) ? JSON.parse(fs.readFileSync(tmpNb, 'utf8')) : undefined;
      // A failed run must not leave an older report that looks current.
      fs.rmSync(notebook, { force: true });
      fs.rmSync(html, { force: true });
      throw new Error(describeFailure(name, displayPath(source, ctx.root), partial, result.status, result.stderr));
    }
    const executed = JSON.parse(fs.readFileSync(tmpNb, 'utf8'));
    executed.metadata = {
      ...executed.metadata,
      sid: {
        profile: ctx.profile,
        seconds: Math.round(seconds * 10) / 10,
        executed: new Date().toISOString(),
        sourceSha256: sourceSha,
        reuseKey: ctx.reuseKey,
        params: ctx.params,
        noCode: ctx.noCode,
      },
    };
    // The HTML report was exported before the images were added: its plots are interactive.
    if (ctx.chromium) {
      try {
        await addStaticImages(executed, ctx.chromium);
      } catch (err) {
        throwIfInterrupted();
        // The report and the interactive figures are sound; only viewers without scripts lose out.
        log(`${name}: WARNING no static images of the figures: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    fs.writeFileSync(tmpNb, JSON.stringify(executed, null, 1) + '\n');
    const page = shareReportStyles(ctx.outDir, finishReportHtml(fs.readFileSync(tmpHtml, 'utf8')));
    if (page.includes(PLOTLY_LIB_MARKER)) writePlotlyBundle(ctx.outDir);
    fs.writeFileSync(tmpHtml, page);
    fs.renameSync(tmpNb, notebook);
    fs.renameSync(tmpHtml, html);
    log(`${position} ${name}: done in ${formatSeconds(seconds)} -> ${displayPath(html)}`);
    return { name, source, notebook, html, seconds };
  } finally {
    forget();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function notebookTitle(file: string): string | undefined {
  try {
    const nb = JSON.parse(fs.readFileSync(file, 'utf8'));
    for (const cell of nb.cells ?? []) {
      if (cell.cell_type !== 'markdown') continue;
      const m = /^#+\s+(.+)$/m.exec(joinText(cell.source));
      if (m) return m[1].trim();
    }
  } catch {
    /* unreadable notebook: the index shows no title */
  }
  return undefined;
}

function notebookSeconds(file: string): number | undefined {
  try {
    const s = JSON.parse(fs.readFileSync(file, 'utf8')).metadata?.sid?.seconds;
    return typeof s === 'number' ? s : undefined;
  } catch {
    return undefined;
  }
}

/** The <title> of a page without a notebook (e.g. demo.html), as text. */
function pageTitle(file: string): string | undefined {
  try {
    const m = /<title>([^<]*)<\/title>/i.exec(fs.readFileSync(file, 'utf8').slice(0, 4000));
    return m ? m[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&').trim() : undefined;
  } catch {
    return undefined;
  }
}

/** Writes `<outDir>/index.html` linking every report present there; returns its path. */
export function writeReportIndex(outDir: string, profile: string): string {
  const entries: IndexEntry[] = fs
    .readdirSync(outDir)
    .filter((f) => f.endsWith('.html') && f !== 'index.html' && !f.startsWith('.'))
    .sort()
    .map((f) => {
      const name = f.slice(0, -'.html'.length);
      const nbFile = path.join(outDir, `${name}.ipynb`);
      const hasNb = fs.existsSync(nbFile);
      return {
        href: f,
        name,
        title: hasNb ? notebookTitle(nbFile) : pageTitle(path.join(outDir, f)),
        notebookHref: hasNb ? `${name}.ipynb` : undefined,
        modified: fs.statSync(path.join(outDir, f)).mtime,
        seconds: hasNb ? notebookSeconds(nbFile) : undefined,
      };
    });
  const file = path.join(outDir, 'index.html');
  writeFileAtomic(file, renderIndexPage({ profile, entries }));
  return file;
}

/**
 * Executes notebooks headlessly into `reports/<profile>/` (or `outDir`), then writes the index.
 * Throws on the first failure (or, with `keepGoing`, after the others ran) with an error naming the
 * notebook, the cell and the cell's error text.
 */
export async function runNotebooks(opts: RunNotebooksOptions): Promise<NotebookRun[]> {
  if (!opts || typeof opts.profile !== 'string' || !/^[A-Za-z0-9_-]+$/.test(opts.profile)) {
    throw new Error(`runNotebooks: profile must be a name of letters, digits, _ or - (got ${JSON.stringify(opts?.profile)})`);
  }
  const root = projectRoot();
  const dir = path.resolve(opts.notebooksDir ?? path.join(root, 'notebooks'));
  const names = selectNotebooks(dir, opts.names);
  if (opts.params && Object.keys(opts.params).length > 0) {
    // Every notebook must declare every parameter: checked before any of them runs.
    for (const n of names) injectParameters(JSON.parse(fs.readFileSync(path.join(dir, `${n}.ipynb`), 'utf8')), opts.params, `notebook ${n}`);
  }
  checkKernel(root);
  const outDir = path.resolve(opts.outDir ?? path.join(root, 'reports', opts.profile));
  const timeoutSec = opts.timeoutSec ?? 7200;
  if (!Number.isFinite(timeoutSec)) throw new Error(`runNotebooks: timeoutSec must be a number of seconds, got ${timeoutSec}`);
  const existing = process.env.JUPYTER_PATH;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_PATH: existing ? `${jupyterPath(root)}${path.delimiter}${existing}` : jupyterPath(root),
    SID_PROFILE: opts.profile,
    // Every report page loads the folder's plotly.min.js, so figures leave the library out.
    SID_PLOTLY_INLINE: '0',
    // Progress goes to the kernel's own stderr, which the driver passes on to us (see runDriver).
    SID_PROGRESS_FD: '2',
    ...(opts.env ?? {}),
  };
  const onProgress = opts.onProgress ?? ((nb: string, line: string) => log(`${nb}: ${line}`));
  let chromium: string | undefined;
  if (opts.images !== false) {
    chromium = findChromium();
    if (!chromium) log('no Chromium found (install Debian chromium or set SID_CHROMIUM): executed notebooks get no static images of their figures');
  }
  const ctx: RunContext = {
    root,
    dir,
    outDir,
    profile: opts.profile,
    timeoutSec,
    env,
    reuseKey: opts.reuseKey,
    params: opts.params ?? {},
    noCode: opts.noCode === true,
    onProgress,
    chromium,
  };
  const runs: NotebookRun[] = [];
  const failures: Error[] = [];
  const start = Date.now();
  // Notebooks are independent (they share stages only through the artifact cache), so up to `jobs`
  // run at once; results keep the notebooks' order.
  const jobs = Math.max(1, Math.min(opts.jobs ?? 1, names.length));
  const results: (NotebookRun | undefined)[] = new Array(names.length);
  let next = 0;
  let stop = false;
  const worker = async () => {
    // After a stop signal no kernel starts.
    while (!stop && !interrupted() && next < names.length) {
      const i = next++;
      try {
        results[i] = await runOne(names[i], `${i + 1}/${names.length}`, ctx);
      } catch (err) {
        if (!opts.keepGoing) {
          stop = true;
          throw err;
        }
        log(`${names[i]}: FAILED`);
        failures.push(err as Error);
      }
    }
  };
  try {
    const settled = await whileWaiting(() => Promise.allSettled(Array.from({ length: jobs }, worker)));
    throwIfInterrupted();
    const rejected = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (rejected) throw rejected.reason;
    for (const r of results) if (r) runs.push(r);
  } finally {
    if (fs.existsSync(outDir) && !interrupted()) writeReportIndex(outDir, opts.profile);
  }
  log(`${runs.length}/${names.length} notebooks in ${formatSeconds((Date.now() - start) / 1000)}; index: ${displayPath(path.join(outDir, 'index.html'))}`);
  if (failures.length > 0) {
    throw new Error(`${failures.length} of ${names.length} notebooks failed:\n\n${failures.map((e) => e.message).join('\n\n')}`);
  }
  return runs;
}
