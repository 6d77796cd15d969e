/**
 * Import of external queries (e.g. written by an LLM, as in the paper) from JSONL:
 * one `{"item_id": <movieId>, "query": "..."}` object per line, optionally with `"style": "..."`
 * (default "external"). Blank lines are skipped. Any other problem is an error naming the line.
 */
import * as fs from 'node:fs';
import type { Item, SearchQuery } from '../types';
import { checkInputFile, DataFileError, decodeUtf8Strict, quoteForError } from './csv';

export function parseQueriesJsonl(text: string, items: Item[], file = 'queries.jsonl'): SearchQuery[] {
  const indexOfId = new Map<number, number>();
  for (const it of items) indexOfId.set(it.id, it.index);
  const out: SearchQuery[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const raw = lines[i].replace(/\r$/, '');
    if (raw.trim() === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (err) {
      throw new DataFileError(file, line, `expected a JSON object {"item_id": <movieId>, "query": "..."}, found invalid JSON ${quoteForError(raw)} (${(err as Error).message})`);
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      throw new DataFileError(file, line, `expected a JSON object {"item_id": <movieId>, "query": "..."}, found ${quoteForError(raw)}`);
    }
    const o = obj as Record<string, unknown>;
    const id = o.item_id;
    if (typeof id !== 'number' || !Number.isSafeInteger(id)) {
      throw new DataFileError(file, line, `expected "item_id" to be an integer movieId, found ${quoteForError(JSON.stringify(id) ?? 'nothing')}`);
    }
    const index = indexOfId.get(id);
    if (index === undefined) throw new DataFileError(file, line, `item_id ${id} is not a movie of the loaded catalogue`);
    const q = o.query;
    if (typeof q !== 'string' || q.trim() === '') {
      throw new DataFileError(file, line, `expected "query" to be a non-empty string, found ${quoteForError(JSON.stringify(q) ?? 'nothing')}`);
    }
    const style = o.style === undefined ? 'external' : o.style;
    if (typeof style !== 'string' || style === '') throw new DataFileError(file, line, `expected "style" to be a non-empty string when present`);
    out.push({ item: index, text: q.trim().replace(/\s+/g, ' '), style });
  }
  return out;
}

/** Longest line accepted in a query file (a query is a sentence; a longer line is not a query file). */
export const MAX_QUERY_LINE_BYTES = 64 << 10;

/**
 * Reads a query file: a regular, readable file of strict UTF-8 JSONL, no line longer than
 * MAX_QUERY_LINE_BYTES (checked while reading, so a huge line is refused without being held), and
 * at least one query.
 */
export function readQueriesJsonl(filePath: string, items: Item[]): SearchQuery[] {
  checkInputFile(filePath, 'query file');
  const lines: string[] = [];
  const fd = fs.openSync(filePath, 'r');
  try {
    const chunk = Buffer.allocUnsafe(1 << 20);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const endLine = (part: Buffer) => {
      const bytes = pending.length ? Buffer.concat([...pending, part]) : part;
      lines.push(decodeUtf8Strict(bytes, filePath, lines.length + 1));
      pending = [];
      pendingBytes = 0;
    };
    for (;;) {
      const n = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      let start = 0;
      for (let nl = chunk.indexOf(10, start); nl >= 0 && nl < n; nl = chunk.indexOf(10, start)) {
        if (pendingBytes + nl - start > MAX_QUERY_LINE_BYTES) break;
        endLine(Buffer.from(chunk.subarray(start, nl)));
        start = nl + 1;
      }
      pending.push(Buffer.from(chunk.subarray(start, n)));
      pendingBytes += n - start;
      if (pendingBytes > MAX_QUERY_LINE_BYTES) {
        throw new DataFileError(filePath, lines.length + 1, `line longer than ${MAX_QUERY_LINE_BYTES} bytes: expected one JSON object {"item_id": <movieId>, "query": "..."} per line`);
      }
    }
    if (pendingBytes > 0) endLine(Buffer.alloc(0));
  } finally {
    fs.closeSync(fd);
  }
  const queries = parseQueriesJsonl(lines.join('\n'), items, filePath);
  if (queries.length === 0) {
    throw new DataFileError(filePath, 1, 'no queries: expected one JSON object {"item_id": <movieId>, "query": "..."} per line');
  }
  return queries;
}
