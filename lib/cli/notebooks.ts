/**
 * `sid notebooks run [names...] --profile <p>`: executes notebooks headlessly into reports/<profile>/;
 * `sid notebooks list [names...]`: the notebooks and the parameters each declares.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listNotebooks, runNotebooks, selectNotebooks } from '../report/notebooks';
import { notebookParameters, parseParamPairs, ParamValue } from '../report/parameters';
import { getProfile, reportName } from '../pipeline/profiles';
import { projectRoot } from '../util/fs';
import { parseArgs, UsageError } from './args';
import { optionValues, withoutOption } from './specs';

function notebooksDir(): string {
  return path.join(projectRoot(), 'notebooks');
}

function params(argv: string[]): Record<string, ParamValue> {
  try {
    return parseParamPairs(optionValues(argv, 'param'));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function run(argv: string[]): Promise<number> {
  const values = params(argv);
  const { positional, options, flags } = parseArgs(withoutOption(argv, 'param'), { flags: ['keep-going', 'no-code'], options: ['profile', 'out', 'timeout', 'jobs'] });
  const fromParam = values.profileName;
  if (fromParam !== undefined && typeof fromParam !== 'string') throw new UsageError(`--param profileName must be a profile name, got ${JSON.stringify(fromParam)}`);
  if (fromParam !== undefined && options.profile !== undefined && fromParam !== options.profile) {
    throw new UsageError(`--param profileName=${fromParam} and --profile ${options.profile} disagree`);
  }
  // The notebook's profile also names the report folder.
  const profile = getProfile(options.profile ?? fromParam);
  let runs;
  try {
    runs = await runNotebooks({
      names: positional.length ? positional : undefined,
      profile: profile.name,
      outDir: options.out ?? path.join(projectRoot(), 'reports', reportName(profile)),
      timeoutSec: options.timeout ? Number(options.timeout) : undefined,
      keepGoing: flags.has('keep-going'),
      jobs: options.jobs ? Number(options.jobs) : 1,
      params: values,
      noCode: flags.has('no-code'),
    });
  } catch (err) {
    // A parameter no notebook declares is the user's mistake, said before anything runs.
    if (/ has no parameter /.test((err as Error).message)) throw new UsageError((err as Error).message);
    throw err;
  }
  for (const r of runs) process.stdout.write(`${r.name}\t${r.seconds.toFixed(1)}s\t${r.html}\n`);
  return 0;
}

function list(argv: string[]): number {
  const { positional, flags } = parseArgs(argv, { flags: ['json'] });
  const dir = notebooksDir();
  const names = positional.length ? selectNotebooks(dir, positional) : listNotebooks(dir);
  const rows = names.map((name) => ({ name, parameters: notebookParameters(JSON.parse(fs.readFileSync(path.join(dir, `${name}.ipynb`), 'utf8')), `notebook ${name}`) }));
  if (flags.has('json')) {
    process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    return 0;
  }
  const lines: string[] = [];
  for (const r of rows) {
    lines.push(`${r.name}${Number(r.name.slice(0, 2)) >= 90 ? '  (test notebook: runs only when named)' : ''}`);
    if (r.parameters.length === 0) lines.push('  (no parameters)');
    for (const p of r.parameters) lines.push(`  ${p.name}${p.type ? `: ${p.type}` : ''} = ${p.default}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

export async function notebooksCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'run') return run(rest);
  if (sub === 'list') return list(rest);
  throw new UsageError(`expected "notebooks run [names...]" or "notebooks list [names...]", got "notebooks ${sub ?? ''}"`);
}
