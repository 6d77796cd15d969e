/**
 * A synthetic MovieLens-shaped catalogue for the `tiny` profile and tests, generated from a seed and
 * written as movies.csv / ratings.csv / tags.csv text, so the real loader is exercised end to end.
 *
 * Structure (what later stages are expected to find):
 * - Content topics: each item belongs to one of `numTopics` topics, which decides its title words,
 *   genres, era and tags. Text-based (search) embeddings can recover topics.
 * - Tastes: users' behaviour follows a DIFFERENT partition of the items into `numTastes` taste
 *   clusters, drawn independently of the topics. Collaborative (rec) embeddings recover tastes, not
 *   topics, so search-tuned and rec-tuned embeddings disagree, as in the paper.
 * - Sequences: each user prefers two to four tastes; consecutive items stay in the current taste
 *   cluster with probability `stayProb`, otherwise a new one is drawn from the user's preferences.
 * - Popularity: items get Zipf-like weights (1/rank^zipfExponent, by a shuffled rank inside their
 *   taste cluster), used when drawing items inside a cluster, so interactions have a long tail.
 * - File details like MovieLens: CRLF line ends, "Title, The (Year)" with the article moved, quoted
 *   titles with commas and some with escaped quotes, sparse movieIds, timestamps with ties.
 *
 * `SyntheticModel` draws users one at a time, so `writeSyntheticFolder` streams a folder of any size
 * (`sid data synth --like ml-25m`: ml-25m's counts, LF line ends, GroupLens row order) from the same
 * model that `generateSyntheticMovieLens` turns into in-memory text.
 */
import type { ItemIndex } from '../types';
import { writeDirAtomic } from '../util/fs';
import { Rng } from '../util/random';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { csvField } from './csv';
import { Progress } from '../util/progress';

export interface SyntheticOptions {
  seed?: number;
  /** Items (default 400). */
  numItems?: number;
  /** Users (default 300). */
  numUsers?: number;
  /** Mean interactions per user (default 33, about 10k interactions for 300 users). */
  meanHistory?: number;
  /** Shortest history generated (default 6). */
  minHistory?: number;
  /** Content topics, at most 8 (default 8). */
  numTopics?: number;
  /** Taste clusters (default 10). */
  numTastes?: number;
  /** Probability that the next item stays in the current taste cluster (default 0.8). */
  stayProb?: number;
  /** Popularity skew: item weight 1/rank^zipfExponent within its taste cluster (default 1.2). */
  zipfExponent?: number;
  /** Mean tag applications per item (default 4). */
  meanTags?: number;
  /** Line ending of the CSV text (default CRLF). */
  lineEnding?: '\r\n' | '\n';
  /** Share of movies whose genres read "(no genres listed)", as in ml-25m (default 0). */
  noGenresShare?: number;
}

export interface SyntheticMovieLens {
  movies: string;
  ratings: string;
  tags: string;
  /** Ground truth per item (in movies.csv order = item index), for tests and diagnostics. */
  truth: { topicOf: Int32Array; tasteOf: Int32Array; popularity: Float64Array; movieIds: Int32Array };
}

interface Topic {
  genres: string[];
  adjectives: string[];
  nouns: string[];
  tags: string[];
  era: [number, number];
}

