/**
 * Notebook parameters, the papermill convention: the code cell tagged `parameters` declares them,
 * and a run may override them with a cell injected right after it (tagged `injected-parameters`)
 * that declares the same names again; tslab lets a later cell re-declare a const.
 */

/** One declaration of a notebook's parameters cell. */
export interface NotebookParameter {
  name: string;
  /** The declared type, when written (`string | undefined`). */
  type?: string;
  /** The initialiser as written (`undefined`, `42`, `process.env.X ?? 'tiny'`). */
  default: string;
}

/** A parameter value: what `--param key=value` gives, parsed by `parseParamValue`. */
export type ParamValue = string | number | boolean | null;

const PARAMETERS_TAG = 'parameters';
export const INJECTED_TAG = 'injected-parameters';

function joinText(text: unknown): string {
  return Array.isArray(text) ? text.join('') : typeof text === 'string' ? text : '';
}

function tags(cell: any): string[] {
  return Array.isArray(cell?.metadata?.tags) ? cell.metadata.tags : [];
}

/** Index of the code cell tagged `parameters`; throws unless there is exactly one. */
function parametersCellIndex(nb: any, where = 'notebook'): number {
  const found: number[] = [];
  (nb?.cells ?? []).forEach((c: any, i: number) => {
    if (c.cell_type === 'code' && tags(c).includes(PARAMETERS_TAG)) found.push(i);
  });
  if (found.length !== 1) throw new Error(`${where}: expected one code cell tagged "${PARAMETERS_TAG}", found ${found.length}`);
  return found[0];
}

const DECLARATION = /^\s*(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::\s*([^=]+?))?\s*=\s*(.+?)\s*;?\s*(?:\/\/.*)?$/;

/** The top-level one-line declarations of a parameters cell's source, in order. */
function parseParameters(source: string): NotebookParameter[] {
  const out: NotebookParameter[] = [];
  for (const line of source.split('\n')) {
    const m = DECLARATION.exec(line);
    if (m) out.push({ name: m[1], ...(m[2] ? { type: m[2].trim() } : {}), default: m[3].replace(/;$/, '').trim() });
  }
  return out;
}

/** The parameters a notebook declares. */
export function notebookParameters(nb: any, where = 'notebook'): NotebookParameter[] {
  return parseParameters(joinText(nb.cells[parametersCellIndex(nb, where)].source));
}

/**
 * A `--param` value: JSON when it parses as a number, true, false, null or a quoted string;
 * anything else is taken as a string (so `--param profileName=tiny` needs no quotes).
 */
function parseParamValue(raw: string): ParamValue {
  const t = raw.trim();
  if (/^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null|"(?:[^"\\]|\\.)*")$/.test(t)) return JSON.parse(t) as ParamValue;
  return raw;
}

/** Parses `key=value` pairs; throws on a malformed pair or a key given twice. */
export function parseParamPairs(pairs: string[]): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? '' : pair.slice(0, eq);
    if (!/^[A-Za-z_$][\w$]*$/.test(key)) throw new Error(`--param expects name=value with name an identifier, got "${pair}"`);
    if (key in out) throw new Error(`--param ${key} given more than once`);
    out[key] = parseParamValue(pair.slice(eq + 1));
  }
  return out;
}

/**
 * A copy of `nb` with a cell re-declaring `params` right after its parameters cell. Every name must
 * be declared there (a typo would otherwise be ignored silently).
 */
export function injectParameters(nb: any, params: Record<string, ParamValue>, where = 'notebook'): any {
  const names = Object.keys(params);
  if (names.length === 0) return nb;
  const at = parametersCellIndex(nb, where);
  const declared = parseParameters(joinText(nb.cells[at].source)).map((p) => p.name);
  const unknown = names.filter((n) => !declared.includes(n));
  if (unknown.length) {
    throw new Error(`${where} has no parameter ${unknown.join(', ')} (its parameters: ${declared.join(', ') || 'none'})`);
  }
  const source = ['// Injected parameters', ...names.map((n) => `const ${n} = ${JSON.stringify(params[n])};`)].join('\n');
  const cell = { cell_type: 'code', id: 'injected-parameters', metadata: { tags: [INJECTED_TAG] }, execution_count: null, outputs: [], source };
  return { ...nb, cells: [...nb.cells.slice(0, at + 1), cell, ...nb.cells.slice(at + 1)] };
}
