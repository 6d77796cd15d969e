/** `sid notebooks run [names...] --profile <p>`: executes notebooks headlessly into reports/<profile>/. */
import { runNotebooks } from '../report/notebooks';
import { getProfile } from '../pipeline/profiles';
import { parseArgs, UsageError } from './args';

export async function notebooksCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'run') throw new UsageError(`expected "notebooks run [names...]", got "notebooks ${sub ?? ''}"`);
  const { positional, options, flags } = parseArgs(rest, { flags: ['keep-going'], options: ['profile', 'out', 'timeout', 'jobs'] });
  const profile = getProfile(options.profile);
  const runs = await runNotebooks({
    names: positional.length ? positional : undefined,
    profile: profile.name,
    outDir: options.out,
    timeoutSec: options.timeout ? Number(options.timeout) : undefined,
    keepGoing: flags.has('keep-going'),
    jobs: options.jobs ? Number(options.jobs) : 1,
  });
  for (const r of runs) process.stdout.write(`${r.name}\t${r.seconds.toFixed(1)}s\t${r.html}\n`);
  return 0;
}
