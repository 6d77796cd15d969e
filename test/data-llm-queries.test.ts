/**
 * `sid data queries --llm`: the chat-completions client, the answer check, the resumable query file
 * and the command, against a loopback HTTP server that imitates an OpenAI-compatible endpoint
 * (no model, no network beyond 127.0.0.1). Waits are recorded, not slept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Item } from '../lib/types';
import { main } from '../lib/cli/main';
import { prepareData } from '../lib/data/prepare';
import { parseQueriesJsonl } from '../lib/data/queryImport';
import { createChatClient, LlmRequestError, parseRetryAfter, type ChatMessage } from '../lib/data/llmClient';
import { backoffMs, LlmRunStopped, writeLlmQueries, type LlmQueryRunOptions } from '../lib/data/llmQueries';
import { openQueryFile } from '../lib/data/llmQueryFile';
import { checkAnswer, checkPromptTemplate, defaultPromptFile, LLM_QUERY_STYLES, loadPromptTemplate, renderPrompt, titleWords } from '../lib/data/llmQueryPrompt';

function item(index: number, id: number, title: string, year: number | null, genres: string[], tags: string[]): Item {
  return { index, id, title, year, genres, tags, text: title };
}

const ITEMS: Item[] = [
  item(0, 1, 'Toy Story', 1995, ['Adventure', 'Animation'], ['pixar']),
  item(1, 32, 'Twelve Monkeys (a.k.a. 12 Monkeys)', 1995, ['Sci-Fi'], ['time travel']),
  item(2, 50, 'Heat', 1995, ['Action', 'Crime'], []),
];
const IDS = new Set(ITEMS.map((it) => it.id));
const ALL_STYLES = { styles: [...LLM_QUERY_STYLES], perStyle: 1 };
/** A template that names the item plainly, so the fake server knows whom a request is for. */
const TEMPLATE = 'ITEM {{title}}\nstyles {{styles}}, {{count}} queries\n';

/** A valid answer for an item: one query per style, free of title words. */
function validAnswer(id: number, styles: readonly string[] = LLM_QUERY_STYLES, known = true): string {
  return JSON.stringify({ known, queries: styles.map((style) => ({ style, query: `${style} qxv ${id} zzq` })) });
}

interface Seen {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: { model: string; messages: ChatMessage[]; temperature?: number };
}

type Reply = (res: http.ServerResponse, req: http.IncomingMessage) => void;
const ok = (content: string): Reply => (res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content } }] }));
};
const status = (code: number, headers: Record<string, string> = {}): Reply => (res) => {
  res.writeHead(code, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ error: { message: `status ${code}` } }));
};

/**
 * A fake endpoint: `script(key, n)` says how to answer the n-th request (0-based) for the item the
 * prompt names (`key`: its title as the prompt shows it).
 */
async function fakeEndpoint(script: (key: string, n: number) => Reply) {
  const seen: Seen[] = [];
  const perKey = new Map<string, number>();
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const body = JSON.parse(raw) as Seen['body'];
      seen.push({ path: req.url ?? '', headers: req.headers, body });
      const prompt = body.messages[0].content;
      const key = (/^ITEM (.*)$/m.exec(prompt) ?? /^Movie: (.*) \((?:\d{4}|year unknown)\)$/m.exec(prompt))![1];
      const n = perKey.get(key) ?? 0;
      perKey.set(key, n + 1);
      script(key, n)(res, req);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    seen,
    /** Requests per item key. */
    count: (key: string) => perKey.get(key) ?? 0,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function tmpFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sid-llmq-')), 'queries.jsonl');
}

/** Runs writeLlmQueries against `baseUrl` with recorded waits; returns the summary and the waits. */
async function run(baseUrl: string, over: Partial<LlmQueryRunOptions> = {}) {
  const sleeps: number[] = [];
  const outFile = over.outFile ?? tmpFile();
  const summary = await writeLlmQueries({
    items: ITEMS,
    catalogueIds: IDS,
    client: createChatClient({ baseUrl, model: 'test-model', apiKey: 'sk-test', timeoutMs: 300 }),
    template: TEMPLATE,
    request: ALL_STYLES,
    outFile,
    concurrency: 1,
    retries: 3,
    backoff: { baseMs: 100, maxMs: 1000 },
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    progress: false,
    ...over,
  });
  return { summary, sleeps, outFile, text: fs.readFileSync(outFile, 'utf8') };
}

