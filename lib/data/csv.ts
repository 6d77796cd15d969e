/**
 * CSV reading for the MovieLens layouts (RFC 4180: quoted fields with commas, doubled quotes inside
 * quotes, LF or CRLF line ends, optional UTF-8 byte-order mark). Every format problem raises a
 * `DataFileError` that names the file, the line and what was expected.
 */
import * as fs from 'node:fs';

/** A problem in an input file: `file:line: message`. */
export class DataFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
  ) {
    super(`${file}:${line}: ${detail}`);
    this.name = 'DataFileError';
  }
}

/**
 * Checks, before reading, that `file` is a readable regular file, with an error that says which
 * of these it is not: missing, a directory / FIFO / device (a FIFO would block a read forever),
 * or unreadable (permission denied is not "not found"). `what` names it in the message.
 */
export function checkInputFile(file: string, what = 'input file'): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${what} ${file} does not exist`);
    if (code === 'EACCES' || code === 'EPERM') throw new Error(`${what} ${file} cannot be reached: permission denied on a folder above it (${code})`);
    if (code === 'ENOTDIR') throw new Error(`${what} ${file} does not exist: a parent of it is not a directory`);
    throw new Error(`${what} ${file} cannot be examined (${code ?? String(err)})`);
  }
  if (!st.isFile()) {
    const kind = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO (named pipe)' : st.isSocket() ? 'a socket' : 'a device';
    throw new Error(`${what} ${file} is ${kind}, not a regular file`);
  }
  try {
    fs.closeSync(fs.openSync(file, 'r'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${what} ${file} cannot be read: ${code === 'EACCES' || code === 'EPERM' ? 'permission denied' : 'error'} (${code ?? String(err)})`);
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes bytes as strict UTF-8 (no silent U+FFFD replacement); a bad byte is a DataFileError
 * naming the line and column.
 */
export function decodeUtf8Strict(bytes: Uint8Array, file: string, firstLine = 1): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    // Find the first bad byte, line by line, for the message.
    let line = firstLine;
    let start = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i === bytes.length || bytes[i] === 10) {
        const d = new TextDecoder('utf-8', { fatal: true });
        let bad = -1;
        for (let j = start; j < i && bad < 0; j++) {
          try {
            d.decode(bytes.subarray(j, j + 1), { stream: true });
          } catch {
            bad = j;
            // An unfinished sequence shows up at the byte after it: point at its lead byte.
            for (let k = j - 1; k >= Math.max(start, j - 3); k--) {
              if ((bytes[k] & 0xc0) === 0xc0) {
                bad = k;
                break;
              }
              if ((bytes[k] & 0xc0) !== 0x80) break;
            }
          }
        }
        if (bad < 0) {
          try {
            d.decode();
          } catch {
            bad = i - 1; // a sequence cut off by the line end
          }
        }
        if (bad >= 0) {
          throw new DataFileError(file, line, `invalid UTF-8 (byte 0x${bytes[bad].toString(16).padStart(2, '0')} at column ${bad - start + 1}): the file must be UTF-8 encoded`);
        }
        line++;
        start = i + 1;
      }
    }
    throw new DataFileError(file, firstLine, 'invalid UTF-8: the file must be UTF-8 encoded');
  }
}

/** Reads a whole text file as strict UTF-8 after `checkInputFile`. */
export function readUtf8File(file: string, what = 'input file'): string {
  checkInputFile(file, what);
  return decodeUtf8Strict(fs.readFileSync(file), file);
}

/** Shows a piece of a bad line in an error message without flooding it. */
export function quoteForError(s: string, max = 80): string {
  const clipped = s.length > max ? s.slice(0, max) + '...' : s;
  return JSON.stringify(clipped);
}

/** Removes a leading UTF-8 byte-order mark. */
function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Checks a header line against the expected column names (exact, case-sensitive, after trimming each
 * name), throwing a `DataFileError` for line 1 otherwise.
 */
export function checkHeader(file: string, headerLine: string | undefined, expected: readonly string[]): void {
  const want = expected.join(',');
  if (headerLine === undefined || headerLine.trim() === '') {
    throw new DataFileError(file, 1, `expected the header "${want}", found an empty file`);
  }
  const got = headerLine
    .replace(/\r$/, '')
    .split(',')
    .map((s) => s.trim().replace(/^"(.*)"$/, '$1'));
  if (got.length !== expected.length || got.some((name, i) => name !== expected[i])) {
    throw new DataFileError(file, 1, `expected the header "${want}", found ${quoteForError(headerLine.replace(/\r$/, ''))}`);
  }
}

/**
 * Parses CSV text record by record. `onRecord` receives the fields and the 1-based line where the
 * record starts. The first record is the header: it is checked against `header` and not passed on.
 * Records must have exactly `header.length` fields. Empty lines are skipped (they hold no data).
 */
