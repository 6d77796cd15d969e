/**
 * Every `sid` command's options, in one place: `--help` prints them (with defaults), and main.ts
 * checks a command line against them before the command starts any work (unknown, repeated or
 * malformed options and stray words are usage errors, exit 2).
 *
 * The choice lists come from lib/names.ts, a leaf module, so `--help` and these checks load no
 * model code.
 */
import { DEPRECATED_QUANTIZER_NAMES, EMBEDDING_STRATEGIES, LLM_QUERY_STYLES, PROFILE_NAMES, QUANTIZER_NAMES, TABLE_NAMES } from '../names';
import { UsageError } from './args';

export interface OptionSpec {
  name: string;
  /** Placeholder of the value; absent for a flag. */
  arg?: string;
  help: string;
  default?: string;
  /** Accepted values (checked here). */
  choices?: readonly string[];
  /** An integer >= min (checked here). */
  int?: { min: number };
  /** A comma-separated list of `choices`. */
  list?: boolean;
  /** May be given more than once (each value is kept; see optionValues). */
  repeatable?: boolean;
}

export interface CommandSpec {
  usage: string;
  summary: string;
  /** What the positional words are, for the usage line and their count. */
  positional?: { label: string; min: number; max: number; choices?: readonly string[] };
  options: OptionSpec[];
  /** Lines printed after the options. */
  notes?: string[];
  /** Options the command parses itself (bench: owned by lib/cli/bench.ts). */
  lenient?: boolean;
}

const profile: OptionSpec = {
  name: 'profile',
  arg: '<p>',
  choices: PROFILE_NAMES,
  default: '$SID_PROFILE, else small',
  help: 'data and sizes: tiny (synthetic, minutes), small (ml-latest-small), paper (ml-25m)',
};
/** The profile and what may vary it: commands that run stages take all of them (lib/cli/runOptions.ts). */
const profileSelection: OptionSpec[] = [
  profile,
  {
    name: 'budget',
    arg: '<full|smoke>',
    choices: ['full', 'smoke'],
    default: 'full',
    help: "smoke: the profile's data and sizes with training, ALS, SASRec and decoding cut to a few steps (sid reproduce: every stage measured, full run extrapolated)",
  },
  { name: 'dataset-dir', arg: '<dir>', default: "the profile's data set", help: 'MovieLens folder (movies.csv, ratings.csv, tags.csv) in place of the profile\'s, e.g. from sid data synth' },
  { name: 'queries', arg: '<file.jsonl>', default: '$SID_QUERIES, else generated template queries', help: 'search queries from this file (e.g. written by sid data queries --llm), keyed by its content; reports go to reports/<profile>-<file name>/' },
  {
    name: 'content-model',
    arg: '<hub id|dir>',
    default: '$SID_CONTENT_MODEL, else TF-IDF + SVD',
    help: 'sentence-transformer of the content embedding: a transformers.js model folder, or a hub id fetched by sid models fetch; keyed by its files\' content; reports go to reports/<profile>-<model name>/',
  },
];
const json: OptionSpec = { name: 'json', help: 'print JSON instead of text' };
const quantizer: OptionSpec = { name: 'quantizer', arg: '<q>', choices: QUANTIZER_NAMES, default: 'rq-kmeans', help: 'how Semantic IDs are made' };
const tokenizer: OptionSpec = { name: 'tokenizer', arg: '<q>', choices: [...QUANTIZER_NAMES, ...Object.keys(DEPRECATED_QUANTIZER_NAMES)], help: 'former name of --quantizer (deprecated)' };
const experiment: OptionSpec[] = [
  { name: 'embedding', arg: '<s>', choices: [...EMBEDDING_STRATEGIES, 'separate'], default: 'multitask', help: 'embedding the IDs come from; separate: search IDs and rec IDs' },
  quantizer,
  tokenizer,
  { name: 'space', arg: '<shared|separate>', choices: ['shared', 'separate'], default: 'shared (separate with --embedding separate)', help: 'one ID token set for both tasks, or one per task' },
  ...profileSelection,
  { name: 'epochs', arg: 'N', int: { min: 1 }, default: "the profile's", help: 'training epochs' },
  { name: 'patience', arg: 'N', int: { min: 0 }, default: "the profile's", help: 'epochs without a better validation recall before training stops; 0: train every epoch' },
  { name: 'examples-per-epoch', arg: 'N', int: { min: 1 }, default: "the profile's", help: 'training examples per epoch' },
  { name: 'batch-size', arg: 'N', int: { min: 1 }, default: "the profile's", help: 'training batch size' },
  { name: 'lr', arg: 'X', default: "the profile's", help: 'peak learning rate, in (0, 1]' },
  { name: 'search-fraction', arg: 'X', default: "the profile's", help: 'share of search examples in a batch, in [0, 1]' },
  { name: 'history-length', arg: 'N', int: { min: 1 }, default: "the profile's", help: 'items of history in a rec prompt' },
  { name: 'task-batches', arg: '<single|mixed>', choices: ['single', 'mixed'], default: "the profile's (single)", help: 'each batch one task, or both tasks mixed in the search share' },
  { name: 'stop-on', arg: '<recall|loss>', choices: ['recall', 'loss'], default: "the profile's (recall)", help: 'what picks the best epoch and drives --patience: validation Recall@30 of beam search, or the teacher-forced validation loss' },
  { name: 'decay', arg: '<cosine|linear|constant|wsd>', choices: ['cosine', 'linear', 'constant', 'wsd'], default: "the profile's", help: 'learning-rate schedule after warmup; wsd: the peak until the plateau rule fires, then --decay-epochs of linear decay' },
  { name: 'decay-epochs', arg: 'N', int: { min: 1 }, default: "the profile's (2)", help: 'wsd: epochs of the final decay' },
  { name: 'warmup-steps', arg: 'N', int: { min: 0 }, default: "the profile's (5% of the cap's steps)", help: 'warmup steps' },
  { name: 'embedding-lr-scale', arg: 'X', default: "the profile's (1)", help: 'learning rate of the token embeddings as a multiple of --lr' },
  { name: 'softmax', arg: '<full|level>', choices: ['full', 'level'], default: "the profile's (full)", help: 'training and decoding softmax over every ID token, or over the codes of each position only' },
  { name: 'indexing-copies', arg: 'N', int: { min: 0 }, default: "the profile's (0)", help: "copies of each item's own text added as search training examples" },
  { name: 'rec-sampling', arg: '<window|user>', choices: ['window', 'user'], default: "the profile's (window)", help: 'rec training windows drawn uniformly, or a user uniformly and then one of their windows' },
  { name: 'min-delta', arg: 'X', default: "the profile's (0)", help: 'smallest gain of the validation score that resets --patience' },
  { name: 'replicate', arg: 'N', int: { min: 0 }, default: '0', help: 'the seed: the profile\'s seed + N, as the reproduction\'s N-th seed of this row' },
  json,
];

