/** Synthetic catalogue, popularity buckets, leave-last-out split and prepareData on the tiny profile. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateSyntheticMovieLens, writeSyntheticMovieLens } from '../lib/data/synthetic';
import { loadMovieLens, loadMovieLensText } from '../lib/data/movielens';
import { popularityBuckets, bucketSizes } from '../lib/data/buckets';
import { splitLeaveLastN, splitLeaveLastOut, trainingCounts } from '../lib/data/split';
import { prepareData, dataStats } from '../lib/data/prepare';
import { normalizeQuery } from '../lib/data/queries';

test('synthetic catalogue: deterministic, MovieLens-shaped, default tiny size', () => {
  const a = generateSyntheticMovieLens({ seed: 1 });
  const b = generateSyntheticMovieLens({ seed: 1 });
  const c = generateSyntheticMovieLens({ seed: 2 });
  assert.equal(a.movies, b.movies);
  assert.equal(a.ratings, b.ratings);
  assert.equal(a.tags, b.tags);
  assert.notEqual(a.ratings, c.ratings);
  assert.ok(a.movies.startsWith('movieId,title,genres\r\n'));
  assert.match(a.movies, /\n\d+,"[^"\n]*, (The|A) \(\d{4}\)",/, 'quoted titles with a moved article');
  assert.match(a.movies, /""/, 'escaped quotes inside titles');
  const d = loadMovieLensText(a);
  assert.equal(d.items.length, 400);
  assert.equal(d.users.length, 300);
  assert.ok(d.stats.interactionsKept > 7500 && d.stats.interactionsKept < 12500, `${d.stats.interactionsKept} interactions`);
  assert.ok(d.items.some((it) => /^(The|A) /.test(it.title)), 'articles moved back to the front');
  assert.ok(d.items.filter((it) => it.tags.length > 0).length > 200);
  assert.deepEqual(Array.from(d.items, (it) => it.id), Array.from(a.truth.movieIds));
});

test('synthetic structure: tastes differ from topics, sequences are clustered, popularity is skewed', () => {
  const syn = generateSyntheticMovieLens({ seed: 3 });
  const d = loadMovieLensText(syn);
  const { topicOf, tasteOf } = syn.truth;
  // Tastes are a different partition: no taste cluster is dominated by one topic.
  for (let t = 0; t < 10; t++) {
    const counts = new Map<number, number>();
    let n = 0;
    tasteOf.forEach((x, i) => {
      if (x === t) {
        n++;
        counts.set(topicOf[i], (counts.get(topicOf[i]) ?? 0) + 1);
      }
    });
    assert.ok(Math.max(...counts.values()) / n < 0.4, `taste ${t} is mostly one topic`);
  }
  // Consecutive items share a taste far more often than a topic.
  let sameTaste = 0;
  let sameTopic = 0;
  let pairs = 0;
  for (const u of d.users) {
    for (let i = 1; i < u.items.length; i++) {
      pairs++;
      if (tasteOf[u.items[i]] === tasteOf[u.items[i - 1]]) sameTaste++;
      if (topicOf[u.items[i]] === topicOf[u.items[i - 1]]) sameTopic++;
    }
  }
  assert.ok(sameTaste / pairs > 0.6, `same taste ${sameTaste / pairs}`);
  assert.ok(sameTopic / pairs < 0.25, `same topic ${sameTopic / pairs}`);
  // Long tail: the top 10% of items hold a much larger share than with flat popularity.
  const topShare = (ds: typeof d) => {
    const sorted = Array.from(trainingCounts(ds.users, ds.items.length)).sort((x, y) => y - x);
    return sorted.slice(0, Math.round(ds.items.length / 10)).reduce((s, x) => s + x, 0) / ds.stats.interactionsKept;
  };
  const flat = topShare(loadMovieLensText(generateSyntheticMovieLens({ seed: 3, zipfExponent: 0 })));
  const skewed = topShare(d);
  assert.ok(skewed > 0.25 && skewed > flat + 0.1, `top-10% share ${skewed} vs flat ${flat}`);
  // Content: items of one topic share genres.
  for (let k = 0; k < 8; k++) {
    const genreCount = new Map<string, number>();
    let n = 0;
    d.items.forEach((it, i) => {
      if (topicOf[i] !== k) return;
      n++;
      for (const g of it.genres) genreCount.set(g, (genreCount.get(g) ?? 0) + 1);
    });
    assert.ok(Math.max(...genreCount.values()) / n > 0.45, `topic ${k} has no dominant genre`);
  }
});

test('synthetic files on disk load the same as the text', () => {
  const syn = generateSyntheticMovieLens({ seed: 4, numItems: 50, numUsers: 20, meanHistory: 10 });
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sid-syn-')), 'synthetic');
  writeSyntheticMovieLens(dir, syn);
  const fromDisk = loadMovieLens(dir);
  const fromText = loadMovieLensText(syn, { name: 'synthetic' });
  assert.deepEqual(fromDisk.items, fromText.items);
  assert.deepEqual(fromDisk.users, fromText.users);
  assert.equal(fromDisk.name, 'synthetic');
  fs.rmSync(path.dirname(dir), { recursive: true, force: true });
});

test('popularity buckets: documented rule checked by brute force, partition of all items', () => {
  const counts = Int32Array.from([50, 0, 3, 20, 20, 7, 1, 0, 12, 5, 4, 30]);
  const b = popularityBuckets(counts, { headShare: 0.5, tailBelow: 5 });
  const total = counts.reduce((s, x) => s + x, 0);
  const head = [...counts.keys()].filter((i) => b.bucketOf[i] === 0);
  const headSum = head.reduce((s, i) => s + counts[i], 0);
  assert.ok(headSum >= 0.5 * total);
  // Minimal: the least popular head item is needed to reach the share, and no non-head item beats a head item.
  const minHead = Math.min(...head.map((i) => counts[i]));
  assert.ok(headSum - minHead < 0.5 * total);
  for (let i = 0; i < counts.length; i++) if (b.bucketOf[i] !== 0) assert.ok(counts[i] <= minHead);
  assert.deepEqual(head, [0, 11]);
  for (let i = 0; i < counts.length; i++) {
    if (b.bucketOf[i] === 0) continue;
    assert.equal(b.names[b.bucketOf[i]], counts[i] < 5 ? 'tail' : 'torso', `item ${i}`);
  }
  const sizes = bucketSizes(b);
  assert.equal(sizes.head + sizes.torso + sizes.tail, counts.length);
  assert.deepEqual(sizes, { head: 2, torso: 5, tail: 5 });
  // Without a tail, zero-count items are torso: still in a bucket.
  const noTail = popularityBuckets(counts, { tailBelow: 0 });
  assert.equal(noTail.bucketOf[1], 1);
  assert.throws(() => popularityBuckets(counts, { headShare: 0 }), /headShare/);
});

test('leave-last-out split: targets, histories and sizes', () => {
  const d = loadMovieLensText(generateSyntheticMovieLens({ seed: 5, numItems: 60, numUsers: 25, meanHistory: 9 }));
  const s = splitLeaveLastOut(d);
  let train = 0;
  d.users.forEach((u, k) => {
    const n = u.items.length;
    assert.deepEqual([...s.train[k].items], [...u.items.slice(0, n - 2)]);
    assert.equal(s.valid[k].target, u.items[n - 2]);
    assert.deepEqual([...s.valid[k].history], [...u.items.slice(0, n - 2)]);
    assert.equal(s.test[k].target, u.items[n - 1]);
    assert.deepEqual([...s.test[k].history], [...u.items.slice(0, n - 1)]);
    assert.equal(s.test[k].user, u.user);
    train += s.train[k].items.length;
  });
  assert.equal(train + s.valid.length + s.test.length, d.stats.interactionsKept);
  const short = { name: 'x', users: [{ user: 9, items: Int32Array.from([1, 2]), timestamps: Float64Array.from([1, 2]) }] };
  assert.throws(() => splitLeaveLastOut(short), /user 9 has 2 interactions/);
});

test('leave-last-N-out: N test targets per user with the history cut before each, none of them a training target', () => {
  const d = loadMovieLensText(generateSyntheticMovieLens({ seed: 5, numItems: 60, numUsers: 25, meanHistory: 9 }));
  assert.deepEqual(splitLeaveLastN(d, 1), splitLeaveLastOut(d));
  const N = 4;
  const s = splitLeaveLastN(d, N);
  let train = 0;
  let at = 0;
  d.users.forEach((u, k) => {
    const n = u.items.length;
    const t = Math.min(N, n - 2);
    assert.ok(t >= 1);
    // Training is the prefix before the validation item; the validation target directly precedes the first test target.
    assert.deepEqual([...s.train[k].items], [...u.items.slice(0, n - t - 1)]);
    assert.equal(s.valid[k].target, u.items[n - t - 1]);
    assert.deepEqual([...s.valid[k].history], [...s.train[k].items]);
    for (let j = 0; j < t; j++) {
      const e = s.test[at++];
      assert.equal(e.user, u.user);
      assert.equal(e.target, u.items[n - t + j]);
      assert.deepEqual([...e.history], [...u.items.slice(0, n - t + j)]);
    }
    train += s.train[k].items.length;
  });
  assert.equal(at, s.test.length);
  // Every interaction in exactly one place: training, validation, or one test target.
  assert.equal(train + s.valid.length + s.test.length, d.stats.interactionsKept);
  assert.ok(s.test.length > 2.5 * d.users.length, `${s.test.length} test examples from ${d.users.length} users`);
  assert.throws(() => splitLeaveLastN(d, 0), /test targets per user must be a positive integer, got 0/);
  // Through prepareData: the option changes the rec split only.
  const base = prepareData({ dataset: 'synthetic', queriesPerItem: 4 });
  const lastN = prepareData({ dataset: 'synthetic', queriesPerItem: 4, recTestTargets: 3 });
  assert.ok(lastN.rec.test.length > 2 * base.rec.test.length);
  assert.deepEqual(lastN.queries.test.map((q) => q.text), base.queries.test.map((q) => q.text));
});

test('prepareData on the tiny synthetic profile: consistent stats, held-out test queries', () => {
  const p = prepareData({ dataset: 'synthetic', queriesPerItem: 10, querySeed: 7 });
  const again = prepareData({ dataset: 'synthetic', queriesPerItem: 10, querySeed: 7 });
  assert.deepEqual(p.queries.test, again.queries.test);
  const s = dataStats(p);
  assert.equal(s.items, 400);
  assert.equal(s.rec.total, s.interactions.kept);
  assert.equal(s.rec.test, s.users);
  assert.equal(s.queries.train + s.queries.valid + s.queries.test, 4000);
  assert.equal(s.buckets.items.head + s.buckets.items.torso + s.buckets.items.tail, 400);
  assert.ok(s.buckets.items.head > 20 && s.buckets.items.torso > 20, JSON.stringify(s.buckets.items));
  const styles = Object.values(s.queries.perStyle).reduce((n, r) => n + r.train + r.valid + r.test, 0);
  assert.equal(styles, 4000);
  const trainKeys = new Set(p.queries.train.map((q) => `${q.item}|${normalizeQuery(q.text)}`));
  for (const q of p.queries.test) assert.ok(!trainKeys.has(`${q.item}|${normalizeQuery(q.text)}`));
  // Buckets come from training interactions only.
  const counts = trainingCounts(p.rec.train, p.dataset.items.length);
  assert.deepEqual(p.buckets.counts, counts);
  // A popularity-stratified query sample covers M items.
  const strat = prepareData({ dataset: 'synthetic', queriesPerItem: 5, queryItems: { stratified: 40 } });
  assert.equal(dataStats(strat).queries.itemsWithQueries, 40);
  // A rating threshold removes interactions and is counted.
  const thr = dataStats(prepareData({ dataset: 'synthetic', ratingThreshold: 4, queriesPerItem: 1 }));
  assert.ok(thr.interactions.droppedBelowThreshold > 0);
  assert.equal(
    thr.interactions.read,
    thr.interactions.kept + thr.interactions.droppedBelowThreshold + thr.interactions.droppedDuplicates + thr.interactions.droppedShortUserInteractions,
  );
  assert.throws(() => prepareData({ dataset: 'ml-1m' as never }), /option dataset must be one of/);
});

test('prepareData with an external query file replaces generated queries', () => {
  const p0 = prepareData({ dataset: 'synthetic', queriesPerItem: 1 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-q-'));
  const file = path.join(dir, 'q.jsonl');
  const lines: string[] = [];
  for (const it of p0.dataset.items.slice(0, 10)) for (let k = 0; k < 5; k++) lines.push(JSON.stringify({ item_id: it.id, query: `query ${k} for ${it.id}` }));
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const p = prepareData({ dataset: 'synthetic', queryFile: file });
  const s = dataStats(p);
  assert.equal(s.queries.train + s.queries.valid + s.queries.test, 50);
  assert.deepEqual(Object.keys(s.queries.perStyle), ['external']);
  assert.equal(s.queries.test, 10);
  fs.rmSync(dir, { recursive: true, force: true });
});
