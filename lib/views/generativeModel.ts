/** Figures and worked examples for the generative model (notebook 03). */
import type { Figure } from '../report/plot';
import type { EpochRecord } from '../generate/train';
import { buildExampleSets, decodeExamples, makeTries, recommendItems, searchItems, type GenerativeModel } from '../generate/jointModel';
import { bootstrapMean, hitsAtK } from '../eval/metrics';
import { Rng } from '../util/random';
import type { BeamSearchOptions, DecodedIds } from '../generate/beamSearch';
import { beamSettingLabel, type BeamSetting, type SweepPoint } from '../eval/generativeEval';
import type { PreparedData } from '../types';

/** Training loss per task and validation Recall@30 per task, by epoch. */
export function trainingCurves(history: EpochRecord[], title: string): Figure {
  const ep = history.map((h) => h.epoch + 1);
  return {
    data: [
      { type: 'scatter', mode: 'lines+markers', name: 'search loss', x: ep, y: history.map((h) => h.searchLoss) },
      { type: 'scatter', mode: 'lines+markers', name: 'rec loss', x: ep, y: history.map((h) => h.recLoss) },
      { type: 'scatter', mode: 'lines+markers', name: 'valid search R@30', x: ep, y: history.map((h) => h.valid?.search ?? null), yaxis: 'y2', line: { dash: 'dot' } },
      { type: 'scatter', mode: 'lines+markers', name: 'valid rec R@30', x: ep, y: history.map((h) => h.valid?.rec ?? null), yaxis: 'y2', line: { dash: 'dot' } },
    ],
    layout: {
      title: { text: title },
      xaxis: { title: { text: 'epoch' } },
      yaxis: { title: { text: 'cross-entropy per ID token' } },
      yaxis2: { title: { text: 'validation Recall@30' }, overlaying: 'y', side: 'right', rangemode: 'tozero' },
      height: 420,
    },
  };
}

const label = (data: PreparedData, i: number) => {
  const it = data.dataset.items[i];
  return `${it.title}${it.year ? ` (${it.year})` : ''}`;
};

function itemRows(data: PreparedData, d: DecodedIds, target: number | null, top: number): Record<string, string | number>[] {
  return d.items.slice(0, top).map((item, rank) => ({
    rank: rank + 1,
    item: label(data, item),
    genres: data.dataset.items[item].genres.join('|'),
    'log-prob': d.itemScores?.[rank] ?? '',
    target: item === target ? 'yes' : '',
  }));
}

/** The top items the model generates for a query, with their beam scores. */
export function searchExample(model: GenerativeModel, data: PreparedData, query: string, target: number | null, opts: BeamSearchOptions, top = 10): Record<string, string | number>[] {
  return itemRows(data, searchItems(model, [query], makeTries(model), opts)[0], target, top);
}

/** The top next items the model generates for a user's history. */
export function recExample(model: GenerativeModel, data: PreparedData, history: Int32Array, target: number | null, opts: BeamSearchOptions, top = 10): Record<string, string | number>[] {
  return itemRows(data, recommendItems(model, [history], makeTries(model), opts)[0], target, top);
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
    x: pts.map(beamSettingLabel),
    y: pts.map((p) => p.recall.mean),
    error_y: { type: 'data', symmetric: false, array: pts.map((p) => p.recall.hi - p.recall.mean), arrayminus: pts.map((p) => p.recall.mean - p.recall.lo) },
  });
  return {
    data: [trace('search', search), trace('rec', rec)],
    layout: { title: { text: 'Recall@30 against beam width and beam groups' }, yaxis: { title: { text: 'Recall@30' }, rangemode: 'tozero' }, height: 420 },
  };
}

/** Recall@K on a seeded sample of test examples for several beam settings, per task. */
export function sweepBeams(
  model: GenerativeModel,
  data: PreparedData,
  settings: BeamSetting[],
  opts: { limit?: number; k?: number; seed?: number } = {},
): { search: SweepPoint[]; rec: SweepPoint[] } {
  const sets = buildExampleSets(data, model.prompts, model.vocab, model.spaces, 0);
  const tries = makeTries(model);
  const rng = new Rng(opts.seed ?? 0);
  const limit = opts.limit ?? 300;
  const out = { search: [] as SweepPoint[], rec: [] as SweepPoint[] };
  for (const task of ['search', 'rec'] as const) {
    const all = sets.test[task];
    const sample = all.length <= limit ? all : Array.from(rng.fork(task).permutation(all.length).subarray(0, limit), (i) => all[i]);
    for (const s of settings) {
      const t0 = Date.now();
      const dec = decodeExamples(model, task, sample, tries, { diversityPenalty: s.numGroups > 1 ? 0.5 : 0, ...s });
      const hits = hitsAtK(dec.map((d) => d.items), sample.map((e) => e.item), opts.k ?? 30);
      out[task].push({ ...s, recall: bootstrapMean(hits, { seed: opts.seed }), seconds: (Date.now() - t0) / 1000 });
    }
  }
  return out;
}
