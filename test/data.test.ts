/** MovieLens loading: format errors, quoting, CRLF, ordering, filtering, and the real ml-latest-small. */
import { movieLensSmallDir } from './helpers/movielens';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataFileError, parseCsvText } from '../lib/data/csv';
import { loadMovieLens, loadMovieLensText } from '../lib/data/movielens';
import { readRatings } from '../lib/data/ratingsReader';
import { parseMovieTitle } from '../lib/data/titles';
import { splitLeaveLastOut } from '../lib/data/split';
import { prepareData, dataStats } from '../lib/data/prepare';

const REAL_DIR = movieLensSmallDir();
const realAbsent = !fs.existsSync(path.join(REAL_DIR, 'ratings.csv'))
  ? `ml-latest-small not found at ${REAL_DIR} (set MOVIELENS_DIR to the folder holding movies.csv, ratings.csv, tags.csv)`
  : false;

const MOVIES = 'movieId,title,genres\r\n1,Toy Story (1995),Adventure|Animation\r\n2,"American President, The (1995)",Comedy|Drama|Romance\r\n5,"Face/Off ""Special"" (1997)",(no genres listed)\r\n';
const TAGS = 'userId,movieId,tag,timestamp\r\n1,1,pixar,100\r\n2,1,Pixar ,101\r\n1,1,fun,102\r\n1,2,"politics, romance",103\r\n';

function fixtureDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-data-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

function errorOf(fn: () => unknown): DataFileError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof DataFileError, `expected a DataFileError, got ${err}`);
    return err;
  }
  assert.fail('expected an error');
}

test('quoted titles with commas and escaped quotes, CRLF line ends', () => {
  const rows: string[][] = [];
  parseCsvText(MOVIES, 'movies.csv', ['movieId', 'title', 'genres'], (f) => rows.push(f));
  assert.deepEqual(rows, [
    ['1', 'Toy Story (1995)', 'Adventure|Animation'],
    ['2', 'American President, The (1995)', 'Comedy|Drama|Romance'],
    ['5', 'Face/Off "Special" (1997)', '(no genres listed)'],
  ]);
  const ratings = 'userId,movieId,rating,timestamp\r\n1,2,4.0,10\r\n1,1,3.5,10\r\n1,5,5,5\r\n';
  const d = loadMovieLensText({ movies: MOVIES, ratings, tags: TAGS }, { minHistory: 3 });
  assert.equal(d.items[1].title, 'The American President');
  assert.equal(d.items[1].year, 1995);
  assert.deepEqual(d.items[1].tags, ['politics, romance']);
  assert.equal(d.items[2].title, 'Face/Off "Special"');
  assert.deepEqual(d.items[2].genres, []);
  // Tags are normalised and ranked by frequency: "pixar" twice, "fun" once.
  assert.deepEqual(d.items[0].tags, ['pixar', 'fun']);
  assert.equal(d.items[0].text, 'Toy Story (1995). Genres: Adventure, Animation. Tags: pixar, fun.');
  // Time order, ties by movieId: ts 5 (movie 5), then ts 10 movie 1 before movie 2.
  assert.deepEqual([...d.users[0].items], [2, 0, 1]);
  assert.deepEqual([...d.users[0].timestamps], [5, 10, 10]);
});

test('titles: year, moved articles, alternate titles', () => {
  assert.deepEqual(parseMovieTitle('City of Lost Children, The (Cité des enfants perdus, La) (1995)'), {
    title: 'The City of Lost Children (La Cité des enfants perdus)',
    mainTitle: 'The City of Lost Children',
    year: 1995,
  });
  assert.deepEqual(parseMovieTitle("Homme et une femme, Un (1966)").title, 'Un Homme et une femme');
  assert.equal(parseMovieTitle("Ecole, L' (2004)").title, "L'Ecole");
  assert.deepEqual(parseMovieTitle('Black Mirror'), { title: 'Black Mirror', mainTitle: 'Black Mirror', year: null });
  assert.equal(parseMovieTitle('Fawlty Towers (1975-1979)').year, 1975);
  assert.equal(parseMovieTitle('1984 (1984)').title, '1984');
});

