/**
 * MovieLens loader for the `ml-latest-small` and `ml-25m` layouts (movies.csv, ratings.csv, tags.csv).
 *
 * Policy, in the order it is applied (every removal is counted in the stats):
 * - The catalogue is movies.csv in file order: item index = row order. Duplicate movieIds are an error.
 * - Ratings and tags must refer to movies in movies.csv: a rating or tag of an unknown movie is an
 *   error naming the line (GroupLens files include every rated or tagged movie, so this only fires on
 *   damaged or mixed files).
 * - Rating threshold: ratings below `ratingThreshold` are dropped (`droppedBelowThreshold`). The
 *   default keeps every rating as implicit feedback, as the paper did.
 * - Per user, interactions are ordered by timestamp; interactions with the same timestamp are put in
 *   a seeded random order per user (`shuffleTimeTies` in split.ts), not by movieId, which tracks release
 *   date and would put the newer movie of a same-second pair into test.
 * - Repeated (user, movie) pairs keep the earliest (`droppedDuplicates`).
 * - Users with fewer than `minHistory` interactions are dropped (`droppedShortUsers`,
 *   `droppedShortUserInteractions`). The default 5 leaves at least 3 training items plus a
 *   validation and a test item for leave-last-out.
 * - Paper scale (optional, meant for ml-25m): users are visited in a seeded random order and taken
 *   until their interactions reach `targetInteractions` (1.24M, the paper's size); the others are
 *   dropped (`droppedSampledUsers`, `droppedSampledInteractions`). Movies none of the sampled users
 *   touched are removed from the catalogue too (unless `keepUntouchedMovies`) and items are
 *   re-indexed in their original order. Note: the paper reports 62,138 movies with 1.24M interactions;
 *   sampling users and keeping only the movies they touched gives fewer movies (roughly 25-35k on
 *   ml-25m); `keepUntouchedMovies: true` keeps the full 62k catalogue for search instead.
 * - Items with no interactions left are kept in the catalogue (they can still be searched for).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Dataset, Item, LoadStats, UserSequence } from '../types';
import { Rng } from '../util/random';
import { Progress } from '../util/progress';
import { checkInputFile, DataFileError, parseCsvText, parseIntField, parseNumberField, readUtf8File } from './csv';
import { readRatings, type RatingColumns, type ValueRanges } from './ratingsReader';
import { parseMovieTitle } from './titles';
import { shuffleTimeTies } from './split';

const MOVIES_HEADER = ['movieId', 'title', 'genres'] as const;
const TAGS_HEADER = ['userId', 'movieId', 'tag', 'timestamp'] as const;

/** The paper's interaction count for its ml-25m cut. */
export const PAPER_TARGET_INTERACTIONS = 1_240_000;

export interface PaperScaleOptions {
  /** Stop adding sampled users once their interactions reach this (default 1,240,000). */
  targetInteractions?: number;
  /** Seed of the user sample (default 0). */
  seed?: number;
  /** Keep movies no sampled user touched (default false: they are removed). */
  keepUntouchedMovies?: boolean;
}

export interface LoadMovieLensOptions {
  /** Data set name recorded on the result (default: the folder name). */
  name?: string;
  /** Keep ratings >= this; null or undefined keeps every rating (default). */
  ratingThreshold?: number | null;
  /** Minimum interactions per user after thresholding and de-duplication (default 5, at least 3). */
  minHistory?: number;
  /** Number of most frequent tags kept per item (default 5). */
  topTags?: number;
  /** Sample users down to the paper's scale. `true` uses the defaults. */
  paperScale?: boolean | PaperScaleOptions;
  /** Print progress lines on stderr while reading large rating files (default: only above 50 MB). */
  progress?: boolean;
  /**
   * Accepted ratings and timestamps; a value outside is an error naming its line. Files read by
   * `loadMovieLens` use MOVIELENS_RANGES; in-memory text (the synthetic catalogue) none by default.
   */
  ranges?: ValueRanges;
}

/**
 * What every GroupLens MovieLens release holds (ml-latest-small, ml-latest, ml-25m, ml-32m): ratings
 * on the 0.5-5 star scale (half stars), timestamps in Unix seconds from 1995-01-01 (the first
 * ratings, January 1995) up to a day after the moment of loading. Timestamps decide the leave-last-out
 * split, so a negative or far-future one would silently move an item into the test set.
 */
export const MOVIELENS_RANGES: ValueRanges = {
  rating: [0.5, 5],
  timestamp: [Date.UTC(1995, 0, 1) / 1000, Math.floor(Date.now() / 1000) + 86400],
};

