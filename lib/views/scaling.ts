/**
 * Notebook 09 and `sid scale`: the cost of each stage against the catalogue size, from smoke runs at
 * several sizes (lib/pipeline/scaling.ts): a table with the fitted exponents and log-log figures.
 */
import type { Figure } from '../display/plot';
import type { ScalingReport } from '../pipeline/scaling';
import { formatMiB, type SmokeReport } from '../pipeline/smoke';
import { formatSeconds } from '../util/progress';

const peakOf = (s: SmokeReport['stages'][number]) => Math.max(...s.levels.map((l) => l.peakRssBytes));

/** The growth an exponent means, in words (a stage near 2 is quadratic in the items). */
function growthLabel(exponent: number): string {
  if (!Number.isFinite(exponent)) return '-';
  if (exponent < 0.3) return 'flat';
  if (exponent < 1.3) return 'about linear';
  if (exponent < 1.7) return 'between linear and quadratic';
  if (exponent < 2.3) return 'about quadratic';
  return 'worse than quadratic';
}

// Landmarks for the figures' log axes: plotly's own ticks on a log axis are bare mantissas (2, 5)
// between powers of ten, which read as nothing on an axis of seconds or MiB.
const TIME_TICKS: [number, string][] = [
  [0.1, '0.1 s'], [1, '1 s'], [10, '10 s'], [60, '1 min'], [600, '10 min'], [3600, '1 h'], [36000, '10 h'], [360000, '100 h'], [3600000, '1000 h'],
];
const MEMORY_TICKS: [number, string][] = [
  [64, '64 MiB'], [128, '128 MiB'], [256, '256 MiB'], [512, '512 MiB'], [1024, '1 GiB'], [2048, '2 GiB'], [4096, '4 GiB'],
  [8192, '8 GiB'], [16384, '16 GiB'], [32768, '32 GiB'],
];

/**
 * The landmarks that span the data (the last at or below its smallest value to the first at or above
 * its largest), as a plotly tick array; null where the landmarks do not reach that far, to leave
 * the axis to plotly.
 */
export function logTicks(values: number[], landmarks: [number, string][]): { tickmode: 'array'; tickvals: number[]; ticktext: string[] } | null {
  const finite = values.filter((v) => Number.isFinite(v) && v > 0);
  if (finite.length === 0) return null;
  const [lo, hi] = [Math.min(...finite), Math.max(...finite)];
  const first = landmarks.filter(([v]) => v <= lo).length - 1;
  const last = landmarks.findIndex(([v]) => v >= hi);
  if (first < 0 || last < 0) return null;
  const chosen = landmarks.slice(first, last + 1);
  return { tickmode: 'array', tickvals: chosen.map(([v]) => v), ticktext: chosen.map(([, t]) => t) };
}

/** One row per stage: its extrapolated full time at each size, the fitted exponents and the peak memory at the largest size. */
export function scalingTable(r: ScalingReport): Record<string, string>[] {
  const last = r.points.at(-1)?.report;
  if (!last) return [];
  return last.stages.map((s) => {
    const row: Record<string, string> = { stage: s.stage };
    for (const p of r.points) {
      const x = p.report.stages.find((y) => y.stage === s.stage);
      row[`${p.report.data.items.toLocaleString('en-US')} items`] = x ? formatSeconds(x.fullSeconds) : '-';
    }
    const e = r.exponents[s.stage];
    row['time exponent'] = e && Number.isFinite(e.time) ? `${e.time.toFixed(2)} (${growthLabel(e.time)})` : '-';
    row['peak RSS, largest'] = formatMiB(peakOf(s));
    row['memory exponent'] = e && Number.isFinite(e.memory) ? e.memory.toFixed(2) : '-';
    row['runs in the full run'] = String(s.runs);
    return row;
  });
}

