/**
 * The command line: `--help` on every command and subcommand lists every option with its default,
 * `-h`/`--help` never start work, usage errors (unknown, repeated or malformed options, stray words,
 * a bad profile) exit 2 naming the option as typed before anything starts, and unwritable output or
 * cache folders are refused up front.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../lib/cli/main';
import { helpText, SPECS } from '../lib/cli/specs';
import { EMBEDDING_STRATEGIES, QUANTIZER_NAMES, TABLE_NAMES } from '../lib/names';
import { importClosure } from '../lib/pipeline/sourceClosure';
import { TABLE_DEFINITIONS } from '../lib/pipeline/tables';
import { quantizerNames } from '../lib/quantize/quantizer';
import { projectRoot } from '../lib/util/fs';

const root = projectRoot();
const SID = path.join(root, 'bin', 'sid.mjs');

/**
 * Runs main() in this process, capturing the text it writes. The test runner's own messages (binary,
 * written whenever main() awaits) go through, or the results of earlier tests would be lost.
 */
async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  let out = '';
  let err = '';
  process.stdout.write = ((c: string | Uint8Array, ...rest: never[]) => (typeof c === 'string' ? ((out += c), true) : o(c, ...rest))) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array, ...rest: never[]) => (typeof c === 'string' ? ((err += c), true) : e(c, ...rest))) as typeof process.stderr.write;
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

/** Runs the real `sid` in a child process. */
function sid(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [SID, ...args], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
}

test('--help and the option checks load no model code; their lists are the names the registries implement', () => {
  // specs.ts reaches lib/names.ts and the argument parser only.
  assert.deepEqual(importClosure(['lib/cli/specs.ts']), ['lib/cli/args.ts', 'lib/cli/specs.ts', 'lib/names.ts']);
  assert.deepEqual(SPECS.embed.options.find((o) => o.name === 'strategy')!.choices, EMBEDDING_STRATEGIES);
  assert.deepEqual(SPECS.ids.options.find((o) => o.name === 'quantizer')!.choices, QUANTIZER_NAMES);
  assert.deepEqual(quantizerNames(), [...QUANTIZER_NAMES]);
  assert.deepEqual(Object.keys(TABLE_DEFINITIONS), [...TABLE_NAMES]);
});

for (const key of Object.keys(SPECS)) {
  test(`sid ${key} --help and -h list every option with its default and exit 0`, async () => {
    for (const flag of ['--help', '-h']) {
      const r = await run([...key.split(' '), flag]);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out, helpText(key));
      for (const o of SPECS[key].options) {
        const line = r.out.split('\n').find((l) => l.trimStart().startsWith(`--${o.name}`));
        assert.ok(line, `--${o.name} missing from sid ${key} --help`);
        if (o.default) assert.ok(line.includes(`[default: ${o.default}]`), line);
      }
    }
  });
}

