/** `sid scale`: the smoke run at several catalogue sizes (lib/pipeline/scaling.ts), for notebook 09. */
import * as path from 'node:path';
import { initBackend } from '../backend/index';
import { defaultScalingSizes, runScaling } from '../pipeline/scaling';
import { projectRoot } from '../util/fs';
import { intOption, parseArgs, UsageError } from './args';
import { backendSummary, parseTables, profileOf } from './runOptions';
import { scalingTable } from '../views/scaling';

export async function scaleCommand(argv: string[]): Promise<number> {
  const { options } = parseArgs(argv, { options: ['profile', 'items', 'tables', 'out', 'data-dir', 'seed'] });
  const profile = profileOf({ profile: options.profile });
  const sizes = options.items ? options.items.split(',').map((s) => Number(s)) : defaultScalingSizes(profile);
  const min = profile.data.dataset === 'synthetic' ? 20 : 40;
  for (const n of sizes) if (!Number.isInteger(n) || n < min) throw new UsageError(`--items: every size must be an integer >= ${min}, got "${options.items}"`);
  const tables = parseTables(options.tables);
  const outDir = path.resolve(options.out ?? path.join(projectRoot(), 'reports', `${profile.name}-scaling`));
  const backend = await initBackend();
  const report = await runScaling(profile, {
    outDir, sizes, tables, backend: backendSummary(backend),
    dataDir: options['data-dir'] ? path.resolve(options['data-dir']) : undefined,
    seed: intOption(options, 'seed', 0, 0),
  });
  const rows = scalingTable(report);
  const cols = Object.keys(rows[0] ?? {});
  process.stdout.write([cols.join(' | '), ...rows.map((r) => cols.map((c) => r[c]).join(' | '))].join('\n') + '\n');
  process.stderr.write(`[scale] written: ${path.join(outDir, 'scaling.json')}\n`);
  return 0;
}
