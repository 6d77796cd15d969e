/**
 * The prompt that asks a language model for an item's search queries, and the check of its answer.
 *
 * The prompt is a text template (default: data/prompts/llm-queries.txt) with placeholders
 * `{{title}}`, `{{year}}`, `{{genres}}`, `{{tags}}`, `{{styles}}` (the style names), `{{style_guide}}`
 * (one line per style saying what it is), `{{count}}` (queries in all) and `{{per_style}}`.
 *
 * The answer must be JSON, bare or in a ```json fence: an object `{"known": bool, "queries":
 * [{"style", "query"}, ...]}`, or an array of such entries each with its own `"known"`. It is valid
 * when every asked style comes exactly `perStyle` times and no other style appears, and every
 * query is 2-12 words, not a repeat of another of the item's queries (case and spacing ignored),
 * and, for plot, people and vibe, uses no word of four or more letters from the title.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Item } from '../types';
import { LLM_QUERY_STYLES, type LlmQueryStyle } from '../names';
import { projectRoot } from '../util/fs';
import { normalizeQuery } from './queries';

export { LLM_QUERY_STYLES, type LlmQueryStyle };

/** What each style asks for, as the prompt's `{{style_guide}}` says it. */
export const LLM_STYLE_GUIDE: Record<LlmQueryStyle, string> = {
  plot: 'the premise or story, without naming the film',
  people: 'cast, makers, characters, setting or era, or what the film is famous for, without naming it',
  vibe: 'mood, theme or genre with at least one distinguishing detail',
  title: 'a half-remembered title: partial, misspelt, without articles, alternate or original-language title, with or without (sometimes a wrong) year',
  mixed: 'a title fragment or a person\'s name combined with a descriptive element',
};

/** Styles whose queries may not use a word of four or more letters from the title. */
export const STYLES_WITHOUT_TITLE_WORDS: ReadonlySet<string> = new Set<LlmQueryStyle>(['plot', 'people', 'vibe']);

export const MIN_QUERY_WORDS = 2;
export const MAX_QUERY_WORDS = 12;

export const PROMPT_PLACEHOLDERS = ['title', 'year', 'genres', 'tags', 'styles', 'style_guide', 'count', 'per_style'] as const;

export function defaultPromptFile(): string {
  return path.join(projectRoot(), 'data', 'prompts', 'llm-queries.txt');
}

/** Reads a prompt template; a placeholder it does not know is an error naming the file. */
export function loadPromptTemplate(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`prompt file ${file}: ${(err as Error).message}`);
  }
  checkPromptTemplate(text, file);
  return text;
}

export function checkPromptTemplate(template: string, file = 'prompt template'): void {
  const known = new Set<string>(PROMPT_PLACEHOLDERS);
  const unknown = [...template.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)].map((m) => m[1]).filter((name) => !known.has(name));
  if (unknown.length) {
    throw new Error(`prompt file ${file}: unknown placeholder {{${unknown[0]}}} (known: ${PROMPT_PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')})`);
  }
  if (template.trim() === '') throw new Error(`prompt file ${file} is empty`);
}

export interface QueryRequest {
  styles: readonly LlmQueryStyle[];
  /** Queries of each style. */
  perStyle: number;
}

const NO_GENRES = '(no genres listed)';

/** The prompt for one item. */
export function renderPrompt(template: string, item: Item, req: QueryRequest): string {
  const genres = item.genres.filter((g) => g !== NO_GENRES);
  const values: Record<(typeof PROMPT_PLACEHOLDERS)[number], string> = {
    title: item.title,
    year: item.year === null ? 'year unknown' : String(item.year),
    genres: genres.length ? genres.join(', ') : 'none listed',
    tags: item.tags.length ? item.tags.join(', ') : 'none',
    styles: req.styles.join(', '),
    style_guide: req.styles.map((s) => `- ${s}: ${LLM_STYLE_GUIDE[s]}`).join('\n'),
    count: String(req.styles.length * req.perStyle),
    per_style: String(req.perStyle),
  };
  return template.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (_, name: keyof typeof values) => values[name]);
}

/** Lower-case words of letters and digits, accents removed. */
function words(s: string): string[] {
  return s
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w !== '');
}

/** The title's words of four or more letters: what plot, people and vibe queries may not use. */
export function titleWords(title: string): Set<string> {
  return new Set(words(title).filter((w) => /^\p{L}{4,}$/u.test(w)));
}

export interface LlmQuery {
  style: LlmQueryStyle;
  query: string;
  /** Whether the model knew the film's content. */
  known: boolean;
}