export const SPECS: Record<string, CommandSpec> = {
  data: {
    usage: 'sid data <stats|fetch|synth|queries> ...',
    summary: 'the data set: counts and splits, download, a synthetic folder, or LLM-written search queries',
    positional: { label: '<stats|fetch|synth|queries>', min: 1, max: 1, choices: ['stats', 'fetch', 'synth', 'queries'] },
    options: [],
    notes: ['Run "sid data stats --help", "sid data fetch --help", "sid data synth --help" or "sid data queries --llm --help" for their options.'],
  },
  'data stats': {
    usage: 'sid data stats',
    summary: 'counts read and kept, splits, queries, popularity buckets',
    options: [
      { name: 'dataset', arg: '<name>', choices: ['ml-latest-small', 'ml-25m', 'synthetic'], default: "the profile's", help: 'data set (keeps the profile\'s query settings)' },
      profile,
      { name: 'dir', arg: '<dir>', default: '$MOVIELENS_DIR, else data/movielens/<dataset>', help: 'folder holding movies.csv, ratings.csv, tags.csv' },
      { name: 'queries', arg: '<file.jsonl>', default: 'generated queries', help: 'import search queries from a JSONL file' },
      json,
    ],
  },
  'data fetch': {
    usage: 'sid data fetch <ml-latest-small|ml-25m>',
    summary: 'download the GroupLens archive (sha256-checked)',
    positional: { label: '<ml-latest-small|ml-25m>', min: 1, max: 1, choices: ['ml-latest-small', 'ml-25m'] },
    options: [{ name: 'dest', arg: '<dir>', default: 'data/movielens', help: 'folder the data set is unpacked into (as <dest>/<name>/)' }],
  },
  'data synth': {
    usage: 'sid data synth --like ml-25m --out <dir>',
    summary: 'write a synthetic MovieLens folder in a release\'s layout and size (streamed)',
    options: [
      { name: 'like', arg: '<release>', choices: ['ml-25m'], help: 'release whose layout and sizes are imitated (required)' },
      { name: 'out', arg: '<dir>', help: 'folder for movies.csv, ratings.csv, tags.csv (required; replaced as a whole)' },
      { name: 'seed', arg: 'N', int: { min: 0 }, default: '0', help: 'same seed, same bytes' },
      { name: 'movies', arg: 'N', int: { min: 40 }, default: "the release's (62423)", help: 'movies; users scale with them' },
      { name: 'users', arg: 'N', int: { min: 1 }, default: "the release's users per movie x --movies", help: 'users' },
    ],
    notes: ['Read it with MOVIELENS_DIR=<dir> (e.g. sid data stats --profile paper), or --dir <dir>.'],
  },
  'data queries': {
    usage: 'sid data queries --llm --out <file.jsonl>',
    summary: 'search queries for the data set\'s items, written by a language model behind an OpenAI-compatible endpoint (resumable)',
    options: [
      { name: 'llm', help: 'queries written by a language model (required)' },
      { name: 'out', arg: '<file.jsonl>', help: 'query file to write, or to continue (required); read it with --queries' },
      { name: 'dataset', arg: '<name>', choices: ['ml-latest-small', 'ml-25m', 'synthetic'], default: "the profile's", help: 'data set' },
      profile,
      { name: 'dir', arg: '<dir>', default: '$MOVIELENS_DIR, else data/movielens/<dataset>', help: 'folder holding movies.csv, ratings.csv, tags.csv' },
      { name: 'items', arg: '<all|N>', default: 'all', help: 'every item, or N items drawn uniformly over popularity (one per stratum of the training-popularity ranking)' },
      { name: 'seed', arg: 'N', int: { min: 0 }, default: '0', help: 'seed of the item sample and of the retry jitter' },
      { name: 'styles', arg: 'a,b', choices: LLM_QUERY_STYLES, list: true, default: LLM_QUERY_STYLES.join(','), help: 'query styles asked for' },
      { name: 'per-style', arg: 'N', int: { min: 1 }, default: '1', help: 'queries of each style per item (the paper\'s 20 per item: 4 with the five styles)' },
      { name: 'prompt-file', arg: '<file>', default: 'data/prompts/llm-queries.txt', help: 'prompt template; placeholders {{title}} {{year}} {{genres}} {{tags}} {{styles}} {{style_guide}} {{count}} {{per_style}}' },
      { name: 'base-url', arg: '<url>', default: '$SID_LLM_BASE_URL, else $OPENAI_BASE_URL', help: 'endpoint base, requests go to <url>/chat/completions (e.g. https://api.openai.com/v1, http://127.0.0.1:8000/v1 for vLLM, http://127.0.0.1:11434/v1 for Ollama)' },
      { name: 'model', arg: '<name>', default: '$SID_LLM_MODEL', help: 'model name sent with each request' },
      { name: 'api-key', arg: '<key>', default: '$SID_LLM_API_KEY, else $OPENAI_API_KEY, else none', help: 'bearer key (prefer the environment: a command line is visible to other users)' },
      { name: 'temperature', arg: 'X', default: "the server's", help: 'sampling temperature, in [0, 2]' },
      { name: 'concurrency', arg: 'N', int: { min: 1 }, default: '4', help: 'requests in flight at once' },
      { name: 'timeout', arg: 'S', default: '120', help: 'seconds one request may take, to the last byte of the answer' },
      { name: 'retries', arg: 'N', int: { min: 0 }, default: '5', help: 'further tries of an item after a rate limit (Retry-After honoured), a server error, a timeout, a dropped connection (exponential backoff with jitter) or an answer that does not validate' },
    ],
    notes: [
      'Each line written: {"item_id": <movieId>, "style": "...", "known": true|false, "query": "..."}; an item\'s lines are written together.',
      'An answer is used when it is JSON (a ```json fence is fine) with --per-style queries of each asked style, each 2-12 words, no two alike',
      '(case and spacing ignored), and no plot, people or vibe query using a title word of four or more letters.',
      'Run again with the same options, it continues: complete items are kept, a partial last line or an incomplete item is redone.',
      'Items that never validate are listed at the end and not written (exit status 1); a rerun asks for them again.',
      'A request refused for good (an HTTP 4xx other than 408, 409 and 429: a wrong key, model or URL) stops the run; complete items are kept.',
      'A progress line with rate and ETA goes to stderr (SID_QUIET=1 silences it); the summary goes to stdout.',
    ],
  },
  embed: {
    usage: 'sid embed --strategy <s>',
    summary: 'build item embeddings, print their dense-retrieval metrics',
    options: [{ name: 'strategy', arg: '<s>', choices: EMBEDDING_STRATEGIES, default: '(required)', help: 'embedding strategy' }, ...profileSelection, json],
  },
  ids: {
    usage: 'sid ids',
    summary: 'Semantic IDs of every item, with diagnostics',
    options: [
      { name: 'embedding', arg: '<s>', choices: EMBEDDING_STRATEGIES, default: 'multitask', help: 'embedding to quantise' },
      quantizer,
      tokenizer,
      { name: 'collisions', arg: '<extra-level|none>', choices: ['extra-level', 'none'], default: "the profile's", help: 'how items that share a code are told apart' },
      ...profileSelection,
      json,
    ],
  },
  train: {
    usage: 'sid train',
    summary: 'train (resumably) and evaluate one generative model; print its training curve',
    options: experiment,
  },
  eval: {
    usage: 'sid eval',
    summary: 'metrics with intervals of one generative model; rec against popularity (paired)',
    options: [
      ...experiment,
      {
        name: 'compare',
        arg: '<id|baselines>',
        help: 'also compare this row with another (<embedding>/<quantizer>/<shared|separate>): paired Recall@30 difference over every seed of both; baselines: every seed of this row against popularity, co-occurrence and item-kNN on the same rec test users',
      },
    ],
  },
  reproduce: {
    usage: 'sid reproduce',
    summary: 'every table and notebook into reports/<profile>/ (reports/<profile>-<query file>/ with --queries)',
    options: [
      ...profileSelection,
      { name: 'jobs', arg: 'N', int: { min: 1 }, default: 'one per core', help: 'trainings (and notebooks) run in parallel' },
      { name: 'tables', arg: 'a,b', choices: TABLE_NAMES, list: true, default: TABLE_NAMES.join(','), help: 'tables to build' },
      { name: 'rows', arg: 'a,b', choices: [...EMBEDDING_STRATEGIES, 'separate'], list: true, default: 'every row', help: "only the tables' rows whose IDs come from these embeddings (the baselines and dense retrieval stay whole); no demo and no notebooks" },
      { name: 'replicates', arg: 'N', int: { min: 1 }, default: "the profile's (3 on small)", help: 'seeds per generative row (and SASRec); trainings already made are reused; with a count other than the profile\'s, no demo and no notebooks' },
      { name: 'out', arg: '<dir>', default: 'reports/<profile>, or reports/<profile>-<query file> with --queries (-smoke added with --budget smoke)', help: 'folder for results.json, results.md and the reports' },
      { name: 'no-notebooks', help: 'write the tables only' },
      { name: 'rerun-notebooks', help: 'execute the notebooks even when their reports are up to date' },
      { name: 'executor', arg: '<local|slurm>', choices: ['local', 'slurm'], default: 'local', help: 'run the stages here, or as Slurm job arrays sharing the cache' },
      { name: 'partition', arg: 'P', default: "the cluster's", help: 'Slurm partition of every job (with --executor slurm)' },
      { name: 'gpus-per-task', arg: 'N', int: { min: 1 }, default: 'none', help: 'GPUs per stage task (with --executor slurm)' },
      { name: 'dry-run', help: 'print the sbatch commands and scripts, submit nothing (with --executor slurm)' },
      { name: 'no-wait', help: 'submit and exit, printing the job ids (with --executor slurm)' },
    ],
    notes: [
      'Interrupted (Ctrl-C, SIGTERM), it stops its workers; a rerun resumes from the cache.',
      'With --executor slurm the checkout and the cache (SID_CACHE_DIR) must be on a folder every node sees.',
      '--budget smoke writes stages.json and stages.md into reports/<profile>-smoke/: each stage\'s time, peak memory and artifact size, and the full run\'s time.',
    ],
  },
  scale: {
    usage: 'sid scale',
    summary: 'cost curves: the smoke run (sid reproduce --budget smoke) at several catalogue sizes',
    options: [
      profile,
      { name: 'items', arg: 'N,N,...', default: 'paper: 10000,20000,40000,62423; tiny: 100,200,400', help: 'catalogue sizes (movies of each synthetic folder)' },
      { name: 'tables', arg: 'a,b', choices: TABLE_NAMES, list: true, default: TABLE_NAMES.join(','), help: 'tables whose full run is extrapolated' },
      { name: 'out', arg: '<dir>', default: 'reports/<profile>-scaling', help: 'folder for items-N/stages.json and scaling.json' },
      { name: 'data-dir', arg: '<dir>', default: '<out>/data', help: 'folder for the synthetic ml-25m-shaped folders (kept and reused)' },
      { name: 'seed', arg: 'N', int: { min: 0 }, default: '0', help: 'seed of the synthetic folders' },
    ],
    notes: ['A size already measured (its items-N/stages.json) is kept: an interrupted sweep resumes. Notebook 09_scaling shows the curves.'],
  },
  export: {
    usage: 'sid export',
    summary: 'the trained joint model as a live browser demo: demo.html in reports/<profile>/, linked from index.html',
    options: [
      ...experiment.filter((o) => ['embedding', 'quantizer', 'tokenizer', 'space'].includes(o.name)),
      ...profileSelection,
      { name: 'out', arg: '<dir>', default: 'reports/<profile>', help: 'folder for demo.html, demo-data.js and demo-runtime.js' },
      json,
    ],
    notes: ['Open demo.html from the folder (file:// works, no server, no network); trains the model first if the cache has none.'],
  },
  notebooks: {
    usage: 'sid notebooks <run|list> ...',
    summary: 'execute notebooks headlessly into reports/<profile>/, or list them with their parameters',
    positional: { label: 'run or list', min: 1, max: 1, choices: ['run', 'list'] },
    options: [],
    notes: ['Run "sid notebooks run --help" or "sid notebooks list --help" for their options.'],
  },
  'notebooks list': {
    usage: 'sid notebooks list [names...]',
    summary: "every notebook (or those named) with the parameters its parameters cell declares",
    positional: { label: '[names...]', min: 0, max: Infinity },
    options: [json],
    notes: ['Override a parameter in a run with: sid notebooks run NAME --param name=value'],
  },
  'notebooks run': {
    usage: 'sid notebooks run [names...]',
    summary: 'execute notebooks (default: all) into reports/<profile>/ as .ipynb and HTML',
    positional: { label: '[names...]', min: 0, max: Infinity },
    options: [
      profile,
      { name: 'out', arg: '<dir>', default: 'reports/<profile>', help: 'folder for the executed notebooks' },
      { name: 'timeout', arg: 'S', int: { min: 0 }, default: '7200', help: 'seconds a cell may run (0: no limit)' },
      { name: 'jobs', arg: 'N', int: { min: 1 }, default: '1', help: 'notebooks run in parallel' },
      { name: 'keep-going', help: 'run the other notebooks after one fails' },
      {
        name: 'param',
        arg: 'name=value',
        repeatable: true,
        help: 'override a parameter after the parameters cell (repeatable; a number, true, false, null or "quoted" is JSON, anything else a string)',
      },
      { name: 'no-code', help: 'leave the code cells out of the HTML reports' },
    ],
    notes: [
      'Try without MovieLens: sid notebooks run 00_data --profile tiny',
      '--param profileName=tiny also sets --profile when that is not given; "sid notebooks list" shows the parameters.',
    ],
  },
  models: {
    usage: 'sid models <fetch|list> ...',
    summary: 'sentence-transformers for the content embedding: download one from a Hugging Face-style hub, or list those fetched',
    positional: { label: '<fetch|list>', min: 1, max: 1, choices: ['fetch', 'list'] },
    options: [],
    notes: ['Run "sid models fetch --help" or "sid models list --help" for their options.'],
  },
  'models fetch': {
    usage: 'sid models fetch <hub id>',
    summary: 'download a transformers.js ONNX export (e.g. Xenova/all-mpnet-base-v2) into <models dir>/<owner>/<name>/, sha256 recorded; resumable',
    positional: { label: '<hub id>', min: 1, max: 1 },
    options: [
      { name: 'quantized', help: 'fetch onnx/model_quantized.onnx instead of onnx/model.onnx' },
      { name: 'hub-url', arg: '<url>', default: '$SID_HUB_URL, else https://huggingface.co', help: 'hub base; files come from <url>/<hub id>/resolve/main/<file>' },
      { name: 'models-dir', arg: '<dir>', default: '$SID_MODELS_DIR, else .cache/models', help: 'folder of fetched models' },
    ],
    notes: [
      'Files: config.json, tokenizer.json, tokenizer_config.json and onnx/model.onnx (or onnx/model_quantized.onnx),',
      'each downloaded to a .part file and put in place by one rename when all are complete; sid-model.json records',
      'their sizes and sha256 sums, checked on every load. Interrupted, run it again: it resumes (HTTP Range).',
      'Then: sid embed --strategy content --content-model <hub id>',
    ],
  },
  'models list': {
    usage: 'sid models list',
    summary: 'fetched models with their sizes, files and origin',
    options: [
      { name: 'models-dir', arg: '<dir>', default: '$SID_MODELS_DIR, else .cache/models', help: 'folder of fetched models' },
      { name: 'verify', help: "also check every file's sha256 against sid-model.json (exit 1 when one fails)" },
      json,
    ],
  },
  bench: {
    usage: 'sid bench <matmul|contrastive|kmeans|seq2seq|train-step>',
    summary: 'the benchmarks the README quotes',
    positional: { label: '<matmul|contrastive|kmeans|seq2seq|train-step>', min: 1, max: 1, choices: ['matmul', 'contrastive', 'kmeans', 'seq2seq', 'train-step'] },
    options: [
      { name: 'n', arg: 'N', default: '1024', help: 'matmul: matrix size' },
      { name: 'prompts', arg: 'N', help: 'seq2seq: prompts to decode' },
      { name: 'steps', arg: 'N', help: 'seq2seq, train-step: training steps timed' },
      { name: 'profile', arg: '<name>', default: 'small', help: 'train-step: the profile whose data, sizes and training settings it runs' },
      { name: 'task-batches', arg: '<single|mixed>', help: 'train-step: one task per batch, or both mixed (the profile\'s unless given)' },
      { name: 'd-model', arg: 'N', help: 'seq2seq: model width' },
      { name: 'd-ff', arg: 'N', help: 'seq2seq: feed-forward width' },
      { name: 'layers', arg: 'N', help: 'seq2seq: encoder and decoder layers (each)' },
      { name: 'batch', arg: 'N', default: '256', help: 'seq2seq: training batch size (train-step: the profile\'s unless given)' },
      { name: 'backend', arg: '<name>', default: '$SID_BACKEND, else the best available', help: 'tfjs backend' },
      { name: 'kernels', arg: '<sets>', help: 'kernel sets to compare' },
      json,
    ],
    lenient: true,
  },
  'run-config': {
    usage: 'sid run-config <embedding>/<quantizer>/<shared|separate>',
    summary: 'one experiment (used by the workers of sid reproduce)',
    positional: { label: '<embedding>/<quantizer>/<shared|separate>', min: 1, max: 1 },
    options: profileSelection,
  },
  'run-stage': {
    usage: 'sid run-stage <kind> [<arg>[,<arg>...]]',
    summary: 'instances of one stage kind before the trainings, cached (the tasks of sid reproduce --executor slurm)',
    positional: { label: 'a stage kind and its instances (lib/pipeline/stageKinds.ts), e.g. embed search,rec; ids multitask/rq-kmeans; baselines; sasrec', min: 1, max: 2 },
    options: profileSelection,
  },
};

