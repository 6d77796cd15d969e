/** Figures and tables for the generative model (notebook 03), from stored or decoded results. */
import type { Figure } from '../display/plot';
import type { EpochRecord, TrainConfig } from '../generate/train';
import type { DecodedIds } from '../generate/beamSearch';
import type { PairedComparison } from '../eval/compare';
import { beamSettingLabel, type BeamSetting, type DecodingSelection, type SweepPoint } from '../eval/generativeEval';
import type { BeamSweep } from '../pipeline/analyses';
import type { Estimate } from '../util/metrics';
import { TASKS, type PreparedData } from '../types';

/** Training loss per task, the teacher-forced validation loss where measured, and validation Recall@30 per task, by epoch. */
export function trainingCurves(history: EpochRecord[], title: string): Figure {
  const ep = history.map((h) => h.epoch + 1);
  return {
    data: [
      { type: 'scatter', mode: 'lines+markers', name: 'search loss', x: ep, y: history.map((h) => h.searchLoss) },
      { type: 'scatter', mode: 'lines+markers', name: 'rec loss', x: ep, y: history.map((h) => h.recLoss) },
      ...(history.some((h) => h.valid?.loss)
        ? [{ type: 'scatter', mode: 'lines+markers', name: 'validation loss', x: ep, y: history.map((h) => h.valid?.loss?.mean ?? null), line: { dash: 'dash' } }]
        : []),
      { type: 'scatter', mode: 'lines+markers', name: 'valid search R@30', x: ep, y: history.map((h) => h.valid?.search ?? null), yaxis: 'y2', line: { dash: 'dot' } },
      { type: 'scatter', mode: 'lines+markers', name: 'valid rec R@30', x: ep, y: history.map((h) => h.valid?.rec ?? null), yaxis: 'y2', line: { dash: 'dot' } },
    ],
    layout: {
      title: { text: title },
      xaxis: { title: { text: 'epoch' }, dtick: 1 },
      yaxis: { title: { text: 'cross-entropy per ID token' } },
      yaxis2: { title: { text: 'validation Recall@30 (dotted)' }, overlaying: 'y', side: 'right', rangemode: 'tozero' },
      legend: { orientation: 'h', x: 0, y: -0.32, yanchor: 'top' },
      margin: { b: 120 },
      height: 440,
    },
  };
}

const label = (data: PreparedData, i: number) => {
  const it = data.dataset.items[i];
  return `${it.title}${it.year ? ` (${it.year})` : ''}`;
};

/** The top items of one decoded prompt (from `searchItems` / `recommendItems`), with their beam scores. */
export function generatedItemsTable(data: PreparedData, d: DecodedIds, target: number | null, top = 10): Record<string, string | number>[] {
  return d.items.slice(0, top).map((item, rank) => ({
    rank: rank + 1,
    item: label(data, item),
    genres: data.dataset.items[item].genres.join('|'),
    'log-prob': d.itemScores?.[rank] ?? '',
    target: item === target ? 'yes' : '',
  }));
}

export function historyRows(data: PreparedData, history: Int32Array, last = 10): Record<string, string>[] {
  return Array.from(history.subarray(Math.max(0, history.length - last))).map((i) => ({ item: label(data, i), genres: data.dataset.items[i].genres.join('|') }));
}

/** Recall@30 against beams (one curve per task) for the beam settings of a sweep. */
export function beamSweepFigure(search: SweepPoint[], rec: SweepPoint[]): Figure {
  const trace = (name: string, pts: SweepPoint[]) => ({
    type: 'scatter',
    mode: 'lines+markers',
    name,
    // Line breaks keep the long setting names readable as horizontal tick labels.
    x: pts.map((p) => beamSettingLabel(p).replace(' / ', '<br>').replace(' (', '<br>(')),
    y: pts.map((p) => p.recall.mean),
    error_y: { type: 'data', symmetric: false, array: pts.map((p) => p.recall.hi - p.recall.mean), arrayminus: pts.map((p) => p.recall.mean - p.recall.lo) },
  });
  return {
    data: [trace('search', search), trace('rec', rec)],
    layout: {
      title: { text: 'Recall@30 against beam width and beam groups (95% intervals)' },
      xaxis: { title: { text: 'decoding setting' }, type: 'category', tickangle: 0, automargin: true },
      yaxis: { title: { text: 'Recall@30' }, rangemode: 'tozero' },
      legend: { title: { text: 'task' } },
      height: 440,
    },
  };
}

