/**
 * On-disk SemanticIdSet artifact: one file, written atomically.
 * Layout: the 8 ASCII bytes "SIDSET1\n", a uint32 (little-endian) byte length H, H bytes of UTF-8
 * JSON header ({ numItems, length, cardinalities, meta }), zero padding to a multiple of 4, then
 * numItems x length int32 little-endian codes.
 */
import * as fs from 'node:fs';
import type { SemanticIdSet } from '../types';
import { writeFileAtomic } from '../util/fs';
import { checkSemanticIds } from './ids';

const MAGIC = 'SIDSET1\n';

function encodeSemanticIds(ids: SemanticIdSet, meta: Record<string, unknown> = {}): Uint8Array {
  checkSemanticIds(ids, 'lib/quantize/artifact.ts saveSemanticIds');
  const header = Buffer.from(JSON.stringify({ numItems: ids.numItems, length: ids.length, cardinalities: ids.cardinalities, meta }), 'utf8');
  const headEnd = 8 + 4 + header.length;
  const codesStart = Math.ceil(headEnd / 4) * 4;
  const buf = Buffer.alloc(codesStart + ids.codes.length * 4);
  buf.write(MAGIC, 0, 'ascii');
  buf.writeUInt32LE(header.length, 8);
  header.copy(buf, 12);
  for (let i = 0; i < ids.codes.length; i++) buf.writeInt32LE(ids.codes[i], codesStart + 4 * i);
  return buf;
}

function decodeSemanticIds(bytes: Uint8Array, source = 'buffer'): { ids: SemanticIdSet; meta: Record<string, unknown> } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const where = `lib/quantize/artifact.ts loadSemanticIds(${source})`;
  if (buf.length < 12 || buf.toString('ascii', 0, 8) !== MAGIC) throw new Error(`${where}: not a SemanticIdSet artifact (magic "SIDSET1" expected)`);
  const h = buf.readUInt32LE(8);
  if (12 + h > buf.length) throw new Error(`${where}: truncated header (${h} bytes announced, file has ${buf.length})`);
  let head: { numItems: number; length: number; cardinalities: number[]; meta?: Record<string, unknown> };
  try {
    head = JSON.parse(buf.toString('utf8', 12, 12 + h));
  } catch (e) {
    throw new Error(`${where}: header is not valid JSON (${(e as Error).message})`);
  }
  const codesStart = Math.ceil((12 + h) / 4) * 4;
  const count = head.numItems * head.length;
  if (buf.length !== codesStart + 4 * count) throw new Error(`${where}: expected ${count} codes after the header, file size ${buf.length} does not match`);
  const codes = new Int32Array(count);
  for (let i = 0; i < count; i++) codes[i] = buf.readInt32LE(codesStart + 4 * i);
  const ids: SemanticIdSet = { numItems: head.numItems, length: head.length, cardinalities: head.cardinalities, codes };
  checkSemanticIds(ids, where);
  return { ids, meta: head.meta ?? {} };
}

/** Writes the artifact atomically (temporary file + rename). */
export function saveSemanticIds(file: string, ids: SemanticIdSet, meta: Record<string, unknown> = {}): void {
  writeFileAtomic(file, encodeSemanticIds(ids, meta));
}

export function loadSemanticIds(file: string): { ids: SemanticIdSet; meta: Record<string, unknown> } {
  if (!fs.existsSync(file)) throw new Error(`lib/quantize/artifact.ts loadSemanticIds: no file at ${file}`);
  return decodeSemanticIds(fs.readFileSync(file), file);
}