const TOPICS: Topic[] = [
  {
    genres: ['Sci-Fi', 'Adventure', 'Action'],
    adjectives: ['Dark', 'Silent', 'Distant', 'Red', 'Frozen', 'Infinite', 'Lost', 'Final'],
    nouns: ['Star', 'Orbit', 'Nebula', 'Galaxy', 'Comet', 'Voyager', 'Planet', 'Eclipse', 'Rocket', 'Station', 'Horizon'],
    tags: ['space', 'aliens', 'astronauts', 'dystopia', 'spaceship', 'time travel', 'robots', 'artificial intelligence'],
    era: [1978, 2016],
  },
  {
    genres: ['Crime', 'Thriller', 'Drama'],
    adjectives: ['Dirty', 'Cold', 'Crooked', 'Midnight', 'Deadly', 'Hard', 'Quiet', 'Blind'],
    nouns: ['Heist', 'Alley', 'Contract', 'Witness', 'Syndicate', 'Detective', 'Bullet', 'Vault', 'Alibi', 'Docks', 'Money'],
    tags: ['heist', 'mafia', 'police', 'gangster', 'noir', 'betrayal', 'twist ending', 'corruption'],
    era: [1968, 2008],
  },
  {
    genres: ['Romance', 'Comedy', 'Drama'],
    adjectives: ['Sweet', 'Secret', 'Endless', 'Perfect', 'First', 'Little', 'Lovely', 'Second'],
    nouns: ['Heart', 'Wedding', 'Summer', 'Letter', 'Kiss', 'Paris', 'Promise', 'Dance', 'Garden', 'Valentine'],
    tags: ['love story', 'wedding', 'friendship', 'feel-good', 'romantic', 'chick flick', 'paris', 'relationships'],
    era: [1988, 2016],
  },
  {
    genres: ['Horror', 'Thriller', 'Mystery'],
    adjectives: ['Haunted', 'Bloody', 'Hollow', 'Wicked', 'Pale', 'Unholy', 'Rotten', 'Black'],
    nouns: ['House', 'Curse', 'Shadow', 'Grave', 'Doll', 'Cabin', 'Ritual', 'Whisper', 'Fog', 'Asylum'],
    tags: ['ghosts', 'haunted house', 'zombies', 'gore', 'creepy', 'slasher', 'supernatural', 'demons'],
    era: [1974, 2017],
  },
  {
    genres: ['Animation', 'Children', 'Fantasy', 'Comedy'],
    adjectives: ['Magic', 'Brave', 'Tiny', 'Happy', 'Golden', 'Enchanted', 'Jolly', 'Sparkling'],
    nouns: ['Dragon', 'Kingdom', 'Castle', 'Puppy', 'Princess', 'Toy', 'Forest', 'Journey', 'Bear', 'Island'],
    tags: ['talking animals', 'fairy tale', 'family', 'magic', 'cute', 'musical numbers', 'coming of age'],
    era: [1989, 2018],
  },
  {
    genres: ['War', 'Drama', 'Action'],
    adjectives: ['Iron', 'Fallen', 'Northern', 'Burning', 'Last', 'Broken', 'Steel', 'Lonely'],
    nouns: ['Battalion', 'Front', 'Beach', 'Soldier', 'Empire', 'General', 'Trench', 'Flag', 'Bridge', 'Sniper'],
    tags: ['world war ii', 'based on a true story', 'soldiers', 'history', 'battle', 'historical', 'vietnam'],
    era: [1956, 2012],
  },
  {
    genres: ['Western', 'Action', 'Adventure'],
    adjectives: ['Lonesome', 'Wild', 'Dusty', 'Savage', 'Rusty', 'High', 'Desperate', 'Ragged'],
    nouns: ['Gun', 'Ranch', 'Outlaw', 'Sheriff', 'Frontier', 'Canyon', 'Saddle', 'Trail', 'Stagecoach', 'Rider'],
    tags: ['cowboys', 'gunfight', 'revenge', 'desert', 'bounty hunter', 'spaghetti western', 'horses'],
    era: [1950, 1996],
  },
  {
    genres: ['Comedy'],
    adjectives: ['Crazy', 'Big', 'Dumb', 'Awkward', 'Super', 'Totally', 'Lucky', 'Wacky'],
    nouns: ['Roommate', 'Party', 'Vacation', 'Boss', 'Weekend', 'Neighbors', 'Dad', 'Prom', 'Bachelor', 'Camp'],
    tags: ['slapstick', 'buddy comedy', 'hilarious', 'road trip', 'quirky', 'stupid fun', 'parody'],
    era: [1982, 2016],
  },
];

const ALL_GENRES = ['Action', 'Adventure', 'Animation', 'Children', 'Comedy', 'Crime', 'Documentary', 'Drama', 'Fantasy', 'Horror', 'Musical', 'Mystery', 'Romance', 'Sci-Fi', 'Thriller', 'War', 'Western'];
const GENERIC_TAGS = ['classic', 'great soundtrack', 'overrated', 'must see', 'boring', 'visually appealing', 'cult film'];

function pick<T>(rng: Rng, a: readonly T[]): T {
  return a[rng.int(a.length)];
}

