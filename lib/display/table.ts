/**
 * Tables for notebooks and reports: rows of records (or a danfo DataFrame) rendered as an HTML table
 * and as aligned plain text, displayed together.
 */
import { emitDisplay, MimeBundle } from './display';
import { escapeHtml, formatValue } from './html';

export type TableRow = Record<string, unknown>;

/** The parts of a danfo DataFrame used here (duck-typed, so lib/report does not load danfojs). */
export interface DataFrameLike {
  columns: string[];
  values: unknown[][] | unknown[];
  index?: Array<string | number>;
  shape: number[];
}

export interface TableOptions {
  /** Caption above the table. */
  title?: string;
  /** Decimals for non-integer numbers (default 3). */
  digits?: number;
  /** Column order (default: order of first appearance over all rows). */
  columns?: string[];
  /** Rows beyond this many are left out, with a note saying how many (default 200). */
  maxRows?: number;
}

function isDataFrameLike(x: unknown): x is DataFrameLike {
  const d = x as DataFrameLike;
  return !!d && typeof d === 'object' && !Array.isArray(d) && Array.isArray(d.columns) && Array.isArray(d.values) && Array.isArray(d.shape);
}

/**
 * Converts a danfo DataFrame to rows. A non-default index (anything but 0..n-1) becomes a leading
 * column named `index`.
 */
export function dataFrameToRows(df: DataFrameLike): TableRow[] {
  const columns = df.columns.map(String);
  const values = df.values as unknown[];
  const index = df.index ?? [];
  const defaultIndex = index.every((v, i) => v === i);
  return values.map((row, i) => {
    const cells = columns.length === 1 && !Array.isArray(row) ? [row] : (row as unknown[]);
    const out: TableRow = {};
    if (!defaultIndex) out.index = index[i];
    columns.forEach((c, j) => {
      out[c] = cells[j];
    });
    return out;
  });
}

function toRows(data: readonly object[] | DataFrameLike): TableRow[] {
  if (isDataFrameLike(data)) return dataFrameToRows(data);
  if (!Array.isArray(data)) {
    throw new Error('showTable: expected an array of row objects or a danfo DataFrame');
  }
  data.forEach((row, i) => {
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw new Error(`showTable: row ${i} is not an object (got ${Array.isArray(row) ? 'an array' : typeof row})`);
    }
  });
  return data;
}

function columnsOf(rows: TableRow[], given?: string[]): string[] {
  if (given) return given;
  const seen = new Set<string>();
  for (const row of rows) for (const k of Object.keys(row)) seen.add(k);
  return [...seen];
}

function isNumeric(v: unknown): boolean {
  return typeof v === 'number' || typeof v === 'bigint';
}

/** Both representations of a table; `showTable` displays them. */
export function renderTable(data: readonly object[] | DataFrameLike, opts: TableOptions = {}): MimeBundle {
  const allRows = toRows(data);
  const digits = opts.digits ?? 3;
  const maxRows = opts.maxRows ?? 200;
  if (!Number.isInteger(maxRows) || maxRows < 1) throw new Error(`showTable: maxRows must be a positive integer, got ${maxRows}`);
  const rows = allRows.slice(0, maxRows);
  const columns = columnsOf(allRows, opts.columns);
  const cells = rows.map((row) => columns.map((c) => formatValue(row[c], digits)));
  // A column is right-aligned when every non-empty value in it is a number.
  const numeric = columns.map((c) => rows.some((r) => r[c] !== undefined && r[c] !== null) && rows.every((r) => r[c] === undefined || r[c] === null || isNumeric(r[c])));
  const omitted = allRows.length - rows.length;
  const note = omitted > 0 ? `(${omitted} more row${omitted === 1 ? '' : 's'} not shown)` : '';

  const head = columns.map((c, j) => `<th style="text-align:${numeric[j] ? 'right' : 'left'}">${escapeHtml(c)}</th>`).join('');
  const body = cells
    .map((r) => `<tr>${r.map((v, j) => `<td style="text-align:${numeric[j] ? 'right' : 'left'}">${escapeHtml(v)}</td>`).join('')}</tr>`)
    .join('\n');
  const html =
    `<table class="sid-table">` +
    (opts.title ? `<caption style="caption-side:top;text-align:left;font-weight:bold">${escapeHtml(opts.title)}</caption>` : '') +
    `<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table>` +
    (note ? `<p><em>${escapeHtml(note)}</em></p>` : '');

  const widths = columns.map((c, j) => Math.max(c.length, ...cells.map((r) => r[j].length)));
  const pad = (s: string, j: number) => (numeric[j] ? s.padStart(widths[j]) : s.padEnd(widths[j]));
  const lines = [
    columns.map((c, j) => pad(c, j)).join('  '),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.map((r) => r.map((v, j) => pad(v, j)).join('  ')),
  ].map((l) => l.replace(/\s+$/, ''));
  if (opts.title) lines.unshift(opts.title);
  if (note) lines.push(note);
  return { 'text/html': html, 'text/plain': lines.join('\n') };
}

/** Displays a table (HTML, with an aligned plain-text copy in the same output). */
/** Displays rows (any plain objects, e.g. interfaces without an index signature) or a danfo DataFrame. */
export function showTable(data: readonly object[] | DataFrameLike, opts: TableOptions = {}): void {
  emitDisplay(renderTable(data, opts));
}