export type AnswerCheck = { ok: true; queries: LlmQuery[] } | { ok: false; problems: string[] };

/** The JSON inside an answer: a ```json fence's content, the whole text, or the outermost {...} or [...]. */
function extractJson(text: string): unknown {
  const fence = /```(?:json|JSON)?\s*\n?([\s\S]*?)```/.exec(text);
  const candidates = [fence?.[1], text];
  for (const open of ['{', '[']) {
    const close = open === '{' ? '}' : ']';
    const a = text.indexOf(open);
    const b = text.lastIndexOf(close);
    if (a >= 0 && b > a) candidates.push(text.slice(a, b + 1));
  }
  for (const c of candidates) {
    if (c === undefined || c.trim() === '') continue;
    try {
      return JSON.parse(c);
    } catch {
      /* try the next candidate */
    }
  }
  throw new Error('no JSON found');
}

const shorten = (s: string) => JSON.stringify(s.length > 80 ? `${s.slice(0, 77)}...` : s);

/** Checks a model's answer for one item; the problems are worded to be sent back to the model. */
export function checkAnswer(text: string, item: Item, req: QueryRequest): AnswerCheck {
  let parsed: unknown;
  try {
    parsed = extractJson(text);
  } catch {
    return { ok: false, problems: ['the answer is not JSON: answer with one JSON object and nothing else'] };
  }
  let entries: unknown;
  let itemKnown: unknown;
  if (Array.isArray(parsed)) {
    entries = parsed;
  } else if (parsed !== null && typeof parsed === 'object') {
    entries = (parsed as Record<string, unknown>).queries;
    itemKnown = (parsed as Record<string, unknown>).known;
  }
  if (!Array.isArray(entries)) return { ok: false, problems: ['expected a JSON object {"known": true|false, "queries": [{"style": ..., "query": ...}, ...]}'] };

  const problems: string[] = [];
  const queries: LlmQuery[] = [];
  const asked = new Set<string>(req.styles);
  const seen = new Map<string, string>();
  const forbidden = titleWords(item.title);
  entries.forEach((e, i) => {
    const o = (e !== null && typeof e === 'object' ? e : {}) as Record<string, unknown>;
    if (typeof o.style !== 'string' || typeof o.query !== 'string') {
      problems.push(`entry ${i + 1}: expected {"style": "<style>", "query": "<query>"}`);
      return;
    }
    const query = o.query.trim().replace(/\s+/g, ' ');
    const style = o.style.trim().toLowerCase();
    const known = typeof o.known === 'boolean' ? o.known : itemKnown;
    if (!asked.has(style)) {
      problems.push(`query ${shorten(query)} has style "${o.style}", which was not asked for (asked: ${req.styles.join(', ')})`);
      return;
    }
    if (typeof known !== 'boolean') {
      problems.push('"known" must be true or false');
      return;
    }
    if (query === '') {
      problems.push(`a ${style} query is empty`);
      return;
    }
    const n = query.split(' ').length;
    if (n < MIN_QUERY_WORDS || n > MAX_QUERY_WORDS) problems.push(`${style} query ${shorten(query)} has ${n} words, expected ${MIN_QUERY_WORDS}-${MAX_QUERY_WORDS}`);
    const key = normalizeQuery(query);
    const earlier = seen.get(key);
    if (earlier !== undefined) problems.push(`${style} query ${shorten(query)} repeats ${shorten(earlier)}`);
    seen.set(key, query);
    if (STYLES_WITHOUT_TITLE_WORDS.has(style)) {
      const copied = words(query).find((w) => forbidden.has(w));
      if (copied) problems.push(`${style} query ${shorten(query)} uses the title word "${copied}"`);
    }
    queries.push({ style: style as LlmQueryStyle, query, known });
  });
  for (const style of req.styles) {
    const got = queries.filter((q) => q.style === style).length;
    if (got !== req.perStyle) problems.push(`expected ${req.perStyle} ${style} quer${req.perStyle === 1 ? 'y' : 'ies'}, got ${got}`);
  }
  if (problems.length) return { ok: false, problems: [...new Set(problems)] };
  // Keep the order of the asked styles, whatever order the model used.
  const order = new Map(req.styles.map((s, i) => [s, i]));
  return { ok: true, queries: queries.map((q, i) => ({ q, i })).sort((a, b) => order.get(a.q.style)! - order.get(b.q.style)! || a.i - b.i).map((x) => x.q) };
}
