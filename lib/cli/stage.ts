/**
 * `sid run-stage <kind> [<arg>[,<arg>...]]`: instances of one stage kind (lib/pipeline/stageKinds.ts),
 * cached, in this process (the tasks of `sid reproduce --executor slurm`). Instances named together
 * share the process, so the fused embeddings reuse the search and rec models built before them.
 * Trainings are `sid run-config <spec id>`.
 */
import { initBackend } from '../backend/index';
import { stageKind, stageKinds } from '../pipeline/stageKinds';
import { createContext } from '../pipeline/stages';
import { parseArgs, UsageError } from './args';
import { PROFILE_OPTIONS, profileOf } from './runOptions';

function usage(): string {
  return `expected one of ${stageKinds().map((k) => `"${k.name}${k.argUsage ? ` ${k.argUsage}` : ''}"`).join(', ')}`;
}

export async function runStageCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, { options: [...PROFILE_OPTIONS] });
  const [name, arg, ...extra] = positional;
  const kind = name === undefined ? undefined : stageKind(name);
  if (!kind || extra.length || (kind.argUsage === '') !== (arg === undefined)) throw new UsageError(`${usage()}, got "${positional.join(' ')}"`);
  const args = (arg === undefined ? [''] : arg.split(',')).map((a) => {
    try {
      return kind.parseArg(a);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  });
  const ctx = createContext(profileOf(options));
  await initBackend();
  for (const a of args) {
    const r = await kind.run(ctx, a);
    process.stdout.write(`${kind.label(a)} ${r.cached ? 'cached' : 'built'} ${r.key}\n`);
  }
  return 0;
}
