/**
 * Headless Chromium (Debian's `chromium`) to check that a report page really draws offline: the
 * page is loaded with every network request made to fail, and the DOM after its scripts ran is
 * returned.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { adoptChild, onInterrupt, signalChild, throwIfInterrupted } from '../util/children';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** Path of a Chromium binary (SID_CHROMIUM, then the usual Debian paths), or undefined. */
export function findChromium(): string | undefined {
  const fromEnv = process.env.SID_CHROMIUM;
  if (fromEnv) return fs.existsSync(fromEnv) ? fromEnv : undefined;
  return CANDIDATES.find((p) => fs.existsSync(p));
}

export interface DumpDomOptions {
  /** Chromium binary (default: findChromium()). */
  chromium?: string;
  /** Kill Chromium after this long (default 60 s). */
  timeoutMs?: number;
  /** Virtual time Chromium lets the page's timers run before dumping (default 5000 ms). */
  virtualTimeBudgetMs?: number;
}

/** Loads a local HTML file without network access and resolves with the serialised DOM. */
export async function dumpDom(htmlFile: string, opts: DumpDomOptions = {}): Promise<string> {
  throwIfInterrupted();
  const chromium = opts.chromium ?? findChromium();
  if (!chromium) return Promise.reject(new Error('dumpDom: no Chromium found (install Debian chromium or set SID_CHROMIUM)'));
  if (!fs.existsSync(htmlFile)) return Promise.reject(new Error(`dumpDom: ${htmlFile} does not exist`));
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    // Any network request fails: the page must render from the file alone.
    '--proxy-server=127.0.0.1:9',
    '--host-resolver-rules=MAP * ~NOTFOUND',
    `--user-data-dir=${profileDir}`,
    `--virtual-time-budget=${opts.virtualTimeBudgetMs ?? 5000}`,
    '--dump-dom',
    pathToFileURL(path.resolve(htmlFile)).href,
  ];
  const removeProfile = () => fs.rmSync(profileDir, { recursive: true, force: true });
  const forget = onInterrupt(removeProfile);
  return new Promise((resolve, reject) => {
    // Its own process group, so a stop signal or the timeout reaches its helper processes too.
    const child = spawn(chromium, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    adoptChild(child, { group: true });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
    const timer = setTimeout(() => signalChild(child, true, 'SIGKILL'), opts.timeoutMs ?? 60_000);
    const done = () => {
      clearTimeout(timer);
      forget();
      removeProfile();
    };
    child.on('error', (err) => {
      done();
      reject(new Error(`dumpDom: cannot start ${chromium}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      done();
      const dom = Buffer.concat(chunks).toString('utf8');
      if (code !== 0 || !dom) {
        reject(new Error(`dumpDom: ${chromium} exited with ${signal ?? code} on ${htmlFile}:\n${stderr.split('\n').slice(-10).join('\n')}`));
      } else resolve(dom);
    });
  });
}