function makeTitle(rng: Rng, t: Topic): string {
  const adj = pick(rng, t.adjectives);
  const noun = pick(rng, t.nouns);
  let noun2 = pick(rng, t.nouns);
  if (noun2 === noun) noun2 = pick(rng, t.nouns);
  switch (rng.int(7)) {
    case 0:
      return `${adj} ${noun}, The`; // MovieLens moves the article behind a comma
    case 1:
      return `${noun} of the ${adj} ${noun2}`;
    case 2:
      return `${adj} ${noun}`;
    case 3:
      return `${noun}: ${adj} ${noun2}`;
    case 4:
      return `${noun} and the ${noun2}`;
    case 5:
      return `"${adj}" ${noun}`; // quotes inside a title (escaped as "" in the CSV)
    default:
      return `${noun} ${noun2}, A`;
  }
}

interface ResolvedOptions {
  seed: number;
  numItems: number;
  numUsers: number;
  meanHistory: number;
  minHistory: number;
  numTopics: number;
  numTastes: number;
  stayProb: number;
  zipf: number;
  meanTags: number;
  eol: string;
  noGenresShare: number;
}

function resolveOptions(opts: SyntheticOptions): ResolvedOptions {
  const o: ResolvedOptions = {
    seed: opts.seed ?? 0,
    numItems: opts.numItems ?? 400,
    numUsers: opts.numUsers ?? 300,
    meanHistory: opts.meanHistory ?? 33,
    minHistory: opts.minHistory ?? 6,
    numTopics: opts.numTopics ?? TOPICS.length,
    numTastes: opts.numTastes ?? 10,
    stayProb: opts.stayProb ?? 0.8,
    zipf: opts.zipfExponent ?? 1.2,
    meanTags: opts.meanTags ?? 4,
    eol: opts.lineEnding ?? '\r\n',
    noGenresShare: opts.noGenresShare ?? 0,
  };
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new Error(`generateSyntheticMovieLens: option ${what}`);
  };
  const { numItems, numUsers, numTopics, numTastes, minHistory, meanHistory, stayProb, zipf } = o;
  check(Number.isInteger(numItems) && numItems >= 10, `numItems must be an integer >= 10, got ${numItems}`);
  check(Number.isInteger(numUsers) && numUsers >= 1, `numUsers must be a positive integer, got ${numUsers}`);
  check(Number.isInteger(numTopics) && numTopics >= 1 && numTopics <= TOPICS.length, `numTopics must be an integer in 1..${TOPICS.length}, got ${numTopics}`);
  check(Number.isInteger(numTastes) && numTastes >= 1 && numTastes <= numItems, `numTastes must be an integer in 1..numItems, got ${numTastes}`);
  check(Number.isInteger(minHistory) && minHistory >= 1 && minHistory <= numItems / 2, `minHistory must be an integer in 1..numItems/2, got ${minHistory}`);
  check(meanHistory >= minHistory, `meanHistory must be >= minHistory (${minHistory}), got ${meanHistory}`);
  check(stayProb >= 0 && stayProb <= 1, `stayProb must be in [0, 1], got ${stayProb}`);
  check(zipf >= 0, `zipfExponent must be >= 0, got ${zipf}`);
  check(o.noGenresShare >= 0 && o.noGenresShare < 1, `noGenresShare must be in [0, 1), got ${o.noGenresShare}`);
  return o;
}

/** One user's ratings in MovieLens order (by movieId). */
export interface SyntheticUserRatings {
  userId: number;
  movieIds: Int32Array;
  ratings: Float64Array;
  timestamps: Float64Array;
}

/** One tag application. */
export interface SyntheticTag {
  userId: number;
  movieId: number;
  tag: string;
  timestamp: number;
}

/**
 * The generative model behind every synthetic file: items (topic, taste, popularity, movies.csv line)
 * are drawn up front; users are drawn one at a time, in order, so that a caller can write each one
 * and forget it (25M ratings never sit in memory); tags are drawn per item.
 */
export class SyntheticModel {
  readonly opts: ResolvedOptions;
  readonly truth: SyntheticMovieLens['truth'];
  /** movies.csv data lines (no header, no line end), in item order. */
  readonly movieLines: string[];
  private readonly userRng: Rng;
  private readonly tagRng: Rng;
  private readonly members: number[][];
  private readonly cumul: Float64Array[];
  private readonly tasteWeights: number[];
  private nextUserIndex = 0;

