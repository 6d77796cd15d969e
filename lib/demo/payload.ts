/**
 * What `sid export` writes for the browser demo (demo-data.js): the trained model's configuration and
 * weights, the prompt encoder (word tokenizer), the ID vocabulary (the trie is rebuilt from it), the
 * item table, the decodings the page offers, sample test queries and users, and Node's decoding of
 * those samples (the reference the browser must reproduce). Arrays travel as base64 so the file stays
 * compact and loads with a <script> tag (Chromium refuses fetch() of file:// URLs).
 */
import type { BeamSearchOptions } from '../generate/beamSearch';
import type { TaskSpaces } from '../generate/jointModel';
import type { PromptEncoderState } from '../generate/prompts';
import type { Seq2SeqConfig } from '../generate/seq2seqModel';

export const DEMO_FORMAT = 'sid-demo-1';

/** Global the data script assigns (`window.SID_DEMO = {...}`). */
export const DEMO_GLOBAL = 'SID_DEMO';

export type DemoMode = 'plain' | 'diverse';
export const DEMO_MODES: readonly DemoMode[] = ['plain', 'diverse'];

export interface DemoItem {
  title: string;
  year: number | null;
  genres: string[];
}

export interface DemoUser {
  /** User index in the data set. */
  user: number;
  /** Test history, oldest first. */
  history: number[];
  /** The held-out next item. */
  target: number;
}

export interface DemoReference {
  mode: DemoMode;
  /** Search: the query text; rec: index into `users`. */
  query?: string;
  user?: number;
  /** Node's ranked items and their scores (`decodeExamples`, as `sid eval` decodes). */
  items: number[];
  scores: number[];
}

export interface DemoPayload {
  format: string;
  profile: string;
  dataset: string;
  /** Experiment id <embedding>/<quantizer>/<space>. */
  experiment: string;
  modelKey: string;
  generatedAt: string;
  config: Seq2SeqConfig;
  prompts: PromptEncoderState;
  spaces: TaskSpaces;
  idVocab: {
    size: number;
    spaces: { name: string; offset: number; positionOffsets: number[]; numItems: number; length: number; cardinalities: number[]; codes: string }[];
  };
  /** float32 little-endian, base64, in the model's parameter order. */
  weights: { name: string; shape: number[]; data: string }[];
  items: DemoItem[];
  decode: Record<DemoMode, BeamSearchOptions> & { chosen: DemoMode };
  queries: string[];
  users: DemoUser[];
  reference: { search: DemoReference[]; rec: DemoReference[] };
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Base64 of a typed array's bytes (little-endian on every platform this runs on). */
export function bytesToBase64(view: ArrayBufferView): string {
  const b = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  const parts: string[] = [];
  let chunk = '';
  for (let i = 0; i < b.length; i += 3) {
    const n = (b[i] << 16) | ((i + 1 < b.length ? b[i + 1] : 0) << 8) | (i + 2 < b.length ? b[i + 2] : 0);
    chunk += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + (i + 1 < b.length ? B64[(n >> 6) & 63] : '=') + (i + 2 < b.length ? B64[n & 63] : '=');
    if (chunk.length >= 8192) {
      parts.push(chunk);
      chunk = '';
    }
  }
  parts.push(chunk);
  return parts.join('');
}

const B64_INDEX = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < B64.length; i++) t[B64.charCodeAt(i)] = i;
  return t;
})();

export function base64ToBytes(s: string, where: string): Uint8Array {
  if (s.length % 4 !== 0) throw new Error(`${where}: base64 length ${s.length} is not a multiple of 4`);
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const c = s.charCodeAt(i + j);
      const v = c === 61 ? 0 : c < 128 ? B64_INDEX[c] : -1;
      if (v < 0) throw new Error(`${where}: invalid base64 character at ${i + j}`);
      n = (n << 6) | v;
    }
    if (o < out.length) out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

export function base64ToFloat32(s: string, where: string): Float32Array {
  const b = base64ToBytes(s, where);
  if (b.length % 4 !== 0) throw new Error(`${where}: ${b.length} bytes is not a whole number of float32 values`);
  return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
}

export function base64ToInt32(s: string, where: string): Int32Array {
  const b = base64ToBytes(s, where);
  if (b.length % 4 !== 0) throw new Error(`${where}: ${b.length} bytes is not a whole number of int32 values`);
  return new Int32Array(b.buffer, b.byteOffset, b.length / 4);
}

/** The data script: one assignment of the payload to `window.SID_DEMO`. */
export function demoDataScript(payload: DemoPayload): string {
  // JSON is valid JS; U+2028/2029 are escaped for older parsers.
  const json = JSON.stringify(payload).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return `window.${DEMO_GLOBAL} = ${json};\n`;
}

/** Checks the parts of a payload the runtime relies on; throws naming the first problem. */
export function checkPayload(p: unknown, where: string): DemoPayload {
  const d = p as DemoPayload;
  if (!d || typeof d !== 'object') throw new Error(`${where}: expected an object (window.${DEMO_GLOBAL}), got ${typeof p}`);
  if (d.format !== DEMO_FORMAT) throw new Error(`${where}: format "${String(d.format)}", expected "${DEMO_FORMAT}"`);
  for (const key of ['config', 'prompts', 'spaces', 'idVocab', 'weights', 'items', 'decode'] as const) {
    if (d[key] === undefined || d[key] === null) throw new Error(`${where}: field "${key}" is missing`);
  }
  if (!Array.isArray(d.weights) || !Array.isArray(d.items)) throw new Error(`${where}: "weights" and "items" must be arrays`);
  return d;
}