/** The beam settings notebook 03 compares: plain beams of three widths, and the paper's groups. */
export const BEAM_SWEEP_SETTINGS: readonly BeamSetting[] = [
  { numBeams: 10, numGroups: 1 },
  { numBeams: 30, numGroups: 1 },
  { numBeams: 30, numGroups: 15 },
  { numBeams: 60, numGroups: 1 },
  { numBeams: 60, numGroups: 30 },
  { numBeams: 60, numGroups: 30, finalRanking: 'penalized' },
];

/** One row per task and beam setting: Recall@30 with its interval and the decoding time. */
export function beamSweepTable(sweep: BeamSweep): Record<string, string | number>[] {
  return TASKS.flatMap((task) =>
    sweep[task].map((p) => ({
      task,
      'decoding setting': beamSettingLabel(p),
      'Recall@30': p.recall.mean,
      '95% interval low': p.recall.lo,
      '95% interval high': p.recall.hi,
      'decoding seconds': p.seconds,
    })),
  );
}

/** The paired comparison of a model with a baseline as three rows: each recall and the difference. */
export function pairedComparisonRows(c: PairedComparison, modelLabel: string, baselineLabel: string): Record<string, string | number>[] {
  const est = (e: Estimate) => ({ [`Recall@${c.k}`]: e.mean, '95% interval low': e.lo, '95% interval high': e.hi });
  return [
    { ranking: modelLabel, ...est(c.model) },
    { ranking: baselineLabel, ...est(c.baseline) },
    { ranking: 'difference (paired)', ...est(c.difference) },
  ];
}

/** A sentence stating whether the paired difference's interval lies above, below or around zero. */
export function pairedVerdict(c: PairedComparison, subject: string, baselineLabel: string): string {
  const d = c.difference;
  const verdict = d.lo > 0 ? `above ${baselineLabel}: the whole interval of the difference is above zero`
    : d.hi < 0 ? `below ${baselineLabel}: the whole interval of the difference is below zero`
    : `not distinguishable from ${baselineLabel}: the interval of the difference contains zero`;
  return `${subject} is **${verdict}** (${d.mean >= 0 ? '+' : ''}${d.mean.toFixed(3)} [${d.lo.toFixed(3)}, ${d.hi.toFixed(3)}]).`;
}

/** How the test decoding was chosen: each candidate's validation Recall@K per task and its score. */
export function decodingSelectionTable(sel: DecodingSelection): Record<string, string | number>[] {
  return sel.candidates.map((c, i) => ({
    decoding: beamSettingLabel({ numBeams: c.decode.numBeams ?? 60, numGroups: c.decode.numGroups ?? 1, finalRanking: c.decode.finalRanking }),
    [`valid search R@${sel.k}`]: c.valid.search.mean,
    [`valid rec R@${sel.k}`]: c.valid.rec.mean,
    'mean of both': c.score,
    chosen: i === sel.chosen ? 'yes' : '',
  }));
}

/** One sentence on how a training ended: the plateau rule (on which signal, with the final decay) or the cap. */
export function trainingStopSentence(r: { history: EpochRecord[]; stop: 'cap' | 'plateau'; bestEpoch: number; trainSeconds: number }, train: TrainConfig): string {
  const signal = train.stopOn === 'loss' ? 'validation loss' : 'validation recall';
  const rule = `no better ${signal}${train.minDelta ? ` (by more than ${train.minDelta})` : ''} for ${train.patience} epochs`;
  const how = r.stop === 'plateau'
    ? train.decay === 'wsd' ? `${rule}, then ${train.decayEpochs ?? 2} epochs of learning-rate decay` : `stopped: ${rule}`
    : `the cap of ${train.epochs} epochs`;
  return `Trained ${r.history.length} epochs in ${r.trainSeconds.toFixed(0)} s (${how}); best epoch ${r.bestEpoch + 1}, whose weights are kept.`;
}