/** LoadStats plus counts specific to MovieLens files. */
export interface MovieLensLoadStats extends LoadStats {
  /** Movies whose title has no "(year)". */
  moviesWithoutYear: number;
  /** Movies with "(no genres listed)". */
  moviesWithoutGenres: number;
  /** Tag lines with an empty tag text (not counted towards any item). */
  tagsEmpty: number;
  /** Catalogue items removed by the paper-scale sample because no sampled user touched them. */
  droppedUntouchedItems: number;
  /** Items kept in the catalogue with no interaction left. */
  itemsWithoutInteractions: number;
}

export interface MovieLensDataset extends Dataset {
  stats: MovieLensLoadStats;
}

/** The three files' contents (paths are read from disk; text/bytes are used as given). */
export interface MovieLensSources {
  movies: string;
  ratings: string | Uint8Array;
  tags: string;
  /** Labels for error messages. */
  labels?: { movies?: string; ratings?: string; tags?: string };
}

/** Loads a MovieLens folder holding movies.csv, ratings.csv and tags.csv. */
export function loadMovieLens(dir: string, opts: LoadMovieLensOptions = {}): MovieLensDataset {
  const files = { movies: 'movies.csv', ratings: 'ratings.csv', tags: 'tags.csv' };
  // Every file is checked before any is read: missing, not a regular file, or unreadable.
  for (const f of Object.values(files)) {
    const p = path.join(dir, f);
    try {
      checkInputFile(p, 'MovieLens file');
    } catch (err) {
      throw new Error(`loadMovieLens: ${(err as Error).message} (a MovieLens folder must hold movies.csv, ratings.csv and tags.csv)`);
    }
  }
  const moviesPath = path.join(dir, files.movies);
  const ratingsPath = path.join(dir, files.ratings);
  const tagsPath = path.join(dir, files.tags);
  const big = fs.statSync(ratingsPath).size > 50 << 20;
  return buildDataset(
    {
      movies: readUtf8File(moviesPath, 'MovieLens file'),
      ratings: ratingsPath,
      tags: readUtf8File(tagsPath, 'MovieLens file'),
      labels: { movies: moviesPath, ratings: ratingsPath, tags: tagsPath },
    },
    { progress: big, ranges: MOVIELENS_RANGES, ...opts, name: opts.name ?? path.basename(path.resolve(dir)) },
  );
}

/** Loads MovieLens-shaped CSV text held in memory (the synthetic catalogue uses this). */
export function loadMovieLensText(
  texts: { movies: string; ratings: string; tags: string },
  opts: LoadMovieLensOptions = {},
): MovieLensDataset {
  return buildDataset(
    { movies: texts.movies, ratings: Buffer.from(texts.ratings, 'utf8'), tags: texts.tags },
    { ...opts, name: opts.name ?? 'movielens-text' },
  );
}

interface RawMovie {
  id: number;
  rawTitle: string;
  genres: string[];
}

function checkOptions(opts: LoadMovieLensOptions): { minHistory: number; topTags: number; threshold: number | null } {
  const minHistory = opts.minHistory ?? 5;
  if (!Number.isInteger(minHistory) || minHistory < 3) {
    throw new Error(`loadMovieLens: option minHistory must be an integer >= 3 (train, validation and test need one item each), got ${minHistory}`);
  }
  const topTags = opts.topTags ?? 5;
  if (!Number.isInteger(topTags) || topTags < 0) throw new Error(`loadMovieLens: option topTags must be an integer >= 0, got ${topTags}`);
  const threshold = opts.ratingThreshold ?? null;
  if (threshold !== null && !Number.isFinite(threshold)) {
    throw new Error(`loadMovieLens: option ratingThreshold must be a number or null, got ${threshold}`);
  }
  return { minHistory, topTags, threshold };
}

