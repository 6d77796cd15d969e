/**
 * A CommonJS `require` anchored at the project root. It works the same under tsx (ESM, where no
 * `require` exists) and in notebooks (tslab compiles to CommonJS), and it lets optional packages
 * (tfjs-node, tfjs-node-gpu) be absent without breaking module loading.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { projectRoot } from '../util/fs';

let cached: NodeRequire | null = null;

export function projectRequire(): NodeRequire {
  if (!cached) {
    let root: string;
    try {
      root = projectRoot();
    } catch {
      root = process.cwd();
    }
    cached = createRequire(path.join(root, 'package.json'));
  }
  return cached;
}

/** Folder of an installed package, or null when it cannot be resolved. */
export function packageDir(name: string): string | null {
  try {
    return path.dirname(projectRequire().resolve(`${name}/package.json`));
  } catch {
    return null;
  }
}
