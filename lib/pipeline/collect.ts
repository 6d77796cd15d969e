/**
 * Collects every table's rows from the artifact cache (building what is missing) into the
 * `results.json` document and its Markdown summary.
 */
import * as path from 'node:path';
import { dataStats } from '../data/index';
import { writeFileAtomic, writeJsonAtomic } from '../util/fs';
import type { Profile } from './profiles';
import { baselineRows, experimentRows, resultsMarkdown, retrievalRows, type ResultRow, type RowComparison } from './results';
import {
  baselinesStage, createContext, dataStage, embeddingStage, experimentStage, protocolContext, replicatesOf, sasrecRunsStage, specId, trainingSeed, type SasRecSelection,
  type ExperimentSpec, type PipelineContext, type StoredExperiment,
} from './stages';
import { BASELINE_ROWS, SASREC_ROW, type BaselineResults } from './baselineRows';
import { TABLE_DEFINITIONS, tableRows, type TableName } from './tables';
import { compareReplicates, replicateRankings } from '../eval/compare';
import { denseHits, itemBm25Index, searchPairsAgainst, searchPairsAgainstBm25, type SearchPair } from '../baselines/searchPairs';
import { summarizeReplicates, type TaskResult } from '../eval/summary';
import { TASKS, type PreparedData, type Task } from '../types';
import { EMBEDDING_STRATEGIES, type EmbeddingStrategy } from '../embed/index';
import { towerChoiceOf, type TowerChoice } from './towerChoice';
import type { BaselineReport } from '../baselines/baselines';
import type { CooccurrenceParams } from '../baselines/cooccurrence';
import type { ItemKnnParams } from '../baselines/itemKnn';
import type { Selection } from '../baselines/sequentialBaselines';

export interface ExperimentInfo {
  /** The training's id: the row's, with `/r<N>` for replicate N > 0. */
  id: string;
  replicate: number;
  seed: number;
  vocabSize: number;
  bestEpoch: number;
  /** Why training ended: the epoch cap or a validation plateau. */
  stop: 'cap' | 'plateau';
  trainSeconds: number;
  evalSeconds: number;
  epochs: number;
  examplesPerSecond: number;
  idLength: Record<string, number>;
  collisionRate: Record<string, number>;
  /** The decoding the test split was decoded with, and how it was chosen on validation. */
  decode: { numBeams: number; numGroups: number; diversityPenalty?: number; finalRanking?: string };
  decodeCandidates: { numBeams: number; numGroups: number; validRecall: Record<string, number>; score: number; chosen: boolean }[];
  /** The learning curve: after each epoch, training examples seen so far and the validation scores. */
  curve: CurvePoint[];
}

/** One epoch of a learning curve: validation Recall@30 per task and, where measured, the teacher-forced validation loss. */
export interface CurvePoint {
  examples: number;
  search: number | null;
  rec: number | null;
  loss: number | null;
}

export interface ResultsDocument {
  profile: string;
  generatedAt: string;
  dataset: string;
  counts: { items: number; users: number; interactions: number; recTest: number; searchTest: number };
  tables: string[];
  rows: ResultRow[];
  /** Each table's rows against its reference row, paired on the same test examples. */
  comparisons: RowComparison[];
  experiments: ExperimentInfo[];
  /** Settings of the tuned baselines, chosen on the validation split (with every setting tried). */
  baselineSelection: { cooccurrence: Selection<CooccurrenceParams>; itemKnn: Selection<ItemKnnParams>; sasrec?: SasRecSelection };
  /** SASRec of the chosen setting, per seed: how each training went (its validation curve, its best epoch). */
  sasrecRuns?: { seed: number; bestEpoch: number; epochs: number; trainSeconds: number; validRecall: number[] }[];
  /** The leave-last-N-out table's split, when it was collected. */
  lastN?: { targets: number; recTest: number; users: number };
  /**
   * Each generative row's search against BM25, and against the dense search of the embedding its IDs
   * come from (the search embedding for separate IDs; none for an embedding without a text side), on
   * the row's own sampled test queries, paired, overall and per query style.
   */
  searchPairs?: { id: string; method: string; against: 'bm25' | 'dense'; pairs: SearchPair[] }[];
  /**
   * Where a bi-encoder's tower was chosen on the validation split (option towerChoice): per strategy
   * (search, multitask), both towers' validation scores, the rule and the tower kept.
   */
  towerChoice?: Partial<Record<EmbeddingStrategy, TowerChoice>>;
  /** With sid reproduce --rows: the embeddings whose rows were trained (the tables' other rows are absent). */
  rowsSelected?: string[];
}

/** The chosen decoding of an experiment and every candidate's validation recall. */
function decodingInfo(e: StoredExperiment): Pick<ExperimentInfo, 'decode' | 'decodeCandidates'> {
  const d = e.evaluation.settings.decode;
  const sel = e.evaluation.selection;
  return {
    decode: { numBeams: d.numBeams ?? 60, numGroups: d.numGroups ?? 1, diversityPenalty: d.diversityPenalty, finalRanking: d.finalRanking },
    decodeCandidates: (sel?.candidates ?? []).map((c, i) => ({
      numBeams: c.decode.numBeams ?? 60,
      numGroups: c.decode.numGroups ?? 1,
      validRecall: { search: c.valid.search.mean, rec: c.valid.rec.mean },
      score: c.score,
      chosen: i === sel!.chosen,
    })),
  };
}