function linesOf(text: string): Array<{ item_id: number; style: string; known: boolean; query: string }> {
  return text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

const idOf = (key: string) => ITEMS.find((it) => it.title === key)!.id;

test('a normal answer: every item written whole, in the existing file format, and readable by parseQueriesJsonl', async () => {
  const api = await fakeEndpoint((key) => ok(validAnswer(idOf(key))));
  try {
    const { summary, sleeps, text } = await run(api.baseUrl, { concurrency: 2, request: { ...ALL_STYLES, perStyle: 1 } });
    assert.equal(summary.written, 3);
    assert.equal(summary.queriesWritten, 15);
    assert.equal(summary.failed.length, 0);
    assert.equal(summary.requests, 3);
    assert.deepEqual(sleeps, []);
    const first = text.split('\n')[0];
    assert.match(first, /^\{"item_id": \d+, "style": "plot", "known": true, "query": "plot qxv \d+ zzq"\}$/);
    const qs = parseQueriesJsonl(text, ITEMS);
    assert.equal(qs.length, 15);
    for (const it of ITEMS) assert.deepEqual(qs.filter((q) => q.item === it.index).map((q) => q.style), [...LLM_QUERY_STYLES]);
    // The request: POST {base}/chat/completions with the model, the key and the filled prompt.
    assert.equal(api.seen[0].path, '/v1/chat/completions');
    assert.equal(api.seen[0].headers.authorization, 'Bearer sk-test');
    assert.equal(api.seen[0].body.model, 'test-model');
    assert.equal(api.seen[0].body.temperature, undefined);
    assert.deepEqual(api.seen[0].body.messages, [{ role: 'user', content: 'ITEM Toy Story\nstyles plot, people, vibe, title, mixed, 5 queries\n' }]);
  } finally {
    await api.close();
  }
});

test('429 with Retry-After waits what the server asked, then succeeds', async () => {
  const api = await fakeEndpoint((key, n) => (key === 'Toy Story' && n === 0 ? status(429, { 'retry-after': '2' }) : ok(validAnswer(idOf(key)))));
  try {
    const { summary, sleeps } = await run(api.baseUrl);
    assert.deepEqual(sleeps, [2000]);
    assert.equal(summary.written, 3);
    assert.equal(summary.retries, 1);
    assert.equal(api.count('Toy Story'), 2);
  } finally {
    await api.close();
  }
});

test('500 then success: exponential backoff with jitter from the injected source', async () => {
  const api = await fakeEndpoint((key, n) => (key === 'Heat' && n < 2 ? status(n === 0 ? 500 : 503) : ok(validAnswer(idOf(key)))));
  try {
    const { summary, sleeps } = await run(api.baseUrl);
    // base 100 ms, doubled per retry, times (0.5 + 0.5 * 0.5).
    assert.deepEqual(sleeps, [75, 150]);
    assert.equal(summary.written, 3);
    assert.equal(summary.retries, 2);
  } finally {
    await api.close();
  }
  assert.equal(backoffMs(10, { baseMs: 100, maxMs: 1000 }, () => 0.999999), 1000 * (0.5 + 0.5 * 0.999999));
  assert.equal(backoffMs(0, { baseMs: 100, maxMs: 1000 }, () => 0), 50);
});

test('malformed answers are asked again with their problems, until a valid one (a ```json fence is fine)', async () => {
  const id = 1;
  const bad = [
    'Sure! Here are some queries for you.',
    JSON.stringify({ known: true, queries: [{ style: 'plot', query: 'cowboy doll meets a space ranger' }] }),
    JSON.stringify({ known: true, queries: LLM_QUERY_STYLES.map((style) => ({ style, query: style === 'vibe' ? 'PLOT   qxv 1 zzq' : `${style} qxv ${id} zzq` })) }),
    JSON.stringify({ known: true, queries: LLM_QUERY_STYLES.map((style) => ({ style, query: style === 'plot' ? 'the story of toys that come alive' : `${style} qxv ${id} zzq` })) }),
  ];
  const api = await fakeEndpoint((key, n) => (key !== 'Toy Story' ? ok(validAnswer(idOf(key))) : ok(n < bad.length ? bad[n] : '```json\n' + validAnswer(id) + '\n```')));
  try {
    const { summary, sleeps, text } = await run(api.baseUrl, { retries: 4 });
    assert.equal(summary.written, 3);
    assert.equal(summary.failed.length, 0);
    assert.equal(api.count('Toy Story'), 5);
    assert.deepEqual(sleeps, [], 'an invalid answer is asked again at once');
    const toy = api.seen.filter((s) => s.body.messages[0].content.startsWith('ITEM Toy Story'));
    const feedback = toy.slice(1).map((s) => {
      assert.equal(s.body.messages.length, 3);
      assert.equal(s.body.messages[1].role, 'assistant');
      return s.body.messages[2].content;
    });
    assert.match(feedback[0], /not JSON/);
    assert.match(feedback[1], /expected 1 people query, got 0/);
    assert.match(feedback[2], /vibe query "PLOT qxv 1 zzq" repeats "plot qxv 1 zzq"/);
    assert.match(feedback[3], /plot query "the story of toys that come alive" uses the title word "story"/);
    assert.equal(linesOf(text).filter((l) => l.item_id === 1).length, 5);
  } finally {
    await api.close();
  }
});

test('a connection reset, before or in the middle of an answer, is retried', async () => {
  const api = await fakeEndpoint((key, n) => {
    if (key === 'Toy Story' && n === 0) return (_res, req) => req.socket.destroy();
    if (key === 'Heat' && n === 0) {
      return (res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
        res.write('{"choices": [{"message": {"content": "{\\"kno');
        setTimeout(() => res.socket?.destroy(), 20);
      };
    }
    return ok(validAnswer(idOf(key)));
  });
  try {
    const { summary, sleeps } = await run(api.baseUrl);
    assert.equal(summary.written, 3);
    assert.equal(summary.retries, 2);
    assert.deepEqual(sleeps, [75, 75]);
  } finally {
    await api.close();
  }
});

test('a request that takes longer than the timeout is abandoned and retried', async () => {
  const api = await fakeEndpoint((key, n) => (key === 'Heat' && n === 0 ? () => {} : ok(validAnswer(idOf(key)))));
  try {
    const t0 = Date.now();
    const { summary } = await run(api.baseUrl, { client: createChatClient({ baseUrl: api.baseUrl, model: 'm', timeoutMs: 150 }) });
    assert.ok(Date.now() - t0 < 3000);
    assert.equal(summary.written, 3);
    assert.equal(summary.retries, 1);
    assert.equal(api.count('Heat'), 2);
    assert.equal(api.seen[0].headers.authorization, undefined, 'no key, no Authorization header');
  } finally {
    await api.close();
  }
  const client = createChatClient({ baseUrl: 'http://127.0.0.1:9/v1', model: 'm', timeoutMs: 100 });
  await assert.rejects(client.complete([{ role: 'user', content: 'x' }]), (e: unknown) => e instanceof LlmRequestError && e.retryable);
});

test('an item that never validates is reported as failed, and nothing of it is written', async () => {
  const dup = JSON.stringify({ known: true, queries: LLM_QUERY_STYLES.map((style) => ({ style, query: 'same words here' })) });
  const api = await fakeEndpoint((key) => ok(key === 'Heat' ? dup : validAnswer(idOf(key))));
  try {
    const { summary, text } = await run(api.baseUrl, { retries: 2, concurrency: 3 });
    assert.equal(summary.written, 2);
    assert.equal(summary.failed.length, 1);
    assert.equal(summary.failed[0].itemId, 50);
    assert.equal(summary.failed[0].attempts, 3);
    assert.match(summary.failed[0].problems.join('; '), /repeats "same words here"/);
    assert.equal(api.count('Heat'), 3);
    assert.deepEqual([...new Set(linesOf(text).map((l) => l.item_id))].sort((a, b) => a - b), [1, 32]);
    assert.equal(parseQueriesJsonl(text, ITEMS).length, 10);
  } finally {
    await api.close();
  }
});

test('retryable failures that never end fail the item after its retries', async () => {
  const api = await fakeEndpoint((key) => (key === 'Toy Story' ? status(502) : ok(validAnswer(idOf(key)))));
  try {
    const { summary, sleeps } = await run(api.baseUrl, { retries: 2 });
    assert.equal(summary.failed.length, 1);
    assert.match(summary.failed[0].problems[0], /HTTP 502/);
    assert.deepEqual(sleeps, [75, 150]);
  } finally {
    await api.close();
  }
});

test('a request refused for good (401) stops the run: LlmRunStopped, with what was written', async () => {
  const api = await fakeEndpoint(() => status(401));
  try {
    await assert.rejects(run(api.baseUrl), (e: unknown) => {
      assert.ok(e instanceof LlmRunStopped);
      assert.match(e.message, /HTTP 401/);
      assert.equal(e.summary.written, 0);
      assert.equal(e.summary.notAttempted, 3);
      return true;
    });
    assert.equal(api.seen.length, 1);
  } finally {
    await api.close();
  }
});

test('resume after a kill: complete items kept, a half line cut, an incomplete item redone, no duplicates', async () => {
  const file = tmpFile();
  const whole = (id: number) =>
    JSON.parse(validAnswer(id)).queries.map((q: { style: string; query: string }) => `{"item_id": ${id}, "style": "${q.style}", "known": true, "query": "${q.query}"}\n`).join('');
  const monkeysLines = whole(32).split('\n');
  fs.writeFileSync(file, whole(1) + monkeysLines.slice(0, 2).join('\n') + '\n' + monkeysLines[2].slice(0, 20));
  const api = await fakeEndpoint((key) => ok(validAnswer(idOf(key))));
  try {
    const { summary, text } = await run(api.baseUrl, { outFile: file });
    assert.equal(api.count('Toy Story'), 0, 'a complete item is not asked again');
    assert.equal(api.count('Twelve Monkeys (a.k.a. 12 Monkeys)'), 1);
    assert.equal(api.count('Heat'), 1);
    assert.equal(summary.alreadyDone, 1);
    assert.equal(summary.written, 2);
    assert.equal(summary.cutPartialLine, true);
    assert.equal(summary.redone, 1);
    assert.ok(text.startsWith(whole(1)), 'the complete item stays first, untouched');
    const lines = linesOf(text);
    assert.equal(lines.length, 15);
    assert.equal(new Set(lines.map((l) => `${l.item_id}|${l.style}`)).size, 15);
    assert.equal(parseQueriesJsonl(text, ITEMS).length, 15);
    // A second run finds everything done.
    const again = await run(api.baseUrl, { outFile: file });
    assert.equal(again.summary.written, 0);
    assert.equal(again.summary.alreadyDone, 3);
    assert.equal(again.text, text);
    assert.equal(api.seen.length, 2);
  } finally {
    await api.close();
  }
});

test('a file that is not a query file of this data set is refused and left alone', () => {
  const file = tmpFile();
  fs.writeFileSync(file, '{"item_id": 1, "style": "plot", "known": true, "query": "a b"}\nhello\n');
  assert.throws(() => openQueryFile(file, () => true, IDS), /line 2 is not a query line/);
  fs.writeFileSync(file, '{"item_id": 999, "style": "plot", "known": true, "query": "a b"}\n');
  assert.throws(() => openQueryFile(file, () => true, IDS), /item_id 999 is not an item of this data set/);
  assert.equal(fs.readFileSync(file, 'utf8'), '{"item_id": 999, "style": "plot", "known": true, "query": "a b"}\n');
  assert.deepEqual(openQueryFile(path.join(path.dirname(file), 'absent.jsonl'), () => true, IDS).complete.size, 0);
});

test('checkAnswer: array form with per-entry known, styles asked, word counts, title words', () => {
  const req = { styles: ['plot', 'title'] as const, perStyle: 2 };
  const toy = ITEMS[0];
  const arr = JSON.stringify([
    { style: 'plot', query: 'cowboy doll jealous of space ranger', known: false },
    { style: 'plot', query: 'toys come alive when kids leave', known: false },
    { style: 'title', query: 'toy story', known: false },
    { style: 'title', query: 'toy stroy 1995', known: false },
  ]);
  const good = checkAnswer(arr, toy, { ...req, styles: [...req.styles] });
  assert.ok(good.ok);
  if (good.ok) assert.deepEqual(good.queries.map((q) => [q.style, q.known]), [['plot', false], ['plot', false], ['title', false], ['title', false]]);
  const problems = (text: string) => {
    const r = checkAnswer(text, toy, { ...req, styles: [...req.styles] });
    return r.ok ? [] : r.problems;
  };
  assert.match(problems(arr.replace(/"known":false/g, '"x":1')).join(), /"known" must be true or false/);
  assert.match(problems(JSON.stringify({ known: true, queries: [{ style: 'vibe', query: 'a b' }] })).join(), /style "vibe", which was not asked for/);
  assert.match(problems(JSON.stringify({ known: true, queries: [{ style: 'plot', query: 'one' }, { style: 'plot', query: '' }] })).join(), /has 1 words, expected 2-12.*a plot query is empty/);
  assert.match(problems(JSON.stringify({ known: true, queries: [{ style: 'plot', query: Array(13).fill('w').join(' ') }] })).join(), /has 13 words/);
  assert.match(problems(JSON.stringify({ known: true, queries: [{ style: 'plot', query: 'a Stóry of toys' }] })).join(), /uses the title word "story"/);
  assert.match(problems('{"known": true}').join(), /expected a JSON object/);
  assert.deepEqual([...titleWords('Twelve Monkeys (a.k.a. 12 Monkeys)')], ['twelve', 'monkeys']);
  // Title queries may use the title; style names are read case-insensitively.
  assert.ok(checkAnswer(JSON.stringify({ known: true, queries: [{ style: 'Title', query: 'toy story 1995' }] }), toy, { styles: ['title'], perStyle: 1 }).ok);
});

test('prompt template: the shipped default fills every placeholder; unknown placeholders are refused', () => {
  const template = loadPromptTemplate(defaultPromptFile());
  const prompt = renderPrompt(template, ITEMS[2], { styles: ['plot', 'mixed'], perStyle: 2 });
  assert.doesNotMatch(prompt, /\{\{/);
  assert.match(prompt, /Movie: Heat \(1995\)/);
  assert.match(prompt, /Genres: Action, Crime/);
  assert.match(prompt, /tags: none/);
  assert.match(prompt, /Write 4 different search queries for this movie, 2 of each of these styles:\n- plot: .*\n- mixed: /);
  assert.throws(() => checkPromptTemplate('{{title}} {{plot}}', 'p.txt'), /prompt file p.txt: unknown placeholder \{\{plot\}\}/);
  assert.equal(parseRetryAfter('3'), 3000);
  assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6000);
  assert.equal(parseRetryAfter(null), undefined);
  assert.equal(parseRetryAfter('soon'), undefined);
});

/** Runs main() in this process with the LLM variables cleared, capturing what it writes. */
async function sid(argv: string[], env: Record<string, string> = {}) {
  const names = ['SID_LLM_BASE_URL', 'SID_LLM_MODEL', 'SID_LLM_API_KEY', 'OPENAI_BASE_URL', 'OPENAI_API_KEY', 'SID_QUIET'];
  const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
  for (const n of names) delete process.env[n];
  Object.assign(process.env, { SID_QUIET: '1', ...env });
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  let out = '';
  let err = '';
  // Only text is captured: the test runner's own reports (bytes, on stdout) pass through.
  process.stdout.write = ((c: string | Uint8Array, ...rest: never[]) => (typeof c === 'string' ? ((out += c), true) : o(c, ...rest))) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array, ...rest: never[]) => (typeof c === 'string' ? ((err += c), true) : e(c, ...rest))) as typeof process.stderr.write;
  try {
    return { code: await main(argv), out, err };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
    for (const n of names) {
      if (saved[n] === undefined) delete process.env[n];
      else process.env[n] = saved[n];
    }
  }
}