  constructor(options: SyntheticOptions = {}) {
    const o = (this.opts = resolveOptions(options));
    const { numItems, numTopics, numTastes, zipf } = o;
    const root = new Rng(o.seed);
    const itemRng = root.fork('items');
    this.userRng = root.fork('users');
    this.tagRng = root.fork('tags');
    // Drawn only when asked for, so the other streams (and the tiny catalogue) stay as they were.
    const quirkRng = root.fork('quirks');

    // --- items: topic, taste (independent partition), popularity, id, title, year, genres
    const topicOf = new Int32Array(numItems);
    for (let i = 0; i < numItems; i++) topicOf[i] = i % numTopics;
    itemRng.shuffle(topicOf);
    const tasteOf = new Int32Array(numItems);
    for (let i = 0; i < numItems; i++) tasteOf[i] = i % numTastes;
    itemRng.shuffle(tasteOf);
    // Zipf weights by rank inside each taste cluster (ranks shuffled): users draw items within a
    // cluster, so a global ranking would leave every cluster almost flat.
    const rank = itemRng.permutation(numItems);
    const popularity = new Float64Array(numItems);
    {
      const byTaste: number[][] = Array.from({ length: numTastes }, () => []);
      const order = Array.from({ length: numItems }, (_, i) => i).sort((a, b) => rank[a] - rank[b]);
      for (const i of order) byTaste[tasteOf[i]].push(i);
      for (const list of byTaste) list.forEach((i, r) => (popularity[i] = 1 / Math.pow(r + 1, zipf)));
    }

    const movieIds = new Int32Array(numItems);
    let nextId = 0;
    const usedTitles = new Set<string>();
    const lastSuffix = new Map<string, number>();
    this.movieLines = [];
    for (let i = 0; i < numItems; i++) {
      nextId += 1 + itemRng.int(3); // sparse ids, as in MovieLens
      movieIds[i] = nextId;
      const t = TOPICS[topicOf[i]];
      let title = makeTitle(itemRng, t);
      for (let k = 0; usedTitles.has(title) && k < 20; k++) title = makeTitle(itemRng, t);
      if (usedTitles.has(title)) {
        // Numbered sequels; the last number used per base title is remembered so that large
        // catalogues (thousands of repeats of one base) do not rescan from 2 each time.
        const base = title.replace(/ \d+$/, '');
        let k = Math.max(2, (lastSuffix.get(base) ?? 1) + 1);
        while (usedTitles.has(`${base} ${k}`)) k++;
        lastSuffix.set(base, k);
        title = `${base} ${k}`;
      }
      usedTitles.add(title);
      if (itemRng.next() < 0.05) title = `${title} (a.k.a. ${pick(itemRng, t.nouns)} ${pick(itemRng, t.nouns)})`;
      const year = t.era[0] + itemRng.int(t.era[1] - t.era[0] + 1);
      const genres = new Set<string>([pick(itemRng, t.genres)]);
      const extra = itemRng.int(3);
      for (let k = 0; k < extra; k++) genres.add(itemRng.next() < 0.8 ? pick(itemRng, t.genres) : pick(itemRng, ALL_GENRES));
      const ordered = ALL_GENRES.filter((g) => genres.has(g));
      const genreField = o.noGenresShare > 0 && quirkRng.next() < o.noGenresShare ? '(no genres listed)' : ordered.join('|');
      this.movieLines.push(`${movieIds[i]},${csvField(`${title} (${year})`)},${genreField}`);
    }
    this.truth = { topicOf, tasteOf, popularity, movieIds };

    // Per-taste cumulative popularity for drawing items.
    this.members = Array.from({ length: numTastes }, () => []);
    for (let i = 0; i < numItems; i++) this.members[tasteOf[i]].push(i);
    this.cumul = this.members.map((m) => {
      const c = new Float64Array(m.length);
      let s = 0;
      m.forEach((it, k) => (c[k] = s += popularity[it]));
      return c;
    });
    // Some tastes are more common than others (Zipf over clusters too), which adds to the item skew.
    this.tasteWeights = Array.from({ length: numTastes }, (_, t) => 1 / Math.pow(t + 1, zipf / 2));
  }

  get numUsers(): number {
    return this.opts.numUsers;
  }

