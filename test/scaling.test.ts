/**
 * Cost curves (lib/pipeline/scaling.ts, lib/views/scaling.ts): the fitted exponents against known
 * power laws, a sweep that resumes from the sizes already measured (and measures a damaged one
 * again), and the totals' labels.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { getProfile } from '../lib/pipeline/profiles';
import { logLogSlope, readScaling, runScaling, scalingExponents, type ScalingPoint } from '../lib/pipeline/scaling';
import { smokeCodeVersion, type SmokeReport, type SmokeStage } from '../lib/pipeline/smoke';
import { logTicks, scalingFigure, scalingSentences, scalingTable, scalingTotals } from '../lib/views/scaling';
import { writeJsonAtomic } from '../lib/util/fs';

const MiB = 2 ** 20;

/** A report whose stages cost a * items^b seconds and c * items^d MiB. */
function reportAt(items: number, laws: Record<string, { a: number; b: number; c: number; d: number }>, threads?: number): SmokeReport {
  const stages: SmokeStage[] = Object.entries(laws).map(([stage, l]) => {
    const m = { stage, seconds: 1, peakRssBytes: l.c * items ** l.d * MiB, peakRssScope: 'stage' as const, wasmHeapBytes: null, artifactBytes: 0 };
    return { stage, unit: null, runs: 2, levels: [m, m], work: null, fullSeconds: l.a * items ** l.b };
  });
  const shared = stages.reduce((s, x) => s + x.runs * x.fullSeconds, 0);
  return {
    profile: 'test', dataDir: null,
    data: { items, users: 100, trainInteractions: 1000, trainQueries: 20 * items, testQueries: 2 * items, recTest: 100 },
    machine: { cpus: 2, cpuModel: 'test', totalMemoryBytes: 8 * 2 ** 30, node: process.version },
    backend: 'wasm', stages,
    training: { examplesPerSecond: 100, decodesPerSecond: 10, fullTrainSeconds: 0, fullEvalSeconds: 0, fixedSeconds: 0 },
    fullRunSeconds: shared,
    fullRunSecondsWithJobs: [1, 4].map((jobs) => (threads === undefined ? { jobs, seconds: shared } : { jobs, threads, seconds: shared })) as SmokeReport['fullRunSecondsWithJobs'],
    smokeSeconds: 60, peakRssBytes: Math.max(...stages.map((s) => s.levels[0].peakRssBytes)),
  };
}

const LAWS = { quadratic: { a: 1e-3, b: 2, c: 100, d: 0 }, linear: { a: 0.5, b: 1, c: 2, d: 1 } };

test('logLogSlope recovers the exponent of a power law, and gives NaN without two positive points', () => {
  const x = [10, 20, 40, 80];
  assert.ok(Math.abs(logLogSlope(x, x.map((v) => 3 * v ** 2)) - 2) < 1e-12);
  assert.ok(Math.abs(logLogSlope(x, x.map((v) => 7 * v)) - 1) < 1e-12);
  assert.ok(Math.abs(logLogSlope(x, x.map(() => 5))) < 1e-12);
  assert.ok(Number.isNaN(logLogSlope([10], [1])));
  assert.ok(Number.isNaN(logLogSlope([10, 20], [0, 0])));
});

test('scalingExponents fits each stage\'s time and memory; the views name the fastest-growing stage', () => {
  const points: ScalingPoint[] = [1000, 2000, 4000].map((n) => ({ requestedItems: n, report: reportAt(n, LAWS, 2) }));
  const e = scalingExponents(points);
  assert.ok(Math.abs(e.quadratic.time - 2) < 1e-9 && Math.abs(e.quadratic.memory) < 1e-9);
  assert.ok(Math.abs(e.linear.time - 1) < 1e-9 && Math.abs(e.linear.memory - 1) < 1e-9);
  const r = { profile: 'test', points, exponents: e };
  const rows = scalingTable(r);
  assert.equal(rows.find((x) => x.stage === 'quadratic')!['time exponent'], '2.00 (about quadratic)');
  assert.equal(rows.find((x) => x.stage === 'linear')!['time exponent'], '1.00 (about linear)');
  assert.match(scalingSentences(r), /Fastest-growing stage: \*\*quadratic\*\*/);
  assert.doesNotMatch(scalingSentences(r), /versions of the code/);
  // At 4,000 items the quadratic stage's 2 x 16,000 s outweigh the linear one's 2 x 2,000 s.
  assert.match(scalingSentences(r), /dominated by \*\*quadratic\*\* \(2 runs of 4h26m\), 89% of 10h0m/);
  // The worker totals name the threads each worker was measured with; older reports did not keep them.
  const totals = scalingTotals(r)[0];
  assert.deepEqual(Object.keys(totals).slice(-4), ['code', 'threads per worker', 'full run, 1 worker', 'full run, 4 workers']);
  assert.equal(totals['threads per worker'], '2');
  const old = { ...r, points: [{ requestedItems: 1000, report: reportAt(1000, LAWS) }] };
  assert.equal(scalingTotals(old)[0]['threads per worker'], 'not recorded');
});

