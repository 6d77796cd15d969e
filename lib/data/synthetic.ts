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
 */
import type { ItemIndex } from '../types';
import { writeDirAtomic } from '../util/fs';
import { Rng } from '../util/random';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { csvField } from './csv';

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
  /** Line ending of the CSV text (default CRLF, as in GroupLens files). */
  lineEnding?: '\r\n' | '\n';
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

/** Generates the three CSV texts and the ground truth. Same options, same output. */
export function generateSyntheticMovieLens(opts: SyntheticOptions = {}): SyntheticMovieLens {
  const seed = opts.seed ?? 0;
  const numItems = opts.numItems ?? 400;
  const numUsers = opts.numUsers ?? 300;
  const meanHistory = opts.meanHistory ?? 33;
  const minHistory = opts.minHistory ?? 6;
  const numTopics = opts.numTopics ?? TOPICS.length;
  const numTastes = opts.numTastes ?? 10;
  const stayProb = opts.stayProb ?? 0.8;
  const zipf = opts.zipfExponent ?? 1.2;
  const meanTags = opts.meanTags ?? 4;
  const eol = opts.lineEnding ?? '\r\n';
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new Error(`generateSyntheticMovieLens: option ${what}`);
  };
  check(Number.isInteger(numItems) && numItems >= 10, `numItems must be an integer >= 10, got ${numItems}`);
  check(Number.isInteger(numUsers) && numUsers >= 1, `numUsers must be a positive integer, got ${numUsers}`);
  check(Number.isInteger(numTopics) && numTopics >= 1 && numTopics <= TOPICS.length, `numTopics must be an integer in 1..${TOPICS.length}, got ${numTopics}`);
  check(Number.isInteger(numTastes) && numTastes >= 1 && numTastes <= numItems, `numTastes must be an integer in 1..numItems, got ${numTastes}`);
  check(Number.isInteger(minHistory) && minHistory >= 1 && minHistory <= numItems / 2, `minHistory must be an integer in 1..numItems/2, got ${minHistory}`);
  check(meanHistory >= minHistory, `meanHistory must be >= minHistory (${minHistory}), got ${meanHistory}`);
  check(stayProb >= 0 && stayProb <= 1, `stayProb must be in [0, 1], got ${stayProb}`);
  check(zipf >= 0, `zipfExponent must be >= 0, got ${zipf}`);

  const root = new Rng(seed);
  const itemRng = root.fork('items');
  const userRng = root.fork('users');
  const tagRng = root.fork('tags');

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
  const movieLines: string[] = ['movieId,title,genres'];
  for (let i = 0; i < numItems; i++) {
    nextId += 1 + itemRng.int(3); // sparse ids, as in MovieLens
    movieIds[i] = nextId;
    const t = TOPICS[topicOf[i]];
    let title = makeTitle(itemRng, t);
    for (let k = 0; usedTitles.has(title) && k < 20; k++) title = makeTitle(itemRng, t);
    for (let k = 2; usedTitles.has(title); k++) title = `${title.replace(/ \d+$/, '')} ${k}`;
    usedTitles.add(title);
    if (itemRng.next() < 0.05) title = `${title} (a.k.a. ${pick(itemRng, t.nouns)} ${pick(itemRng, t.nouns)})`;
    const year = t.era[0] + itemRng.int(t.era[1] - t.era[0] + 1);
    const genres = new Set<string>([pick(itemRng, t.genres)]);
    const extra = itemRng.int(3);
    for (let k = 0; k < extra; k++) genres.add(itemRng.next() < 0.8 ? pick(itemRng, t.genres) : pick(itemRng, ALL_GENRES));
    const ordered = ALL_GENRES.filter((g) => genres.has(g));
    movieLines.push(`${movieIds[i]},${csvField(`${title} (${year})`)},${ordered.join('|')}`);
  }

  // Per-taste cumulative popularity for drawing items.
  const members: number[][] = Array.from({ length: numTastes }, () => []);
  for (let i = 0; i < numItems; i++) members[tasteOf[i]].push(i);
  const cumul = members.map((m) => {
    const c = new Float64Array(m.length);
    let s = 0;
    m.forEach((it, k) => (c[k] = s += popularity[it]));
    return c;
  });
  const drawFromTaste = (rng: Rng, taste: number): number => {
    const c = cumul[taste];
    const r = rng.next() * c[c.length - 1];
    let lo = 0;
    let hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (c[mid] > r) hi = mid;
      else lo = mid + 1;
    }
    return members[taste][lo];
  };

  // --- users and their sequences
  // Some tastes are more common than others (Zipf over clusters too), which adds to the item skew.
  const tasteWeights = Array.from({ length: numTastes }, (_, t) => 1 / Math.pow(t + 1, zipf / 2));
  type Row = { user: number; movie: number; rating: number; ts: number };
  const rows: Row[] = [];
  const maxLen = Math.floor(numItems / 2);
  for (let u = 0; u < numUsers; u++) {
    const userId = u + 1;
    const nPref = 2 + userRng.int(3);
    const prefTastes: number[] = [];
    const prefWeights: number[] = [];
    for (let k = 0; k < nPref; k++) {
      prefTastes.push(userRng.categorical(tasteWeights));
      prefWeights.push(1 / (k + 1));
    }
    const len = Math.min(maxLen, minHistory + Math.floor(-Math.log(1 - userRng.next()) * (meanHistory - minHistory)));
    const seen = new Set<number>();
    let taste = prefTastes[userRng.categorical(prefWeights)];
    let ts = 946684800 + userRng.int(18 * 365 * 86400); // 2000..2018
    for (let step = 0; step < len; step++) {
      if (step > 0 && userRng.next() >= stayProb) {
        // Mostly a preferred taste, sometimes any taste (exploration noise).
        taste = userRng.next() < 0.9 ? prefTastes[userRng.categorical(prefWeights)] : userRng.categorical(tasteWeights);
      }
      let item = -1;
      for (let tries = 0; tries < 30 && item < 0; tries++) {
        const cand = drawFromTaste(userRng, taste);
        if (!seen.has(cand)) item = cand;
      }
      if (item < 0) {
        for (let tries = 0; tries < 200 && item < 0; tries++) {
          const cand = drawFromTaste(userRng, userRng.int(numTastes));
          if (!seen.has(cand)) item = cand;
        }
      }
      if (item < 0) break;
      seen.add(item);
      // Some consecutive ratings share a second, as in real logs (ties are broken by movieId).
      ts += userRng.next() < 0.05 ? 0 : 1 + Math.floor(-Math.log(1 - userRng.next()) * 86400);
      const liked = prefTastes.includes(tasteOf[item]);
      const stars = Math.round(2 * Math.min(5, Math.max(0.5, (liked ? 4 : 3) + userRng.normal() * 0.8))) / 2;
      rows.push({ user: userId, movie: movieIds[item], rating: stars, ts });
    }
  }
  // MovieLens order: by user, then movieId.
  rows.sort((a, b) => a.user - b.user || a.movie - b.movie);
  const ratingLines = ['userId,movieId,rating,timestamp'];
  for (const r of rows) ratingLines.push(`${r.user},${r.movie},${r.rating.toFixed(1)},${r.ts}`);

  // --- tags: more popular items get more tag applications
  let popSum = 0;
  for (let i = 0; i < numItems; i++) popSum += popularity[i];
  const tagLines = ['userId,movieId,tag,timestamp'];
  for (let i = 0; i < numItems; i++) {
    const t = TOPICS[topicOf[i]];
    const expected = (meanTags * numItems * popularity[i]) / popSum;
    const n = Math.min(40, Math.floor(expected + tagRng.next() * 2));
    // Each item favours a few of its topic's tags, so top tags differ between items of a topic.
    const own = [pick(tagRng, t.tags), pick(tagRng, t.tags), pick(tagRng, t.tags)];
    for (let k = 0; k < n; k++) {
      const r = tagRng.next();
      const tag = r < 0.6 ? own[tagRng.int(own.length)] : r < 0.88 ? pick(tagRng, t.tags) : pick(tagRng, GENERIC_TAGS);
      const user = 1 + tagRng.int(numUsers);
      tagLines.push(`${user},${movieIds[i]},${csvField(tag)},${1262304000 + tagRng.int(8 * 365 * 86400)}`);
    }
  }

  return {
    movies: movieLines.join(eol) + eol,
    ratings: ratingLines.join(eol) + eol,
    tags: tagLines.join(eol) + eol,
    truth: { topicOf, tasteOf, popularity, movieIds },
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

/** Items of each taste cluster (ground truth), for diagnostics. */
export function tasteClusters(truth: SyntheticMovieLens['truth']): ItemIndex[][] {
  const out: ItemIndex[][] = [];
  truth.tasteOf.forEach((t, i) => (out[t] ??= []).push(i));
  return out;
}
