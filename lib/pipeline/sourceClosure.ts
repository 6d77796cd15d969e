/**
 * The project source files a module runs: its relative imports, followed transitively (static,
 * re-exports and dynamic `import()`). Stage cache keys hash this closure, so a change to any file a
 * stage reaches rebuilds its artifacts, and the list cannot go stale as files move.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot } from '../util/fs';

const IMPORT_PATTERNS = [/\bfrom\s+'(\.{1,2}\/[^']+)'/g, /\bimport\s*\(\s*'(\.{1,2}\/[^']+)'\s*\)/g, /\bimport\s+'(\.{1,2}\/[^']+)'/g];

/** Relative module specifiers imported by a TypeScript source text. */
function relativeImports(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
  return IMPORT_PATTERNS.flatMap((re) => Array.from(code.matchAll(re), (m) => m[1]));
}

/** Project-relative paths of `entries` and every .ts file they reach, sorted. */
export function importClosure(entries: readonly string[], root = projectRoot()): string[] {
  const seen = new Set<string>();
  const visit = (rel: string, from: string) => {
    const file = rel.endsWith('.ts') ? rel : `${rel}.ts`;
    if (seen.has(file)) return;
    const abs = path.join(root, file);
    if (!fs.existsSync(abs)) throw new Error(`importClosure: ${file} (imported from ${from}) does not exist under ${root}`);
    seen.add(file);
    for (const spec of relativeImports(fs.readFileSync(abs, 'utf8'))) {
      visit(path.posix.join(path.posix.dirname(file), spec), file);
    }
  };
  for (const e of entries) visit(e, 'the stage list');
  return [...seen].sort();
}