/** Which spec a command line uses: "data stats" for `sid data stats ...`, else the command's own. */
export function specFor(command: string, rest: string[]): { key: string; rest: string[] } {
  const sub = rest[0];
  if (sub !== undefined && SPECS[`${command} ${sub}`]) return { key: `${command} ${sub}`, rest: rest.slice(1) };
  return { key: command, rest };
}

/** The text of `sid <command> --help`. */
export function helpText(key: string): string {
  const s = SPECS[key];
  const lines = [`${s.usage}${s.options.length ? ' [options]' : ''}`, `  ${s.summary}`, ''];
  if (s.options.length) {
    lines.push('Options:');
    const rows = s.options.map((o) => {
      const left = `  --${o.name}${o.arg ? ` ${o.arg}` : ''}`;
      const choices = o.choices && !o.arg?.includes('|') && o.name !== 'profile' ? ` (${o.list ? 'any of' : 'one of'} ${o.choices.join(', ')})` : '';
      const def = o.default ? ` [default: ${o.default}]` : '';
      return [left, `${o.help}${choices}${def}`] as const;
    });
    rows.push(['  -h, --help', 'show this help and exit']);
    const width = Math.max(...rows.map((r) => r[0].length)) + 2;
    for (const [l, r] of rows) lines.push(l.padEnd(width) + r);
  } else {
    lines.push('Options:', '  -h, --help  show this help and exit');
  }
  if (s.notes) lines.push('', ...s.notes);
  return lines.join('\n') + '\n';
}

