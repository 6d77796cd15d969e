/**
 * A minimal client of an OpenAI-compatible chat-completions endpoint (`POST {baseUrl}/chat/completions`):
 * OpenAI itself, or a local server such as vLLM, llama.cpp's server or Ollama (base URL ending in /v1).
 *
 * One call is one request: retrying is the caller's business. Failures come back as `LlmRequestError`
 * with `retryable` set for what a later try may cure (HTTP 408, 409, 429 and 5xx, a timeout, a
 * dropped connection, an answer without a message) and `retryAfterMs` from a Retry-After header.
 * Other HTTP errors (a wrong key, model or URL) are not retryable.
 */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatClientOptions {
  /** Base URL up to, not including, /chat/completions (e.g. https://api.openai.com/v1, http://127.0.0.1:8000/v1). */
  baseUrl: string;
  model: string;
  /** Sent as `Authorization: Bearer <key>`; local servers usually need none. */
  apiKey?: string;
  /** Limit of one request, connection to last byte of the answer. */
  timeoutMs: number;
  /** Sampling temperature; absent: the server's default. */
  temperature?: number;
}

export class LlmRequestError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    /** Wait asked for by the server's Retry-After header. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export interface ChatClient {
  /** The text of the model's answer to `messages`. */
  complete(messages: ChatMessage[]): Promise<string>;
  readonly endpoint: string;
}

/** Longest Retry-After honoured, so that a server cannot park the run for hours. */
const MAX_RETRY_AFTER_MS = 10 * 60_000;

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const v = value.trim();
  const ms = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : Date.parse(v) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** The message of a network failure, with its cause (fetch wraps ECONNRESET and the like in "fetch failed"). */
function networkReason(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const cause = e.cause ? ` (${[e.cause.code, e.cause.message].filter(Boolean).join(': ')})` : '';
  return `${e.message}${cause}`;
}

export function createChatClient(opts: ChatClientOptions): ChatClient {
  const endpoint = `${opts.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;
  const seconds = `${opts.timeoutMs / 1000}s`;

  async function complete(messages: ChatMessage[]): Promise<string> {
    const body: Record<string, unknown> = { model: opts.model, messages };
    if (opts.temperature !== undefined) body.temperature = opts.temperature;
    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      // The signal covers the body too: a server that stalls mid-answer times out as well.
      const res = await fetch(endpoint, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(opts.timeoutMs) });
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      text = await res.text();
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') throw new LlmRequestError(`no answer within ${seconds}`, true);
      throw new LlmRequestError(`connection failed: ${networkReason(err)}`, true);
    }
    if (status < 200 || status >= 300) {
      const detail = text.trim().replace(/\s+/g, ' ').slice(0, 300);
      throw new LlmRequestError(`HTTP ${status} from ${endpoint}${detail ? `: ${detail}` : ''}`, isRetryableStatus(status), parseRetryAfter(retryAfter));
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new LlmRequestError(`the endpoint's answer is not JSON: ${text.slice(0, 200)}`, true);
    }
    const content = (parsed as { choices?: Array<{ message?: { content?: unknown } }> })?.choices?.[0]?.message?.content;
    if (typeof content !== 'string') throw new LlmRequestError('the endpoint\'s answer has no choices[0].message.content', true);
    return content;
  }

  return { complete, endpoint };
}
