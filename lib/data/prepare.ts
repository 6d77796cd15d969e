/**
 * One entry point for the data stage: load (or generate) the data set, split interactions
 * leave-last-out, build popularity buckets from training interactions, generate or import search
 * queries and split them. `dataStats` summarises the result (what `sid data stats --json` prints).
 */
import type { PreparedData, SearchQuery } from '../types';
import { bucketSizes, popularityBuckets, type BucketOptions } from './buckets';
import { resolveMovieLensDir } from './locate';
import { loadMovieLens, loadMovieLensText, type MovieLensDataset, type PaperScaleOptions } from './movielens';
import { generateQueries, QUERY_STYLES, type GeneratedQueryStyle } from './queries';
import { readQueriesJsonl } from './queryImport';
import { splitQueries, type QuerySplitOptions, type QuerySplitResult } from './querySplit';
import { splitLeaveLastN, tiedFinalPairs, trainingCounts } from './split';
import { generateSyntheticMovieLens, type SyntheticMovieLens, type SyntheticOptions } from './synthetic';

export type DataSetName = 'ml-latest-small' | 'ml-25m' | 'synthetic';

export interface DataOptions {
  dataset: DataSetName;
  /** Folder with movies.csv, ratings.csv, tags.csv (default: `resolveMovieLensDir(dataset)`). */
  dir?: string;
  /** Generator options when dataset is 'synthetic' (default: the tiny catalogue, ~400 items, ~300 users). */
  synthetic?: SyntheticOptions;
  /** Keep ratings >= this; null keeps all ratings (default null, as in the paper). */
  ratingThreshold?: number | null;
  /** Minimum interactions per user (default 5). */
  minHistory?: number;
  /** Most frequent tags kept per item (default 5). */
  topTags?: number;
  /** Sample users to the paper's scale; default true for ml-25m, false otherwise. */
  paperScale?: boolean | PaperScaleOptions;
  /** Generated queries per item (default 20). Ignored when `queryFile` is given. */
  queriesPerItem?: number;
  /** Seed of query generation and of the query split (default 0). */
  querySeed?: number;
  /** Which items get generated queries: all (default) or a popularity-stratified sample of M items. */
  queryItems?: 'all' | { stratified: number };
  queryStyleWeights?: Partial<Record<GeneratedQueryStyle, number>>;
  /** JSONL file of external queries that replaces the generated ones. */
  queryFile?: string;
  /** Query split fractions (default 10% test, 10% validation per item). */
  querySplit?: Omit<QuerySplitOptions, 'seed'>;
  /** Popularity bucket rule (default head = top 50% of training interactions, tail < 5). */
  buckets?: BucketOptions;
  /** Rec test targets per user: 1 (default) is leave-last-out, N > 1 leave-last-N-out (lib/data/split.ts). */
  recTestTargets?: number;
}

export interface PreparedDataset extends PreparedData {
  dataset: MovieLensDataset;
  queries: QuerySplitResult;
  /** Where the data came from (folder, or "synthetic(seed=...)"). */
  source: string;
  /** Milliseconds spent loading the data set (reading and grouping). */
  loadMs: number;
  /** Ground truth of the synthetic catalogue (only for dataset 'synthetic'). */
  synthetic?: SyntheticMovieLens['truth'];
}

/** Runs the whole data stage. Synchronous: everything is local and deterministic in the options. */
export function prepareData(opts: DataOptions): PreparedDataset {
  const known: DataSetName[] = ['ml-latest-small', 'ml-25m', 'synthetic'];
  if (!known.includes(opts.dataset)) throw new Error(`prepareData: option dataset must be one of ${known.join(', ')}, got "${opts.dataset}"`);
  const loadOpts = {
    ratingThreshold: opts.ratingThreshold ?? null,
    minHistory: opts.minHistory ?? 5,
    topTags: opts.topTags ?? 5,
    paperScale: opts.paperScale ?? opts.dataset === 'ml-25m',
  };
  const t0 = Date.now();
  let dataset: MovieLensDataset;
  let source: string;
  let truth: SyntheticMovieLens['truth'] | undefined;
  if (opts.dataset === 'synthetic') {
    const syn = generateSyntheticMovieLens(opts.synthetic);
    truth = syn.truth;
    dataset = loadMovieLensText(syn, { ...loadOpts, paperScale: opts.paperScale ?? false, name: 'synthetic' });
    source = `synthetic(${JSON.stringify(opts.synthetic ?? {})})`;
  } else {
    const dir = opts.dir ?? resolveMovieLensDir(opts.dataset);
    dataset = loadMovieLens(dir, { ...loadOpts, name: opts.dataset });
    source = dir;
  }
  const loadMs = Date.now() - t0;

  const rec = splitLeaveLastN(dataset, opts.recTestTargets ?? 1);
  const counts = trainingCounts(rec.train, dataset.items.length);
  const buckets = popularityBuckets(counts, opts.buckets);

  const seed = opts.querySeed ?? 0;
  let queries: SearchQuery[];
  if (opts.queryFile) {
    queries = readQueriesJsonl(opts.queryFile, dataset.items);
  } else {
    const sel = opts.queryItems ?? 'all';
    queries = generateQueries(dataset.items, {
      perItem: opts.queriesPerItem ?? 20,
      seed,
      styleWeights: opts.queryStyleWeights,
      items: sel === 'all' ? 'all' : { stratified: sel.stratified, popularity: counts },
    });
  }
  const itemIds = Int32Array.from(dataset.items, (it) => it.id);
  const querySplit = splitQueries(queries, itemIds, { ...(opts.querySplit ?? {}), seed });

  return { dataset, rec, queries: querySplit, buckets, source, loadMs, synthetic: truth };
}