  private drawFromTaste(rng: Rng, taste: number): number {
    const c = this.cumul[taste];
    const r = rng.next() * c[c.length - 1];
    let lo = 0;
    let hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (c[mid] > r) hi = mid;
      else lo = mid + 1;
    }
    return this.members[taste][lo];
  }

  /** The next user's ratings (users 1, 2, ... in turn), or null after the last. */
  nextUser(): SyntheticUserRatings | null {
    const o = this.opts;
    if (this.nextUserIndex >= o.numUsers) return null;
    const userRng = this.userRng;
    const { tasteWeights } = this;
    const { numItems, numTastes, minHistory, meanHistory, stayProb } = o;
    const userId = ++this.nextUserIndex;
    const maxLen = Math.floor(numItems / 2);
    const nPref = 2 + userRng.int(3);
    const prefTastes: number[] = [];
    const prefWeights: number[] = [];
    for (let k = 0; k < nPref; k++) {
      prefTastes.push(userRng.categorical(tasteWeights));
      prefWeights.push(1 / (k + 1));
    }
    const len = Math.min(maxLen, minHistory + Math.floor(-Math.log(1 - userRng.next()) * (meanHistory - minHistory)));
    const seen = new Set<number>();
    const items: number[] = [];
    const stars: number[] = [];
    const times: number[] = [];
    let taste = prefTastes[userRng.categorical(prefWeights)];
    let ts = 946684800 + userRng.int(18 * 365 * 86400); // 2000..2018
    for (let step = 0; step < len; step++) {
      if (step > 0 && userRng.next() >= stayProb) {
        // Mostly a preferred taste, sometimes any taste (exploration noise).
        taste = userRng.next() < 0.9 ? prefTastes[userRng.categorical(prefWeights)] : userRng.categorical(tasteWeights);
      }
      let item = -1;
      for (let tries = 0; tries < 30 && item < 0; tries++) {
        const cand = this.drawFromTaste(userRng, taste);
        if (!seen.has(cand)) item = cand;
      }
      if (item < 0) {
        for (let tries = 0; tries < 200 && item < 0; tries++) {
          const cand = this.drawFromTaste(userRng, userRng.int(numTastes));
          if (!seen.has(cand)) item = cand;
        }
      }
      if (item < 0) break;
      seen.add(item);
      // Some consecutive ratings share a second, as in real logs.
      ts += userRng.next() < 0.05 ? 0 : 1 + Math.floor(-Math.log(1 - userRng.next()) * 86400);
      const liked = prefTastes.includes(this.truth.tasteOf[item]);
      const s = Math.round(2 * Math.min(5, Math.max(0.5, (liked ? 4 : 3) + userRng.normal() * 0.8))) / 2;
      items.push(item);
      stars.push(s);
      times.push(ts);
    }
    // MovieLens order within a user: by movieId, which grows with the item index.
    const order = Array.from(items.keys()).sort((a, b) => items[a] - items[b]);
    const n = order.length;
    const out: SyntheticUserRatings = { userId, movieIds: new Int32Array(n), ratings: new Float64Array(n), timestamps: new Float64Array(n) };
    for (let k = 0; k < n; k++) {
      const j = order[k];
      out.movieIds[k] = this.truth.movieIds[items[j]];
      out.ratings[k] = stars[j];
      out.timestamps[k] = times[j];
    }
    return out;
  }

  /** Every tag application, item by item (more popular items get more). Call once. */
  tags(emit: (t: SyntheticTag) => void): void {
    const { numItems, numUsers, meanTags } = this.opts;
    const { topicOf, popularity, movieIds } = this.truth;
    const tagRng = this.tagRng;
    let popSum = 0;
    for (let i = 0; i < numItems; i++) popSum += popularity[i];
    for (let i = 0; i < numItems; i++) {
      const t = TOPICS[topicOf[i]];
      const expected = (meanTags * numItems * popularity[i]) / popSum;
      const n = Math.min(40, Math.floor(expected + tagRng.next() * 2));
      // Each item favours a few of its topic's tags, so top tags differ between items of a topic.
      const own = [pick(tagRng, t.tags), pick(tagRng, t.tags), pick(tagRng, t.tags)];
      for (let k = 0; k < n; k++) {
        const r = tagRng.next();
        const tag = r < 0.6 ? own[tagRng.int(own.length)] : r < 0.88 ? pick(tagRng, t.tags) : pick(tagRng, GENERIC_TAGS);
        const userId = 1 + tagRng.int(numUsers);
        emit({ userId, movieId: movieIds[i], tag, timestamp: 1262304000 + tagRng.int(8 * 365 * 86400) });
      }
    }
  }
}

