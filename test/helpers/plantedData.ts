/**
 * A small planted PreparedData for tests and quick checks of the embedding code, independent of the
 * data layer. Each item has two unique "title" words and a text topic; search queries name the item
 * through an alias word that never appears in the item text (only training can link it), plus noise;
 * users draw their histories from one of several taste groups that are independent of the text
 * topics, so only co-occurrence can reveal them.
 */
import type { Item, PreparedData, RecExample, SearchQuery, UserSequence, LoadStats } from '../../lib/types';
import { Rng } from '../../lib/util/random';

export interface PlantedOptions {
  numItems?: number;
  topics?: number;
  tasteGroups?: number;
  users?: number;
  historyLength?: number;
  queriesPerItem?: number;
  seed?: number;
}

export interface PlantedData extends PreparedData {
  /** Ground truth: taste group per item. */
  tasteOf: Int32Array;
}

function syllables(rng: Rng, n: number): string {
  const c = 'bcdfghklmnprstvz';
  const v = 'aeiou';
  let s = '';
  for (let i = 0; i < n; i++) s += c[rng.int(c.length)] + v[rng.int(v.length)];
  return s;
}

export function plantedData(o: PlantedOptions = {}): PlantedData {
  const N = o.numItems ?? 200;
  const T = o.topics ?? 8;
  const G = o.tasteGroups ?? 10;
  const U = o.users ?? 300;
  const L = o.historyLength ?? 12;
  const Q = o.queriesPerItem ?? 6;
  const rng = new Rng(o.seed ?? 7);
  const noise = Array.from({ length: 40 }, () => syllables(rng, 3));
  const topicWords = Array.from({ length: T }, () => [syllables(rng, 2), syllables(rng, 2)]);
  const items: Item[] = [];
  const alias: string[] = [];
  const tasteOf = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    const t = rng.int(T);
    tasteOf[i] = rng.int(G);
    const title = `${syllables(rng, 3)} ${syllables(rng, 3)}`;
    alias.push(syllables(rng, 4));
    const year = 1950 + rng.int(70);
    const genres = [...topicWords[t]];
    items.push({ index: i, id: 1000 + i, title, year, genres, tags: [], text: `${title} (${year}) ${genres.join(' ')}` });
  }
  const makeQuery = (i: number): SearchQuery => {
    const parts = [alias[i], noise[rng.int(noise.length)], noise[rng.int(noise.length)]];
    rng.shuffle(parts);
    return { item: i, text: parts.join(' '), style: 'planted-alias' };
  };
  const train: SearchQuery[] = [];
  const valid: SearchQuery[] = [];
  const test: SearchQuery[] = [];
  for (let i = 0; i < N; i++) {
    for (let q = 0; q < Q; q++) train.push(makeQuery(i));
    valid.push(makeQuery(i));
    test.push(makeQuery(i));
  }
  const byGroup: number[][] = Array.from({ length: G }, () => []);
  for (let i = 0; i < N; i++) byGroup[tasteOf[i]].push(i);
  const users: UserSequence[] = [];
  const recTrain: UserSequence[] = [];
  const recValid: RecExample[] = [];
  const recTest: RecExample[] = [];
  for (let u = 0; u < U; u++) {
    let g = rng.int(G);
    while (byGroup[g].length < L) g = (g + 1) % G;
    const pool = [...byGroup[g]];
    rng.shuffle(pool);
    const seq = Int32Array.from(pool.slice(0, L));
    const ts = Float64Array.from(seq, (_, k) => 1e9 + k * 60);
    users.push({ user: u, items: seq, timestamps: ts });
    recTrain.push({ user: u, items: seq.slice(0, L - 2), timestamps: ts.slice(0, L - 2) });
    recValid.push({ user: u, history: seq.slice(0, L - 2), target: seq[L - 2] });
    recTest.push({ user: u, history: seq.slice(0, L - 1), target: seq[L - 1] });
  }
  const counts = new Int32Array(N);
  for (const s of recTrain) for (const i of s.items) counts[i]++;
  const sorted = Array.from(counts).sort((a, b) => b - a);
  const cut = sorted[Math.floor(N / 5)];
  const bucketOf = Uint8Array.from(counts, (c) => (c > cut ? 0 : 1));
  const stats: LoadStats = {
    moviesRead: N, ratingsRead: U * L, tagsRead: 0, usersRead: U, droppedBelowThreshold: 0, droppedShortUsers: 0,
    droppedShortUserInteractions: 0, droppedDuplicates: 0, droppedSampledUsers: 0, droppedSampledInteractions: 0,
    usersKept: U, interactionsKept: U * L, itemsKept: N,
  };
  return {
    dataset: { name: 'planted', items, users, stats },
    rec: { train: recTrain, valid: recValid, test: recTest },
    queries: { train, valid, test },
    buckets: { names: ['head', 'torso'], bucketOf, counts, rule: 'head: count above the 80th percentile' },
    tasteOf,
  };
}
