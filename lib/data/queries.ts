/**
 * Synthetic search queries built from item metadata, standing in for the paper's LLM-written queries.
 *
 * Each item gets up to N distinct queries (compared case- and space-insensitively) in these styles:
 * - "title":         the known-item query: the title, sometimes with the year or "movie"
 * - "partial-title": a contiguous run of the title's words
 * - "typo":          the title with one or two keyboard slips (swap, drop, double, neighbour key)
 * - "genre-era":     "90s sci-fi thriller", "comedy movies from the 1980s"
 * - "tags":          "movie about time travel", "twist ending film"
 * - "descriptive":   genre + tag + era combinations, "a dark comedy about serial killer from the 90s"
 * Styles an item cannot support (no tags, no genres and no year, one-word title) are skipped for it.
 * Every item draws from its own generator seeded by (seed, item id), so an item's queries do not
 * depend on which other items are in the set.
 *
 * Which items get queries: all (default), or a popularity-stratified sample of M items (items ranked
 * by training popularity, cut into M equal rank strata, one item drawn per stratum), which is the
 * paper's "uniformly over popularity".
 */
import type { Item, ItemIndex, SearchQuery } from '../types';
import { Rng, hashString32 } from '../util/random';

export const QUERY_STYLES = ['title', 'partial-title', 'typo', 'genre-era', 'tags', 'descriptive'] as const;
export type GeneratedQueryStyle = (typeof QUERY_STYLES)[number];

export interface QueryGenOptions {
  /** Queries per item (default 20, the paper's number). */
  perItem?: number;
  seed?: number;
  /** Relative weight of each style (default: title .15, partial-title .1, typo .1, genre-era .2, tags .2, descriptive .25). */
  styleWeights?: Partial<Record<GeneratedQueryStyle, number>>;
  /** Which items get queries: all (default) or a popularity-stratified sample. */
  items?: 'all' | { stratified: number; popularity: ArrayLike<number> };
}

const DEFAULT_WEIGHTS: Record<GeneratedQueryStyle, number> = {
  title: 0.15,
  'partial-title': 0.1,
  typo: 0.1,
  'genre-era': 0.2,
  tags: 0.2,
  descriptive: 0.25,
};

