/** File helpers: atomic writes (temporary file + rename), so no reader ever sees a half-written file. */
import * as fs from 'node:fs';
import * as path from 'node:path';

let tmpCounter = 0;

function tempPathFor(target: string): string {
  tmpCounter += 1;
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${tmpCounter}.tmp`);
}

/** Writes `data` to `target` atomically: a crash leaves either the old file or the new one. */
export function writeFileAtomic(target: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** Writes JSON atomically (pretty-printed when `pretty`). */
export function writeJsonAtomic(target: string, value: unknown, pretty = true): void {
  writeFileAtomic(target, JSON.stringify(value, null, pretty ? 2 : 0) + '\n');
}

/** Creates a directory atomically: `fill` writes into a temporary sibling that is renamed into place. */
export function writeDirAtomic(target: string, fill: (tmpDir: string) => void): void {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  fs.mkdirSync(tmp, { recursive: true });
  try {
    fill(tmp);
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * The project root: the nearest folder at or above `start` whose package.json names this project.
 * Used instead of `import.meta` so that the same code runs under tsx (ESM) and in notebooks (tslab).
 */
export function projectRoot(start = process.cwd()): string {
  if (process.env.SID_ROOT) return path.resolve(process.env.SID_ROOT);
  let dir = path.resolve(start);
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if (JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'semantic-ids-joint') return dir;
      } catch {
        /* not ours: keep walking */
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`projectRoot: no package.json of semantic-ids-joint at or above ${start}`);
    dir = parent;
  }
}