/** True when `-h` or `--help` appears before a `--`. */
export function wantsHelp(argv: string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '-h' || a === '--help') return true;
  }
  return false;
}

/**
 * Checks a command line against its spec: unknown options (long or short, named as typed), options
 * given twice, missing or malformed values, and positional words the command does not take.
 */
export function checkCommandLine(key: string, argv: string[]): void {
  const s = SPECS[key];
  const byName = new Map(s.options.map((o) => [o.name, o]));
  const seen = new Set<string>();
  const positional: string[] = [];
  let onlyPositional = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (onlyPositional || a === '-' || !a.startsWith('-')) {
      positional.push(a);
      continue;
    }
    if (a === '--') {
      onlyPositional = true;
      continue;
    }
    if (!a.startsWith('--')) {
      throw new UsageError(`unknown option "${a}" (options are spelled --name; see sid ${key} --help)`);
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const o = byName.get(name);
    if (!o) {
      if (s.lenient) continue;
      throw new UsageError(`unknown option "${eq < 0 ? a : a.slice(0, eq)}" (see sid ${key} --help)`);
    }
    if (seen.has(name) && !o.repeatable) throw new UsageError(`option --${name} given more than once`);
    seen.add(name);
    if (!o.arg) {
      if (eq >= 0) throw new UsageError(`option --${name} takes no value, got "${a}"`);
      continue;
    }
    const value = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`option --${name} needs a value (${o.arg})`);
    if (s.lenient) continue;
    if (o.int) {
      const v = Number(value);
      if (value.trim() === '' || !Number.isInteger(v) || v < o.int.min) throw new UsageError(`--${name} must be an integer >= ${o.int.min}, got "${value}"`);
    }
    if (o.choices) {
      const parts = o.list ? value.split(',') : [value];
      for (const p of parts) {
        if (!o.choices.includes(p)) {
          throw new UsageError(`--${name} must be ${o.list ? 'a comma-separated list of' : 'one of'} ${o.choices.join(', ')}, got "${o.list ? p : value}"`);
        }
      }
      if (o.list && new Set(parts).size !== parts.length) throw new UsageError(`--${name} names a value twice: "${value}"`);
    }
  }
  const p = s.positional ?? { label: '', min: 0, max: 0 };
  if (positional.length > p.max) {
    const stray = positional.slice(p.max);
    throw new UsageError(`unexpected argument${stray.length > 1 ? 's' : ''} ${stray.map((w) => `"${w}"`).join(' ')}${p.max ? ` (${s.usage} takes ${p.max === 1 ? 'one' : p.max})` : ` (${s.usage} takes no positional arguments)`}`);
  }
  if (positional.length < p.min) throw new UsageError(`expected ${p.label}: ${s.usage}`);
  if (p.choices) {
    for (const w of positional) if (!p.choices.includes(w)) throw new UsageError(`expected ${p.label}, got "${w}"`);
  }
  if (process.env.SID_PROFILE !== undefined && byName.has('profile') && !seen.has('profile') && !(PROFILE_NAMES as readonly string[]).includes(process.env.SID_PROFILE)) {
    throw new UsageError(`SID_PROFILE must be one of ${PROFILE_NAMES.join(', ')}, got "${process.env.SID_PROFILE}"`);
  }
}

/** Every value of a repeatable `--name`, in order, on a command line that passed `checkCommandLine`. */
export function optionValues(argv: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') break;
    if (a === `--${name}` && i + 1 < argv.length) out.push(argv[++i]);
    else if (a.startsWith(`--${name}=`)) out.push(a.slice(name.length + 3));
  }
  return out;
}

/** `argv` without any `--name value` / `--name=value` (for parsers that allow an option once). */
export function withoutOption(argv: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (a === `--${name}`) i++;
    else if (!a.startsWith(`--${name}=`)) out.push(a);
  }
  return out;
}

/** The value of `--name` on a command line that passed `checkCommandLine`. */
export function optionValue(argv: string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') break;
    if (a === `--${name}`) return argv[i + 1];
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}