/** What is kept of one training for results.json. */
function experimentInfo(ctx: PipelineContext, spec: ExperimentSpec, e: StoredExperiment): ExperimentInfo {
  const trainExamples = e.history.reduce((n, h) => n + h.examples, 0);
  const trainTime = e.history.reduce((n, h) => n + h.seconds, 0);
  return {
    id: specId(spec),
    replicate: spec.replicate ?? 0,
    seed: trainingSeed(ctx, spec),
    vocabSize: e.vocabSize,
    bestEpoch: e.bestEpoch,
    stop: e.stop,
    trainSeconds: e.trainSeconds,
    evalSeconds: e.evalSeconds,
    epochs: e.history.length,
    examplesPerSecond: trainTime > 0 ? trainExamples / trainTime : 0,
    idLength: Object.fromEntries(Object.entries(e.diagnostics).map(([k, d]) => [k, d.length])),
    collisionRate: Object.fromEntries(Object.entries(e.diagnostics).map(([k, d]) => [k, d.collisionRate])),
    ...decodingInfo(e),
    curve: learningCurve(e.history),
  };
}

/** Validation scores against examples seen, one point per epoch. */
function learningCurve(history: StoredExperiment['history']): CurvePoint[] {
  let seen = 0;
  return history.map((h) => {
    seen += h.examples;
    return { examples: seen, search: h.valid?.search ?? null, rec: h.valid?.rec ?? null, loss: h.valid?.loss?.mean ?? null };
  });
}

/** A row's metrics over its replicates (with one replicate: exactly its stored evaluation). */
function rowSummary(results: StoredExperiment[], data: PreparedData): Record<Task, TaskResult> {
  const { ks, bootstrap } = results[0].evaluation.settings;
  const out = {} as Record<Task, TaskResult>;
  for (const task of TASKS) {
    const r = replicateRankings(results.map((e) => e.evaluation[task]));
    out[task] = summarizeReplicates(r.rankings, r.targets, data, ks, r.clusters ? { ...bootstrap, clusters: r.clusters } : bootstrap);
  }
  return out;
}

export interface CollectOptions {
  /** Only the rows whose IDs come from these embeddings (sid reproduce --rows); default every row. */
  embeddings?: readonly string[];
}

/** All rows of the given tables plus the embedding-level dense retrieval of every strategy. */
export async function collectResults(ctx: PipelineContext, tables: readonly TableName[], opts: CollectOptions = {}): Promise<ResultsDocument> {
  const { data } = await dataStage(ctx);
  const rows: ResultRow[] = [];
  const comparisons: RowComparison[] = [];
  const experiments = new Map<string, ExperimentInfo>();
  const replicates = ctx.profile.generate.replicates;
  const k = 30;
  // A row shared by several tables (multi-task + RQ-KMeans is in four) is loaded and summarised once.
  const loaded = new Map<string, { results: StoredExperiment[]; summary: Record<Task, TaskResult> }>();
  const loadRow = async (row: ExperimentSpec) => {
    const hit = loaded.get(specId(row));
    if (hit) return hit;
    const results: StoredExperiment[] = [];
    for (const spec of replicatesOf(row, replicates)) {
      const e = (await experimentStage(ctx, spec)).result;
      results.push(e);
      experiments.set(specId(spec), experimentInfo(ctx, spec, e));
    }
    const entry = { results, summary: rowSummary(results, data) };
    loaded.set(specId(row), entry);
    return entry;
  };
  const searchPairs: NonNullable<ResultsDocument['searchPairs']> = [];
  let bm25: ReturnType<typeof itemBm25Index> | null = null;
  for (const t of tables) {
    const byMethod = new Map<string, StoredExperiment[]>();
    for (const r of tableRows(t, opts.embeddings)) {
      const { results, summary } = await loadRow(r.spec);
      byMethod.set(r.method, results);
      if (!r.spec.protocol && !searchPairs.some((p) => p.id === specId(r.spec))) {
        const ev = results[0].evaluation;
        const evaluations = results.map((e) => e.evaluation.search);
        searchPairs.push({ id: specId(r.spec), method: r.method, against: 'bm25', pairs: searchPairsAgainstBm25(evaluations, ev.settings, data, k, ev.settings.bootstrap, (bm25 ??= itemBm25Index(data))) });
        const ranks = (await embeddingStage(ctx, r.spec.embedding === 'separate' ? 'search' : r.spec.embedding)).embedding.retrieval.searchRanks;
        if (ranks && ranks.length === data.queries.test.length) {
          searchPairs.push({ id: specId(r.spec), method: r.method, against: 'dense', pairs: searchPairsAgainst(evaluations, ev.settings, data, (queries, kk) => denseHits(ranks, queries, kk), k, ev.settings.bootstrap) });
        }
      }
      rows.push(...experimentRows(t, r.method, r.spec, summary, TABLE_DEFINITIONS[t].perBucket));
    }
    const ref = TABLE_DEFINITIONS[t].reference;
    const a = ref ? byMethod.get(ref) : undefined;
    if (!ref || !a) continue;
    for (const [method, b] of byMethod) {
      if (method === ref) continue;
      for (const task of TASKS) {
        const side = (rs: StoredExperiment[]) => replicateRankings(rs.map((e) => e.evaluation[task]));
        const c = compareReplicates(side(a), side(b), k, a[0].evaluation.settings.bootstrap);
        comparisons.push({ table: t, a: ref, b: method, task, metric: `recall@${k}`, difference: c.difference, replicates: { a: a.length, b: b.length } });
      }
    }
  }
  const towerChoice: Partial<Record<EmbeddingStrategy, TowerChoice>> = {};
  for (const s of EMBEDDING_STRATEGIES) {
    const emb = await embeddingStage(ctx, s);
    rows.push(...retrievalRows('embeddings', s, emb.embedding.retrieval));
    const choice = towerChoiceOf(emb.embedding.info);
    if (choice) towerChoice[s] = choice;
  }
  const base = await baselineResults(ctx);
  for (const b of BASELINE_ROWS) rows.push(...baselineRows(b.label, b.task, base.results[b.name]));
  const lastN = tables.some((t) => TABLE_DEFINITIONS[t].protocol === 'last-n') ? await lastNBaselines(ctx, rows) : undefined;
  const st = dataStats(data);
  return {
    profile: ctx.profile.name,
    generatedAt: new Date().toISOString(),
    dataset: st.dataset,
    counts: { items: st.items, users: st.users, interactions: st.interactions.kept, recTest: st.rec.test, searchTest: st.queries.test },
    tables: [...tables, 'embeddings', 'baselines'],
    rows,
    comparisons,
    experiments: [...experiments.values()],
    baselineSelection: base.selection as ResultsDocument['baselineSelection'],
    sasrecRuns: base.sasrecRuns,
    ...(lastN ? { lastN } : {}),
    searchPairs,
    ...(Object.keys(towerChoice).length ? { towerChoice } : {}),
    ...(opts.embeddings ? { rowsSelected: [...opts.embeddings] } : {}),
  };
}

