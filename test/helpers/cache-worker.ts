/**
 * A separate process that uses a shared artifact cache (test/cache-concurrency.test.ts):
 *   write <root> <rounds> <keys> <log> <name>   builds-or-reads every (round, key), logging each build
 *   read  <root> <rounds> <keys> <seconds>      reads the same keys in a loop, checking every value seen
 *   hold  <root>                                starts a build that never finishes (to be killed)
 */
import * as fs from 'node:fs';
import { ArtifactCache } from '../../lib/pipeline/cache';
import { decodeValue } from '../../lib/util/codec';
import { artifactKey } from '../../lib/pipeline/cache';

const [mode, root, ...rest] = process.argv.slice(2);
const cache = new ArtifactCache(root);
const valueOf = (r: number, k: number) => ({ r, k, v: new Float32Array(50_000).fill(r * 100 + k) });

function check(value: { r: number; k: number; v: Float32Array }, r: number, k: number): void {
  const want = r * 100 + k;
  if (value.r !== r || value.k !== k || value.v.length !== 50_000 || value.v[0] !== want || value.v[49_999] !== want) {
    throw new Error(`wrong value for round ${r} key ${k}: ${JSON.stringify({ r: value.r, k: value.k, first: value.v[0] })}`);
  }
}

async function main(): Promise<void> {
  if (mode === 'write') {
    const [rounds, keys, log, name] = [Number(rest[0]), Number(rest[1]), rest[2], rest[3]];
    for (let r = 0; r < rounds; r++) {
      // The two writers walk the keys in opposite orders, so they meet in the middle.
      const order = Array.from({ length: keys }, (_, i) => (name === 'a' ? i : keys - 1 - i));
      for (const k of order) {
        const res = await cache.getOrBuild('stage', { r, k }, [], async () => {
          fs.appendFileSync(log, `${name} ${r} ${k}\n`);
          await new Promise((ok) => setTimeout(ok, 20));
          return valueOf(r, k);
        });
        check(res.value, r, k);
      }
    }
  } else if (mode === 'read') {
    const [rounds, keys, seconds] = [Number(rest[0]), Number(rest[1]), Number(rest[2])];
    const end = Date.now() + seconds * 1000;
    let seen = 0;
    while (Date.now() < end) {
      for (let r = 0; r < rounds; r++) {
        for (let k = 0; k < keys; k++) {
          const files = cache.readFiles('stage', artifactKey('stage', { r, k }, []));
          if (!files) continue;
          check(decodeValue(files['value.json'].toString('utf8'), new Uint8Array(files['arrays.bin'])), r, k);
          seen++;
        }
      }
      await new Promise((ok) => setTimeout(ok, 1));
    }
    process.stdout.write(`seen ${seen}\n`);
  } else if (mode === 'hold') {
    await cache.getOrBuild('stage', { held: true }, [], async () => {
      process.stdout.write('building\n');
      // A timer keeps the process alive (an empty event loop would let it exit and release the lock).
      await new Promise(() => setInterval(() => undefined, 1000));
      return {};
    });
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
