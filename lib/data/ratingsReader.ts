/**
 * Fast reader for MovieLens `ratings.csv` (userId,movieId,rating,timestamp). ml-25m's file has 25M
 * lines (about 650 MB), so it is read in fixed-size byte chunks and each line is parsed straight from
 * the bytes into typed arrays: no per-line strings or splits. A line that the byte parser does not
 * accept is re-parsed as text by the generic field parsers, which either accept it (e.g. spaces around
 * a number, a negative id) or raise the error that names the file, the line and what was expected.
 */
import * as fs from 'node:fs';
import { DataFileError, checkHeader, parseIntField, parseNumberField, quoteForError } from './csv';

const RATINGS_HEADER = ['userId', 'movieId', 'rating', 'timestamp'] as const;

/** Ratings in file order, columnar. `movies` holds the value returned by `movieIndex` (the dense item index). */
export interface RatingColumns {
  count: number;
  users: Int32Array;
  items: Int32Array;
  ratings: Float32Array;
  timestamps: Float64Array;
}

export interface ReadRatingsOptions {
  /** File name used in error messages (defaults to the path). */
  label?: string;
  /** Maps a movieId to its dense item index, or -1 when the movie is unknown (an error). */
  movieIndex: (movieId: number) => number;
  /** Bytes per read; lines longer than this are an error. */
  chunkBytes?: number;
  /** Called after each chunk with the bytes consumed so far (for progress lines). */
  onChunk?: (bytesRead: number, totalBytes: number) => void;
  /** Accepted ratings and timestamps (inclusive); outside is an error naming the line. */
  ranges?: ValueRanges;
}

export interface ValueRanges {
  rating: [number, number];
  timestamp: [number, number];
}

function checkRanges(ranges: ValueRanges | undefined, rating: number, ts: number, label: string, line: number): void {
  if (!ranges) return;
  const [rlo, rhi] = ranges.rating;
  if (!(rating >= rlo && rating <= rhi)) throw new DataFileError(label, line, `rating ${rating} is outside this data set's scale [${rlo}, ${rhi}]`);
  const [tlo, thi] = ranges.timestamp;
  if (!(ts >= tlo && ts <= thi)) {
    const when = Number.isFinite(ts) && Math.abs(ts) < 8.64e12 ? ` (${new Date(ts * 1000).toISOString().slice(0, 10)})` : '';
    throw new DataFileError(label, line, `timestamp ${ts}${when} is outside [${tlo}, ${thi}] (${new Date(tlo * 1000).toISOString().slice(0, 10)} to ${new Date(thi * 1000).toISOString().slice(0, 10)}): expected Unix seconds`);
  }
}

class Columns {
  count = 0;
  users: Int32Array;
  items: Int32Array;
  ratings: Float32Array;
  timestamps: Float64Array;
  constructor(capacity: number) {
    capacity = Math.max(16, capacity);
    this.users = new Int32Array(capacity);
    this.items = new Int32Array(capacity);
    this.ratings = new Float32Array(capacity);
    this.timestamps = new Float64Array(capacity);
  }
  grow(): void {
    const cap = Math.ceil(this.users.length * 1.5) + 16;
    const u = new Int32Array(cap);
    u.set(this.users);
    this.users = u;
    const m = new Int32Array(cap);
    m.set(this.items);
    this.items = m;
    const r = new Float32Array(cap);
    r.set(this.ratings);
    this.ratings = r;
    const t = new Float64Array(cap);
    t.set(this.timestamps);
    this.timestamps = t;
  }
  result(): RatingColumns {
    const n = this.count;
    return {
      count: n,
      users: this.users.slice(0, n),
      items: this.items.slice(0, n),
      ratings: this.ratings.slice(0, n),
      timestamps: this.timestamps.slice(0, n),
    };
  }
}

/**
 * Reads and validates ratings from a file path or from the file's bytes. Throws `DataFileError` on
 * the first bad line.
 */
