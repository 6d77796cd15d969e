/**
 * Notebooks run lib/ through tslab, which compiles it to CommonJS with its own TypeScript: a folder
 * import (`'../backend'`) or `import.meta` works under tsx but breaks every notebook. Checked here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot } from '../lib/util/fs';

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('lib/ imports name files, never folders, and avoids import.meta', () => {
  const lib = path.join(projectRoot(), 'lib');
  const problems: string[] = [];
  for (const file of tsFiles(lib)) {
    const src = fs.readFileSync(file, 'utf8');
    for (const m of src.matchAll(/from '(\.{1,2}\/[^']*)'/g)) {
      const target = path.resolve(path.dirname(file), m[1]);
      if (fs.existsSync(target) && fs.statSync(target).isDirectory()) problems.push(`${path.relative(lib, file)} imports folder '${m[1]}'`);
      else if (!fs.existsSync(`${target}.ts`) && !fs.existsSync(target)) problems.push(`${path.relative(lib, file)} imports missing '${m[1]}'`);
    }
    if (/import\.meta/.test(src.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, ''))) problems.push(`${path.relative(lib, file)} uses import.meta`);
  }
  assert.deepEqual(problems, []);
});

test('notebooks import lib by file path', () => {
  const dir = path.join(projectRoot(), 'notebooks');
  const problems: string[] = [];
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.ipynb'))) {
    const nb = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
    for (const cell of nb.cells) {
      const src = Array.isArray(cell.source) ? cell.source.join('') : cell.source;
      for (const m of src.matchAll(/from '(\.\/lib\/[^']*)'/g)) {
        const target = path.join(projectRoot(), m[1]);
        if (!fs.existsSync(`${target}.ts`)) problems.push(`${f} imports '${m[1]}', which is not a .ts file`);
      }
    }
  }
  assert.deepEqual(problems, []);
});
