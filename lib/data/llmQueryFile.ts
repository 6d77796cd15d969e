/**
 * The query file written by `sid data queries --llm`, resumably: one JSON line per query,
 * `{"item_id": <id>, "style": "...", "known": true|false, "query": "..."}` (the format
 * lib/data/queryImport.ts reads), and all of an item's lines appended in one write.
 *
 * Before a run continues a file, `openQueryFile` reads what is there: a trailing partial line (a
 * run killed mid-write) is cut off, and the lines of an item that is not complete are removed (it
 * is asked for again), by rewriting the file atomically. Lines that are not query lines, or name
 * an item outside the data set, stop the run: the file is then not one this command wrote for
 * this data set, and is left alone.
 */
import * as fs from 'node:fs';
import { describeFsError, writeFileAtomic } from '../util/fs';
import type { LlmQuery } from './llmQueryPrompt';

export interface QueryLine {
  item_id: number;
  style: string;
  known: boolean;
  query: string;
}

/** An item's lines, in the spacing of the project's existing LLM query file. */
export function formatQueryLines(itemId: number, queries: readonly LlmQuery[]): string {
  return queries.map((q) => `{"item_id": ${itemId}, "style": ${JSON.stringify(q.style)}, "known": ${q.known}, "query": ${JSON.stringify(q.query)}}\n`).join('');
}

export interface ExistingQueries {
  /** Items whose lines are complete: not asked for again. */
  complete: Set<number>;
  /** Query lines kept. */
  keptLines: number;
  /** Whether a trailing partial line was cut off. */
  cutPartialLine: boolean;
  /** Items whose incomplete lines were removed, to be asked for again. */
  redone: number[];
}

function parseQueryLine(raw: string): QueryLine | null {
  let o: unknown;
  try {
    o = JSON.parse(raw);
  } catch {
    return null;
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return null;
  const r = o as Record<string, unknown>;
  if (typeof r.item_id !== 'number' || !Number.isSafeInteger(r.item_id)) return null;
  if (typeof r.style !== 'string' || typeof r.query !== 'string' || typeof r.known !== 'boolean') return null;
  return { item_id: r.item_id, style: r.style, known: r.known, query: r.query };
}

/**
 * Reads `file` (absent: nothing done yet) and leaves it holding only complete items.
 * `isComplete` says whether an item's lines are all it needs; `catalogueIds` are the data set's ids.
 */
export function openQueryFile(file: string, isComplete: (lines: QueryLine[]) => boolean, catalogueIds: ReadonlySet<number>): ExistingQueries {
  const result: ExistingQueries = { complete: new Set(), keptLines: 0, cutPartialLine: false, redone: [] };
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return result;
    throw describeFsError(err, file, 'reading');
  }
  const lastNewline = text.lastIndexOf('\n');
  result.cutPartialLine = text.length > lastNewline + 1;
  const rawLines = text.slice(0, lastNewline + 1).split('\n').slice(0, -1);
  const byItem = new Map<number, QueryLine[]>();
  const parsed: Array<QueryLine | null> = rawLines.map((raw, i) => {
    if (raw.trim() === '') return null;
    const line = parseQueryLine(raw);
    if (!line) {
      throw new Error(`${file} line ${i + 1} is not a query line {"item_id", "style", "known", "query"}: it was not written by sid data queries --llm; name another --out or remove it`);
    }
    if (!catalogueIds.has(line.item_id)) {
      throw new Error(`${file} line ${i + 1}: item_id ${line.item_id} is not an item of this data set; is --out the file of another data set?`);
    }
    const list = byItem.get(line.item_id) ?? [];
    list.push(line);
    byItem.set(line.item_id, list);
    return line;
  });
  for (const [id, lines] of byItem) {
    if (isComplete(lines)) result.complete.add(id);
    else result.redone.push(id);
  }
  const kept = rawLines.filter((_, i) => parsed[i] !== null && result.complete.has(parsed[i]!.item_id));
  result.keptLines = kept.length;
  if (result.cutPartialLine || result.redone.length || kept.length !== rawLines.length) {
    writeFileAtomic(file, kept.map((l) => `${l}\n`).join(''));
  }
  return result;
}

/** Appends whole items to the query file. */
export class QueryFileWriter {
  private readonly fd: number;

  constructor(readonly file: string) {
    try {
      this.fd = fs.openSync(file, 'a');
    } catch (err) {
      throw describeFsError(err, file, 'opening');
    }
  }

  /** Appends an item's lines in one write (a kill can leave only a partial last line, which openQueryFile cuts). */
  appendItem(itemId: number, queries: readonly LlmQuery[]): void {
    const bytes = Buffer.from(formatQueryLines(itemId, queries), 'utf8');
    try {
      let off = 0;
      while (off < bytes.length) off += fs.writeSync(this.fd, bytes, off, bytes.length - off);
    } catch (err) {
      throw describeFsError(err, this.file);
    }
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
