/**
 * The `sid` command. Each sub-command lives in its own module and is imported only when used, so
 * `sid data stats` does not pay for loading the generative model code. Before a command is loaded,
 * its command line is checked against lib/cli/specs.ts (usage errors exit 2), `-h`/`--help` prints
 * its options and exits, and the folders it will write are proven writable.
 */
import * as path from 'node:path';
import { UsageError } from './args';
import { checkCommandLine, helpText, optionValue, specFor, SPECS, wantsHelp } from './specs';
import { InterruptedError } from '../util/children';
import { modelsRoot } from '../embed/modelStore';
import { assertCreatableDir, assertWritableDir, projectRoot } from '../util/fs';

const USAGE = `sid: Semantic IDs for joint generative search and recommendation

Usage:
  sid data stats   [--dataset <name>|--profile <p>] [--dir <dir>] [--queries <file.jsonl>] [--json]
  sid data fetch   <ml-latest-small|ml-25m> [--dest <dir>]     download the GroupLens archive
  sid data synth   --like ml-25m --out <dir> [--seed N] [--movies N] [--users N]   synthetic folder in ml-25m's layout
  sid data queries --llm --out <file.jsonl> [--items all|N] [--styles a,b] [--base-url <url>] [--model <name>] ...
                   search queries written by a language model (OpenAI-compatible endpoint; resumable)
  sid embed        --strategy <s> [--profile <p>] [--json]      build item embeddings, print retrieval metrics
  sid ids          [--embedding <s>] [--quantizer <q>] [--collisions <c>] [--profile <p>] [--json]
  sid train        [--embedding <s>] [--quantizer <q>] [--space shared|separate] [--profile <p>]
                   [--epochs N] [--examples-per-epoch N] [--batch-size N] [--lr X] [--search-fraction X] [--history-length N]
  sid eval         (same options as train) [--json]
  sid reproduce    [--profile <p>] [--jobs N] [--tables a,b] [--out <dir>] [--no-notebooks] [--rerun-notebooks]
                   [--executor local|slurm] [--partition P] [--gpus-per-task N] [--dry-run] [--no-wait]
                   every table into reports/<p>/ (executed notebooks are reused while nothing they show changed)
  sid reproduce    --budget smoke [--profile <p>] [--dataset-dir <dir>] [--tables a,b] [--out <dir>]
                   every stage once at full size, measured; the full run's time extrapolated (reports/<p>-smoke/)
  sid scale        [--profile <p>] [--items N,N,...] [--out <dir>] [--data-dir <dir>]
                   the smoke run at several catalogue sizes: cost curves (reports/<p>-scaling/, notebook 09)
  sid export       [--embedding <s>] [--quantizer <q>] [--space shared|separate] [--profile <p>] [--out <dir>]
                   the trained model as a live browser demo, reports/<p>/demo.html
  sid notebooks run [names...] [--profile <p>] [--param name=value]... [--no-code] [--out <dir>] [--timeout S] [--jobs N] [--keep-going]
  sid notebooks list [names...] [--json]                      each notebook's parameters
  sid models fetch <hub id> [--quantized] [--hub-url <url>] [--models-dir <dir>]
                   download a sentence-transformer (transformers.js ONNX export) for --content-model
  sid models list  [--models-dir <dir>] [--verify] [--json]     fetched models with their sizes
  sid bench        <matmul|contrastive|kmeans|seq2seq|train-step> [--kernels native|wasm|both] [--backend <name>] [--json]

  sid <command> --help   lists a command's options with their defaults.
  Try without MovieLens: sid notebooks run 00_data --profile tiny

Profiles: tiny (synthetic, CI), small (ml-latest-small, default), paper (ml-25m at paper scale).
Environment: MOVIELENS_DIR (data folder), SID_PROFILE, SID_DATASET_DIR and SID_QUERIES (as --dataset-dir, --queries), SID_BACKEND (webgpu|tfjs-node-gpu|tfjs-node|wasm|cpu),
SID_NATIVE=0 (wasm kernels, not native BLAS), SID_THREADS (wasm and BLAS threads), SID_CACHE_DIR (artifact cache),
SID_QUIET=1 (no progress lines), SID_CONTENT_MODEL (as --content-model), SID_MODELS_DIR and SID_HUB_URL (sid models).
`;

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  data: async () => (await import('./data')).dataCommand,
  embed: async () => (await import('./experiments')).embedCommand,
  ids: async () => (await import('./experiments')).idsCommand,
  train: async () => (await import('./experiments')).trainCommand,
  eval: async () => (await import('./experiments')).evalCommand,
  reproduce: async () => (await import('./reproduce')).reproduceCommand,
  scale: async () => (await import('./scale')).scaleCommand,
  notebooks: async () => (await import('./notebooks')).notebooksCommand,
  export: async () => (await import('./export')).exportCommand,
  models: async () => (await import('./models')).modelsCommand,
  bench: async () => (await import('./bench')).benchCommand,
  'run-config': async () => (await import('./reproduce')).runConfigCommand,
  'run-stage': async () => (await import('./stage')).runStageCommand,
};

