/**
 * Cost curves (`sid scale`): the smoke run (smoke.ts) at several catalogue sizes, so each stage's time
 * and memory can be read against the number of items. For a MovieLens profile every size is a
 * synthetic folder shaped like ml-25m (lib/data/synthetic.ts, written once and reused); for the
 * synthetic `tiny` profile the generator's own item count changes. Each size's report is kept, so an
 * interrupted sweep resumes at the first size without one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { syntheticLikeOptions, writeSyntheticFolder } from '../data/synthetic';
import { projectRoot, writeJsonAtomic } from '../util/fs';
import { writeProgressLine } from '../util/progress';
import { ArtifactCache, artifactKey } from './cache';
import { getProfile, type Profile } from './profiles';
import { codeVersion } from './stages';
import { runSmoke, smokeCodeVersion, type SmokeReport, type SmokeOptions } from './smoke';

export interface ScalingPoint {
  /** Items asked for (the movies of the synthetic folder, or the generator's items). */
  requestedItems: number;
  report: SmokeReport;
}

export interface ScalingReport {
  profile: string;
  points: ScalingPoint[];
  /** Per stage: the exponent b of time = a * items^b, least squares over the sizes (1: linear, 2: quadratic). */
  exponents: Record<string, { time: number; memory: number }>;
}

/** Sizes a sweep uses by default: ml-25m's 62,423 movies and fractions of it; tiny's 400 items and halves. */
export function defaultScalingSizes(p: Profile): number[] {
  return p.data.dataset === 'synthetic' ? [100, 200, 400] : [10_000, 20_000, 40_000, 62_423];
}

/** The profile on a catalogue of `items` items (for MovieLens profiles, `dir` holds its folder). */
function profileAtSize(p: Profile, items: number, dir?: string): Profile {
  if (p.data.dataset === 'synthetic') {
    const base = p.data.synthetic ?? {};
    const users = Math.max(20, Math.round(((base.numUsers ?? 300) * items) / (base.numItems ?? 400)));
    return { ...p, data: { ...p.data, synthetic: { ...base, numItems: items, numUsers: users } } };
  }
  if (!dir) throw new Error(`profileAtSize: profile "${p.name}" reads MovieLens files: give the folder of the ${items}-movie catalogue`);
  return { ...p, data: { ...p.data, dir } };
}

/** Least-squares slope of log(y) against log(x) (NaN with fewer than two positive points). */
export function logLogSlope(x: number[], y: number[]): number {
  const pts = x.map((v, i) => [v, y[i]] as const).filter(([a, b]) => a > 0 && b > 0);
  if (pts.length < 2) return NaN;
  const lx = pts.map(([a]) => Math.log(a));
  const ly = pts.map(([, b]) => Math.log(b));
  const mx = lx.reduce((s, v) => s + v, 0) / lx.length;
  const my = ly.reduce((s, v) => s + v, 0) / ly.length;
  let num = 0;
  let den = 0;
  lx.forEach((v, i) => ((num += (v - mx) * (ly[i] - my)), (den += (v - mx) ** 2)));
  return den > 0 ? num / den : NaN;
}

export function scalingExponents(points: ScalingPoint[]): ScalingReport['exponents'] {
  const out: ScalingReport['exponents'] = {};
  const items = points.map((p) => p.report.data.items);
  for (const s of points[0]?.report.stages ?? []) {
    const per = points.map((p) => p.report.stages.find((x) => x.stage === s.stage));
    if (per.some((x) => !x)) continue;
    out[s.stage] = {
      time: logLogSlope(items, per.map((x) => x!.fullSeconds)),
      memory: logLogSlope(items, per.map((x) => Math.max(...x!.levels.map((l) => l.peakRssBytes)))),
    };
  }
  return out;
}

export interface ScalingOptions extends Omit<SmokeOptions, 'outDir'> {
  sizes?: number[];
  /** Where each size's report (items-N/stages.json) and scaling.json go. */
  outDir: string;
  /** Where the synthetic folders of a MovieLens profile are written (default <outDir>/data). */
  dataDir?: string;
  seed?: number;
}

