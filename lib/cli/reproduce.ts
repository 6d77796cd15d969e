/** `sid reproduce` (every table into reports/<profile>/, or reports/<profile>-<query file>/) and `sid run-config` (one experiment; used by its workers). */
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../backend/index';
import { EMBEDDING_STRATEGIES } from '../names';
import { ensureMovieLens } from '../data/index';
import { collectAndWrite } from '../pipeline/collect';
import { runExperiments } from '../pipeline/runner';
import { runSmoke, smokeMarkdown } from '../pipeline/smoke';
import { artifactKey } from '../pipeline/cache';
import { codeVersion, createContext, dataFingerprint, experimentStage, parseSpecId } from '../pipeline/stages';
import { dataSourceEnvironment, reportName } from '../pipeline/profiles';
import { experimentsFor } from '../pipeline/tables';
import { runNotebooks } from '../report/notebooks';
import { projectRoot } from '../util/fs';
import { sha256File } from '../util/hash';
import { formatSeconds } from '../util/progress';
import { choice, intOption, optionalIntOption, parseArgs, UsageError } from './args';
import { DEMO_SPEC, writeDemo } from './export';
import { backendSummary, parseTables, PROFILE_OPTIONS, profileOf } from './runOptions';

export async function reproduceCommand(argv: string[]): Promise<number> {
  const { options, flags } = parseArgs(argv, {
    flags: ['no-notebooks', 'rerun-notebooks', 'dry-run', 'no-wait'],
    options: [...PROFILE_OPTIONS, 'jobs', 'tables', 'rows', 'replicates', 'out', 'executor', 'partition', 'gpus-per-task'],
  });
  const selected = profileOf(options);
  const replicates = optionalIntOption(options, 'replicates');
  // Fewer (or more) seeds than the profile's: the replicate count is not in any stage's key, so the
  // trainings made are reused either way.
  const profile = replicates === undefined ? selected : { ...selected, generate: { ...selected.generate, replicates } };
  if (profile.budget === 'smoke') return smokeCommand(options, flags);
  const jobs = intOption(options, 'jobs', Math.max(1, os.cpus().length));
  const tables = parseTables(options.tables);
  const rows = parseRows(options.rows);
  const outDir = path.resolve(options.out ?? path.join(projectRoot(), 'reports', reportName(profile)));
  const t0 = Date.now();
  const executor = choice('executor', options.executor, ['local', 'slurm'] as const, 'local');
  if (executor === 'local') {
    const slurmOnly = ['partition', 'gpus-per-task'].filter((o) => o in options).concat(['dry-run', 'no-wait'].filter((f) => flags.has(f)));
    if (slurmOnly.length) throw new UsageError(`--${slurmOnly[0]} needs --executor slurm`);
  } else if (replicates !== undefined) {
    throw new UsageError('--replicates needs --executor local (the Slurm tasks take the profile\'s seeds)');
  }
  const partial = rows !== undefined || (replicates !== undefined && replicates !== selected.generate.replicates);
  // MovieLens is fetched (sha256-checked) when absent, so a fresh checkout needs no manual step.
  if (profile.data.dataset !== 'synthetic' && !profile.data.dir && !flags.has('dry-run')) await ensureMovieLens(profile.data.dataset);
  if (executor === 'slurm') {
    return (await import('./slurm')).reproduceOnSlurm({
      profile, tables, outDir, specs: experimentsFor(tables, profile.generate.replicates, rows),
      notebooks: !flags.has('no-notebooks') && !rows, rerunNotebooks: flags.has('rerun-notebooks'),
      partition: options.partition, gpusPerTask: optionalIntOption(options, 'gpus-per-task'),
      dryRun: flags.has('dry-run'), wait: !flags.has('no-wait'),
    });
  }
  await initBackend();
  await runExperiments(profile, experimentsFor(tables, profile.generate.replicates, rows), { jobs });
  const { json, md, doc } = await collectAndWrite(profile, tables, outDir, { embeddings: rows });
  process.stderr.write(`[reproduce] tables written: ${json}, ${md} (${formatSeconds((Date.now() - t0) / 1000)})\n`);
  if (partial) {
    // The demo and the notebooks show every row with the profile's seeds; a partial run stops at its tables.
    const what = [rows ? `the rows of ${rows.join(', ')}` : '', replicates !== undefined ? `${replicates} seed(s) per row` : ''].filter(Boolean).join(', ');
    process.stderr.write(`[reproduce] ${what}: no demo and no notebooks (they show every row with the profile's seeds)\n`);
    return 0;
  }
  // The multi-task model as a live page (demo.html), before the notebooks so their index links it.
  const demo = await writeDemo(profile, DEMO_SPEC, outDir);
  process.stderr.write(`[reproduce] demo written: ${demo.html}\n`);
  if (!flags.has('no-notebooks')) {
    // Executed notebooks are reused while the tables, the code, the data and the installed packages
    // are those they were run with (and their source is unchanged): a warm run then takes seconds.
    const reuseKey = flags.has('rerun-notebooks')
      ? undefined
      : artifactKey('notebooks', {
          profile,
          tables,
          rows: doc.rows,
          data: dataFingerprint(profile),
          code: codeVersion(['lib']),
          packages: sha256File(path.join(projectRoot(), 'package-lock.json')),
        });
    await runNotebooks({ profile: profile.name, outDir, jobs, reuseKey, env: dataSourceEnvironment(profile) });
  }
  process.stderr.write(`[reproduce] done in ${formatSeconds((Date.now() - t0) / 1000)}: ${path.join(outDir, 'index.html')}\n`);
  return 0;
}

