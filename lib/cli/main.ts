/**
 * The `sid` command. Each sub-command lives in its own module and is imported only when used, so
 * `sid data stats` does not pay for loading the generative model code.
 */
import { UsageError } from './args';

const USAGE = `sid: Semantic IDs for joint generative search and recommendation

Usage:
  sid data stats   [--dataset <name>|--profile <p>] [--json]   counts, splits, queries, buckets
  sid data fetch   <ml-latest-small|ml-25m> [--dest <dir>]     download the GroupLens archive
  sid embed        --strategy <s> [--profile <p>] [--json]      build item embeddings, print retrieval metrics
  sid ids          --embedding <s> --quantizer <q> [--profile <p>] [--json]   Semantic IDs and diagnostics
  sid train        --embedding <s> [--quantizer <q>] [--space shared|separate] [--profile <p>]
  sid eval         --embedding <s> [--quantizer <q>] [--space shared|separate] [--profile <p>] [--json]
  sid reproduce    [--profile <p>] [--jobs N] [--tables a,b] [--no-notebooks] [--rerun-notebooks]
                   every table into reports/<p>/ (executed notebooks are reused while nothing they show changed)
  sid notebooks run [names...] [--profile <p>]                   execute notebooks into reports/<p>/
  sid bench        <matmul|contrastive|kmeans|seq2seq> [--json]

Profiles: tiny (synthetic, CI), small (ml-latest-small, default), paper (ml-25m at paper scale).
Environment: MOVIELENS_DIR (data folder), SID_BACKEND (wasm|cpu|tfjs-node|tfjs-node-gpu),
SID_THREADS (wasm threads), SID_CACHE_DIR (artifact cache), SID_QUIET=1 (no progress lines).
`;

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  data: async () => (await import('./data')).dataCommand,
  embed: async () => (await import('./experiments')).embedCommand,
  ids: async () => (await import('./experiments')).idsCommand,
  train: async () => (await import('./experiments')).trainCommand,
  eval: async () => (await import('./experiments')).evalCommand,
  reproduce: async () => (await import('./reproduce')).reproduceCommand,
  notebooks: async () => (await import('./notebooks')).notebooksCommand,
  bench: async () => (await import('./bench')).benchCommand,
  'run-config': async () => (await import('./reproduce')).runConfigCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return name ? 0 : 1;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`sid: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await (await load())(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`sid ${name}: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`sid ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    if (process.env.SID_DEBUG === '1' && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}
