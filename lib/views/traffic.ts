/**
 * Notebook 08: would the conclusions hold if search traffic followed consumption popularity (as real
 * search logs do), or if recommendation targets were spread evenly over items? Reweights the stored
 * per-example rankings of every method (lib/pipeline/analyses.ts `trafficRows`); no retraining.
 */
import type { Figure } from '../display/plot';
import { TRAFFIC_MODELS, type TrafficModel } from '../eval/reweight';
import type { TrafficRow } from '../pipeline/analyses';
import { TASKS, type Task } from '../types';

export function trafficTable(rows: TrafficRow[]): Record<string, string>[] {
  const methods = [...new Set(rows.map((r) => r.method))];
  const out: Record<string, string>[] = [];
  for (const m of methods) {
    for (const task of TASKS) {
      const row: Record<string, string> = { method: m, task };
      for (const t of TRAFFIC_MODELS) {
        const e = rows.find((r) => r.method === m && r.task === task && r.traffic === t)?.recall;
        row[t] = e ? `${e.mean.toFixed(4)} [${e.lo.toFixed(4)}, ${e.hi.toFixed(4)}]` : '-';
      }
      out.push(row);
    }
  }
  return out;
}

/** Kendall's tau between the method orderings under two traffic models (1 = same order). */
function kendallTau(a: number[], b: number[]): number {
  let concordant = 0;
  let discordant = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      const s = Math.sign(a[i] - a[j]) * Math.sign(b[i] - b[j]);
      if (s > 0) concordant++;
      else if (s < 0) discordant++;
    }
  }
  const pairs = (a.length * (a.length - 1)) / 2;
  return pairs > 0 ? (concordant - discordant) / pairs : 1;
}

/** Sentences: for each task, how the ranking of methods changes between traffic models. */
export function trafficSentences(rows: TrafficRow[]): string {
  const methods = [...new Set(rows.map((r) => r.method))];
  const lines: string[] = [];
  for (const task of TASKS) {
    const v = (t: TrafficModel) => methods.map((m) => rows.find((r) => r.method === m && r.task === task && r.traffic === t)!.recall.mean);
    const base = v('as-sampled');
    const best = (vals: number[]) => methods[vals.indexOf(Math.max(...vals))];
    for (const t of ['popularity', 'uniform-items'] as const) {
      const other = v(t);
      lines.push(
        `- **${task}**, ${t} traffic: best method ${best(other)} (as sampled: ${best(base)}); ` +
          `Kendall's tau with the as-sampled ordering ${kendallTau(base, other).toFixed(2)}.`,
      );
    }
  }
  return lines.join('\n');
}

export function trafficFigure(rows: TrafficRow[], task: Task): Figure {
  const methods = [...new Set(rows.map((r) => r.method))];
  return {
    data: TRAFFIC_MODELS.map((t) => {
      const es = methods.map((m) => rows.find((r) => r.method === m && r.task === task && r.traffic === t)!.recall);
      return {
        type: 'bar',
        name: t,
        x: methods,
        y: es.map((e) => e.mean),
        error_y: { type: 'data', symmetric: false, array: es.map((e) => e.hi - e.mean), arrayminus: es.map((e) => e.mean - e.lo) },
      };
    }),
    layout: {
      title: { text: `${task === 'rec' ? 'Recommendation' : 'Search'} Recall@30 under three traffic models (95% intervals)` },
      barmode: 'group',
      xaxis: { title: { text: 'method' }, tickangle: -30, automargin: true },
      yaxis: { title: { text: 'Recall@30' }, rangemode: 'tozero' },
      legend: { title: { text: 'test traffic' } },
      height: 480,
    },
  };
}