/** One ratings.csv data line. */
function ratingLine(u: SyntheticUserRatings, k: number): string {
  return `${u.userId},${u.movieIds[k]},${u.ratings[k].toFixed(1)},${u.timestamps[k]}`;
}

/** One tags.csv data line. */
function tagLine(t: SyntheticTag): string {
  return `${t.userId},${t.movieId},${csvField(t.tag)},${t.timestamp}`;
}

/** Generates the three CSV texts and the ground truth. Same options, same output. */
export function generateSyntheticMovieLens(opts: SyntheticOptions = {}): SyntheticMovieLens {
  const model = new SyntheticModel(opts);
  const eol = model.opts.eol;
  const ratingLines = ['userId,movieId,rating,timestamp'];
  for (let u = model.nextUser(); u; u = model.nextUser()) {
    for (let k = 0; k < u.movieIds.length; k++) ratingLines.push(ratingLine(u, k));
  }
  const tagLines = ['userId,movieId,tag,timestamp'];
  model.tags((t) => tagLines.push(tagLine(t)));
  return {
    movies: ['movieId,title,genres', ...model.movieLines].join(eol) + eol,
    ratings: ratingLines.join(eol) + eol,
    tags: tagLines.join(eol) + eol,
    truth: model.truth,
  };
}

/** Writes movies.csv, ratings.csv and tags.csv into `dir` (atomically, replacing the folder). */
export function writeSyntheticMovieLens(dir: string, data: Pick<SyntheticMovieLens, 'movies' | 'ratings' | 'tags'>): string {
  writeDirAtomic(dir, (tmp) => {
    fs.writeFileSync(path.join(tmp, 'movies.csv'), data.movies);
    fs.writeFileSync(path.join(tmp, 'ratings.csv'), data.ratings);
    fs.writeFileSync(path.join(tmp, 'tags.csv'), data.tags);
  });
  return dir;
}

/** GroupLens releases the synthetic folders can imitate, with their published sizes. */
export const SYNTHETIC_LIKE = {
  'ml-25m': { movies: 62_423, users: 162_541, ratings: 25_000_095, tags: 1_093_360, minHistory: 20 },
} as const;
export type SyntheticLike = keyof typeof SYNTHETIC_LIKE;

export interface SyntheticLikeOptions {
  seed?: number;
  /** Movies (default: the release's count); users scale with it unless given. */
  movies?: number;
  users?: number;
}

/**
 * Generator options for a folder shaped like `like`: its movie and user counts, its mean ratings per
 * user and minimum history, its tags per movie, LF line ends, some movies without genres. Taste
 * clusters keep about 200 movies each, so histories of ~150 ratings stay inside a few clusters.
 */
export function syntheticLikeOptions(like: SyntheticLike, o: SyntheticLikeOptions = {}): SyntheticOptions {
  const r = SYNTHETIC_LIKE[like];
  if (!r) throw new Error(`synthetic data: unknown release "${like}": expected one of ${Object.keys(SYNTHETIC_LIKE).join(', ')}`);
  const movies = o.movies ?? r.movies;
  if (!Number.isInteger(movies) || movies < 2 * r.minHistory) throw new Error(`synthetic data: movies must be an integer >= ${2 * r.minHistory}, got ${movies}`);
  const users = o.users ?? Math.max(1, Math.round((r.users * movies) / r.movies));
  if (!Number.isInteger(users) || users < 1) throw new Error(`synthetic data: users must be a positive integer, got ${users}`);
  return {
    seed: o.seed ?? 0,
    numItems: movies,
    numUsers: users,
    meanHistory: r.ratings / r.users,
    minHistory: r.minHistory,
    numTastes: Math.max(10, Math.round(movies / 200)),
    meanTags: r.tags / r.movies,
    lineEnding: '\n',
    noGenresShare: 0.05,
  };
}