function buildDataset(src: MovieLensSources, opts: LoadMovieLensOptions & { name: string }): MovieLensDataset {
  const { minHistory, topTags, threshold } = checkOptions(opts);
  const moviesLabel = src.labels?.movies ?? 'movies.csv';
  const ratingsLabel = src.labels?.ratings ?? 'ratings.csv';
  const tagsLabel = src.labels?.tags ?? 'tags.csv';

  // --- movies.csv
  const movies: RawMovie[] = [];
  const lineOfMovie = new Map<number, number>();
  let moviesWithoutGenres = 0;
  parseCsvText(src.movies, moviesLabel, MOVIES_HEADER, (f, line) => {
    const id = parseIntField(f[0], moviesLabel, line, 'movieId');
    const seen = lineOfMovie.get(id);
    if (seen !== undefined) throw new DataFileError(moviesLabel, line, `duplicate movieId ${id} (first defined on line ${seen})`);
    lineOfMovie.set(id, line);
    if (f[1].trim() === '') throw new DataFileError(moviesLabel, line, `expected a non-empty title for movieId ${id}`);
    const g = f[2].trim();
    const genres = g === '' || g === '(no genres listed)' ? [] : g.split('|').map((s) => s.trim()).filter((s) => s !== '');
    if (genres.length === 0) moviesWithoutGenres++;
    movies.push({ id, rawTitle: f[1], genres });
  });
  if (movies.length === 0) throw new DataFileError(moviesLabel, 2, 'no movies: the file holds its header only');
  const movieIndex = makeIdIndex(movies.map((m) => m.id));

  // --- ratings.csv
  let progress: Progress | undefined;
  const ratingsBytes = typeof src.ratings === 'string' ? fs.statSync(src.ratings).size : src.ratings.length;
  if (opts.progress) progress = new Progress({ label: `read ${path.basename(ratingsLabel)}`, total: Math.round(ratingsBytes / 1e6), unit: 'MB' });
  let reported = 0;
  const cols = readRatings(src.ratings, {
    label: ratingsLabel,
    movieIndex,
    ranges: opts.ranges,
    onChunk: progress
      ? (bytes) => {
          const mb = Math.round(bytes / 1e6);
          progress!.tick(mb - reported);
          reported = mb;
        }
      : undefined,
  });
  progress?.finish(`${cols.count} ratings`);

  // --- tags.csv
  const tagCounts: (Map<string, number> | undefined)[] = new Array(movies.length);
  let tagsRead = 0;
  let tagsEmpty = 0;
  parseCsvText(src.tags, tagsLabel, TAGS_HEADER, (f, line) => {
    parseIntField(f[0], tagsLabel, line, 'userId');
    const movieId = parseIntField(f[1], tagsLabel, line, 'movieId');
    parseNumberField(f[3], tagsLabel, line, 'timestamp');
    const item = movieIndex(movieId);
    if (item < 0) throw new DataFileError(tagsLabel, line, `tag of unknown movieId ${movieId} (not in movies.csv)`);
    tagsRead++;
    const tag = f[2].trim().replace(/\s+/g, ' ').toLowerCase();
    if (tag === '') {
      tagsEmpty++;
      return;
    }
    const m = tagCounts[item] ?? (tagCounts[item] = new Map());
    m.set(tag, (m.get(tag) ?? 0) + 1);
  });

  // --- items
  let moviesWithoutYear = 0;
  const allItems: Item[] = movies.map((m, index) => {
    const t = parseMovieTitle(m.rawTitle);
    if (t.year === null) moviesWithoutYear++;
    const counts = tagCounts[index];
    const tags = counts
      ? [...counts.entries()]
          .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
          .slice(0, topTags)
          .map((e) => e[0])
      : [];
    const item: Item = { index, id: m.id, title: t.title, year: t.year, genres: m.genres, tags, text: '' };
    item.text = itemText(item);
    return item;
  });

  // --- interactions
  const seq = buildSequences(cols, allItems, threshold, minHistory);
  if (seq.users.length === 0) {
    throw new Error(`${ratingsLabel}: no user keeps ${minHistory} or more ratings${threshold === null ? '' : ` >= ${threshold}`} (${seq.usersRead} users read): nothing to train or test on`);
  }
  let users = seq.users;
  let droppedSampledUsers = 0;
  let droppedSampledInteractions = 0;
  let items = allItems;
  let droppedUntouchedItems = 0;
  if (opts.paperScale) {
    const ps: PaperScaleOptions = opts.paperScale === true ? {} : opts.paperScale;
    const sampled = sampleUsers(users, ps.targetInteractions ?? PAPER_TARGET_INTERACTIONS, ps.seed ?? 0);
    droppedSampledUsers = users.length - sampled.length;
    droppedSampledInteractions = totalLength(users) - totalLength(sampled);
    users = sampled;
    if (!ps.keepUntouchedMovies) {
      const r = keepTouchedItems(allItems, users);
      items = r.items;
      users = r.users;
      droppedUntouchedItems = allItems.length - items.length;
    }
  }

  const touched = new Uint8Array(items.length);
  for (const u of users) for (let i = 0; i < u.items.length; i++) touched[u.items[i]] = 1;
  let itemsWithoutInteractions = 0;
  for (let i = 0; i < touched.length; i++) if (!touched[i]) itemsWithoutInteractions++;

  const stats: MovieLensLoadStats = {
    moviesRead: movies.length,
    ratingsRead: cols.count,
    tagsRead,
    usersRead: seq.usersRead,
    droppedBelowThreshold: seq.droppedBelowThreshold,
    droppedShortUsers: seq.droppedShortUsers,
    droppedShortUserInteractions: seq.droppedShortUserInteractions,
    droppedDuplicates: seq.droppedDuplicates,
    droppedSampledUsers,
    droppedSampledInteractions,
    usersKept: users.length,
    interactionsKept: totalLength(users),
    itemsKept: items.length,
    moviesWithoutYear,
    moviesWithoutGenres,
    tagsEmpty,
    droppedUntouchedItems,
    itemsWithoutInteractions,
  };
  return { name: opts.name, items, users, stats };
}

