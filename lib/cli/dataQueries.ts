/**
 * `sid data queries --llm --out FILE`: search queries for a data set's items, written by a language
 * model behind any OpenAI-compatible chat-completions endpoint (POST <base-url>/chat/completions:
 * OpenAI, or a local vLLM, llama.cpp server or Ollama), the way the paper's search data were made.
 *
 * The data set is read as `sid data stats` reads it (--dataset, --profile, --dir). The items are all
 * of them, or --items N drawn uniformly over popularity (one per stratum of the training-popularity
 * ranking, seeded by --seed). Each item's prompt is the template of --prompt-file filled with its
 * title, year, genres and tags and the asked styles (--styles, --per-style of each); the answer is
 * checked (lib/data/llmQueryPrompt.ts) and asked again when it fails, within --retries, as are
 * rate limits (Retry-After honoured), server errors, timeouts (--timeout) and dropped connections.
 *
 * The output is the JSONL that --queries reads: `{"item_id", "style", "known", "query"}` per line,
 * each item's lines written whole. Run again with the same options, it continues where it stopped:
 * complete items are kept, a partial last line or an incomplete item is removed and redone. Items
 * that never gave a valid answer are listed at the end (exit status 1) and not written; a rerun
 * asks for them again.
 *
 * Endpoint, model and key come from --base-url, --model, --api-key, or the environment:
 * SID_LLM_BASE_URL (else OPENAI_BASE_URL), SID_LLM_MODEL, SID_LLM_API_KEY (else OPENAI_API_KEY).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { prepareData } from '../data/index';
import { createChatClient } from '../data/llmClient';
import { LlmRunStopped, writeLlmQueries, type LlmQueryRunSummary } from '../data/llmQueries';
import { defaultPromptFile, LLM_QUERY_STYLES, loadPromptTemplate, type LlmQueryStyle } from '../data/llmQueryPrompt';
import { selectQueryItems } from '../data/queries';
import { assertWritableDir } from '../util/fs';
import { formatSeconds } from '../util/progress';
import { intOption, parseArgs, UsageError } from './args';
import { dataOptionsFrom } from './data';

export const DATA_QUERIES_OPTIONS = [
  'out', 'dataset', 'profile', 'dir', 'items', 'seed', 'styles', 'per-style', 'prompt-file',
  'base-url', 'model', 'api-key', 'temperature', 'concurrency', 'timeout', 'retries',
];

/** A number option within [min, max] (`minOpen`: min itself excluded), or undefined when absent. */
function numberOption(options: Record<string, string>, name: string, min: number, max: number, minOpen = false): number | undefined {
  const raw = options[name];
  if (raw === undefined) return undefined;
  const v = Number(raw);
  const ok = raw.trim() !== '' && Number.isFinite(v) && (minOpen ? v > min : v >= min) && v <= max;
  if (!ok) throw new UsageError(`--${name} must be a number in ${minOpen ? '(' : '['}${min}, ${max === Infinity ? 'inf)' : `${max}]`}, got "${raw}"`);
  return v;
}

function endpointSettings(options: Record<string, string>): { baseUrl: string; model: string; apiKey?: string } {
  const env = process.env;
  const baseUrl = options['base-url'] ?? env.SID_LLM_BASE_URL ?? env.OPENAI_BASE_URL;
  if (!baseUrl) throw new UsageError('no endpoint: give --base-url <url> (e.g. http://127.0.0.1:8000/v1) or set SID_LLM_BASE_URL (or OPENAI_BASE_URL)');
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new UsageError(`--base-url must be an http(s) URL, got "${baseUrl}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--base-url must be an http(s) URL, got "${baseUrl}"`);
  const model = options.model ?? env.SID_LLM_MODEL;
  if (!model) throw new UsageError('no model: give --model <name> or set SID_LLM_MODEL');
  const apiKey = options['api-key'] ?? env.SID_LLM_API_KEY ?? env.OPENAI_API_KEY;
  return { baseUrl, model, apiKey: apiKey || undefined };
}

function parseStyles(raw: string | undefined): LlmQueryStyle[] {
  if (raw === undefined) return [...LLM_QUERY_STYLES];
  const parts = raw.split(',').map((s) => s.trim());
  for (const p of parts) {
    if (!(LLM_QUERY_STYLES as readonly string[]).includes(p)) throw new UsageError(`--styles must be a comma-separated list of ${LLM_QUERY_STYLES.join(', ')}, got "${p}"`);
  }
  if (new Set(parts).size !== parts.length) throw new UsageError(`--styles names a style twice: "${raw}"`);
  return parts as LlmQueryStyle[];
}

