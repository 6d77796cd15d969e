/**
 * Generative search against BM25, and against the dense search of the row's own embedding, on the
 * same test queries, paired. A generative row decodes a seeded sample of the test queries; BM25 and
 * dense search rank all of them. Here each is read on exactly the row's sampled queries, so each
 * query contributes both results and the difference is paired: overall and per
 * query style (title lookups, genre and tag descriptions, ...), with intervals from the cluster
 * bootstrap over the queries' target items and the row's seeds.
 */
import { buildBm25Index, bm25Search, type Bm25Index, type Bm25Options } from './bm25';
import type { PreparedData } from '../types';
import { Rng } from '../util/random';
import { bootstrapReplicates, hitsAtK, pairedReplicateDifference, type BootstrapOptions, type Estimate } from '../util/metrics';
import type { ResolvedGenerativeEval, TaskEvaluation } from '../eval/generativeEval';

/** One row against BM25 on one group of its sampled test queries. */
export interface SearchPair {
  /** 'all', or one query style. */
  style: string;
  n: number;
  model: Estimate;
  baseline: Estimate;
  /** The row minus BM25, per query, over the row's seeds and the queries' target items (cluster bootstrap). */
  difference: Estimate;
}

/**
 * Indices into `data.queries.test` of the queries a generative evaluation decoded: the same seeded
 * draw as `evaluateGenerative` (its first fork of the evaluation seed, the search task's), checked
 * against the stored targets so that a mismatch is an error, never a wrong pairing.
 */
export function evaluatedQueryIndices(evaluation: Pick<TaskEvaluation, 'targets'>, settings: Pick<ResolvedGenerativeEval, 'seed' | 'limit' | 'taskLimits'>, data: Pick<PreparedData, 'queries'>): number[] {
  const n = data.queries.test.length;
  const limit = settings.taskLimits?.search !== undefined ? settings.taskLimits.search : settings.limit;
  let idx: number[];
  if (limit === null || n <= limit) idx = Array.from({ length: n }, (_, i) => i);
  else {
    const picked = new Rng(settings.seed).fork('test-search').permutation(n).subarray(0, limit);
    idx = Array.from(picked.sort());
  }
  const targets = evaluation.targets;
  if (idx.length !== targets.length || idx.some((q, i) => data.queries.test[q].item !== targets[i])) {
    throw new Error(`searchPairs: the evaluation's ${targets.length} search targets are not the seeded sample of ${idx.length} test queries its settings draw; it was evaluated with other settings or data`);
  }
  return idx;
}

/** The BM25 index of the items' texts, as the BM25 baseline builds it (one serves every row). */
export function itemBm25Index(data: Pick<PreparedData, 'dataset'>, opts?: Bm25Options): Bm25Index {
  return buildBm25Index(data.dataset.items.map((it) => it.text), opts);
}

/** BM25's ranking of each given test query. */
export function bm25Rankings(index: Bm25Index, data: Pick<PreparedData, 'queries'>, queryIndices: number[], k: number): number[][] {
  return bm25Search(index, queryIndices.map((q) => data.queries.test[q].text), k).map((r) => Array.from(r));
}

/** Hits@k of a stored dense search (its `searchRanks` over every test query) on the given test queries. */
export function denseHits(searchRanks: readonly number[], queryIndices: number[], k: number): Float64Array {
  return Float64Array.from(queryIndices, (q) => {
    const r = searchRanks[q];
    if (r === undefined) throw new Error(`denseHits: the dense search ranked ${searchRanks.length} test queries, not query ${q}`);
    return r >= 0 && r < k ? 1 : 0;
  });
}

/**
 * A generative row's search evaluations (one per seed, on the same sampled queries) against another
 * ranker on those queries: Recall@k overall and per query style, paired. `baselineHits` gives the
 * other ranker's hits@k on the given test queries (BM25 by default).
 */
export function searchPairsAgainst(
  evaluations: TaskEvaluation[],
  settings: Pick<ResolvedGenerativeEval, 'seed' | 'limit' | 'taskLimits'>,
  data: Pick<PreparedData, 'dataset' | 'queries'>,
  baselineHits: (queryIndices: number[], k: number) => Float64Array,
  k = 30,
  bootstrap: BootstrapOptions = {},
): SearchPair[] {
  if (evaluations.length === 0) throw new Error('searchPairsAgainst: no evaluations');
  const queries = evaluatedQueryIndices(evaluations[0], settings, data);
  for (const e of evaluations.slice(1)) evaluatedQueryIndices(e, settings, data);
  const targets = evaluations[0].targets;
  const model = evaluations.map((e) => hitsAtK(e.rankings, targets, k));
  const baseline = baselineHits(queries, k);
  const styles = queries.map((q) => data.queries.test[q].style as string);
  const groups: [string, number[]][] = [['all', queries.map((_, i) => i)]];
  for (const style of [...new Set(styles)].sort()) groups.push([style, styles.flatMap((s, i) => (s === style ? [i] : []))]);
  return groups.map(([style, members]) => {
    const pick = (xs: ArrayLike<number>) => Float64Array.from(members, (i) => xs[i]);
    const opts = { ...bootstrap, clusters: members.map((i) => targets[i]) };
    const a = model.map(pick);
    const b = [pick(baseline)];
    return { style, n: members.length, model: bootstrapReplicates(a, opts), baseline: bootstrapReplicates(b, opts), difference: pairedReplicateDifference(a, b, opts) };
  });
}

/** searchPairsAgainst BM25 over the items' texts (one index may serve every row). */
export function searchPairsAgainstBm25(
  evaluations: TaskEvaluation[],
  settings: Pick<ResolvedGenerativeEval, 'seed' | 'limit' | 'taskLimits'>,
  data: Pick<PreparedData, 'dataset' | 'queries'>,
  k = 30,
  bootstrap: BootstrapOptions = {},
  index: Bm25Index = itemBm25Index(data),
): SearchPair[] {
  return searchPairsAgainst(evaluations, settings, data, (queries, kk) => hitsAtK(bm25Rankings(index, data, queries, kk), queries.map((q) => data.queries.test[q].item), kk), k, bootstrap);
}
