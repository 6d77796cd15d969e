/**
 * tslab type-checks every cell before running it, so a type error in a notebook only shows when the
 * notebook runs (minutes into CI). This compiles the code cells of every notebook, concatenated in
 * order, against lib/ in seconds: with the project's TypeScript and settings, and with the TypeScript
 * tslab bundles under the options tslab compiles with (not strict, no DOM library, node10 module
 * resolution), where narrowing and the global types differ.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot } from '../lib/util/fs';

test('notebook code cells type-check against lib/', () => {
  const root = projectRoot();
  const dir = path.join(root, '.cache', 'nbcheck');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const notebooks = fs.readdirSync(path.join(root, 'notebooks')).filter((f) => f.endsWith('.ipynb'));
  assert.ok(notebooks.length > 0);
  for (const nb of notebooks) {
    const doc = JSON.parse(fs.readFileSync(path.join(root, 'notebooks', nb), 'utf8'));
    const code = doc.cells
      .filter((c: { cell_type: string }) => c.cell_type === 'code')
      .map((c: { source: string | string[] }) => (Array.isArray(c.source) ? c.source.join('') : c.source))
      .join('\n\n')
      .replace(/from '\.\/lib\//g, "from '../../lib/");
    fs.writeFileSync(path.join(dir, nb.replace(/\.ipynb$/, '.ts')), `${code}\n\nexport {};\n`);
  }
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({ extends: '../../tsconfig.json', compilerOptions: { noEmit: true }, include: ['./*.ts'] }),
  );
  // The options tslab 1.0.22 passes its compiler (node_modules/tslab/dist/converter.js) on Node 20.
  fs.writeFileSync(
    path.join(dir, 'tsconfig.tslab.json'),
    JSON.stringify({
      compilerOptions: {
        noEmit: true, target: 'ES2022', lib: ['es2022'], module: 'ESNext', moduleResolution: 'node10', esModuleInterop: true,
        skipLibCheck: true, resolveJsonModule: true, experimentalDecorators: true, types: ['node'],
      },
      include: ['./*.ts'],
    }),
  );
  const compilers = [
    { tsc: path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), config: 'tsconfig.json', what: "the project's TypeScript" },
    { tsc: path.join(root, 'node_modules', '@tslab', 'typescript-for-tslab', 'bin', 'tsc'), config: 'tsconfig.tslab.json', what: "tslab's TypeScript and options" },
  ];
  for (const c of compilers) {
    assert.ok(fs.existsSync(c.tsc), `${c.tsc} is missing`);
    const res = spawnSync(process.execPath, [c.tsc, '-p', path.join(dir, c.config)], { encoding: 'utf8' });
    assert.equal(res.status, 0, `type errors in notebooks under ${c.what}:\n${res.stdout}${res.stderr}`);
  }
});
