/**
 * Conventions of lib/ checked on the source:
 * - Notebooks run lib/ through tslab, which compiles it to CommonJS with its own TypeScript: a folder
 *   import (`'../backend'`) or `import.meta` works under tsx but breaks every notebook.
 * - Layers import one way: util < backend < data < quantize < embed < generate < demo < eval <
 *   bench < pipeline < views < cli, with report beside them (it imports util only; views and cli use it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
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

/** Layer order: a file may import its own layer and the layers before it, never one after it. */
const LAYERS = ['util', 'backend', 'data', 'quantize', 'embed', 'generate', 'demo', 'eval', 'baselines', 'bench', 'pipeline', 'views', 'cli'] as const;

/** The layer of a file under lib/ (lib/types.ts holds plain data contracts: util's level). */
function layerOf(relToLib: string): string {
  return relToLib.includes('/') ? relToLib.split('/')[0] : 'util';
}

/** Why importing `to` from `from` breaks the layering, or null when it is allowed. */
function layerViolation(from: string, to: string): string | null {
  if (from === to) return null;
  // The display kit (tables, plots) and the notebook runner sit beside the layers.
  if (to === 'display') return ['views', 'report', 'cli'].includes(from) ? null : 'only views, report and cli may use display';
  if (from === 'display') return to === 'util' ? null : 'display may import util only';
  if (to === 'report') return from === 'cli' ? null : 'only cli may use report';
  if (from === 'report') return to === 'util' || to === 'display' ? null : 'report may import util and display only';
  const a = LAYERS.indexOf(from as (typeof LAYERS)[number]);
  const b = LAYERS.indexOf(to as (typeof LAYERS)[number]);
  if (a < 0) return `folder lib/${from} is in no layer`;
  if (b < 0) return `folder lib/${to} is in no layer`;
  return b > a ? `${from} sits below ${to}` : null;
}

/** Every upward import of lib/, as "file -> import (reason)". */
function upwardImports(lib: string): string[] {
  const problems: string[] = [];
  for (const file of tsFiles(lib)) {
    const rel = path.relative(lib, file);
    const code = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
    for (const m of code.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']*)'/g)) {
      const target = path.relative(lib, path.resolve(path.dirname(file), m[1]));
      const why = layerViolation(layerOf(rel), layerOf(target));
      if (why) problems.push(`${rel} -> ${m[1]} (${why})`);
    }
  }
  return problems;
}

test('layers: the rule itself rejects upward imports and accepts downward ones', () => {
  assert.equal(layerViolation('generate', 'eval'), 'generate sits below eval');
  assert.equal(layerViolation('embed', 'eval'), 'embed sits below eval');
  assert.equal(layerViolation('pipeline', 'report'), 'only cli may use report');
  assert.equal(layerViolation('views', 'report'), 'only cli may use report');
  assert.equal(layerViolation('report', 'pipeline'), 'report may import util and display only');
  assert.equal(layerViolation('pipeline', 'display'), 'only views, report and cli may use display');
  assert.equal(layerViolation('display', 'report'), 'display may import util only');
  assert.equal(layerViolation('eval', 'generate'), null);
  assert.equal(layerViolation('views', 'display'), null);
  assert.equal(layerViolation('report', 'display'), null);
  assert.equal(layerViolation('cli', 'util'), null);
});

test('layers: an upward import in a file is found', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-layers-'));
  try {
    fs.mkdirSync(path.join(dir, 'generate'));
    fs.mkdirSync(path.join(dir, 'eval'));
    fs.writeFileSync(path.join(dir, 'eval', 'metrics.ts'), 'export const x = 1;\n');
    fs.writeFileSync(path.join(dir, 'generate', 'model.ts'), "import { x } from '../eval/metrics';\nexport const y = x;\n");
    assert.deepEqual(upwardImports(dir), ['generate/model.ts -> ../eval/metrics (generate sits below eval)']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('layers: lib/ has no upward import', () => {
  assert.deepEqual(upwardImports(path.join(projectRoot(), 'lib')), []);
});