/** The text fed to text encoders: "Title (year). Genres: a, b. Tags: x, y." */
export function itemText(item: Pick<Item, 'title' | 'year' | 'genres' | 'tags'>): string {
  let s = item.year !== null ? `${item.title} (${item.year}).` : `${item.title}.`;
  if (item.genres.length) s += ` Genres: ${item.genres.join(', ')}.`;
  if (item.tags.length) s += ` Tags: ${item.tags.join(', ')}.`;
  return s;
}

/** id -> dense index lookup: a typed array when ids are small, a Map otherwise. -1 for unknown ids. */
function makeIdIndex(ids: number[]): (id: number) => number {
  let max = -1;
  let min = 0;
  for (const id of ids) {
    if (id > max) max = id;
    if (id < min) min = id;
  }
  if (min >= 0 && max < 50_000_000) {
    const table = new Int32Array(max + 1).fill(-1);
    ids.forEach((id, i) => (table[id] = i));
    return (id) => (id >= 0 && id <= max ? table[id] : -1);
  }
  const map = new Map<number, number>();
  ids.forEach((id, i) => map.set(id, i));
  return (id) => map.get(id) ?? -1;
}

function totalLength(users: UserSequence[]): number {
  let n = 0;
  for (const u of users) n += u.items.length;
  return n;
}

interface SequenceResult {
  users: UserSequence[];
  usersRead: number;
  droppedBelowThreshold: number;
  droppedDuplicates: number;
  droppedShortUsers: number;
  droppedShortUserInteractions: number;
}