test('sid data queries: usage errors name the option', async () => {
  const out = tmpFile();
  const base = ['data', 'queries', '--llm', '--dataset', 'synthetic', '--out', out, '--base-url', 'http://127.0.0.1:9/v1', '--model', 'm'];
  const cases: Array<[string[], Record<string, string>, RegExp]> = [
    [['data', 'queries', '--out', out], {}, /expected --llm/],
    [['data', 'queries', '--llm'], {}, /--out <file.jsonl> is required/],
    [['data', 'queries', '--llm', '--out', out, '--model', 'm'], {}, /no endpoint: give --base-url <url> .* SID_LLM_BASE_URL/],
    [['data', 'queries', '--llm', '--out', out, '--base-url', 'http://x/v1'], {}, /no model: give --model <name> or set SID_LLM_MODEL/],
    [['data', 'queries', '--llm', '--out', out, '--base-url', 'ftp://x', '--model', 'm'], {}, /--base-url must be an http\(s\) URL, got "ftp:\/\/x"/],
    [[...base, '--timeout', '0'], {}, /--timeout must be a number in \(0, inf\), got "0"/],
    [[...base, '--temperature', 'hot'], {}, /--temperature must be a number in \[0, 2\], got "hot"/],
    [[...base, '--items', 'some'], {}, /--items must be "all" or an integer >= 1, got "some"/],
    [[...base, '--concurrency', '0'], {}, /--concurrency must be an integer >= 1, got "0"/],
    [[...base, '--retries', '-1'], {}, /--retries must be an integer >= 0, got "-1"/],
    [[...base, '--styles', 'plot,gossip'], {}, /--styles must be a comma-separated list of plot, people, vibe, title, mixed, got "gossip"/],
    [[...base, '--per-style', 'x'], {}, /--per-style must be an integer >= 1/],
  ];
  for (const [argv, env, expected] of cases) {
    const r = await sid(argv, env);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.err}`);
    assert.match(r.err, expected);
  }
  // The environment stands in for the options.
  const r = await sid(['data', 'queries', '--llm', '--out', out, '--items', 'x'], { OPENAI_BASE_URL: 'http://x/v1', SID_LLM_MODEL: 'm' });
  assert.match(r.err, /--items must be/);
  assert.equal(fs.existsSync(out), false);
});

test('sid data queries --llm on the synthetic data set writes a file --queries reads; a rerun asks nothing', async () => {
  const data = prepareData({ dataset: 'synthetic', queriesPerItem: 0 });
  const byTitle = new Map(data.dataset.items.map((it) => [it.title, it.id]));
  const api = await fakeEndpoint((key) => ok('```json\n' + validAnswer(byTitle.get(key)!, ['plot', 'title'], false) + '\n```'));
  const out = tmpFile();
  const argv = ['data', 'queries', '--llm', '--dataset', 'synthetic', '--items', '4', '--styles', 'plot,title', '--out', out, '--concurrency', '2', '--timeout', '5'];
  try {
    const r = await sid(argv, { SID_LLM_BASE_URL: api.baseUrl, SID_LLM_MODEL: 'local-model' });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /4 items written \(8 queries\)/);
    assert.equal(api.seen.length, 4);
    assert.equal(api.seen[0].body.model, 'local-model');
    assert.match(api.seen[0].body.messages[0].content, /^Movie: .* \(\d{4}\)$/m);
    const qs = parseQueriesJsonl(fs.readFileSync(out, 'utf8'), data.dataset.items);
    assert.equal(qs.length, 8);
    assert.deepEqual([...new Set(qs.map((q) => q.style))], ['plot', 'title']);
    const again = await sid(argv, { SID_LLM_BASE_URL: api.baseUrl, SID_LLM_MODEL: 'local-model' });
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /0 items written .* 4 of 4 were already complete/);
    assert.equal(api.seen.length, 4);
  } finally {
    await api.close();
  }
});

test('sid data queries exits 1 naming the failed items', async () => {
  const api = await fakeEndpoint(() => ok('not json'));
  const out = tmpFile();
  try {
    const r = await sid(['data', 'queries', '--llm', '--dataset', 'synthetic', '--items', '1', '--retries', '1', '--out', out, '--base-url', api.baseUrl, '--model', 'm']);
    assert.equal(r.code, 1, r.err);
    assert.match(r.out, /1 item failed .*\n {2}item_id \d+ ".*" after 2 tries: the answer is not JSON/);
    assert.equal(fs.readFileSync(out, 'utf8'), '');
  } finally {
    await api.close();
  }
});