function countBy<T>(xs: T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) {
    const k = key(x);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** Counts describing a prepared data set, as plain JSON. */
export function dataStats(p: PreparedData & Partial<Pick<PreparedDataset, 'source' | 'loadMs'>>) {
  const s = p.dataset.stats;
  const trainInteractions = p.rec.train.reduce((n, u) => n + u.items.length, 0);
  const styles = [...new Set<string>([...QUERY_STYLES, ...[...p.queries.train, ...p.queries.valid, ...p.queries.test].map((q) => q.style)])];
  const perStyle: Record<string, { train: number; valid: number; test: number }> = {};
  const byStyle = {
    train: countBy(p.queries.train, (q) => q.style),
    valid: countBy(p.queries.valid, (q) => q.style),
    test: countBy(p.queries.test, (q) => q.style),
  };
  for (const st of styles) {
    const row = { train: byStyle.train[st] ?? 0, valid: byStyle.valid[st] ?? 0, test: byStyle.test[st] ?? 0 };
    if (row.train + row.valid + row.test > 0) perStyle[st] = row;
  }
  const itemsWithQueries = new Set<number>([...p.queries.train, ...p.queries.valid, ...p.queries.test].map((q) => q.item)).size;
  const bucketName = (i: number) => p.buckets.names[p.buckets.bucketOf[i]];
  const q = p.queries as Partial<QuerySplitResult>;
  return {
    dataset: p.dataset.name,
    source: p.source,
    loadMs: p.loadMs,
    items: p.dataset.items.length,
    users: p.dataset.users.length,
    read: { movies: s.moviesRead, ratings: s.ratingsRead, tags: s.tagsRead, users: s.usersRead },
    interactions: {
      read: s.ratingsRead,
      droppedBelowThreshold: s.droppedBelowThreshold,
      droppedDuplicates: s.droppedDuplicates,
      droppedShortUsers: s.droppedShortUsers,
      droppedShortUserInteractions: s.droppedShortUserInteractions,
      droppedSampledUsers: s.droppedSampledUsers,
      droppedSampledInteractions: s.droppedSampledInteractions,
      kept: s.interactionsKept,
    },
    load: s,
    rec: {
      trainInteractions,
      valid: p.rec.valid.length,
      test: p.rec.test.length,
      total: trainInteractions + p.rec.valid.length + p.rec.test.length,
      meanTrainHistory: p.rec.train.length ? trainInteractions / p.rec.train.length : 0,
      /** Users whose validation and test items share a timestamp (their order is a seeded shuffle). */
      tiedFinalPairs: tiedFinalPairs(p.dataset.users),
    },
    queries: {
      train: p.queries.train.length,
      valid: p.queries.valid.length,
      test: p.queries.test.length,
      itemsWithQueries,
      droppedDuplicates: q.droppedDuplicates ?? 0,
      itemsWithoutHeldOut: q.itemsWithoutHeldOut ?? 0,
      droppedEmpty: q.droppedEmpty ?? 0,
      /** Canonical forms shared by several items, and their queries (training only). */
      genericForms: q.genericForms ?? 0,
      genericQueries: q.genericQueries ?? 0,
      /** Queries sharing their item's canonical form with another of its queries (kept in one split). */
      canonicalTwins: q.canonicalTwins ?? 0,
      perStyle,
    },
    buckets: {
      rule: p.buckets.rule,
      items: bucketSizes(p.buckets),
      trainInteractions: p.buckets.names.reduce<Record<string, number>>((acc, name, b) => {
        let n = 0;
        for (let i = 0; i < p.buckets.bucketOf.length; i++) if (p.buckets.bucketOf[i] === b) n += p.buckets.counts[i];
        acc[name] = n;
        return acc;
      }, {}),
      recTestTargets: countBy(p.rec.test, (e) => bucketName(e.target)),
      searchTestQueries: countBy(p.queries.test, (x) => bucketName(x.item)),
    },
  };
}

export type DataStats = ReturnType<typeof dataStats>;
