/**
 * On-disk form of models and training state: a folder with `value.json` (configuration, metadata) and
 * `arrays.bin` (weights and optimizer moments as Float32Arrays), written atomically so a crash leaves
 * the previous checkpoint intact.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeValue, encodeValue } from '../util/codec';
import { writeDirAtomic } from '../util/fs';

export function writeBundle(dir: string, value: unknown): void {
  const files = encodeValue(value);
  writeDirAtomic(dir, (tmp) => {
    fs.writeFileSync(path.join(tmp, 'value.json'), files['value.json']);
    fs.writeFileSync(path.join(tmp, 'arrays.bin'), files['arrays.bin']);
  });
}

export function readBundle<T>(dir: string): T {
  const json = path.join(dir, 'value.json');
  const bin = path.join(dir, 'arrays.bin');
  if (!fs.existsSync(json) || !fs.existsSync(bin)) throw new Error(`readBundle: ${dir} lacks value.json or arrays.bin`);
  return decodeValue<T>(fs.readFileSync(json, 'utf8'), new Uint8Array(fs.readFileSync(bin)));
}

export function bundleExists(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'value.json')) && fs.existsSync(path.join(dir, 'arrays.bin'));
}

export function weightsToRecord(w: Map<string, Float32Array>): Record<string, Float32Array> {
  return Object.fromEntries(w);
}

export function weightsFromRecord(r: Record<string, Float32Array>): Map<string, Float32Array> {
  return new Map(Object.entries(r));
}
