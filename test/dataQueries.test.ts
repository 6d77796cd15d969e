/** Search queries: generation, popularity-stratified selection, JSONL import, and the split policy. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Item, SearchQuery } from '../lib/types';
import { canonicalQuery, generateQueries, normalizeQuery, QUERY_STYLES, queriesForItem, selectQueryItems } from '../lib/data/queries';
import { parseQueriesJsonl } from '../lib/data/queryImport';
import { splitQueries } from '../lib/data/querySplit';
import { loadMovieLensText } from '../lib/data/movielens';
import { generateSyntheticMovieLens } from '../lib/data/synthetic';

function item(index: number, id: number, title: string, year: number | null, genres: string[], tags: string[]): Item {
  return { index, id, title, year, genres, tags, text: title };
}

const ITEMS: Item[] = [
  item(0, 1, 'Toy Story', 1995, ['Adventure', 'Animation', 'Children'], ['pixar', 'fun']),
  item(1, 11, 'The American President', 1995, ['Comedy', 'Drama', 'Romance'], ['politics']),
  item(2, 32, 'Twelve Monkeys (a.k.a. 12 Monkeys)', 1995, ['Mystery', 'Sci-Fi', 'Thriller'], ['time travel', 'brad pitt']),
  item(3, 50, 'Heat', 1995, ['Action', 'Crime'], []),
  item(4, 77, 'Untitled', null, [], []),
];

test('same seed gives the same queries; another seed gives others', () => {
  const a = generateQueries(ITEMS, { perItem: 12, seed: 5 });
  const b = generateQueries(ITEMS, { perItem: 12, seed: 5 });
  const c = generateQueries(ITEMS, { perItem: 12, seed: 6 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  // An item's queries do not depend on the other items in the list.
  const alone = queriesForItem(ITEMS[2], 12, 5);
  assert.deepEqual(alone, a.filter((q) => q.item === 2));
});

test('queries are distinct per item, non-empty, and use the styles the metadata supports', () => {
  const qs = generateQueries(ITEMS, { perItem: 20, seed: 1 });
  for (const it of ITEMS) {
    const mine = qs.filter((q) => q.item === it.index);
    const keys = mine.map((q) => normalizeQuery(q.text));
    assert.equal(new Set(keys).size, keys.length, `duplicates for ${it.title}`);
    for (const q of mine) assert.ok(q.text.trim().length > 0 && (QUERY_STYLES as readonly string[]).includes(q.style));
  }
  const monkeys = qs.filter((q) => q.item === 2);
  assert.equal(monkeys.length, 20);
  assert.equal(new Set(monkeys.map((q) => q.style)).size, QUERY_STYLES.length, 'every style appears for a rich item');
  // Title queries mention the main title; tag queries mention a tag; genre-era queries an era or genre.
  for (const q of monkeys) {
    const t = q.text.toLowerCase();
    if (q.style === 'title') assert.ok(t.includes('twelve monkeys'), q.text);
    if (q.style === 'tags') assert.ok(t.includes('time travel') || t.includes('brad pitt'), q.text);
    if (q.style === 'genre-era') assert.match(t, /(90s|1990s|1995|mystery|sci-fi|science fiction|scifi|thriller)/);
    if (q.style === 'typo') assert.ok(!t.includes('twelve monkeys') && t.length >= 'twelve monkeys'.length - 2, q.text);
  }
  // No tags -> no tag queries; no metadata beyond a one-word title -> only title-like queries.
  assert.ok(qs.filter((q) => q.item === 3).every((q) => q.style !== 'tags'));
  const bare = qs.filter((q) => q.item === 4);
  assert.ok(bare.length > 0 && bare.every((q) => q.style === 'title' || q.style === 'typo'), JSON.stringify(bare));
});

test('popularity-stratified selection draws one item per popularity stratum', () => {
  const n = 100;
  const pop = Array.from({ length: n }, (_, i) => (i * 37) % n); // a permutation of 0..99
  const chosen = selectQueryItems(n, { stratified: 10, popularity: pop }, 3);
  assert.equal(chosen.length, 10);
  const strata = chosen.map((i) => Math.floor((n - 1 - pop[i]) / 10)).sort((a, b) => a - b);
  assert.deepEqual(strata, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(chosen, selectQueryItems(n, { stratified: 10, popularity: pop }, 3));
  assert.equal(selectQueryItems(n, 'all', 0).length, n);
  assert.throws(() => selectQueryItems(n, { stratified: 10, popularity: [1, 2] }, 0), /one per item/);
});

test('query split: no (item, text) pair in two splits, every test item has training queries', () => {
  const syn = generateSyntheticMovieLens({ seed: 2, numItems: 120, numUsers: 40, meanHistory: 10 });
  const d = loadMovieLensText(syn);
  const qs = generateQueries(d.items, { perItem: 10, seed: 4 });
  // Add exact and case/space variants of existing queries: they must be dropped, not leak.
  const extra: SearchQuery[] = qs.slice(0, 30).map((q) => ({ ...q, text: `  ${q.text.toUpperCase()} ` }));
  const ids = d.items.map((it) => it.id);
  const s = splitQueries([...qs, ...extra], ids, { seed: 9 });
  assert.equal(s.droppedDuplicates, 30);
  assert.equal(s.train.length + s.valid.length + s.test.length, qs.length);
  const key = (q: SearchQuery) => `${q.item}|${normalizeQuery(q.text)}`;
  const train = new Set(s.train.map(key));
  const valid = new Set(s.valid.map(key));
  for (const q of s.test) {
    assert.ok(!train.has(key(q)), `test query in train: ${q.text}`);
    assert.ok(!valid.has(key(q)), `test query in valid: ${q.text}`);
  }
  for (const q of s.valid) assert.ok(!train.has(key(q)));
  const trainItems = new Set(s.train.map((q) => q.item));
  for (const q of s.test) assert.ok(trainItems.has(q.item), 'test items are seen in training');
  // 10 queries per item: one canonical form to test (with every query of that form), one to valid.
  const perItemTest = new Map<number, Set<string>>();
  for (const q of s.test) perItemTest.set(q.item, (perItemTest.get(q.item) ?? new Set()).add(canonicalQuery(q.text)));
  assert.ok([...perItemTest.values()].every((v) => v.size === 1));
  assert.deepEqual(splitQueries(qs, ids, { seed: 9 }).test, splitQueries(qs, ids, { seed: 9 }).test);
  assert.notDeepEqual(splitQueries(qs, ids, { seed: 9 }).test, splitQueries(qs, ids, { seed: 10 }).test);
  // Items with fewer than 3 queries keep them all in training.
  const few = splitQueries([{ item: 0, text: 'ab', style: 'x' }, { item: 0, text: 'cd', style: 'x' }], ids);
  assert.equal(few.train.length, 2);
  assert.equal(few.itemsWithoutHeldOut, 1);
  assert.throws(() => splitQueries(qs, ids, { testFraction: 0.6, validFraction: 0.5 }), /sum to less than 1/);
});

test('JSONL import: valid lines parsed, errors name the line', () => {
  const text = [
    '{"item_id": 11, "query": "president romance  movie"}',
    '',
    '{"item_id": 1, "query": "pixar toys", "style": "llm"}\r',
  ].join('\n');
  const qs = parseQueriesJsonl(text, ITEMS, 'q.jsonl');
  assert.deepEqual(qs, [
    { item: 1, text: 'president romance movie', style: 'external' },
    { item: 0, text: 'pixar toys', style: 'llm' },
  ]);
  const bad: [string, RegExp][] = [
    ['{"item_id": 1, "query": "x"}\n{"item_id": 1, "query": "y"', /q\.jsonl:2: .*invalid JSON/],
    ['{"item_id": "1", "query": "x"}', /q\.jsonl:1: expected "item_id" to be an integer movieId/],
    ['{"item_id": 1.5, "query": "x"}', /q\.jsonl:1: expected "item_id" to be an integer/],
    ['\n\n{"item_id": 999, "query": "x"}', /q\.jsonl:3: item_id 999 is not a movie of the loaded catalogue/],
    ['{"item_id": 1, "query": "  "}', /q\.jsonl:1: expected "query" to be a non-empty string/],
    ['{"item_id": 1}', /q\.jsonl:1: expected "query" to be a non-empty string/],
    ['[1, "x"]', /q\.jsonl:1: expected a JSON object/],
  ];
  for (const [t, re] of bad) assert.throws(() => parseQueriesJsonl(t, ITEMS, 'q.jsonl'), re);
});
