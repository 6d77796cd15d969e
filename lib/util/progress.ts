/**
 * Progress lines for long work: rate and ETA, printed at most every `intervalMs` (and at the end).
 * Writes to stderr so JSON on stdout stays clean. Silent when SID_QUIET=1.
 *
 * Headless notebook runs set SID_PROGRESS_FD: progress then goes straight to that file descriptor,
 * marked with PROGRESS_MARKER, past the kernel's capture of process.stderr, so it reaches the
 * runner's terminal instead of the report (see lib/report/notebooks.ts).
 */
import * as fs from 'node:fs';

/** Prefix of each progress line written to SID_PROGRESS_FD; the notebook runner looks for it. */
export const PROGRESS_MARKER = 'SID_PROGRESS ';

/** The descriptor named by SID_PROGRESS_FD, when it is a valid one. */
function progressFd(): number | undefined {
  const raw = process.env.SID_PROGRESS_FD;
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  return Number(raw);
}

/**
 * Writes one progress line (no trailing newline needed): to SID_PROGRESS_FD when set, else to
 * `stream` (default stderr). Silent when SID_QUIET=1.
 */
export function writeProgressLine(line: string, stream?: NodeJS.WritableStream): void {
  if (process.env.SID_QUIET === '1') return;
  const fd = stream ? undefined : progressFd();
  if (fd !== undefined) {
    try {
      fs.writeSync(fd, `${PROGRESS_MARKER}${line.replace(/\n/g, ' ')}\n`);
      return;
    } catch {
      /* descriptor closed: fall back to stderr */
    }
  }
  (stream ?? process.stderr).write(line + '\n');
}
export interface ProgressOptions {
  label: string;
  total: number;
  unit?: string;
  intervalMs?: number;
  stream?: NodeJS.WritableStream;
}

export class Progress {
  private readonly start = Date.now();
  private last = 0;
  private done = 0;
  private readonly quiet = process.env.SID_QUIET === '1';

  constructor(private readonly opts: ProgressOptions) {}

  /** Advances by `n` units; `extra` is appended to the line (e.g. the current loss). */
  tick(n = 1, extra = ''): void {
    this.done += n;
    const now = Date.now();
    if (now - this.last >= (this.opts.intervalMs ?? 2000) || this.done >= this.opts.total) {
      this.last = now;
      this.print(extra);
    }
  }

  /** Prints the final line. */
  finish(extra = ''): void {
    this.print(extra, true);
  }

  get elapsedSeconds(): number {
    return (Date.now() - this.start) / 1000;
  }

  private print(extra: string, final = false): void {
    if (this.quiet) return;
    const secs = Math.max(1e-3, (Date.now() - this.start) / 1000);
    const rate = this.done / secs;
    const left = Math.max(0, this.opts.total - this.done);
    const eta = rate > 0 ? left / rate : Infinity;
    const pct = this.opts.total > 0 ? ((100 * this.done) / this.opts.total).toFixed(1) : '?';
    const unit = this.opts.unit ?? 'it';
    const line =
      `[${this.opts.label}] ${this.done}/${this.opts.total} (${pct}%) ${rate.toFixed(1)} ${unit}/s` +
      (final ? ` done in ${formatSeconds(secs)}` : ` ETA ${formatSeconds(eta)}`) +
      (extra ? ` ${extra}` : '');
    writeProgressLine(line, this.opts.stream);
  }
}

export function formatSeconds(s: number): string {
  if (!isFinite(s)) return '?';
  if (s < 59.95) return `${s.toFixed(1)}s`;
  // Round once, then split, so 119.7 s reads 2m0s rather than 1m60s.
  const t = Math.round(s);
  const m = Math.floor(t / 60);
  if (m < 60) return `${m}m${t - 60 * m}s`;
  return `${Math.floor(m / 60)}h${m % 60}m`;
}