/** Lower-case, trimmed, single-spaced: the identity of a query string (exact repeats are dropped). */
export function normalizeQuery(s: string): string {
  return s.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** Words that do not distinguish one query from another: articles, linking words and the nouns "movie" and "film". */
const QUERY_FILLER_WORDS: ReadonlySet<string> = new Set(['a', 'an', 'the', 'and', 'of', 'about', 'with', 'from', 'movie', 'movies', 'film', 'films']);

/**
 * The canonical form that decides the query split (lib/data/querySplit.ts): two queries with the same
 * form are near-duplicates. Steps, in order: lower case; accents removed (NFKD, combining marks
 * dropped); apostrophes deleted ("children's" -> "childrens"); every other run of characters that are
 * not letters or digits becomes one space ("sci-fi" -> "sci fi", "(1995)" -> "1995"); filler words
 * (`QUERY_FILLER_WORDS`) dropped; the remaining words sorted and joined by single spaces (repeats kept).
 * "Tom and Huck (1995) movie" and "tom and huck 1995" both become "1995 huck tom". A query of filler
 * words only has the empty form.
 */
export function canonicalQuery(s: string): string {
  const words = s
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/['\u2019]/g, '')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w !== '' && !QUERY_FILLER_WORDS.has(w));
  return words.sort().join(' ');
}

/** Items to generate queries for, in index order. */
export function selectQueryItems(numItems: number, sel: QueryGenOptions['items'], seed: number): ItemIndex[] {
  if (sel === undefined || sel === 'all') return Array.from({ length: numItems }, (_, i) => i);
  const m = sel.stratified;
  if (!Number.isInteger(m) || m <= 0) throw new Error(`selectQueryItems: option items.stratified must be a positive integer, got ${m}`);
  if (sel.popularity.length !== numItems) {
    throw new Error(`selectQueryItems: items.popularity has ${sel.popularity.length} entries, expected one per item (${numItems})`);
  }
  if (m >= numItems) return Array.from({ length: numItems }, (_, i) => i);
  const pop = sel.popularity;
  const ranked = Array.from({ length: numItems }, (_, i) => i).sort((a, b) => pop[b] - pop[a] || a - b);
  const rng = new Rng(hashString32(`stratified|${seed}`));
  const chosen: number[] = [];
  for (let s = 0; s < m; s++) {
    const lo = Math.floor((s * numItems) / m);
    const hi = Math.floor(((s + 1) * numItems) / m);
    chosen.push(ranked[lo + rng.int(hi - lo)]);
  }
  return chosen.sort((a, b) => a - b);
}

/** Generates queries for the selected items. Deterministic in (items, options). */
export function generateQueries(items: Item[], opts: QueryGenOptions = {}): SearchQuery[] {
  const perItem = opts.perItem ?? 20;
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(perItem) || perItem < 0) throw new Error(`generateQueries: option perItem must be an integer >= 0, got ${perItem}`);
  const weights = { ...DEFAULT_WEIGHTS, ...(opts.styleWeights ?? {}) };
  for (const [k, w] of Object.entries(weights)) {
    if (!(QUERY_STYLES as readonly string[]).includes(k)) throw new Error(`generateQueries: unknown style "${k}" in styleWeights; expected one of ${QUERY_STYLES.join(', ')}`);
    if (!(w >= 0)) throw new Error(`generateQueries: styleWeights.${k} must be >= 0, got ${w}`);
  }
  const out: SearchQuery[] = [];
  for (const idx of selectQueryItems(items.length, opts.items, seed)) {
    const item = items[idx];
    if (item.index !== idx) throw new Error(`generateQueries: items[${idx}].index is ${item.index}; expected dense indices`);
    out.push(...queriesForItem(item, perItem, seed, weights));
  }
  return out;
}

/** Up to `n` distinct queries for one item. */
export function queriesForItem(item: Item, n: number, seed: number, weights: Record<GeneratedQueryStyle, number> = DEFAULT_WEIGHTS): SearchQuery[] {
  const rng = new Rng(hashString32(`queries|${seed}|${item.id}`));
  const f = itemFacts(item);
  const available = QUERY_STYLES.map((s) => (styleAvailable(s, f) ? weights[s] : 0));
  if (available.every((w) => w === 0)) return [];
  const seen = new Set<string>();
  const out: SearchQuery[] = [];
  for (let attempt = 0; attempt < 30 * n && out.length < n; attempt++) {
    const style = QUERY_STYLES[rng.categorical(available)];
    const text = makeQuery(style, f, rng).replace(/\s+/g, ' ').trim();
    const key = normalizeQuery(text);
    if (key === '' || seen.has(key)) continue;
    seen.add(key);
    out.push({ item: item.index, text, style });
  }
  return out;
}

// ---------------------------------------------------------------- item facts

interface Facts {
  main: string;
  words: string[];
  year: number | null;
  genres: string[];
  tags: string[];
}

const STOPWORDS = new Set(['the', 'a', 'an', 'of', 'and', 'in', 'on', 'to', 'for', 'at', 'by', 'with', 'from', 'la', 'le', 'les', 'el', 'de', 'il', '&', '-', ':']);

function itemFacts(item: Item): Facts {
  const main = item.title.replace(/\s*\([^()]*\)\s*$/, '').trim() || item.title;
  return {
    main,
    words: main.split(/\s+/).filter((w) => w !== ''),
    year: item.year,
    genres: item.genres,
    tags: item.tags.filter((t) => t.length >= 2 && t.length <= 40),
  };
}

function styleAvailable(style: GeneratedQueryStyle, f: Facts): boolean {
  switch (style) {
    case 'title':
      return f.main.length > 0;
    case 'partial-title':
      return f.words.filter((w) => !STOPWORDS.has(w.toLowerCase())).length >= 2;
    case 'typo':
      return f.words.some((w) => w.length >= 4);
    case 'genre-era':
      return f.genres.length > 0 || f.year !== null;
    case 'tags':
      return f.tags.length > 0;
    case 'descriptive':
      return f.genres.length > 0 && (f.tags.length > 0 || f.year !== null);
  }
}

// ---------------------------------------------------------------- phrasing

const GENRE_PHRASES: Record<string, string[]> = {
  Action: ['action'],
  Adventure: ['adventure'],
  Animation: ['animated', 'animation'],
  Children: ['kids', 'family', "children's"],
  Comedy: ['comedy', 'funny'],
  Crime: ['crime'],
  Documentary: ['documentary'],
  Drama: ['drama'],
  Fantasy: ['fantasy'],
  'Film-Noir': ['film noir', 'noir'],
  Horror: ['horror', 'scary'],
  IMAX: ['imax'],
  Musical: ['musical'],
  Mystery: ['mystery'],
  Romance: ['romance', 'romantic'],
  'Sci-Fi': ['sci-fi', 'science fiction', 'scifi'],
  Thriller: ['thriller'],
  War: ['war'],
  Western: ['western'],
};

function pick<T>(rng: Rng, a: readonly T[]): T {
  return a[rng.int(a.length)];
}

function genrePhrase(rng: Rng, g: string): string {
  return pick(rng, GENRE_PHRASES[g] ?? [g.toLowerCase()]);
}

/** One or two genres as a phrase, e.g. "sci-fi thriller". */
function genresPhrase(rng: Rng, genres: string[]): string {
  if (genres.length === 0) return '';
  const a = pick(rng, genres);
  if (genres.length === 1 || rng.next() < 0.5) return genrePhrase(rng, a);
  let b = pick(rng, genres);
  for (let k = 0; k < 4 && b === a; k++) b = pick(rng, genres);
  return b === a ? genrePhrase(rng, a) : `${genrePhrase(rng, a)} ${genrePhrase(rng, b)}`;
}

// Genre words that read as adjectives and need a noun after them ("funny movie", not "funny").
const ADJECTIVAL = new Set(['animated', 'kids', 'family', "children's", 'funny', 'scary', 'romantic']);

/** A genre phrase that can stand as a noun phrase: "sci-fi thriller", "funny movie". */
function genreNounPhrase(rng: Rng, genres: string[]): string {
  const g = genresPhrase(rng, genres);
  const last = g.split(' ').pop() ?? '';
  return ADJECTIVAL.has(last) || rng.next() < 0.4 ? `${g} ${pick(rng, NOUNS.slice(0, 2))}` : g;
}

function eraPhrase(rng: Rng, year: number): string {
  const decade = Math.floor(year / 10) * 10;
  const short = `${String(decade % 100).padStart(2, '0')}s`;
  const part = year % 10 < 4 ? 'early ' : year % 10 > 6 ? 'late ' : '';
  return pick(rng, [`${short}`, `${decade}s`, `${part}${short}`, `${part}${decade}s`, `${year}`]);
}

const NOUNS = ['movie', 'film', 'movies', 'films'];

function article(nextWord: string): string {
  return /^[aeiou]/i.test(nextWord) ? 'an' : 'a';
}

function makeQuery(style: GeneratedQueryStyle, f: Facts, rng: Rng): string {
  switch (style) {
    case 'title': {
      const t = rng.next() < 0.5 ? f.main.toLowerCase() : f.main;
      const forms = [t, `${t} movie`, `${t} film`];
      if (f.year !== null) forms.push(`${t} ${f.year}`, `${t} (${f.year})`, `${t} ${f.year} movie`);
      return pick(rng, forms);
    }
    case 'partial-title': {
      const w = f.words;
      for (let tries = 0; tries < 10; tries++) {
        const len = 1 + rng.int(Math.max(1, w.length - 1));
        const start = rng.int(w.length - len + 1);
        const span = w.slice(start, start + len);
        if (span.every((x) => STOPWORDS.has(x.toLowerCase()))) continue;
        if (span.length === 1 && span[0].length < 3) continue;
        const text = span.join(' ').replace(/[,:;.!?]+$/, '').toLowerCase();
        return rng.next() < 0.3 ? `${text} ${pick(rng, NOUNS.slice(0, 2))}` : text;
      }
      return '';
    }
    case 'typo': {
      let t = f.main.toLowerCase();
      const edits = rng.next() < 0.7 ? 1 : 2;
      for (let k = 0; k < edits; k++) t = typo(t, rng);
      return t === f.main.toLowerCase() ? '' : t; // a slip that changed nothing is not a typo
    }
    case 'genre-era': {
      const g = genresPhrase(rng, f.genres);
      if (f.year === null) return `${g} ${pick(rng, NOUNS)}`;
      // (genre words may be adjectival here: "90s funny movies" and "90s funny" both read as queries)
      const era = eraPhrase(rng, f.year);
      if (!g) return `${pick(rng, NOUNS)} from ${/^\d{4}$/.test(era) ? era : `the ${era}`}`;
      return pick(rng, [
        `${era} ${g}`,
        `${era} ${g} ${pick(rng, NOUNS)}`,
        `${g} ${pick(rng, NOUNS)} from ${/^\d{4}$/.test(era) ? era : `the ${era}`}`,
        `${g} ${era}`,
      ]);
    }
    case 'tags': {
      const t = pick(rng, f.tags);
      const forms = [`movie about ${t}`, `${t} movie`, `film with ${t}`, `${t}`, `${t} films`];
      if (f.tags.length >= 2) {
        let u = pick(rng, f.tags);
        for (let k = 0; k < 4 && u === t; k++) u = pick(rng, f.tags);
        if (u !== t) forms.push(`${t} ${u}`, `${t} and ${u} movie`);
      }
      return pick(rng, forms);
    }
    case 'descriptive': {
      const g = genreNounPhrase(rng, f.genres);
      const t = f.tags.length ? pick(rng, f.tags) : '';
      const era = f.year !== null ? eraPhrase(rng, f.year) : '';
      const from = era ? (/^\d{4}$/.test(era) ? `from ${era}` : `from the ${era}`) : '';
      const forms: string[] = [];
      if (t) forms.push(`${g} about ${t}`, `${t} ${g}`, `${article(g)} ${g} with ${t}`);
      if (t && from) forms.push(`${g} about ${t} ${from}`, `${era} ${g} with ${t}`, `${t} ${g} ${from}`);
      if (!t && from) forms.push(`${article(g)} ${g} ${from}`, `${pick(rng, ['classic', 'good', 'best', 'old'])} ${g} ${from}`);
      return pick(rng, forms);
    }
  }
}

const KEYBOARD_ROWS = ['qwertyuiop', 'asdfghjkl', 'zxcvbnm'];

function neighbourKey(c: string, rng: Rng): string {
  for (const row of KEYBOARD_ROWS) {
    const i = row.indexOf(c);
    if (i >= 0) {
      const opts = [row[i - 1], row[i + 1]].filter((x): x is string => x !== undefined);
      return pick(rng, opts);
    }
  }
  return c;
}

/** One keyboard slip inside a word of at least four letters. */
function typo(t: string, rng: Rng): string {
  const words = t.split(' ');
  const candidates = words.map((w, i) => (/[a-z]{4,}/.test(w) ? i : -1)).filter((i) => i >= 0);
  if (candidates.length === 0) return t;
  const wi = pick(rng, candidates);
  const w = words[wi];
  const letters = [...w].map((ch, i) => (/[a-z]/.test(ch) ? i : -1)).filter((i) => i > 0);
  if (letters.length === 0) return t;
  const p = pick(rng, letters);
  let out: string;
  switch (rng.int(4)) {
    case 0: // swap with previous letter
      out = p > 0 && w[p - 1] !== w[p] ? w.slice(0, p - 1) + w[p] + w[p - 1] + w.slice(p + 1) : w.slice(0, p) + w.slice(p + 1);
      break;
    case 1: // dropped letter
      out = w.slice(0, p) + w.slice(p + 1);
      break;
    case 2: // doubled letter
      out = w.slice(0, p) + w[p] + w.slice(p);
      break;
    default: // neighbouring key
      out = w.slice(0, p) + neighbourKey(w[p], rng) + w.slice(p + 1);
  }
  words[wi] = out;
  return words.join(' ');
}