test('-h and --help never start work, wherever they appear', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-help-'));
  const cache = path.join(tmp, 'cache');
  const out = path.join(tmp, 'out');
  for (const args of [
    ['reproduce', '-h'],
    ['reproduce', '--profile', 'tiny', '--jobs', '2', '--help'],
    ['notebooks', 'run', '00_data', '-h', '--profile', 'tiny'],
    ['train', '--profile', 'tiny', '-h'],
    ['data', 'fetch', 'ml-latest-small', '--help'],
    ['data', 'queries', '--llm', '-h', '--base-url', 'http://127.0.0.1:9/v1'],
    ['bench', 'matmul', '-h'],
    ['models', 'fetch', 'Xenova/all-mpnet-base-v2', '--help'],
  ]) {
    const r = sid([...args, '--out', out].filter((a, i, all) => args[0] === 'reproduce' || args[0] === 'notebooks' || i < all.length - 2), { SID_CACHE_DIR: cache });
    assert.equal(r.status, 0, `sid ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /Options:/);
    assert.doesNotMatch(r.stderr, /\[backend\]|\[reproduce\]|\[notebooks\]/, `sid ${args.join(' ')} started work`);
    assert.equal(fs.existsSync(cache), false, `sid ${args.join(' ')} created the cache folder`);
    assert.equal(fs.existsSync(out), false, `sid ${args.join(' ')} created the output folder`);
  }
});

const USAGE_ERRORS: Array<[string[], RegExp]> = [
  [[], /Usage:/],
  [['nope'], /unknown command "nope"/],
  [['reproduce', 'stray'], /unexpected argument "stray"/],
  [['reproduce', '-x'], /unknown option "-x"/],
  [['reproduce', '-j', '2'], /unknown option "-j"/],
  [['reproduce', '--jobz', '2'], /unknown option "--jobz"/],
  [['reproduce', '--jobz=2'], /unknown option "--jobz"/],
  [['reproduce', '--jobs', '2', '--jobs', '3'], /option --jobs given more than once/],
  [['reproduce', '--jobs=2', '--jobs', '2'], /option --jobs given more than once/],
  [['reproduce', '--jobs', 'abc'], /--jobs must be an integer >= 1, got "abc"/],
  [['reproduce', '--jobs', '0'], /--jobs must be an integer >= 1, got "0"/],
  [['reproduce', '--jobs'], /option --jobs needs a value/],
  [['reproduce', '--tables', 'task-tradeoff,nope'], /--tables must be a comma-separated list of .* got "nope"/],
  [['reproduce', '--no-notebooks=1'], /option --no-notebooks takes no value/],
  [['reproduce', '--profile', 'nope'], /--profile must be one of tiny, small, paper, got "nope"/],
  [['embed', '--profile', 'huge', '--strategy', 'content'], /--profile must be one of tiny, small, paper, got "huge"/],
  [['train', '--profile=huge'], /--profile must be one of/],
  [['embed', '--strategy', 'nope'], /--strategy must be one of .* got "nope"/],
  [['ids', '--quantizer', 'nope'], /--quantizer must be one of .* got "nope"/],
  [['train', '--epochs', '1.5'], /--epochs must be an integer >= 1, got "1.5"/],
  [['notebooks', 'run', '--jobs', 'abc'], /--jobs must be an integer >= 1, got "abc"/],
  [['notebooks', 'run', '--timeout', 'soon'], /--timeout must be an integer >= 0, got "soon"/],
  [['notebooks', 'nope'], /expected run or list, got "nope"/],
  [['notebooks'], /expected run or list/],
  [['data'], /expected <stats\|fetch\|synth\|queries>/],
  [['data', 'nope'], /expected <stats\|fetch\|synth\|queries>, got "nope"/],
  [['data', 'stats', 'extra'], /unexpected argument "extra"/],
  [['data', 'fetch'], /expected <ml-latest-small\|ml-25m>/],
  [['data', 'fetch', 'ml-1m'], /got "ml-1m"/],
  [['data', 'fetch', 'ml-25m', 'ml-latest-small'], /unexpected argument "ml-latest-small"/],
  [['data', 'synth', '--like', 'ml-1m', '--out', 'x'], /--like must be one of ml-25m, got "ml-1m"/],
  [['help', 'nope'], /unknown command "nope"/],
  [['models'], /expected <fetch\|list>/],
  [['models', 'nope'], /expected <fetch\|list>, got "nope"/],
  [['models', 'fetch'], /expected <hub id>/],
  [['models', 'fetch', 'a/b', 'c/d'], /unexpected argument "c\/d"/],
  [['models', 'fetch', 'a/b', '--quantized=yes'], /option --quantized takes no value/],
  [['models', 'list', 'extra'], /unexpected argument "extra"/],
  [['embed', '--strategy', 'content', '--content-model'], /option --content-model needs a value/],
];

for (const [argv, expected] of USAGE_ERRORS) {
  test(`usage error exits 2: sid ${argv.join(' ')}`, async () => {
    const r = await run(argv);
    assert.equal(r.code, 2, r.out + r.err);
    assert.match(r.err, expected);
    assert.doesNotMatch(r.err, /\[backend\]/);
  });
}

test('sid models fetch: a malformed hub id or --hub-url is a usage error naming it', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-models-usage-'));
  try {
    let r = await run(['models', 'fetch', '../etc', '--models-dir', tmp]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /^sid models: expected a hub id <owner>\/<name>, e\.g\. Xenova\/all-mpnet-base-v2, got "\.\.\/etc"\n$/);
    r = await run(['models', 'fetch', 'a/b', '--hub-url', 'ftp://x', '--models-dir', tmp]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /--hub-url must be an http:\/\/ or https:\/\/ URL, got "ftp:\/\/x"/);
    assert.deepEqual(fs.readdirSync(tmp), [], 'nothing was fetched');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('a bad SID_PROFILE is a usage error too', async () => {
  const saved = process.env.SID_PROFILE;
  process.env.SID_PROFILE = 'huge';
  try {
    const r = await run(['embed', '--strategy', 'content']);
    assert.equal(r.code, 2);
    assert.match(r.err, /SID_PROFILE must be one of tiny, small, paper, got "huge"/);
  } finally {
    if (saved === undefined) delete process.env.SID_PROFILE;
    else process.env.SID_PROFILE = saved;
  }
});

test('a bad --profile exits 2 in a real process before the backend starts', () => {
  const r = sid(['embed', '--strategy', 'content', '--profile', 'nope']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--profile must be one of/);
  assert.doesNotMatch(r.stderr, /\[backend\]/);
});

test('unwritable cache or output folders are refused before any work', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-unwritable-'));
  const file = path.join(tmp, 'a-file');
  fs.writeFileSync(file, 'x');
  const saved = process.env.SID_CACHE_DIR;
  try {
    process.env.SID_CACHE_DIR = path.join(file, 'cache');
    let r = await run(['reproduce', '--profile', 'tiny', '--out', path.join(tmp, 'out')]);
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`cache folder \\(SID_CACHE_DIR\\) ${path.join(file, 'cache')} is not writable: it \\(or a parent\\) is not a directory`));
    assert.doesNotMatch(r.err, /\[backend\]/);
    process.env.SID_CACHE_DIR = path.join(tmp, 'cache');
    r = await run(['notebooks', 'run', '--profile', 'tiny', '--out', path.join(file, 'out')]);
    assert.equal(r.code, 1);
    assert.match(r.err, /output folder \(--out\) .*a-file\/out is not writable/);
    r = await run(['reproduce', '--profile', 'tiny', '--out', file]);
    assert.equal(r.code, 1);
    assert.match(r.err, /output folder \(--out\) .*a-file is not writable: it \(or a parent\) is not a directory/);
  } finally {
    if (saved === undefined) delete process.env.SID_CACHE_DIR;
    else process.env.SID_CACHE_DIR = saved;
  }
});
