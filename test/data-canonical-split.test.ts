/**
 * Query split by canonical form (no near-duplicate of a held-out query in training) and the seeded
 * order of same-timestamp interactions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { canonicalQuery } from '../lib/data/queries';
import { splitQueries, type QuerySplitResult } from '../lib/data/querySplit';
import { shuffleTimeTies, tiedFinalPairs } from '../lib/data/split';
import { dataStats, prepareData } from '../lib/data/prepare';
import { loadMovieLensText } from '../lib/data/movielens';
import { getProfile } from '../lib/pipeline/profiles';
import type { SearchQuery } from '../lib/types';
import { movieLensSmallDir } from './helpers/movielens';

const REAL_DIR = movieLensSmallDir();
const realAbsent = fs.existsSync(path.join(REAL_DIR, 'ratings.csv'))
  ? false
  : `ml-latest-small not found at ${REAL_DIR}: set MOVIELENS_DIR to a folder with movies.csv, ratings.csv and tags.csv`;

test('canonicalQuery: case, accents, punctuation, filler words and word order are ignored', () => {
  assert.equal(canonicalQuery('tom and huck 1995 movie'), '1995 huck tom');
  assert.equal(canonicalQuery('Tom and Huck (1995)'), '1995 huck tom');
  assert.equal(canonicalQuery('The 90s  Drama films'), '90s drama');
  assert.equal(canonicalQuery('drama from the 90s'), '90s drama');
  assert.equal(canonicalQuery('Amélie'), 'amelie');
  assert.equal(canonicalQuery("children's sci-fi"), 'childrens fi sci');
  assert.equal(canonicalQuery('new york, new york'), 'new new york york');
  assert.equal(canonicalQuery('the movie'), '');
  // Typos and different words stay different.
  assert.notEqual(canonicalQuery('tom and hukc'), canonicalQuery('tom and huck'));
});

/** Every property the split promises, checked from the raw output. */
function checkCanonicalSplit(s: QuerySplitResult, label: string): { heldOut: number } {
  const itemsOf = new Map<string, Set<number>>();
  for (const q of [...s.train, ...s.valid, ...s.test]) {
    const f = canonicalQuery(q.text);
    if (!itemsOf.has(f)) itemsOf.set(f, new Set());
    itemsOf.get(f)!.add(q.item);
  }
  const trainForms = new Set(s.train.map((q) => canonicalQuery(q.text)));
  const trainPairs = new Set(s.train.map((q) => `${q.item}|${canonicalQuery(q.text)}`));
  const validForms = new Set(s.valid.map((q) => canonicalQuery(q.text)));
  const trainItems = new Set(s.train.map((q) => q.item));
  let sameItemTwins = 0;
  let anyItemTwins = 0;
  let generic = 0;
  for (const q of [...s.valid, ...s.test]) {
    const f = canonicalQuery(q.text);
    if (trainPairs.has(`${q.item}|${f}`)) sameItemTwins++;
    if (trainForms.has(f)) anyItemTwins++;
    if (itemsOf.get(f)!.size > 1) generic++;
    assert.ok(trainItems.has(q.item), `${label}: held-out item ${q.item} has no training query`);
  }
  assert.equal(sameItemTwins, 0, `${label}: held-out queries with a canonical twin of the same item in training`);
  assert.equal(anyItemTwins, 0, `${label}: held-out queries whose canonical form is a training query`);
  assert.equal(generic, 0, `${label}: generic (several-item) forms in valid/test`);
  for (const q of s.test) assert.ok(!validForms.has(canonicalQuery(q.text)), `${label}: test form in valid: ${q.text}`);
  return { heldOut: s.valid.length + s.test.length };
}

test('splitQueries on hand-made queries: twins travel together, generic forms stay in training', () => {
  const ids = [100, 200, 300];
  const q = (item: number, text: string): SearchQuery => ({ item, text, style: 'x' });
  const queries = [
    ...['alpha one', 'Alpha One (movie)', 'one alpha film', 'alpha two', 'alpha three', 'alpha four', 'drama 90s', 'the movie'].map((t) => q(0, t)),
    ...['beta one', 'beta two', 'beta three', '90s drama', 'Drama from the 90s'].map((t) => q(1, t)),
    ...['drama 90s', 'the 90s drama', 'gamma'].map((t) => q(2, t)),
  ];
  const s = splitQueries(queries, ids, { seed: 3, testFraction: 0.3, validFraction: 0.3 });
  assert.equal(s.droppedEmpty, 1);
  assert.equal(s.genericForms, 1);
  assert.equal(s.genericQueries, 5);
  // 'alpha one' x3 for item 0; '90s drama' x2 for item 1 and x2 for item 2.
  assert.equal(s.canonicalTwins, 3 + 2 + 2);
  for (const x of [...s.valid, ...s.test]) assert.notEqual(canonicalQuery(x.text), '90s drama');
  const splitOf = (text: string) => (['train', 'valid', 'test'] as const).find((k) => s[k].some((x) => x.item === 0 && x.text === text));
  assert.equal(splitOf('alpha one'), splitOf('Alpha One (movie)'));
  assert.equal(splitOf('alpha one'), splitOf('one alpha film'));
  // Item 2 has two forms only (< 3): all in training.
  assert.ok(s.train.filter((x) => x.item === 2).length === 3);
  // Item 0: 6 forms -> 2 test, 2 valid, drawn from its 5 specific forms.
  const forms = (k: 'valid' | 'test', item: number) => new Set(s[k].filter((x) => x.item === item).map((x) => canonicalQuery(x.text))).size;
  assert.equal(forms('test', 0), 2);
  assert.equal(forms('valid', 0), 2);
  // Item 1: 4 forms, 3 specific -> 1 test, 1 valid, at least one form kept in training.
  assert.equal(forms('test', 1), 1);
  assert.equal(forms('valid', 1), 1);
  assert.equal(s.train.length + s.valid.length + s.test.length, queries.length - s.droppedEmpty);
  checkCanonicalSplit(s, 'hand-made');
});