export function parseCsvText(
  text: string,
  file: string,
  header: readonly string[],
  onRecord: (fields: string[], line: number) => void,
): number {
  text = stripBom(text);
  const n = text.length;
  let pos = 0;
  let line = 1;
  let records = 0;
  let first = true;

  while (pos < n) {
    const startLine = line;
    // Empty line: skip.
    const c0 = text.charCodeAt(pos);
    if (c0 === 10 /* \n */ || (c0 === 13 && text.charCodeAt(pos + 1) === 10)) {
      pos += c0 === 10 ? 1 : 2;
      line++;
      if (first) throw new DataFileError(file, startLine, `expected the header "${header.join(',')}", found an empty line`);
      continue;
    }
    const fields: string[] = [];
    let endOfRecord = false;
    while (!endOfRecord) {
      let value: string;
      if (text.charCodeAt(pos) === 34 /* " */) {
        // Quoted field: runs to the closing quote; "" is an escaped quote.
        let out = '';
        let segStart = pos + 1;
        let i = pos + 1;
        for (;;) {
          if (i >= n) throw new DataFileError(file, startLine, 'unterminated quoted field (missing closing ")');
          const c = text.charCodeAt(i);
          if (c === 34) {
            if (text.charCodeAt(i + 1) === 34) {
              out += text.slice(segStart, i + 1);
              i += 2;
              segStart = i;
              continue;
            }
            out += text.slice(segStart, i);
            i++;
            break;
          }
          if (c === 10) line++;
          i++;
        }
        value = out;
        pos = i;
        const c = text.charCodeAt(pos);
        if (!(pos >= n || c === 44 || c === 10 || (c === 13 && text.charCodeAt(pos + 1) === 10) || (c === 13 && pos + 1 >= n))) {
          throw new DataFileError(file, startLine, `expected "," or end of line after a closing quote, found ${quoteForError(text.slice(pos, pos + 20))}`);
        }
      } else {
        let i = pos;
        while (i < n) {
          const c = text.charCodeAt(i);
          if (c === 44 || c === 10 || c === 13) break;
          if (c === 34) throw new DataFileError(file, startLine, `unexpected quote inside an unquoted field ${quoteForError(lineAt(text, pos))}`);
          i++;
        }
        // A lone \r not followed by \n is data, not a line end.
        while (i < n && text.charCodeAt(i) === 13 && i + 1 < n && text.charCodeAt(i + 1) !== 10) {
          i++;
          while (i < n) {
            const c = text.charCodeAt(i);
            if (c === 44 || c === 10 || c === 13) break;
            i++;
          }
        }
        value = text.slice(pos, i);
        pos = i;
      }
      fields.push(value);
      if (pos >= n) {
        endOfRecord = true;
      } else {
        const c = text.charCodeAt(pos);
        if (c === 44) {
          pos++;
          // A trailing comma at the end of the text or line means one more empty field.
          if (pos >= n) {
            fields.push('');
            endOfRecord = true;
          }
        } else if (c === 10) {
          pos++;
          line++;
          endOfRecord = true;
        } else if (c === 13) {
          pos += text.charCodeAt(pos + 1) === 10 ? 2 : 1;
          line++;
          endOfRecord = true;
        }
      }
    }
    if (first) {
      first = false;
      checkHeader(file, fields.join(','), header);
      continue;
    }
    if (fields.length !== header.length) {
      throw new DataFileError(
        file,
        startLine,
        `expected ${header.length} columns (${header.join(',')}), found ${fields.length} in ${quoteForError(lineAt(text, lineStartBefore(text, pos - 1)))}` +
          (fields.length < header.length && pos >= n ? ' (the last line looks truncated)' : ''),
      );
    }
    records++;
    onRecord(fields, startLine);
  }
  if (first) throw new DataFileError(file, 1, `expected the header "${header.join(',')}", found an empty file`);
  return records;
}

function lineAt(text: string, from: number): string {
  let end = text.indexOf('\n', from);
  if (end < 0) end = text.length;
  return text.slice(from, end).replace(/\r$/, '');
}

function lineStartBefore(text: string, pos: number): number {
  // pos may sit on the record's own line end: step back over it first.
  let i = pos;
  while (i >= 0 && (text.charCodeAt(i) === 10 || text.charCodeAt(i) === 13)) i--;
  const nl = text.lastIndexOf('\n', i);
  return nl + 1;
}

/** Parses a whole-number id field; throws naming the column when it is not a safe integer. */
export function parseIntField(value: string, file: string, line: number, column: string): number {
  const s = value.trim();
  if (!/^-?\d+$/.test(s)) {
    throw new DataFileError(file, line, `expected an integer ${column}, found ${quoteForError(value)}`);
  }
  const v = Number(s);
  if (!Number.isSafeInteger(v)) throw new DataFileError(file, line, `expected an integer ${column} in the safe range, found ${quoteForError(value)}`);
  return v;
}

/** Parses a finite decimal number field; throws naming the column otherwise. */
export function parseNumberField(value: string, file: string, line: number, column: string): number {
  const s = value.trim();
  const v = s === '' ? NaN : Number(s);
  if (!Number.isFinite(v)) throw new DataFileError(file, line, `expected a number for ${column}, found ${quoteForError(value)}`);
  return v;
}

/** Quotes a value for CSV output when it holds a comma, a quote or a line break. */
export function csvField(value: string | number): string {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
