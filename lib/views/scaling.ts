/**
 * Notebook 09 and `sid scale`: the cost of each stage against the catalogue size, from smoke runs at
 * several sizes (lib/pipeline/scaling.ts): a table with the fitted exponents and log-log figures.
 */
import type { Figure } from '../report/plot';
import type { ScalingReport } from '../pipeline/scaling';
import { formatMiB, type SmokeReport } from '../pipeline/smoke';
import { formatSeconds } from '../util/progress';

const peakOf = (s: SmokeReport['stages'][number]) => Math.max(...s.levels.map((l) => l.peakRssBytes));

/** The growth an exponent means, in words (a stage near 2 is quadratic in the items). */
export function growthLabel(exponent: number): string {
  if (!Number.isFinite(exponent)) return '-';
  if (exponent < 0.3) return 'flat';
  if (exponent < 1.3) return 'about linear';
  if (exponent < 1.7) return 'between linear and quadratic';
  return 'quadratic or worse';
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
    // Reports from before the thread count was kept leave it unknown.
    const threads = p.report.fullRunSecondsWithJobs[0]?.threads;
    row['threads per worker'] = threads === undefined ? '-' : String(threads);
    for (const j of p.report.fullRunSecondsWithJobs) row[`full run, ${j.jobs} worker${j.jobs === 1 ? '' : 's'}`] = formatSeconds(j.seconds);
    return row;
  });
}

/** Log-log lines, one per stage: the extrapolated full time ('time') or the peak RSS ('memory') against the items. */
export function scalingFigure(r: ScalingReport, what: 'time' | 'memory'): Figure {
  const stages = r.points.at(-1)?.report.stages.map((s) => s.stage) ?? [];
  return {
    // Past the palette's ten colours the lines are dashed, so no two stages look alike.
    data: stages.map((stage, i) => {
      const pts = r.points.map((p) => ({ items: p.report.data.items, s: p.report.stages.find((x) => x.stage === stage) })).filter((p) => p.s);
      return {
        type: 'scatter',
        mode: 'lines+markers',
        name: stage,
        line: { dash: i < 10 ? 'solid' : 'dash' },
        x: pts.map((p) => p.items),
        y: pts.map((p) => (what === 'time' ? p.s!.fullSeconds : peakOf(p.s!) / 2 ** 20)),
      };
    }),
    layout: {
      title: { text: what === 'time' ? 'Full-budget time of one run of each stage (extrapolated from the smoke runs)' : 'Peak resident memory of each stage' },
      xaxis: { title: { text: 'items in the catalogue' }, type: 'log' },
      yaxis: { title: { text: what === 'time' ? 'seconds (log)' : 'MiB (log)' }, type: 'log' },
      legend: { title: { text: 'stage' } },
      height: 520,
    },
  };
}

/** Sentences on what grows fastest, computed from the fitted exponents. */
export function scalingSentences(r: ScalingReport): string {
  const entries = Object.entries(r.exponents).filter(([, e]) => Number.isFinite(e.time));
  if (entries.length === 0 || r.points.length < 2) return 'Fewer than two sizes were measured: no growth can be fitted.';
  const worst = entries.reduce((a, b) => (b[1].time > a[1].time ? b : a));
  const sizes = r.points.map((p) => p.report.data.items.toLocaleString('en-US')).join(', ');
  const last = r.points.at(-1)!.report;
  const top = [...last.stages].sort((a, b) => b.runs * b.fullSeconds - a.runs * a.fullSeconds)[0];
  return [
    `- Measured at ${sizes} items on ${last.machine.cpus} cores (${last.backend}).`,
    `- Fastest-growing stage: **${worst[0]}**, time ~ items^${worst[1].time.toFixed(2)} (${growthLabel(worst[1].time)}).`,
    `- At the largest size the full run is dominated by **${top.stage}** (${top.runs} run${top.runs > 1 ? 's' : ''} of ${formatSeconds(top.fullSeconds)}), ` +
      `${((100 * top.runs * top.fullSeconds) / last.fullRunSeconds).toFixed(0)}% of ${formatSeconds(last.fullRunSeconds)} in one process.`,
  ].join('\n');
}