test('the figures\' log axes carry duration and memory landmarks spanning the data, and the sizes measured', () => {
  const points: ScalingPoint[] = [1000, 2000, 40000].map((n) => ({ requestedItems: n, report: reportAt(n, LAWS, 2) }));
  const r = { profile: 'test', points, exponents: scalingExponents(points) };
  const time = scalingFigure(r, 'time');
  const ys = time.data.flatMap((d) => d.y as number[]);
  const { tickvals, ticktext } = time.layout!.yaxis as { tickvals: number[]; ticktext: string[] };
  // One landmark at or below the smallest value, one at or above the largest, all in order.
  assert.ok(tickvals[0] <= Math.min(...ys) && tickvals.at(-1)! >= Math.max(...ys), `${tickvals} against ${Math.min(...ys)}..${Math.max(...ys)}`);
  assert.ok(tickvals.length < 2 || tickvals[1] > Math.min(...ys));
  assert.deepEqual([...tickvals].sort((a, b) => a - b), tickvals);
  assert.equal(ticktext.length, tickvals.length);
  assert.deepEqual((time.layout!.xaxis as { ticktext: string[] }).ticktext, ['1,000', '2,000', '40k']);
  const landmarks: [number, string][] = [[128, 'a'], [256, 'b'], [512, 'c'], [1024, 'd'], [2048, 'e'], [4096, 'f'], [8192, 'g']];
  assert.deepEqual(logTicks([300, 3000], landmarks), { tickmode: 'array', tickvals: [256, 512, 1024, 2048, 4096], ticktext: ['b', 'c', 'd', 'e', 'f'] });
  assert.deepEqual(logTicks([256, 4096], landmarks)?.tickvals, [256, 512, 1024, 2048, 4096]);
  // Data past the landmarks, or none, leave the axis to plotly.
  assert.equal(logTicks([100, 3000], landmarks), null);
  assert.equal(logTicks([300, 9000], landmarks), null);
  assert.equal(logTicks([], landmarks), null);
});

test('a sweep keeps the sizes already measured, measures a damaged one again, and writes scaling.json', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-scaling-'));
  try {
    const tiny = getProfile('tiny');
    writeJsonAtomic(path.join(out, 'items-100', 'stages.json'), reportAt(100, LAWS));
    fs.mkdirSync(path.join(out, 'items-200'), { recursive: true });
    fs.writeFileSync(path.join(out, 'items-200', 'stages.json'), '{"stages": [');
    const logged: string[] = [];
    const r = await runScaling(tiny, { outDir: out, sizes: [100, 200], tables: ['shared-vs-separate'], log: (l) => logged.push(l) });
    // The stored point predates the code version: kept, with a line saying how to measure it again.
    assert.ok(logged.some((l) => /100 items: measured before .*by other code \(version not recorded; this code is [0-9a-f]{12}\): remove .*items-100/.test(l)), logged.join('\n'));
    assert.ok(logged.some((l) => /items-200.*cannot be read.*measuring again/.test(l)), logged.join('\n'));
    // The stored point is used as it was; the damaged one was measured by a real smoke run of tiny at 200 items.
    assert.deepEqual(r.points[0].report, reportAt(100, LAWS));
    assert.equal(r.points[1].report.data.items, 200);
    assert.equal(r.points[1].report.codeVersion, smokeCodeVersion());
    assert.match(scalingSentences(r), /measured by 2 versions of the code/);
    assert.deepEqual(scalingTotals(r).map((row) => row.code), ['not recorded', smokeCodeVersion()]);
    assert.ok(r.points[1].report.stages.some((s) => s.stage === 'training (one row, one seed)'));
    assert.deepEqual(readScaling(out), JSON.parse(JSON.stringify(r)));
    assert.equal(readScaling(path.join(out, 'nothing-here')), null);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
