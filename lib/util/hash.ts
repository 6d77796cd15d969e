/** Hex SHA-256 of bytes or a string. */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hex SHA-256 of a file's bytes. */
export function sha256File(file: string): string {
  return sha256(fs.readFileSync(file));
}
