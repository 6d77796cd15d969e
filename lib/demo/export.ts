/**
 * Builds the demo's payload from a trained joint model and its data (Node only): weights as float32
 * (not quantised, so the browser ranks exactly what Node ranks), the item table, a seeded sample of
 * test queries and users, and Node's decoding of that sample with both of the page's decodings, made
 * by `decodeExamples` as `sid eval` makes it.
 */
import type { BeamSearchOptions } from '../generate/beamSearch';
import { findSpace } from '../generate/idContract';
import { decodeExamples, makeTries, recExamples, searchExamples, type GenerativeModel } from '../generate/jointModel';
import type { PreparedData } from '../types';
import { Rng } from '../util/random';
import { bytesToBase64, DEMO_FORMAT, DEMO_MODES, type DemoMode, type DemoPayload, type DemoReference } from './payload';

export interface DemoExportOptions {
  profile: string;
  experiment: string;
  modelKey: string;
  /** The decoding `sid eval` chose and the candidates it chose from (the page offers plain and diverse). */
  decode: BeamSearchOptions;
  candidates?: BeamSearchOptions[];
  /** Test queries and users shown as examples and decoded for the reference (defaults 20 and 30). */
  sampleQueries?: number;
  sampleUsers?: number;
  seed?: number;
}

/** Plain and diverse beam settings: from the candidates when they have them, else derived from `decode`. */
export function demoDecodings(decode: BeamSearchOptions, candidates: BeamSearchOptions[] = []): Record<DemoMode, BeamSearchOptions> & { chosen: DemoMode } {
  const all = [decode, ...candidates];
  const beams = decode.numBeams ?? 60;
  const plain = all.find((c) => (c.numGroups ?? 1) === 1) ?? { numBeams: beams, numGroups: 1 };
  const diverse = all.find((c) => (c.numGroups ?? 1) > 1) ?? { numBeams: beams, numGroups: Math.max(1, Math.floor(beams / 2)), diversityPenalty: 0.5 };
  const clean = (o: BeamSearchOptions): BeamSearchOptions => {
    const g = o.numGroups ?? 1;
    return { numBeams: o.numBeams ?? 60, numGroups: g, diversityPenalty: o.diversityPenalty ?? (g > 1 ? 0.5 : 0), ...(o.finalRanking ? { finalRanking: o.finalRanking } : {}) };
  };
  return { plain: clean(plain), diverse: clean(diverse), chosen: (decode.numGroups ?? 1) > 1 ? 'diverse' : 'plain' };
}

export async function buildDemoPayload(model: GenerativeModel, data: PreparedData, opts: DemoExportOptions): Promise<DemoPayload> {
  const rng = new Rng(opts.seed ?? 0).fork('demo');
  const queries = rng.fork('queries').sample(data.queries.test, opts.sampleQueries ?? 20);
  const recTest = rng.fork('users').sample(data.rec.test, opts.sampleUsers ?? 30);
  const decode = demoDecodings(opts.decode, opts.candidates);
  const tries = makeTries(model);
  const searchEx = searchExamples(model.prompts, findSpace(model.vocab, model.spaces.search), queries);
  const recEx = recExamples(model.prompts, findSpace(model.vocab, model.spaces.rec), recTest);
  const reference: DemoPayload['reference'] = { search: [], rec: [] };
  for (const mode of DEMO_MODES) {
    (await decodeExamples({ model, task: 'search', tries, options: decode[mode] }, searchEx)).forEach((d, i) => {
      reference.search.push(ref(mode, d.items, d.itemScores, { query: queries[i].text }));
    });
    (await decodeExamples({ model, task: 'rec', tries, options: decode[mode] }, recEx)).forEach((d, i) => {
      reference.rec.push(ref(mode, d.items, d.itemScores, { user: i }));
    });
  }
  const weights = model.net.getWeights();
  const shapes = new Map(model.net.names.map((n) => [n, model.net.p(n).shape]));
  return {
    format: DEMO_FORMAT,
    profile: opts.profile,
    dataset: data.dataset.name,
    experiment: opts.experiment,
    modelKey: opts.modelKey,
    generatedAt: new Date().toISOString(),
    config: model.net.config,
    prompts: model.prompts.toJSON(),
    spaces: model.spaces,
    idVocab: {
      size: model.vocab.size,
      spaces: model.vocab.spaces.map((s) => ({
        name: s.name,
        offset: s.offset,
        positionOffsets: s.positionOffsets,
        numItems: s.ids.numItems,
        length: s.ids.length,
        cardinalities: s.ids.cardinalities,
        codes: bytesToBase64(Int32Array.from(s.ids.codes)),
      })),
    },
    weights: model.net.names.map((name) => ({ name, shape: shapes.get(name)!, data: bytesToBase64(Float32Array.from(weights.get(name)!)) })),
    items: data.dataset.items.map((it) => ({ title: it.title, year: it.year, genres: it.genres })),
    decode,
    queries: queries.map((q) => q.text),
    users: recTest.map((e) => ({ user: e.user, history: Array.from(e.history), target: e.target })),
    reference,
  };
}

function ref(mode: DemoMode, items: number[], scores: number[], at: { query?: string; user?: number }): DemoReference {
  return { mode, ...at, items: [...items], scores: scores.map((s) => Math.round(s * 1e6) / 1e6) };
}