function parseItems(raw: string | undefined): 'all' | number {
  if (raw === undefined || raw === 'all') return 'all';
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(v) || v < 1) throw new UsageError(`--items must be "all" or an integer >= 1, got "${raw}"`);
  return v;
}

const items = (n: number) => `${n} item${n === 1 ? '' : 's'}`;

function report(s: LlmQueryRunSummary): string {
  const lines = [
    `${s.file}: ${items(s.written)} written (${s.queriesWritten} queries) in ${formatSeconds(s.seconds)}; ` +
      `${s.alreadyDone} of ${s.items} were already complete; ${s.requests} requests, ${s.retries} retries`,
  ];
  if (s.cutPartialLine || s.redone) lines.push(`resumed: ${s.cutPartialLine ? 'a partial last line was cut off' : ''}${s.cutPartialLine && s.redone ? '; ' : ''}${s.redone ? `${items(s.redone)} with missing lines removed and asked again` : ''}`);
  if (s.failed.length) {
    lines.push(`${items(s.failed.length)} failed (nothing of them written; run the same command again to retry them):`);
    for (const f of s.failed.slice(0, 20)) lines.push(`  item_id ${f.itemId} ${JSON.stringify(f.title)} after ${f.attempts} tries: ${f.problems.join('; ')}`);
    if (s.failed.length > 20) lines.push(`  ... and ${s.failed.length - 20} more`);
  }
  if (s.notAttempted) lines.push(`${items(s.notAttempted)} not attempted: the run stopped`);
  return lines.join('\n') + '\n';
}

export async function dataQueriesCommand(argv: string[]): Promise<number> {
  const { options, flags } = parseArgs(argv, { flags: ['llm'], options: DATA_QUERIES_OPTIONS });
  if (!flags.has('llm')) throw new UsageError('expected --llm: sid data queries writes queries by a language model (sid data queries --llm --out <file.jsonl>)');
  if (!options.out) throw new UsageError('--out <file.jsonl> is required: the query file to write (or to continue)');
  const out = path.resolve(options.out);
  if (fs.existsSync(out) && !fs.statSync(out).isFile()) throw new UsageError(`--out ${out} exists and is not a file`);
  const styles = parseStyles(options.styles);
  const perStyle = intOption(options, 'per-style', 1, 1);
  const sample = parseItems(options.items);
  const seed = intOption(options, 'seed', 0, 0);
  const concurrency = intOption(options, 'concurrency', 4, 1);
  const retries = intOption(options, 'retries', 5, 0);
  const timeoutS = numberOption(options, 'timeout', 0, Infinity, true) ?? 120;
  const temperature = numberOption(options, 'temperature', 0, 2);
  const endpoint = endpointSettings(options);
  const template = loadPromptTemplate(options['prompt-file'] ? path.resolve(options['prompt-file']) : defaultPromptFile());
  assertWritableDir(path.dirname(out), 'output folder (--out)');

  // Only the items and their training popularity are needed: no generated queries.
  const data = prepareData({ ...dataOptionsFrom(options), queryFile: undefined, queriesPerItem: 0 });
  const all = data.dataset.items;
  const chosen = selectQueryItems(all.length, sample === 'all' ? 'all' : { stratified: sample, popularity: data.buckets.counts }, seed).map((i) => all[i]);
  const client = createChatClient({ ...endpoint, timeoutMs: timeoutS * 1000, temperature });
  process.stderr.write(`[llm-queries] ${chosen.length} items of ${data.dataset.name}, ${styles.length * perStyle} queries each (${styles.join(', ')}), model ${endpoint.model} at ${client.endpoint}\n`);
  try {
    const summary = await writeLlmQueries({
      items: chosen,
      catalogueIds: new Set(all.map((it) => it.id)),
      client,
      template,
      request: { styles, perStyle },
      outFile: out,
      concurrency,
      retries,
      seed,
    });
    process.stdout.write(report(summary));
    return summary.failed.length ? 1 : 0;
  } catch (err) {
    if (!(err instanceof LlmRunStopped)) throw err;
    process.stdout.write(report(err.summary));
    throw new Error(`stopped: ${err.message} (complete items are kept in ${out}; a rerun continues)`);
  }
}
