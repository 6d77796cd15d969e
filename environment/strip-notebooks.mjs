#!/usr/bin/env node
/**
 * Strips outputs from notebooks before they are committed, or checks that they are stripped.
 *
 *   node environment/strip-notebooks.mjs [--check] [files or folders...]   (default: notebooks/)
 *
 * Stripping clears every code cell's outputs and execution count, drops per-run metadata (cell
 * `execution`, `collapsed`, `scrolled`; notebook `sid`, `widgets`), removes the cell a run with
 * `--param` injects (tagged `injected-parameters`) and writes the JSON the way Jupyter does (keys
 * sorted, one-space indent), only when something changed.
 * `--check` writes nothing and exits 1 when a notebook has outputs, has not exactly one cell tagged
 * `parameters`, has an injected-parameters cell, or does not name the `sid-ts` kernel.
 * Plain JavaScript with no dependencies, so it runs before `npm ci` and from a git hook.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const VOLATILE_CELL_METADATA = ['execution', 'collapsed', 'scrolled'];
const VOLATILE_NOTEBOOK_METADATA = ['sid', 'widgets'];
const INJECTED_TAG = 'injected-parameters';

function injected(cell) {
  return (cell.metadata?.tags ?? []).includes(INJECTED_TAG);
}

/** Returns a stripped deep copy of a parsed notebook. */
export function stripNotebook(nb) {
  const out = JSON.parse(JSON.stringify(nb));
  if (Array.isArray(out.cells)) out.cells = out.cells.filter((c) => !injected(c));
  for (const cell of out.cells ?? []) {
    if (cell.cell_type === 'code') {
      cell.outputs = [];
      cell.execution_count = null;
    }
    for (const k of VOLATILE_CELL_METADATA) if (cell.metadata) delete cell.metadata[k];
  }
  for (const k of VOLATILE_NOTEBOOK_METADATA) if (out.metadata) delete out.metadata[k];
  return out;
}

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys(value[k])]));
  }
  return value;
}

/** Serialises a notebook as Jupyter does: sorted keys, indent 1, trailing newline. */
export function serializeNotebook(nb) {
  return JSON.stringify(sortKeys(nb), null, 1) + '\n';
}

/** Problems that keep a notebook from being committed (empty when it is fine). */
export function notebookProblems(nb) {
  const problems = [];
  const cells = nb.cells ?? [];
  cells.forEach((cell, i) => {
    if (cell.cell_type !== 'code') return;
    if ((cell.outputs ?? []).length > 0) problems.push(`cell ${i + 1} has ${cell.outputs.length} output(s)`);
    if (cell.execution_count !== null && cell.execution_count !== undefined) problems.push(`cell ${i + 1} has execution_count ${cell.execution_count}`);
  });
  if (cells.some(injected)) problems.push(`has a cell tagged "${INJECTED_TAG}" (from a run with --param)`);
  const tagged = cells.filter((c) => (c.metadata?.tags ?? []).includes('parameters'));
  if (tagged.length !== 1) problems.push(`expected exactly one cell tagged "parameters", found ${tagged.length}`);
  else if (tagged[0].cell_type !== 'code') problems.push('the cell tagged "parameters" is not a code cell');
  const kernel = nb.metadata?.kernelspec?.name;
  if (kernel !== 'sid-ts') problems.push(`metadata.kernelspec.name is ${JSON.stringify(kernel)}, expected "sid-ts"`);
  return problems;
}

function notebookFiles(targets) {
  const files = [];
  for (const t of targets) {
    if (!fs.existsSync(t)) throw new Error(`${t}: no such file or folder`);
    if (fs.statSync(t).isDirectory()) {
      for (const f of fs.readdirSync(t).sort()) if (f.endsWith('.ipynb')) files.push(path.join(t, f));
    } else files.push(t);
  }
  return files;
}

function readNotebook(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not a readable notebook (${err.message})`);
  }
}

/** CLI entry: returns the exit code. */
export function main(argv) {
  const check = argv.includes('--check');
  const targets = argv.filter((a) => a !== '--check');
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const files = notebookFiles(targets.length ? targets : [path.join(root, 'notebooks')]);
  let bad = 0;
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    const nb = readNotebook(file);
    if (check) {
      const problems = notebookProblems(nb);
      if (problems.length) {
        bad += 1;
        process.stderr.write(`${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
      }
      continue;
    }
    const stripped = serializeNotebook(stripNotebook(nb));
    if (stripped !== text) {
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, stripped);
      fs.renameSync(tmp, file);
      process.stdout.write(`stripped ${file}\n`);
    }
    const problems = notebookProblems(stripNotebook(nb));
    if (problems.length) process.stderr.write(`warning: ${file}: ${problems.join('; ')}\n`);
  }
  if (check) {
    process.stdout.write(`${files.length - bad}/${files.length} notebooks clean\n`);
    return bad ? 1 : 0;
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`strip-notebooks: ${err.message}\n`);
    process.exitCode = 2;
  }
}