test('truncated, mis-headed and non-numeric ratings files give three distinct errors', () => {
  const good = 'userId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n1,2,4.0,964981247\r\n';
  const cases = {
    truncated: good + '1,5,4',
    misheaded: 'user,movie,rating,time\r\n1,1,4.0,964982703\r\n',
    nonNumeric: good + '1,abc,4.0,964981247\r\n',
  };
  const messages: string[] = [];
  for (const [kind, ratings] of Object.entries(cases)) {
    const dir = fixtureDir({ 'movies.csv': MOVIES, 'ratings.csv': ratings, 'tags.csv': TAGS });
    const err = errorOf(() => loadMovieLens(dir, { minHistory: 3 }));
    assert.equal(err.file, path.join(dir, 'ratings.csv'), kind);
    assert.ok(err.message.startsWith(path.join(dir, 'ratings.csv') + ':'), err.message);
    messages.push(err.message.slice(path.join(dir, 'ratings.csv').length));
    if (kind === 'truncated') {
      assert.equal(err.line, 4);
      assert.match(err.message, /expected 4 columns \(userId,movieId,rating,timestamp\), found 3/);
    }
    if (kind === 'misheaded') {
      assert.equal(err.line, 1);
      assert.match(err.message, /expected the header "userId,movieId,rating,timestamp", found "user,movie,rating,time"/);
    }
    if (kind === 'nonNumeric') {
      assert.equal(err.line, 4);
      assert.match(err.message, /expected an integer movieId, found "abc"/);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(new Set(messages).size, 3);
});

test('other bad input: non-integer id, unknown movie, duplicate movie id, bad tags, unterminated quote', () => {
  const ratingsHead = 'userId,movieId,rating,timestamp\n';
  let e = errorOf(() => loadMovieLensText({ movies: MOVIES, ratings: ratingsHead + '1.5,1,4,1\n', tags: TAGS }, { minHistory: 3 }));
  assert.match(e.message, /ratings\.csv:2: expected an integer userId, found "1\.5"/);
  e = errorOf(() => loadMovieLensText({ movies: MOVIES, ratings: ratingsHead + '1,1,4,1\n1,99,4,1\n', tags: TAGS }, { minHistory: 3 }));
  assert.match(e.message, /ratings\.csv:3: rating of unknown movieId 99/);
  e = errorOf(() => loadMovieLensText({ movies: MOVIES, ratings: ratingsHead + '1,1,x,1\n', tags: TAGS }, { minHistory: 3 }));
  assert.match(e.message, /ratings\.csv:2: expected a number for rating, found "x"/);
  e = errorOf(() => loadMovieLensText({ movies: MOVIES + '2,Again (2000),Drama\r\n', ratings: ratingsHead, tags: TAGS }, { minHistory: 3 }));
  assert.match(e.message, /movies\.csv:5: duplicate movieId 2 \(first defined on line 3\)/);
  e = errorOf(() => loadMovieLensText({ movies: MOVIES + '7,"Open quote (2000),Drama\r\n', ratings: ratingsHead, tags: TAGS }, { minHistory: 3 }));
  assert.match(e.message, /movies\.csv:5: unterminated quoted field/);
  // (one rating: a header-only ratings.csv is refused before tags.csv is read)
  e = errorOf(() => loadMovieLensText({ movies: MOVIES, ratings: ratingsHead + '1,1,4.0,100\n', tags: TAGS + '3,42,good,5\r\n' }, { minHistory: 3 }));
  assert.match(e.message, /tags\.csv:6: tag of unknown movieId 42/);
  e = errorOf(() => loadMovieLensText({ movies: MOVIES, ratings: ratingsHead + '1,1,4.0,100\n', tags: 'userId,movieId,tag\r\n' }, { minHistory: 3 }));
  assert.match(e.message, /tags\.csv:1: expected the header "userId,movieId,tag,timestamp"/);
  e = errorOf(() => loadMovieLensText({ movies: 'movieId,title,genres\n1,A (1990)\n', ratings: ratingsHead, tags: TAGS }, { minHistory: 3 }));
  assert.match(e.message, /movies\.csv:2: expected 3 columns/);
  assert.throws(() => loadMovieLensText({ movies: MOVIES, ratings: ratingsHead, tags: TAGS }, { minHistory: 2 }), /minHistory must be an integer >= 3/);
});

test('byte reader: chunk boundaries, BOM, missing final newline, slow path for unusual numbers', () => {
  const lines = ['\ufeffuserId,movieId,rating,timestamp'];
  const expected: number[][] = [];
  for (let i = 0; i < 500; i++) {
    const u = 1 + (i % 7);
    const m = 1 + (i % 3);
    const r = (1 + (i % 10)) / 2;
    const ts = 1_000_000_000 + i * 37;
    expected.push([u, m - 1, r, ts]);
    lines.push(i % 50 === 7 ? ` ${u}, ${m},${r.toExponential()} ,${ts}` : `${u},${m},${r.toFixed(1)},${ts}`);
  }
  const text = lines.join('\r\n'); // no newline at the end
  const movieIndex = (id: number) => (id >= 1 && id <= 3 ? id - 1 : -1);
  for (const chunkBytes of [64, 100, 4096]) {
    const cols = readRatings(Buffer.from(text), { movieIndex, chunkBytes });
    assert.equal(cols.count, 500);
    for (let i = 0; i < 500; i++) {
      assert.deepEqual([cols.users[i], cols.items[i], cols.ratings[i], cols.timestamps[i]], expected[i], `row ${i} with chunk ${chunkBytes}`);
    }
  }
  assert.throws(() => readRatings(Buffer.from('userId,movieId,rating,timestamp\n1,1,4,1\n' + '9'.repeat(200)), { movieIndex, chunkBytes: 64 }), /line longer than 64 bytes/);
});

test('threshold, de-duplication and minimum history are applied and counted', () => {
  const movies = 'movieId,title,genres\n' + Array.from({ length: 8 }, (_, i) => `${i + 1},M${i + 1} (2000),Drama`).join('\n') + '\n';
  const r: string[] = ['userId,movieId,rating,timestamp'];
  // user 1: 6 ratings, one repeated movie (later), one below threshold 3
  r.push('1,1,4,10', '1,2,4,20', '1,3,2,30', '1,4,5,40', '1,5,4,50', '1,1,5,60', '1,6,4,70');
  // user 2: 4 ratings: short after the threshold
  r.push('2,1,4,10', '2,2,1,20', '2,3,4,30', '2,4,4,40');
  // user 3: everything below threshold
  r.push('3,1,1,10');
  const ratings = r.join('\n') + '\n';
  const d = loadMovieLensText({ movies, ratings, tags: 'userId,movieId,tag,timestamp\n' }, { ratingThreshold: 3, minHistory: 4 });
  assert.equal(d.stats.ratingsRead, 12);
  assert.equal(d.stats.droppedBelowThreshold, 3);
  assert.equal(d.stats.droppedDuplicates, 1);
  assert.equal(d.stats.droppedShortUsers, 2);
  assert.equal(d.stats.droppedShortUserInteractions, 3);
  assert.equal(d.stats.usersRead, 3);
  assert.equal(d.stats.usersKept, 1);
  assert.equal(d.stats.interactionsKept, 5);
  assert.equal(d.stats.ratingsRead, d.stats.droppedBelowThreshold + d.stats.droppedDuplicates + d.stats.droppedShortUserInteractions + d.stats.interactionsKept);
  assert.deepEqual([...d.users[0].items], [0, 1, 3, 4, 5]);
  // Default: every rating kept.
  const all = loadMovieLensText({ movies, ratings, tags: 'userId,movieId,tag,timestamp\n' }, { minHistory: 4 });
  assert.equal(all.stats.droppedBelowThreshold, 0);
  assert.equal(all.stats.usersKept, 2);
});

test('paper-scale user sample: seeded, stops at the target, keeps only touched movies', () => {
  const nItems = 60;
  const movies = 'movieId,title,genres\n' + Array.from({ length: nItems }, (_, i) => `${10 * (i + 1)},M${i} (2000),Drama`).join('\n') + '\n';
  const r: string[] = ['userId,movieId,rating,timestamp'];
  for (let u = 1; u <= 40; u++) for (let k = 0; k < 5 + (u % 4); k++) r.push(`${u},${10 * (1 + ((u * 7 + k * 3) % 50))},4,${k}`);
  const text = { movies, ratings: r.join('\n'), tags: 'userId,movieId,tag,timestamp\n' };
  const a = loadMovieLensText(text, { paperScale: { targetInteractions: 60, seed: 3 } });
  const b = loadMovieLensText(text, { paperScale: { targetInteractions: 60, seed: 3 } });
  const c = loadMovieLensText(text, { paperScale: { targetInteractions: 60, seed: 4 } });
  assert.deepEqual(a.users.map((u) => u.user), b.users.map((u) => u.user));
  assert.notDeepEqual(a.users.map((u) => u.user), c.users.map((u) => u.user));
  const kept = a.stats.interactionsKept;
  assert.ok(kept >= 60 && kept - a.users.reduce((m, u) => Math.min(m, u.items.length), 99) < 60, `kept ${kept}`);
  assert.equal(a.stats.droppedSampledUsers + a.stats.usersKept, 40);
  assert.equal(a.stats.droppedSampledInteractions + kept, a.stats.ratingsRead);
  // Only touched movies remain, densely re-indexed, each touched at least once.
  const touched = new Set<number>();
  for (const u of a.users) for (const it of u.items) touched.add(it);
  assert.equal(touched.size, a.items.length);
  assert.equal(a.stats.itemsKept + a.stats.droppedUntouchedItems, nItems);
  a.items.forEach((it, i) => assert.equal(it.index, i));
  const full = loadMovieLensText(text, { paperScale: { targetInteractions: 60, seed: 3, keepUntouchedMovies: true } });
  assert.equal(full.items.length, nItems);
});

test('real ml-latest-small: counts, consistent split sizes', { skip: realAbsent }, () => {
  const t0 = performance.now();
  const d = loadMovieLens(REAL_DIR);
  const ms = performance.now() - t0;
  console.log(`# loaded ml-latest-small in ${ms.toFixed(0)} ms`);
  assert.equal(d.stats.moviesRead, 9742);
  assert.equal(d.stats.ratingsRead, 100836);
  assert.equal(d.stats.usersRead, 610);
  assert.equal(d.stats.tagsRead, 3683);
  assert.equal(d.users.length, 610);
  assert.equal(d.stats.interactionsKept, 100836);
  assert.equal(d.stats.itemsWithoutInteractions, 18);
  const american = d.items.find((it) => it.id === 11)!;
  assert.equal(american.title, 'The American President');
  for (const u of d.users) {
    for (let i = 1; i < u.items.length; i++) {
      const dt = u.timestamps[i] - u.timestamps[i - 1];
      assert.ok(dt >= 0, `order of user ${u.user} at ${i}`);
    }
  }
  const split = splitLeaveLastOut(d);
  const train = split.train.reduce((n, u) => n + u.items.length, 0);
  assert.equal(train + split.valid.length + split.test.length, d.stats.interactionsKept);
  assert.equal(split.test.length, 610);
});

test('real ml-latest-small through prepareData and dataStats', { skip: realAbsent }, () => {
  const p = prepareData({ dataset: 'ml-latest-small', dir: REAL_DIR, queriesPerItem: 4 });
  const s = dataStats(p);
  assert.equal(s.items, 9742);
  assert.equal(s.read.ratings, 100836);
  assert.equal(s.users, 610);
  assert.equal(s.rec.total, s.interactions.kept);
  assert.equal(s.buckets.items.head + s.buckets.items.torso + s.buckets.items.tail, 9742);
  assert.ok(s.buckets.items.head > 100 && s.buckets.items.torso > 100 && s.buckets.items.tail > 100, JSON.stringify(s.buckets.items));
  assert.equal(s.queries.train + s.queries.valid + s.queries.test, p.queries.train.length + p.queries.valid.length + p.queries.test.length);
  JSON.stringify(s); // plain JSON
});

test('time ties: a seeded order per user that follows neither file order nor movieId, with integer and fractional timestamps', () => {
  // movies.csv deliberately not sorted by movieId: index order differs from id order.
  const movies = 'movieId,title,genres\n30,C (2000),Drama\n10,A (2000),Drama\n40,D (2000),Drama\n20,B (2000),Drama\n';
  const tags = 'userId,movieId,tag,timestamp\n';
  for (const [t1, t2] of [
    ['5', '7'],
    ['5.5', '7.25'], // fractional timestamps take the comparator path
  ]) {
    const ratings = `userId,movieId,rating,timestamp\n1,30,4,${t1}\n1,40,4,${t2}\n1,10,4,${t1}\n1,20,4,${t1}\n1,10,3,${t2}\n`;
    const d = loadMovieLensText({ movies, ratings, tags }, { minHistory: 3 });
    const ids = Array.from(d.users[0].items, (i) => d.items[i].id);
    assert.deepEqual([...ids.slice(0, 3)].sort(), [10, 20, 30], `timestamps ${t1}/${t2}`);
    assert.equal(ids[3], 40);
    assert.deepEqual([...d.users[0].timestamps], [Number(t1), Number(t1), Number(t1), Number(t2)]);
    assert.equal(d.stats.droppedDuplicates, 1);
    // The same rows in another file order give the same sequence.
    const [head, ...lines] = ratings.trim().split('\n');
    const reordered = [head, ...lines.reverse()].join('\n') + '\n';
    const again = loadMovieLensText({ movies, ratings: reordered, tags }, { minHistory: 3 });
    assert.deepEqual(Array.from(again.users[0].items, (i) => again.items[i].id), ids);
  }
});