/** Groups ratings into per-user time-ordered, de-duplicated sequences (users in ascending id order). */
function buildSequences(cols: RatingColumns, items: Item[], threshold: number | null, minHistory: number): SequenceResult {
  const n = cols.count;
  // Dense user ids, in order of first appearance; the file is usually grouped by user.
  const userIndex = new Map<number, number>();
  const userIds: number[] = [];
  const userOf = new Int32Array(n);
  let lastId = NaN;
  let lastIdx = -1;
  for (let i = 0; i < n; i++) {
    const id = cols.users[i];
    if (id !== lastId) {
      let u = userIndex.get(id);
      if (u === undefined) {
        u = userIds.length;
        userIndex.set(id, u);
        userIds.push(id);
      }
      lastId = id;
      lastIdx = u;
    }
    userOf[i] = lastIdx;
  }
  const numUsers = userIds.length;

  // Threshold, then counting sort of the kept rows by user.
  let droppedBelowThreshold = 0;
  const counts = new Int32Array(numUsers + 1);
  const keep = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (threshold !== null && cols.ratings[i] < threshold) {
      droppedBelowThreshold++;
      continue;
    }
    keep[i] = 1;
    counts[userOf[i] + 1]++;
  }
  for (let u = 0; u < numUsers; u++) counts[u + 1] += counts[u];
  const start = counts.slice();
  const rows = new Int32Array(counts[numUsers]);
  for (let i = 0; i < n; i++) if (keep[i]) rows[start[userOf[i]]++] = i;

  const ts = cols.timestamps;
  const it = cols.items;
  const m = items.length;
  // Rank of each item by movieId: a canonical order of same-time rows, shuffled per user below.
  const rankItem = Int32Array.from({ length: m }, (_, i) => i).sort((a, b) => items[a].id - items[b].id);
  const itemRank = new Int32Array(m);
  for (let r = 0; r < m; r++) itemRank[rankItem[r]] = r;

  // Fast path: when timestamps are non-negative integers small enough, (timestamp, movie rank) packs
  // exactly into one double, and each user's rows sort with the native typed-array sort.
  let packable = m > 0;
  let maxTs = 0;
  for (let k = 0; k < rows.length && packable; k++) {
    const t = ts[rows[k]];
    if (!(t >= 0) || !Number.isInteger(t)) packable = false;
    else if (t > maxTs) maxTs = t;
  }
  packable = packable && (maxTs + 1) * m < Number.MAX_SAFE_INTEGER;
  const keys = packable ? new Float64Array(rows.length) : null;
  if (keys) for (let k = 0; k < rows.length; k++) keys[k] = ts[rows[k]] * m + itemRank[it[rows[k]]];
  const cmp = (a: number, b: number) => ts[a] - ts[b] || itemRank[it[a]] - itemRank[it[b]] || a - b;

  // Users in ascending source id order; sequences are written compactly into two shared buffers.
  const order = Array.from({ length: numUsers }, (_, u) => u).sort((a, b) => userIds[a] - userIds[b]);
  const lastSeen = new Int32Array(m).fill(-1);
  const outItems = new Int32Array(rows.length);
  const outTs = new Float64Array(rows.length);
  let w = 0;
  let droppedDuplicates = 0;
  let droppedShortUsers = 0;
  let droppedShortUserInteractions = 0;
  const kept: { user: number; start: number; end: number }[] = [];
  const scratch: number[] = [];
  const segItems: number[] = [];
  const segTs: number[] = [];
  for (const u of order) {
    const a = counts[u];
    const b = counts[u + 1];
    const w0 = w;
    const push = (item: number, t: number) => {
      if (lastSeen[item] === u) {
        droppedDuplicates++;
        return;
      }
      lastSeen[item] = u;
      outItems[w] = item;
      outTs[w] = t;
      w++;
    };
    segItems.length = 0;
    segTs.length = 0;
    if (keys) {
      const seg = keys.subarray(a, b).sort();
      for (let k = 0; k < seg.length; k++) {
        const key = seg[k];
        const r = key % m;
        segItems.push(rankItem[r]);
        segTs.push((key - r) / m);
      }
    } else {
      scratch.length = 0;
      for (let k = a; k < b; k++) scratch.push(rows[k]);
      scratch.sort(cmp);
      for (const r of scratch) {
        segItems.push(it[r]);
        segTs.push(ts[r]);
      }
    }
    shuffleTimeTies(segItems, segTs, segItems.length, userIds[u]);
    for (let k = 0; k < segItems.length; k++) push(segItems[k], segTs[k]);
    if (w - w0 < minHistory) {
      if (b > a) {
        droppedShortUsers++;
        droppedShortUserInteractions += w - w0;
      }
      w = w0;
      continue;
    }
    kept.push({ user: userIds[u], start: w0, end: w });
  }
  const users: UserSequence[] = kept.map((k) => ({
    user: k.user,
    items: outItems.subarray(k.start, k.end),
    timestamps: outTs.subarray(k.start, k.end),
  }));
  // Users whose every rating fell below the threshold count as short users with 0 interactions.
  for (let u = 0; u < numUsers; u++) if (counts[u + 1] === counts[u]) droppedShortUsers++;
  return { users, usersRead: numUsers, droppedBelowThreshold, droppedDuplicates, droppedShortUsers, droppedShortUserInteractions };
}

/** Visits users in a seeded random order and keeps them until their interactions reach `target`. */
function sampleUsers(users: UserSequence[], target: number, seed: number): UserSequence[] {
  if (!(target > 0)) throw new Error(`loadMovieLens: paperScale.targetInteractions must be positive, got ${target}`);
  const perm = new Rng(seed).permutation(users.length);
  const chosen: number[] = [];
  let total = 0;
  for (let k = 0; k < perm.length && total < target; k++) {
    chosen.push(perm[k]);
    total += users[perm[k]].items.length;
  }
  chosen.sort((a, b) => a - b);
  // Copies, so the full data set's shared buffers can be freed.
  return chosen.map((i) => ({ user: users[i].user, items: users[i].items.slice(), timestamps: users[i].timestamps.slice() }));
}

/** Removes items no user touched and re-indexes the rest densely in their original order. */
function keepTouchedItems(items: Item[], users: UserSequence[]): { items: Item[]; users: UserSequence[] } {
  const newIndex = new Int32Array(items.length).fill(-1);
  for (const u of users) for (let i = 0; i < u.items.length; i++) newIndex[u.items[i]] = 0;
  const kept: Item[] = [];
  for (let i = 0; i < items.length; i++) {
    if (newIndex[i] === 0) {
      newIndex[i] = kept.length;
      kept.push({ ...items[i], index: kept.length });
    }
  }
  const remapped = users.map((u) => ({ user: u.user, timestamps: u.timestamps, items: u.items.map((x) => newIndex[x]) }));
  return { items: kept, users: remapped };
}
