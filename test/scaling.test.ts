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
import type { SmokeReport, SmokeStage } from '../lib/pipeline/smoke';
import { scalingSentences, scalingTable, scalingTotals } from '../lib/views/scaling';
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
  assert.equal(rows.find((x) => x.stage === 'quadratic')!['time exponent'], '2.00 (quadratic or worse)');
  assert.equal(rows.find((x) => x.stage === 'linear')!['time exponent'], '1.00 (about linear)');
  assert.match(scalingSentences(r), /Fastest-growing stage: \*\*quadratic\*\*/);
  // At 4,000 items the quadratic stage's 2 x 16,000 s outweigh the linear one's 2 x 2,000 s.
  assert.match(scalingSentences(r), /dominated by \*\*quadratic\*\* \(2 runs of 4h26m\), 89% of 10h0m/);
  // The worker totals name the threads each worker was measured with; older reports did not keep them.
  const totals = scalingTotals(r)[0];
  assert.deepEqual(Object.keys(totals).slice(-3), ['threads per worker', 'full run, 1 worker', 'full run, 4 workers']);
  assert.equal(totals['threads per worker'], '2');
  const old = { ...r, points: [{ requestedItems: 1000, report: reportAt(1000, LAWS) }] };
  assert.equal(scalingTotals(old)[0]['threads per worker'], '-');
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
    assert.ok(logged.some((l) => /100 items: measured before/.test(l)), logged.join('\n'));
    assert.ok(logged.some((l) => /items-200.*cannot be read.*measuring again/.test(l)), logged.join('\n'));
    // The stored point is used as it was; the damaged one was measured by a real smoke run of tiny at 200 items.
    assert.deepEqual(r.points[0].report, reportAt(100, LAWS));
    assert.equal(r.points[1].report.data.items, 200);
    assert.ok(r.points[1].report.stages.some((s) => s.stage === 'training (one row, one seed)'));
    assert.deepEqual(readScaling(out), JSON.parse(JSON.stringify(r)));
    assert.equal(readScaling(path.join(out, 'nothing-here')), null);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