/** Buffers lines and writes them to a file descriptor in large pieces. */
class LineWriter {
  private parts: string[] = [];
  private size = 0;
  bytes = 0;
  constructor(
    private readonly fd: number,
    private readonly eol: string,
  ) {}
  line(s: string): void {
    this.parts.push(s, this.eol);
    this.size += s.length + this.eol.length;
    if (this.size >= 1 << 22) this.flush();
  }
  flush(): void {
    if (this.parts.length === 0) return;
    const buf = Buffer.from(this.parts.join(''), 'utf8');
    fs.writeSync(this.fd, buf);
    this.bytes += buf.length;
    this.parts = [];
    this.size = 0;
  }
}

export interface SyntheticFolderSummary {
  dir: string;
  movies: number;
  users: number;
  ratings: number;
  tags: number;
  bytes: { movies: number; ratings: number; tags: number };
  seconds: number;
}

/**
 * Writes movies.csv, ratings.csv and tags.csv into `dir` from the generative model, streaming: each
 * user's ratings are written as soon as they are drawn, so memory stays flat at any size. Ratings and
 * tags are in GroupLens order (by userId, then movieId). The folder appears complete or not at all.
 */
export function writeSyntheticFolder(dir: string, opts: SyntheticOptions, progress = true): SyntheticFolderSummary {
  const t0 = Date.now();
  const model = new SyntheticModel(opts);
  const eol = model.opts.eol;
  const summary: SyntheticFolderSummary = { dir, movies: model.movieLines.length, users: 0, ratings: 0, tags: 0, bytes: { movies: 0, ratings: 0, tags: 0 }, seconds: 0 };
  const withFile = (file: string, fill: (w: LineWriter) => void): number => {
    const fd = fs.openSync(file, 'w');
    try {
      const w = new LineWriter(fd, eol);
      fill(w);
      w.flush();
      return w.bytes;
    } finally {
      fs.closeSync(fd);
    }
  };
  writeDirAtomic(dir, (tmp) => {
    summary.bytes.movies = withFile(path.join(tmp, 'movies.csv'), (w) => {
      w.line('movieId,title,genres');
      for (const l of model.movieLines) w.line(l);
    });
    const bar = progress ? new Progress({ label: 'synth ratings.csv', total: model.numUsers, unit: 'users', intervalMs: 5000 }) : null;
    summary.bytes.ratings = withFile(path.join(tmp, 'ratings.csv'), (w) => {
      w.line('userId,movieId,rating,timestamp');
      for (let u = model.nextUser(); u; u = model.nextUser()) {
        for (let k = 0; k < u.movieIds.length; k++) w.line(ratingLine(u, k));
        summary.users++;
        summary.ratings += u.movieIds.length;
        bar?.tick(1);
      }
    });
    bar?.finish(`${summary.ratings} ratings`);
    // About a million tags at ml-25m's size: held as numbers (tag texts interned), sorted, written.
    const users: number[] = [];
    const movies: number[] = [];
    const texts: number[] = [];
    const stamps: number[] = [];
    const textIndex = new Map<string, number>();
    const textList: string[] = [];
    model.tags((t) => {
      let x = textIndex.get(t.tag);
      if (x === undefined) {
        textIndex.set(t.tag, (x = textList.length));
        textList.push(t.tag);
      }
      users.push(t.userId);
      movies.push(t.movieId);
      texts.push(x);
      stamps.push(t.timestamp);
    });
    const order = Array.from(users.keys()).sort((a, b) => users[a] - users[b] || movies[a] - movies[b]);
    summary.tags = order.length;
    summary.bytes.tags = withFile(path.join(tmp, 'tags.csv'), (w) => {
      w.line('userId,movieId,tag,timestamp');
      for (const j of order) w.line(tagLine({ userId: users[j], movieId: movies[j], tag: textList[texts[j]], timestamp: stamps[j] }));
    });
  });
  summary.seconds = (Date.now() - t0) / 1000;
  return summary;
}

/** Items of each taste cluster (ground truth), for diagnostics. */
export function tasteClusters(truth: SyntheticMovieLens['truth']): ItemIndex[][] {
  const out: ItemIndex[][] = [];
  truth.tasteOf.forEach((t, i) => (out[t] ??= []).push(i));
  return out;
}