test('zero canonical overlap between training and valid/test on the tiny synthetic profile', () => {
  const p = prepareData(getProfile('tiny').data);
  const { heldOut } = checkCanonicalSplit(p.queries as QuerySplitResult, 'tiny');
  assert.ok(heldOut > 300, `held-out queries: ${heldOut}`);
  const st = dataStats(p);
  assert.ok(st.queries.genericForms > 0 && st.queries.genericQueries > st.queries.genericForms);
});

test('zero canonical overlap between training and valid/test on ml-latest-small', { skip: realAbsent }, () => {
  const p = prepareData({ ...getProfile('small').data, dir: REAL_DIR });
  const { heldOut } = checkCanonicalSplit(p.queries as QuerySplitResult, 'ml-latest-small');
  assert.ok(heldOut > 5000, `held-out queries: ${heldOut}`);
});

test('shuffleTimeTies: permutes only within equal timestamps, seeded by user, not by item order', () => {
  const items = [1, 2, 3, 4, 5, 6, 7];
  const ts = [10, 20, 20, 20, 30, 40, 40];
  const a = items.slice();
  shuffleTimeTies(a, ts, a.length, 42);
  assert.equal(a[0], 1);
  assert.equal(a[4], 5);
  assert.deepEqual([...a.slice(1, 4)].sort(), [2, 3, 4]);
  assert.deepEqual([...a.slice(5)].sort(), [6, 7]);
  const b = items.slice();
  shuffleTimeTies(b, ts, b.length, 42);
  assert.deepEqual(a, b, 'deterministic');
  // Over many users with one tied pair given in id order, the higher id ends last about half the time.
  let higherLast = 0;
  const users = 400;
  for (let u = 0; u < users; u++) {
    const x = [7, 9];
    shuffleTimeTies(x, [5, 5], 2, u);
    if (x[1] === 9) higherLast++;
  }
  assert.ok(higherLast > 0.35 * users && higherLast < 0.65 * users, `higher id last for ${higherLast} of ${users} users`);
  // Int32Array/Float64Array buffers are handled the same way as arrays.
  const ti = Int32Array.from(items);
  shuffleTimeTies(ti, Float64Array.from(ts), ti.length, 42);
  assert.deepEqual([...ti], a);
});

test('loader: same-time final pairs are ordered per user, and tiedFinalPairs counts them', () => {
  // 300 users rate movies 1, 2 at t=1 and movies 3, 4 at t=2: the final pair is always tied.
  const movies = 'movieId,title,genres\n1,A (2000),Drama\n2,B (2000),Drama\n3,C (2000),Drama\n4,D (2000),Drama\n';
  const lines = ['userId,movieId,rating,timestamp'];
  for (let u = 1; u <= 300; u++) lines.push(`${u},1,4,1`, `${u},2,4,1`, `${u},3,4,2`, `${u},4,4,2`);
  // One more user whose last two items are at different times.
  lines.push('301,1,4,1', '301,2,4,2', '301,3,4,3', '301,4,4,4');
  const d = loadMovieLensText({ movies, ratings: lines.join('\n') + '\n', tags: 'userId,movieId,tag,timestamp\n' }, { minHistory: 3 });
  let fourLast = 0;
  for (const u of d.users.slice(0, 300)) if (d.items[u.items[3]].id === 4) fourLast++;
  assert.ok(fourLast > 100 && fourLast < 200, `movie 4 last for ${fourLast} of 300 users`);
  assert.equal(tiedFinalPairs(d.users), 300);
  const brute = d.users.filter((u) => u.timestamps[u.timestamps.length - 1] === u.timestamps[u.timestamps.length - 2]).length;
  assert.equal(tiedFinalPairs(d.users), brute);
  const p = prepareData(getProfile('tiny').data);
  const bruteTiny = p.rec.test.filter((e, i) => {
    const u = p.dataset.users[i];
    return u.user === e.user && u.timestamps[u.timestamps.length - 1] === u.timestamps[u.timestamps.length - 2];
  }).length;
  assert.equal(dataStats(p).rec.tiedFinalPairs, bruteTiny);
});
