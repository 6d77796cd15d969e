/**
 * Writes LLM-written search queries for a list of items into a query file, resumably (the engine of
 * `sid data queries --llm`; the command is lib/cli/dataQueries.ts).
 *
 * Each item gets one prompt (lib/data/llmQueryPrompt.ts) and up to 1 + `retries` requests: a
 * retryable request failure (429, 5xx, timeout, dropped connection) waits an exponential backoff
 * with jitter, or the server's Retry-After, then tries again; an answer that does not validate is
 * asked again at once, with the problems sent back to the model. An item whose tries run out is
 * reported as failed and nothing of it is written. A request failure that is not retryable (a
 * wrong key, model or URL) stops the run once the items in flight have ended.
 */
import type { Item } from '../types';
import { Progress } from '../util/progress';
import { Rng } from '../util/random';
import { LlmRequestError, type ChatClient, type ChatMessage } from './llmClient';
import { openQueryFile, QueryFileWriter, type QueryLine } from './llmQueryFile';
import { checkAnswer, renderPrompt, type LlmQuery, type QueryRequest } from './llmQueryPrompt';

export interface BackoffOptions {
  /** Wait before the first retry, before jitter. */
  baseMs: number;
  /** Longest wait, before jitter. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, maxMs: 60_000 };

export interface LlmQueryRunOptions {
  /** Items to write queries for, in order. */
  items: readonly Item[];
  /** Every item id of the data set (an existing file naming another id is refused). */
  catalogueIds: ReadonlySet<number>;
  client: ChatClient;
  template: string;
  request: QueryRequest;
  outFile: string;
  /** Requests in flight at once. */
  concurrency: number;
  /** Further tries of an item after its first. */
  retries: number;
  backoff?: BackoffOptions;
  /** Source of the backoff jitter, uniform in [0, 1) (default: seeded by `seed`). */
  random?: () => number;
  seed?: number;
  /** How a wait is spent (tests pass one that records it). */
  sleep?: (ms: number) => Promise<void>;
  /** Where the progress line goes; false: none (default: stderr). */
  progress?: NodeJS.WritableStream | false;
}

export interface FailedItem {
  itemId: number;
  title: string;
  attempts: number;
  /** Why the last try failed. */
  problems: string[];
}

export interface LlmQueryRunSummary {
  file: string;
  items: number;
  /** Items complete in the file before this run. */
  alreadyDone: number;
  /** Items written by this run, and their queries. */
  written: number;
  queriesWritten: number;
  failed: FailedItem[];
  /** Whether a partial last line (a killed run) was cut off, and items whose incomplete lines were removed. */
  cutPartialLine: boolean;
  redone: number;
  requests: number;
  /** Tries after an item's first, for any reason. */
  retries: number;
  /** Items not attempted because the run stopped. */
  notAttempted: number;
  seconds: number;
}

/** A request failure no retry can cure; the summary says what was written before the run stopped. */
export class LlmRunStopped extends Error {
  constructor(
    message: string,
    readonly summary: LlmQueryRunSummary,
  ) {
    super(message);
  }
}

/** Exponential backoff with jitter: the n-th retry (0-based) waits base * 2^n, at most max, times [0.5, 1). */
export function backoffMs(retry: number, b: BackoffOptions, random: () => number): number {
  return Math.min(b.maxMs, b.baseMs * 2 ** retry) * (0.5 + 0.5 * random());
}

/** An item's lines are complete when every asked style has its queries. */
export function itemIsComplete(lines: readonly QueryLine[], req: QueryRequest): boolean {
  return req.styles.every((s) => lines.filter((l) => l.style === s).length >= req.perStyle);
}

function feedback(problems: string[]): string {
  return `That answer cannot be used:\n${problems.map((p) => `- ${p}`).join('\n')}\nAnswer again with the whole JSON object, following every rule.`;
}

type ItemOutcome = { ok: true; queries: LlmQuery[] } | { ok: false; failure: FailedItem };

export async function writeLlmQueries(opts: LlmQueryRunOptions): Promise<LlmQueryRunSummary> {
  const t0 = Date.now();
  const backoff = opts.backoff ?? DEFAULT_BACKOFF;
  const jitter = new Rng(opts.seed ?? 0);
  const random = opts.random ?? (() => jitter.next());
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const existing = openQueryFile(opts.outFile, (lines) => itemIsComplete(lines, opts.request), opts.catalogueIds);
  const todo = opts.items.filter((it) => !existing.complete.has(it.id));
  const summary: LlmQueryRunSummary = {
    file: opts.outFile,
    items: opts.items.length,
    alreadyDone: opts.items.length - todo.length,
    written: 0,
    queriesWritten: 0,
    failed: [],
    cutPartialLine: existing.cutPartialLine,
    redone: existing.redone.length,
    requests: 0,
    retries: 0,
    notAttempted: 0,
    seconds: 0,
  };

  async function queriesFor(item: Item): Promise<ItemOutcome> {
    const prompt: ChatMessage = { role: 'user', content: renderPrompt(opts.template, item, opts.request) };
    let messages: ChatMessage[] = [prompt];
    let problems: string[] = [];
    let waitMs = 0;
    for (let attempt = 0; attempt <= opts.retries; attempt++) {
      if (attempt > 0) summary.retries++;
      if (waitMs > 0) await sleep(waitMs);
      waitMs = 0;
      summary.requests++;
      let answer: string;
      try {
        answer = await opts.client.complete(messages);
      } catch (err) {
        if (!(err instanceof LlmRequestError) || !err.retryable) throw err;
        problems = [err.message];
        waitMs = err.retryAfterMs ?? backoffMs(attempt, backoff, random);
        continue;
      }
      const check = checkAnswer(answer, item, opts.request);
      if (check.ok) return check;
      problems = check.problems;
      messages = [prompt, { role: 'assistant', content: answer }, { role: 'user', content: feedback(problems) }];
    }
    return { ok: false, failure: { itemId: item.id, title: item.title, attempts: opts.retries + 1, problems } };
  }

  const writer = new QueryFileWriter(opts.outFile);
  const progress = opts.progress === false ? null : new Progress({ label: 'llm-queries', total: todo.length, unit: 'items', stream: opts.progress });
  const status = () => `${summary.failed.length} failed, ${summary.retries} retries`;
  let next = 0;
  let stop: unknown = null;
  async function worker(): Promise<void> {
    while (stop === null && next < todo.length) {
      const item = todo[next++];
      try {
        const outcome = await queriesFor(item);
        if (outcome.ok) {
          writer.appendItem(item.id, outcome.queries);
          summary.written++;
          summary.queriesWritten += outcome.queries.length;
        } else {
          summary.failed.push(outcome.failure);
        }
      } catch (err) {
        // The other workers end their current item, then stop too.
        stop ??= err;
        return;
      }
      progress?.tick(1, status());
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(opts.concurrency, Math.max(1, todo.length)) }, worker));
  } finally {
    writer.close();
  }
  summary.seconds = (Date.now() - t0) / 1000;
  if (stop !== null) {
    if (!(stop instanceof LlmRequestError)) throw stop;
    summary.notAttempted = todo.length - summary.written - summary.failed.length;
    throw new LlmRunStopped(stop.message, summary);
  }
  progress?.finish(status());
  return summary;
}