/** The full run's time at each size (one process, and with the report's worker counts). */
export function scalingTotals(r: ScalingReport): Record<string, string>[] {
  return r.points.map((p) => {
    const row: Record<string, string> = {
      items: p.report.data.items.toLocaleString('en-US'),
      'training interactions': p.report.data.trainInteractions.toLocaleString('en-US'),
      'smoke run took': formatSeconds(p.report.smokeSeconds),
      'peak RSS': formatMiB(p.report.peakRssBytes),
    };
    row['code'] = p.report.codeVersion ?? 'not recorded';
    // Reports from before the thread count was kept leave it unknown.
    const threads = p.report.fullRunSecondsWithJobs[0]?.threads;
    row['threads per worker'] = threads === undefined ? 'not recorded' : String(threads);
    for (const j of p.report.fullRunSecondsWithJobs) row[`full run, ${j.jobs} worker${j.jobs === 1 ? '' : 's'}`] = formatSeconds(j.seconds);
    return row;
  });
}

/** Log-log lines, one per stage: the extrapolated full time ('time') or the peak RSS ('memory') against the items. */
export function scalingFigure(r: ScalingReport, what: 'time' | 'memory'): Figure {
  const stages = r.points.at(-1)?.report.stages.map((s) => s.stage) ?? [];
  const lines = stages.map((stage) => {
    const pts = r.points.map((p) => ({ items: p.report.data.items, s: p.report.stages.find((x) => x.stage === stage) })).filter((p) => p.s);
    return { stage, x: pts.map((p) => p.items), y: pts.map((p) => (what === 'time' ? p.s!.fullSeconds : peakOf(p.s!) / 2 ** 20)) };
  });
  const sizes = r.points.map((p) => p.report.data.items);
  return {
    // Past the palette's ten colours the lines are dashed, so no two stages look alike.
    data: lines.map(({ stage, x, y }, i) => ({ type: 'scatter', mode: 'lines+markers', name: stage, line: { dash: i < 10 ? 'solid' : 'dash' }, x, y })),
    layout: {
      title: { text: what === 'time' ? 'Full-budget time of one run of each stage (extrapolated from the smoke runs)' : 'Peak resident memory of each stage' },
      xaxis: { title: { text: 'items in the catalogue (log)' }, type: 'log', tickmode: 'array', tickvals: sizes, ticktext: sizes.map((n) => (n >= 10000 ? `${Math.round(n / 1000)}k` : n.toLocaleString('en-US'))) },
      yaxis: {
        title: { text: what === 'time' ? 'full-budget time (log)' : 'peak RSS (log)' },
        type: 'log',
        ...logTicks(lines.flatMap((l) => l.y), what === 'time' ? TIME_TICKS : MEMORY_TICKS) ?? {},
      },
      legend: { title: { text: 'stage' } },
      // Tall enough for the legend of every stage without a scroll bar.
      height: Math.max(520, 240 + 22 * stages.length),
    },
  };
}

/** Sentences on what grows fastest, computed from the fitted exponents. */
export function scalingSentences(r: ScalingReport): string {
  const versions = new Set(r.points.map((p) => p.report.codeVersion ?? 'not recorded'));
  const mixed =
    versions.size > 1
      ? [`- The sizes were measured by ${versions.size} versions of the code (column \`code\` below): a difference between two sizes can be the code's, not the catalogue's.`]
      : [];
  const entries = Object.entries(r.exponents).filter(([, e]) => Number.isFinite(e.time));
  if (entries.length === 0 || r.points.length < 2) return ['Fewer than two sizes were measured: no growth can be fitted.', ...mixed].join('\n');
  const worst = entries.reduce((a, b) => (b[1].time > a[1].time ? b : a));
  const sizes = r.points.map((p) => p.report.data.items.toLocaleString('en-US')).join(', ');
  const last = r.points.at(-1)!.report;
  const top = [...last.stages].sort((a, b) => b.runs * b.fullSeconds - a.runs * a.fullSeconds)[0];
  return [
    `- Measured at ${sizes} items on ${last.machine.cpus} cores (${last.backend}).`,
    ...mixed,
    `- Fastest-growing stage: **${worst[0]}**, time ~ items^${worst[1].time.toFixed(2)} (${growthLabel(worst[1].time)}).`,
    `- At the largest size the full run is dominated by **${top.stage}** (${top.runs} run${top.runs > 1 ? 's' : ''} of ${formatSeconds(top.fullSeconds)}), ` +
      `${((100 * top.runs * top.fullSeconds) / last.fullRunSeconds).toFixed(0)}% of ${formatSeconds(last.fullRunSeconds)} in one process.`,
  ].join('\n');
}