/** The rec baselines on the leave-last-N-out split, as rows of the last-n table (same users and targets as its generative rows). */
async function lastNBaselines(ctx: PipelineContext, rows: ResultRow[]): Promise<NonNullable<ResultsDocument['lastN']>> {
  const lctx = protocolContext(ctx, 'last-n');
  const { data } = await dataStage(lctx);
  const base = await baselineResults(lctx);
  for (const b of BASELINE_ROWS.filter((x) => x.lastN)) rows.push(...baselineRows(b.label, b.task, base.results[b.name], 'last-n'));
  return { targets: lctx.profile.lastN.targets, recTest: data.rec.test.length, users: data.rec.train.length };
}

/**
 * Every baseline's stored result in this context by name, and the tuned ones' settings. SASRec's row
 * is its chosen setting over the run's seeds (as a generative row's), trained first.
 */
async function baselineResults(ctx: PipelineContext): Promise<{ results: BaselineResults; selection: ResultsDocument['baselineSelection']; sasrecRuns: NonNullable<ResultsDocument['sasrecRuns']> }> {
  const { data } = await dataStage(ctx);
  const { runs, selection: sasrec } = await sasrecRunsStage(ctx);
  const { ks, bootstrapIterations } = ctx.profile.retrieval;
  const sasrecResult = summarizeReplicates(runs.map((r) => r.rankings), data.rec.test.map((e) => e.target), data, ks ?? [10, 30], { iterations: bootstrapIterations, seed: ctx.profile.seed, clusters: data.rec.test.map((e) => e.user) });
  const { results, selection } = (await baselinesStage(ctx)).value;
  return {
    results: { ...results, [SASREC_ROW.name]: sasrecResult },
    selection: { ...(selection as ResultsDocument['baselineSelection']), sasrec },
    sasrecRuns: runs.map((r) => ({ seed: r.config.seed, bestEpoch: r.bestEpoch, epochs: r.epochs, trainSeconds: r.seconds, validRecall: r.validRecall })),
  };
}

/** Writes results.json and results.md into `outDir` (atomically). */
function writeResults(doc: ResultsDocument, outDir: string): { json: string; md: string } {
  const json = path.join(outDir, 'results.json');
  const md = path.join(outDir, 'results.md');
  writeJsonAtomic(json, doc);
  writeFileAtomic(md, resultsMarkdown(doc.rows, `Results (${doc.profile} profile, ${doc.dataset})`) + '\n');
  return { json, md };
}

export async function collectAndWrite(profile: Profile, tables: readonly TableName[], outDir: string, opts: CollectOptions = {}): Promise<{ json: string; md: string; doc: ResultsDocument }> {
  const ctx = createContext(profile);
  const doc = await collectResults(ctx, tables, opts);
  return { ...writeResults(doc, outDir), doc };
}