export function readRatings(source: string | Uint8Array, opts: ReadRatingsOptions): RatingColumns {
  const label = opts.label ?? (typeof source === 'string' ? source : 'ratings.csv');
  const chunkBytes = opts.chunkBytes ?? 16 << 20;
  const fd = typeof source === 'string' ? fs.openSync(source, 'r') : -1;
  const read =
    typeof source === 'string'
      ? (into: Buffer, at: number, len: number, pos: number) => fs.readSync(fd, into, at, len, pos)
      : (into: Buffer, at: number, len: number, pos: number) => {
          const n = Math.max(0, Math.min(len, source.length - pos));
          into.set(source.subarray(pos, pos + n), at);
          return n;
        };
  try {
    const total = typeof source === 'string' ? fs.fstatSync(fd).size : source.length;
    // About 25 bytes per line in MovieLens files: start near the right size to avoid regrowth.
    const cols = new Columns(Math.ceil(total / 24));
    const buf = Buffer.allocUnsafe(chunkBytes);
    let carry = 0; // bytes of an unfinished line kept at the start of buf
    let fileOffset = 0;
    let line = 0; // number of the last line fully handled
    let headerDone = false;
    let eof = false;

    while (!eof) {
      const got = read(buf, carry, chunkBytes - carry, fileOffset);
      fileOffset += got;
      const end = carry + got;
      eof = got === 0;
      let start = 0;
      if (!headerDone && end > 0 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) start = 3;
      for (;;) {
        let nl = buf.indexOf(10, start);
        if (nl < 0 || nl >= end) {
          if (!eof) break;
          if (start >= end) break;
          nl = end; // last line without a line end
        }
        line++;
        let lineEnd = nl;
        if (lineEnd > start && buf[lineEnd - 1] === 13) lineEnd--;
        if (!headerDone) {
          checkHeader(label, buf.toString('utf8', start, lineEnd), RATINGS_HEADER);
          headerDone = true;
        } else if (lineEnd > start) {
          if (cols.count === cols.users.length) cols.grow();
          parseRatingLine(buf, start, lineEnd, line, label, opts.movieIndex, cols, opts.ranges);
        }
        start = nl + 1;
        if (nl === end) break;
      }
      if (eof) break;
      // Move the unfinished line to the front.
      carry = end - start;
      if (carry >= chunkBytes) {
        throw new DataFileError(label, line + 1, `line longer than ${chunkBytes} bytes: expected "userId,movieId,rating,timestamp"`);
      }
      if (carry > 0) buf.copy(buf, 0, start, end);
      opts.onChunk?.(fileOffset, total);
    }
    if (!headerDone) throw new DataFileError(label, 1, `expected the header "${RATINGS_HEADER.join(',')}", found an empty file`);
    if (cols.count === 0) throw new DataFileError(label, 2, 'no ratings: the file holds its header only (0 interactions)');
    return cols.result();
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

function parseRatingLine(
  buf: Buffer,
  s: number,
  e: number,
  line: number,
  label: string,
  movieIndex: (id: number) => number,
  cols: Columns,
  ranges?: ValueRanges,
): void {
  // Fast path: digits,digits,digits[.digits],digits
  let p = s;
  let user = 0;
  let digits = 0;
  let c = 0;
  while (p < e && (c = buf[p]) >= 48 && c <= 57) {
    user = user * 10 + (c - 48);
    p++;
    digits++;
  }
  if (digits === 0 || digits > 9 || p >= e || buf[p] !== 44) return slowLine(buf, s, e, line, label, movieIndex, cols, ranges);
  p++;
  let movie = 0;
  digits = 0;
  while (p < e && (c = buf[p]) >= 48 && c <= 57) {
    movie = movie * 10 + (c - 48);
    p++;
    digits++;
  }
  if (digits === 0 || digits > 9 || p >= e || buf[p] !== 44) return slowLine(buf, s, e, line, label, movieIndex, cols, ranges);
  p++;
  let rating = 0;
  digits = 0;
  while (p < e && (c = buf[p]) >= 48 && c <= 57) {
    rating = rating * 10 + (c - 48);
    p++;
    digits++;
  }
  if (p < e && buf[p] === 46) {
    p++;
    let scale = 1;
    let frac = 0;
    let fd = 0;
    while (p < e && (c = buf[p]) >= 48 && c <= 57) {
      frac = frac * 10 + (c - 48);
      scale *= 10;
      p++;
      fd++;
    }
    if (fd === 0 || fd > 6) return slowLine(buf, s, e, line, label, movieIndex, cols, ranges);
    rating += frac / scale;
  }
  if (digits === 0 || p >= e || buf[p] !== 44) return slowLine(buf, s, e, line, label, movieIndex, cols, ranges);
  p++;
  let ts = 0;
  digits = 0;
  while (p < e && (c = buf[p]) >= 48 && c <= 57) {
    ts = ts * 10 + (c - 48);
    p++;
    digits++;
  }
  if (digits === 0 || digits > 15 || p !== e) return slowLine(buf, s, e, line, label, movieIndex, cols, ranges);
  const item = movieIndex(movie);
  if (item < 0) throw new DataFileError(label, line, `rating of unknown movieId ${movie} (not in movies.csv)`);
  checkRanges(ranges, rating, ts, label, line);
  const i = cols.count++;
  cols.users[i] = user;
  cols.items[i] = item;
  cols.ratings[i] = rating;
  cols.timestamps[i] = ts;
}

/** Text path for lines the byte parser rejects: accepts what the generic parsers accept, else throws. */
function slowLine(
  buf: Buffer,
  s: number,
  e: number,
  line: number,
  label: string,
  movieIndex: (id: number) => number,
  cols: Columns,
  ranges?: ValueRanges,
): void {
  const text = buf.toString('utf8', s, e);
  if (text.includes('"')) {
    throw new DataFileError(label, line, `expected unquoted numeric fields "userId,movieId,rating,timestamp", found ${quoteForError(text)}`);
  }
  const f = text.split(',');
  if (f.length !== 4) {
    throw new DataFileError(
      label,
      line,
      `expected 4 columns (userId,movieId,rating,timestamp), found ${f.length} in ${quoteForError(text)}` +
        (f.length < 4 ? ' (a truncated line?)' : ''),
    );
  }
  const user = parseIntField(f[0], label, line, 'userId');
  const movie = parseIntField(f[1], label, line, 'movieId');
  const rating = parseNumberField(f[2], label, line, 'rating');
  const ts = parseNumberField(f[3], label, line, 'timestamp');
  if (user < -2147483648 || user > 2147483647) throw new DataFileError(label, line, `expected a 32-bit integer userId, found ${quoteForError(f[0])}`);
  const item = movieIndex(movie);
  if (item < 0) throw new DataFileError(label, line, `rating of unknown movieId ${movie} (not in movies.csv)`);
  checkRanges(ranges, rating, ts, label, line);
  const i = cols.count++;
  cols.users[i] = user;
  cols.items[i] = item;
  cols.ratings[i] = rating;
  cols.timestamps[i] = ts;
}
