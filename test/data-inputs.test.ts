/**
 * Input files are checked up front, with errors that name the file (and line) and say what is wrong:
 * empty data, values outside the data set's ranges, files that are not regular files, non-UTF-8
 * bytes, over-long query lines; and a full disk names the path being written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadMovieLens, MOVIELENS_RANGES } from '../lib/data/movielens';
import { MAX_QUERY_LINE_BYTES, readQueriesJsonl } from '../lib/data/queryImport';
import type { Item } from '../lib/types';
import { describeFsError } from '../lib/util/fs';

const MOVIES = 'movieId,title,genres\n1,Toy Story (1995),Animation\n2,Heat (1995),Action\n3,Casino (1995),Crime\n';
const TAGS = 'userId,movieId,tag,timestamp\n';
const RATING_LINES = ['1,1,4.0,964982703', '1,2,5.0,964982931', '1,3,3.5,964983000', '2,2,2.0,964984000'];
const HEADER = 'userId,movieId,rating,timestamp\n';

function folder(files: Record<string, string | Buffer>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-inputs-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

const load = (dir: string) => loadMovieLens(dir, { minHistory: 3 });

test('a sound small folder loads (the checks do not refuse real data)', () => {
  const ds = load(folder({ 'movies.csv': MOVIES, 'ratings.csv': HEADER + RATING_LINES.join('\n') + '\n', 'tags.csv': TAGS }));
  assert.equal(ds.items.length, 3);
});

test('header-only ratings.csv and movies.csv are refused', () => {
  let dir = folder({ 'movies.csv': MOVIES, 'ratings.csv': HEADER, 'tags.csv': TAGS });
  assert.throws(() => load(dir), new RegExp(`${path.join(dir, 'ratings.csv')}:2: no ratings: the file holds its header only`));
  dir = folder({ 'movies.csv': 'movieId,title,genres\n', 'ratings.csv': HEADER + RATING_LINES.join('\n'), 'tags.csv': TAGS });
  assert.throws(() => load(dir), /movies\.csv:2: no movies/);
});

test('no user with enough ratings is refused, naming the rule', () => {
  const dir = folder({ 'movies.csv': MOVIES, 'ratings.csv': HEADER + '1,1,4.0,964982703\n', 'tags.csv': TAGS });
  assert.throws(() => load(dir), /ratings\.csv: no user keeps 3 or more ratings \(1 users read\)/);
});

for (const [bad, expected] of [
  ['1,2,50,964982931', /ratings\.csv:3: rating 50 is outside this data set's scale \[0\.5, 5\]/],
  ['1,2,0,964982931', /ratings\.csv:3: rating 0 is outside/],
  ['1,2,-1,964982931', /ratings\.csv:3: rating -1 is outside/],
  ['1,2,4.0,-5', /ratings\.csv:3: timestamp -5 .*is outside/],
  ['1,2,4.0,99999999999', /ratings\.csv:3: timestamp 99999999999 \(5138-.*is outside/],
  ['1,2,4.0,100', /ratings\.csv:3: timestamp 100 \(1970-01-01\) is outside \[788918400, /],
] as const) {
  test(`ratings.csv line "${bad}" is refused with its line`, () => {
    const lines = [...RATING_LINES];
    lines[1] = bad;
    assert.throws(() => load(folder({ 'movies.csv': MOVIES, 'ratings.csv': HEADER + lines.join('\n') + '\n', 'tags.csv': TAGS })), expected);
  });
}

test('the MovieLens ranges cover every release: half stars 0.5-5, 1995 to now', () => {
  assert.deepEqual(MOVIELENS_RANGES.rating, [0.5, 5]);
  assert.equal(new Date(MOVIELENS_RANGES.timestamp[0] * 1000).toISOString(), '1995-01-01T00:00:00.000Z');
  assert.ok(MOVIELENS_RANGES.timestamp[1] * 1000 > Date.now());
});

test('a directory or a FIFO in place of a data file is named as such (no EISDIR, no hang)', () => {
  let dir = folder({ 'movies.csv': MOVIES, 'tags.csv': TAGS });
  fs.mkdirSync(path.join(dir, 'ratings.csv'));
  assert.throws(() => load(dir), new RegExp(`MovieLens file ${path.join(dir, 'ratings.csv')} is a directory, not a regular file`));
  dir = folder({ 'movies.csv': MOVIES, 'ratings.csv': HEADER + RATING_LINES.join('\n') });
  execFileSync('mkfifo', [path.join(dir, 'tags.csv')]);
  assert.throws(() => load(dir), /tags\.csv is a FIFO \(named pipe\), not a regular file/);
  dir = folder({ 'movies.csv': MOVIES, 'ratings.csv': HEADER });
  assert.throws(() => load(dir), /tags\.csv does not exist/);
});

test('non-UTF-8 bytes in movies.csv are refused with their line, not replaced', () => {
  const movies = Buffer.concat([Buffer.from('movieId,title,genres\n1,Toy Story (1995),Animation\n2,Caf'), Buffer.from([0xe9]), Buffer.from(' (1995),Drama\n')]);
  const dir = folder({ 'movies.csv': movies, 'ratings.csv': HEADER + RATING_LINES.join('\n'), 'tags.csv': TAGS });
  assert.throws(() => load(dir), /movies\.csv:3: invalid UTF-8 \(byte 0xe9 at column 6\)/);
});

const ITEMS = [{ index: 0, id: 1, title: 'Toy Story', year: 1995, genres: [], tags: [], text: 'toy story' }] as unknown as Item[];

test('query files: strict UTF-8 JSONL, a line-length limit, not empty, a regular file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-queries-'));
  const q = (name: string, content: string | Buffer) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, content);
    return f;
  };
  assert.equal(readQueriesJsonl(q('ok.jsonl', '{"item_id": 1, "query": "toy story"}\n\n{"item_id": 1, "query": "pixar"}'), ITEMS).length, 2);
  assert.throws(() => readQueriesJsonl(q('empty.jsonl', ''), ITEMS), /empty\.jsonl:1: no queries/);
  assert.throws(() => readQueriesJsonl(q('blank.jsonl', '\n  \n'), ITEMS), /blank\.jsonl:1: no queries/);
  const latin1 = Buffer.concat([Buffer.from('{"item_id": 1, "query": "a"}\n{"item_id": 1, "query": "caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]);
  assert.throws(() => readQueriesJsonl(q('latin1.jsonl', latin1), ITEMS), /latin1\.jsonl:2: invalid UTF-8 \(byte 0xe9/);
  const long = '{"item_id": 1, "query": "' + 'x'.repeat(MAX_QUERY_LINE_BYTES) + '"}\n';
  assert.throws(() => readQueriesJsonl(q('long.jsonl', '{"item_id": 1, "query": "a"}\n' + long), ITEMS), new RegExp(`long\\.jsonl:2: line longer than ${MAX_QUERY_LINE_BYTES} bytes`));
  // 8 MB on one line: refused while reading, without a newline in sight.
  assert.throws(() => readQueriesJsonl(q('huge.jsonl', 'x'.repeat(8 << 20)), ITEMS), /huge\.jsonl:1: line longer than/);
  fs.mkdirSync(path.join(dir, 'dir.jsonl'));
  assert.throws(() => readQueriesJsonl(path.join(dir, 'dir.jsonl'), ITEMS), /query file .*dir\.jsonl is a directory, not a regular file/);
  assert.throws(() => readQueriesJsonl(path.join(dir, 'none.jsonl'), ITEMS), /query file .*none\.jsonl does not exist/);
});

test('a full disk (ENOSPC) is reported with the path being written', () => {
  let err: unknown;
  try {
    fs.writeFileSync('/dev/full', 'x');
  } catch (e) {
    err = e;
  }
  assert.ok(err, '/dev/full accepted a write');
  const d = describeFsError(err, '/cache/stage/key');
  assert.match(d.message, /^writing \/cache\/stage\/key: no space left on the device \(ENOSPC\)$/);
  assert.equal((d as NodeJS.ErrnoException).code, 'ENOSPC');
});
