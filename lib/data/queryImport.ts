/**
 * Import of external queries (e.g. written by an LLM, as in the paper) from JSONL:
 * one `{"item_id": <movieId>, "query": "..."}` object per line, optionally with `"style": "..."`
 * (default "external"). Blank lines are skipped. Any other problem is an error naming the line.
 */
import * as fs from 'node:fs';
import type { Item, SearchQuery } from '../types';
import { DataFileError, quoteForError } from './csv';

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

export function readQueriesJsonl(filePath: string, items: Item[]): SearchQuery[] {
  if (!fs.existsSync(filePath)) throw new Error(`readQueriesJsonl: query file ${filePath} does not exist`);
  return parseQueriesJsonl(fs.readFileSync(filePath, 'utf8'), items, filePath);
}
