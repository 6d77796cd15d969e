/**
 * `sid data synth --like ml-25m`: a synthetic folder in ml-25m's layout, streamed from the same
 * generative model as the tiny catalogue, read by the real MovieLens reader and the paper profile's
 * user sampling; same seed, same bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateSyntheticMovieLens, SyntheticModel, syntheticLikeOptions, writeSyntheticFolder } from '../lib/data/synthetic';
import { loadMovieLens, MOVIELENS_RANGES } from '../lib/data/movielens';
import { prepareData } from '../lib/data/prepare';
import { trainingCounts } from '../lib/data/split';
import { sha256File } from '../lib/util/hash';
import { projectRoot } from '../lib/util/fs';

const root = projectRoot();
const SID = path.join(root, 'bin', 'sid.mjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-synth-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const FILES = ['movies.csv', 'ratings.csv', 'tags.csv'];
const hashes = (dir: string) => FILES.map((f) => sha256File(path.join(dir, f)));

function sid(args: string[]) {
  return spawnSync(process.execPath, [SID, ...args], { cwd: root, env: { ...process.env, SID_QUIET: '1' }, encoding: 'utf8', timeout: 120_000 });
}

test('sid data synth --like ml-25m: ml-25m layout, same seed same bytes, another seed other bytes', () => {
  const a = path.join(tmp, 'a');
  const b = path.join(tmp, 'b');
  const c = path.join(tmp, 'c');
  for (const [dir, seed] of [[a, '5'], [b, '5'], [c, '6']] as const) {
    const r = sid(['data', 'synth', '--like', 'ml-25m', '--out', dir, '--seed', seed, '--movies', '300', '--users', '150']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /300 movies .* 150 users, \d+ ratings/);
  }
  assert.deepEqual(hashes(a), hashes(b));
  assert.notEqual(hashes(a)[1], hashes(c)[1]);

  const movies = fs.readFileSync(path.join(a, 'movies.csv'), 'utf8');
  const ratings = fs.readFileSync(path.join(a, 'ratings.csv'), 'utf8');
  const tags = fs.readFileSync(path.join(a, 'tags.csv'), 'utf8');
  for (const text of [movies, ratings, tags]) {
    assert.ok(!text.includes('\r'), 'ml-25m files end lines with LF');
    assert.ok(text.endsWith('\n'));
  }
  assert.ok(movies.startsWith('movieId,title,genres\n'));
  assert.ok(ratings.startsWith('userId,movieId,rating,timestamp\n'));
  assert.ok(tags.startsWith('userId,movieId,tag,timestamp\n'));
  assert.match(movies, /\n\d+,"[^"\n]*, (The|A) \(\d{4}\)",/, 'quoted titles with a comma');
  assert.match(movies, /\n\d+,"""[A-Za-z]+"" /, 'escaped quotes inside quoted titles');
  assert.match(movies, /,\(no genres listed\)\n/);
  assert.match(movies, /,[A-Za-z-]+\|[A-Za-z-]+/, 'pipe-separated genres');
  // GroupLens order: ratings and tags by userId, then movieId; ratings on the half-star scale.
  const rows = ratings.trim().split('\n').slice(1).map((l) => l.split(','));
  for (const f of rows) assert.match(f.join(','), /^\d+,\d+,[0-5]\.[05],\d{9,10}$/);
  for (let i = 1; i < rows.length; i++) {
    const [u0, m0] = [Number(rows[i - 1][0]), Number(rows[i - 1][1])];
    const [u1, m1] = [Number(rows[i][0]), Number(rows[i][1])];
    assert.ok(u0 < u1 || (u0 === u1 && m0 < m1), `ratings.csv line ${i + 2} out of order`);
  }
  const tagRows = tags.trim().split('\n').slice(1).map((l) => l.match(/^(\d+),(\d+),/)!.slice(1).map(Number));
  assert.ok(tagRows.length > 300);
  for (let i = 1; i < tagRows.length; i++) {
    const [u0, m0] = tagRows[i - 1];
    const [u1, m1] = tagRows[i];
    assert.ok(u0 < u1 || (u0 === u1 && m0 <= m1), `tags.csv line ${i + 2} out of order`);
  }
});

test('the real ml-25m reader and the paper-scale user sample read the synthetic folder', () => {
  const dir = path.join(tmp, 'read');
  const opts = syntheticLikeOptions('ml-25m', { seed: 2, movies: 400, users: 300 });
  const s = writeSyntheticFolder(dir, opts, false);
  const d = loadMovieLens(dir, { name: 'ml-25m', ranges: MOVIELENS_RANGES });
  assert.equal(d.stats.moviesRead, 400);
  assert.equal(d.stats.ratingsRead, s.ratings);
  assert.equal(d.stats.tagsRead, s.tags);
  assert.equal(d.stats.usersRead, 300);
  assert.equal(d.stats.droppedShortUsers, 0, 'every user has at least 20 ratings, as in ml-25m');
  assert.ok(d.stats.moviesWithoutGenres > 0);
  assert.ok(d.items.some((it) => it.title.includes(',') || /^(The|A) /.test(it.title)));
  // The paper profile's path: paper-scale sampling of users down to a target.
  const target = Math.round(s.ratings / 4);
  const p = prepareData({ dataset: 'ml-25m', dir, paperScale: { targetInteractions: target, seed: 7 }, queriesPerItem: 2, minHistory: 5 });
  const st = p.dataset.stats;
  assert.ok(st.droppedSampledUsers > 0 && st.usersKept < 300);
  assert.ok(st.interactionsKept >= target && st.interactionsKept < target + 2000, `${st.interactionsKept} interactions for a target of ${target}`);
  assert.equal(st.itemsKept + st.droppedUntouchedItems, 400);
  assert.equal(p.rec.test.length, st.usersKept);
});

test('one generative model: the streamed folder holds the in-memory catalogue, with its skew and tastes', () => {
  const opts = syntheticLikeOptions('ml-25m', { seed: 9, movies: 4000, users: 300 });
  const dir = path.join(tmp, 'same');
  writeSyntheticFolder(dir, opts, false);
  const mem = generateSyntheticMovieLens(opts);
  assert.equal(fs.readFileSync(path.join(dir, 'movies.csv'), 'utf8'), mem.movies);
  assert.equal(fs.readFileSync(path.join(dir, 'ratings.csv'), 'utf8'), mem.ratings);
  // Same tag lines, only in GroupLens order (by user) rather than by item.
  const lines = (t: string) => t.trim().split('\n').slice(1).sort();
  assert.deepEqual(lines(fs.readFileSync(path.join(dir, 'tags.csv'), 'utf8')), lines(mem.tags));

  const d = loadMovieLens(dir, { name: 'ml-25m' });
  const { tasteOf } = new SyntheticModel(opts).truth;
  let same = 0;
  let pairs = 0;
  for (const u of d.users) {
    for (let i = 1; i < u.items.length; i++, pairs++) if (tasteOf[u.items[i]] === tasteOf[u.items[i - 1]]) same++;
  }
  assert.ok(same / pairs > 0.6, `consecutive items share a taste cluster: ${same / pairs}`);
  // Taste clusters of ~200 movies keep ~150-rating histories skewed (the tiny catalogue: 0.28).
  const counts = Array.from(trainingCounts(d.users, d.items.length)).sort((x, y) => y - x);
  const top = counts.slice(0, 400).reduce((a, x) => a + x, 0) / d.stats.interactionsKept;
  assert.ok(top > 0.3, `the top 10% of movies hold ${top} of the ratings`);
});

test('sid data synth refuses an --out folder holding other files, and bad options, before writing', () => {
  const dir = path.join(tmp, 'mine');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'keep me');
  const r = sid(['data', 'synth', '--like', 'ml-25m', '--out', dir, '--movies', '100']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /holds other files \(notes\.txt\)/);
  assert.equal(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8'), 'keep me');
  for (const [args, msg] of [
    [['--out', path.join(tmp, 'x')], /--like/],
    [['--like', 'ml-25m'], /--out <dir> is required/],
    [['--like', 'ml-25m', '--out', path.join(tmp, 'x'), '--movies', '12'], /--movies must be an integer >= 40, got "12"/],
  ] as const) {
    const e = sid(['data', 'synth', ...args]);
    assert.equal(e.status, 2, e.stderr);
    assert.match(e.stderr, msg);
  }
  assert.ok(!fs.existsSync(path.join(tmp, 'x')));
});