/** The embeddings a --rows value names (default: every row). */
function parseRows(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const known = [...EMBEDDING_STRATEGIES, 'separate'];
  const rows = value.split(',').filter((r) => r !== '');
  if (rows.length === 0) throw new UsageError(`--rows: expected embeddings separated by commas (${known.join(', ')})`);
  for (const r of rows) if (!known.includes(r)) throw new UsageError(`--rows: unknown embedding "${r}" (known: ${known.join(', ')})`);
  return rows;
}

export async function runConfigCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, { options: [...PROFILE_OPTIONS] });
  if (positional.length !== 1) throw new UsageError('expected one experiment id <embedding>/<quantizer>/<shared|separate>');
  const spec = parseSpecId(positional[0]);
  const ctx = createContext(profileOf(options));
  await initBackend();
  const exp = await experimentStage(ctx, spec);
  process.stdout.write(`${positional[0]} ${exp.cached ? 'cached' : 'trained'} ${exp.key}\n`);
  return 0;
}

/** `sid reproduce --budget smoke`: every kind of stage once at full size, measured, in this process. */
async function smokeCommand(options: Record<string, string>, flags: Set<string>): Promise<number> {
  const extra = ['jobs', 'executor', 'partition', 'gpus-per-task'].filter((o) => o in options).concat(['no-notebooks', 'rerun-notebooks', 'dry-run', 'no-wait'].filter((f) => flags.has(f)));
  if (extra.length) throw new UsageError(`--${extra[0]} does not apply to --budget smoke (it runs every stage once in this process and executes no notebooks)`);
  const full = profileOf({ ...options, budget: 'full' });
  const tables = parseTables(options.tables);
  const outDir = path.resolve(options.out ?? path.join(projectRoot(), 'reports', `${reportName(full)}-smoke`));
  if (full.data.dataset !== 'synthetic' && !full.data.dir) await ensureMovieLens(full.data.dataset);
  const backend = await initBackend();
  const report = await runSmoke(full, { outDir, tables, backend: backendSummary(backend) });
  process.stderr.write(`[smoke] done in ${formatSeconds(report.smokeSeconds)}: ${path.join(outDir, 'stages.md')}\n`);
  process.stdout.write(smokeMarkdown(report));
  return 0;
}