export async function runScaling(p: Profile, opts: ScalingOptions): Promise<ScalingReport> {
  const log = opts.log ?? writeProgressLine;
  const sizes = opts.sizes ?? defaultScalingSizes(p);
  const points: ScalingPoint[] = [];
  // Each call walks the smoke code's import closure: once per sweep is enough.
  const code = smokeCodeVersion();
  for (const n of sizes) {
    const out = path.join(opts.outDir, `items-${n}`);
    const done = path.join(out, 'stages.json');
    const before = readReport<SmokeReport>(done, (r) => Array.isArray(r.stages) && typeof r.data?.items === 'number', log);
    if (before) {
      const other = before.codeVersion === code ? '' : `, by other code (${before.codeVersion ?? 'version not recorded'}; this code is ${code}): remove ${out} to measure it again`;
      log(`[scale] ${n} items: measured before (${done})${other}`);
      points.push({ requestedItems: n, report: before });
      continue;
    }
    let dir: string | undefined;
    if (p.data.dataset !== 'synthetic') {
      dir = path.join(opts.dataDir ?? path.join(opts.outDir, 'data'), `ml-25m-like-${n}`);
      // writeSyntheticFolder publishes the folder whole, so one that exists is complete.
      if (!fs.existsSync(path.join(dir, 'ratings.csv'))) {
        log(`[scale] ${n} items: writing a synthetic folder shaped like ml-25m into ${dir}`);
        writeSyntheticFolder(dir, syntheticLikeOptions('ml-25m', { movies: n, seed: opts.seed ?? 0 }));
      }
    }
    log(`[scale] ${n} items: smoke run`);
    const report = await runSmoke(profileAtSize(p, n, dir), { ...opts, outDir: out });
    points.push({ requestedItems: n, report });
  }
  const report: ScalingReport = { profile: p.name, points, exponents: scalingExponents(points) };
  writeJsonAtomic(path.join(opts.outDir, 'scaling.json'), report);
  return report;
}

/** A stored report, or null when absent; a damaged one is reported and treated as absent (measured again). */
function readReport<T>(file: string, valid: (r: any) => boolean, log: (l: string) => void): T | null {
  if (!fs.existsSync(file)) return null;
  try {
    const r = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (valid(r)) return r as T;
    log(`[scale] ${file} is not a report of this kind: measuring again`);
  } catch (err) {
    log(`[scale] ${file} cannot be read (${(err as Error).message}): measuring again`);
  }
  return null;
}

/** The sweep stored in `outDir`, or null (also when its file is damaged). */
export function readScaling(outDir: string, log: (l: string) => void = () => {}): ScalingReport | null {
  return readReport<ScalingReport>(path.join(outDir, 'scaling.json'), (r) => Array.isArray(r.points) && typeof r.exponents === 'object', log);
}

/** Where `sid scale --profile <name>` writes by default. */
function scalingDirOf(profile: string): string {
  return path.join(projectRoot(), 'reports', `${profile}-scaling`);
}

/**
 * What notebook 09 shows: the sweep `sid scale` wrote for this profile, else the paper profile's,
 * else the tiny profile's sweep (measured on first use and kept in the artifact cache folder, keyed
 * by the code). `source` says which, in a sentence.
 */
export async function scalingForNotebook(p: Profile, cache = new ArtifactCache(), log?: (l: string) => void): Promise<{ report: ScalingReport; source: string }> {
  for (const name of [...new Set([p.name, 'paper'])]) {
    const stored = readScaling(scalingDirOf(name), log);
    if (stored) return { report: stored, source: `the \`${name}\` profile's sweep in reports/${name}-scaling (written by \`sid scale --profile ${name}\`)` };
  }
  const tiny = getProfile('tiny');
  const sizes = defaultScalingSizes(tiny);
  const dir = path.join(cache.root, 'scaling', artifactKey('scaling', { profile: tiny, sizes, code: codeVersion(['lib']) }));
  const report = readScaling(dir, log) ?? (await runScaling(tiny, { outDir: dir, sizes, log }));
  return {
    report,
    source: `the \`tiny\` profile's synthetic catalogue at ${sizes.join(', ')} items, measured here (no sweep in reports/${p.name}-scaling or reports/paper-scaling: \`sid scale --profile paper\` writes one)`,
  };
}