/** Commands that write the artifact cache, and those that write an output folder (`--out`). */
const USES_CACHE = new Set(['embed', 'ids', 'train', 'eval', 'reproduce', 'notebooks run', 'run-config', 'run-stage', 'export']);
const WRITES_OUT = new Set(['reproduce', 'notebooks run', 'export', 'scale']);
/** The folder under reports/ a command writes by default. */
function defaultOutName(key: string, argv: string[], profile: string): string {
  if (key === 'scale') return `${profile}-scaling`;
  if (key === 'reproduce' && optionValue(argv, 'budget') === 'smoke') return `${profile}-smoke`;
  return profile;
}

/**
 * Proves, before any work, that the folders the command will write can be written. A dry run
 * (`--dry-run`) creates none of them: it checks that each could be created.
 */
function checkFolders(key: string, argv: string[]): void {
  const check = argv.includes('--dry-run') ? assertCreatableDir : assertWritableDir;
  if (USES_CACHE.has(key)) {
    check(path.resolve(process.env.SID_CACHE_DIR ?? path.join(projectRoot(), '.cache', 'artifacts')), process.env.SID_CACHE_DIR ? 'cache folder (SID_CACHE_DIR)' : 'cache folder');
  }
  if (WRITES_OUT.has(key)) {
    const out = optionValue(argv, 'out');
    const profile = optionValue(argv, 'profile') ?? process.env.SID_PROFILE ?? 'small';
    check(path.resolve(out ?? path.join(projectRoot(), 'reports', defaultOutName(key, argv, profile))), out ? 'output folder (--out)' : 'output folder');
  }
  if (key === 'models fetch') {
    const dir = optionValue(argv, 'models-dir');
    check(modelsRoot(dir), dir ? 'models folder (--models-dir)' : process.env.SID_MODELS_DIR ? 'models folder (SID_MODELS_DIR)' : 'models folder');
  }
  if (key === 'data fetch') {
    const dest = optionValue(argv, 'dest');
    check(path.resolve(dest ?? path.join(projectRoot(), 'data', 'movielens')), dest ? 'destination (--dest)' : 'destination');
  }
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' && rest.length ? specFor(rest[0], rest.slice(1)).key : undefined;
    if (topic && SPECS[topic]) {
      process.stdout.write(helpText(topic));
      return 0;
    }
    if (topic) {
      process.stderr.write(`sid: unknown command "${rest.join(' ')}"\n\n${USAGE}`);
      return 2;
    }
    // A bare `sid` is a usage error (exit 2) that prints the usage; asking for help is not.
    (name ? process.stdout : process.stderr).write(USAGE);
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`sid: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    const { key, rest: tail } = specFor(name, rest);
    if (wantsHelp(rest)) {
      process.stdout.write(helpText(key));
      return 0;
    }
    checkCommandLine(key, tail);
    checkFolders(key, tail);
    return await (await load())(rest);
  } catch (err) {
    // Stopped by a signal: the handler in lib/util/children.ts has said so and exits with this code.
    if (err instanceof InterruptedError) return err.exitCode;
    if (err instanceof UsageError) {
      process.stderr.write(`sid ${name}: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`sid ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    if (process.env.SID_DEBUG === '1' && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}
