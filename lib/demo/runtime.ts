/**
 * The demo's decoder, for Node and the browser alike: it rebuilds the trained model, prompt encoder,
 * ID vocabulary and trie from a `DemoPayload` and decodes with lib/generate's own beam search, exactly
 * as `decodePrompts` in jointModel.ts does (that module reads and writes files, so it is not bundled).
 */
import { tf } from '../backend/index';
import { beamSearch, type BeamSearchOptions, type DecodedIds } from '../generate/beamSearch';
import { findSpace, type IdSpaceLike } from '../generate/idContract';
import { PromptEncoder } from '../generate/prompts';
import { Seq2SeqModel } from '../generate/seq2seqModel';
import { PrefixTrie } from '../quantize/trie';
import { buildIdVocabulary, type IdVocabulary } from '../quantize/vocabulary';
import type { Task } from '../types';
import { base64ToFloat32, base64ToInt32, checkPayload, type DemoMode, type DemoPayload } from './payload';

export interface DemoHit {
  item: number;
  /** Log-probability of the beam that produced the item. */
  score: number;
  /** The item's Semantic ID codes, one per level. */
  codes: number[];
}

export interface DemoDecoding {
  task: Task;
  mode: DemoMode;
  prompt: Int32Array;
  hits: DemoHit[];
  /** Final beams, best first: their codes and log-probabilities. */
  beams: { codes: number[]; logProb: number }[];
  milliseconds: number;
}

export class DemoModel {
  readonly net: Seq2SeqModel;
  readonly prompts: PromptEncoder;
  readonly vocab: IdVocabulary;
  private readonly tries = new Map<string, PrefixTrie>();

  constructor(readonly payload: DemoPayload) {
    checkPayload(payload, 'DemoModel');
    this.vocab = buildIdVocabulary(
      payload.idVocab.spaces.map((s) => ({
        name: s.name,
        ids: { numItems: s.numItems, length: s.length, cardinalities: s.cardinalities, codes: base64ToInt32(s.codes, `demo data: codes of space "${s.name}"`) },
      })),
    );
    if (this.vocab.size !== payload.idVocab.size) throw new Error(`demo data: ID vocabulary has ${this.vocab.size} tokens, the export says ${payload.idVocab.size}`);
    payload.idVocab.spaces.forEach((s, i) => {
      const got = this.vocab.spaces[i];
      if (got.offset !== s.offset || got.positionOffsets.join() !== s.positionOffsets.join()) throw new Error(`demo data: token offsets of space "${s.name}" differ from the export`);
    });
    const weights = new Map<string, Float32Array>();
    for (const w of payload.weights) weights.set(w.name, base64ToFloat32(w.data, `demo data: weight ${w.name}`));
    this.net = new Seq2SeqModel(payload.config, weights);
    this.prompts = PromptEncoder.fromJSON(payload.prompts);
    if (this.prompts.idInputBase !== payload.config.idInputBase) {
      throw new Error(`demo data: prompt encoder puts ID tokens at ${this.prompts.idInputBase}, the model at ${payload.config.idInputBase}`);
    }
  }

  space(task: Task): IdSpaceLike {
    return findSpace(this.vocab, this.payload.spaces[task]);
  }

  /** The trie of a task's space (the PrefixTrie sid eval uses: masks as wide as the vocabulary). */
  trie(task: Task): PrefixTrie {
    const name = this.payload.spaces[task];
    let t = this.tries.get(name);
    if (!t) {
      t = new PrefixTrie(this.vocab.spaces.find((s) => s.name === name)!, this.vocab.size);
      this.tries.set(name, t);
    }
    return t;
  }

  decodeOptions(mode: DemoMode): BeamSearchOptions {
    const o = this.payload.decode[mode];
    if (!o) throw new Error(`demo: unknown decoding "${mode}" (expected plain or diverse)`);
    return o;
  }

  codesOf(task: Task, item: number): number[] {
    const { ids } = this.space(task);
    return Array.from(ids.codes.subarray(item * ids.length, (item + 1) * ids.length));
  }

  search(query: string, mode: DemoMode): DemoDecoding {
    return this.run('search', this.prompts.searchPrompt(query), mode);
  }

  /** Next items after `history` (oldest first); items in the history are never returned. */
  recommend(history: number[], mode: DemoMode): DemoDecoding {
    const n = this.payload.items.length;
    for (const h of history) if (!(Number.isInteger(h) && h >= 0 && h < n)) throw new Error(`demo: history item ${h} is outside 0..${n - 1}`);
    return this.run('rec', this.prompts.recPrompt(history, this.space('rec')), mode, history);
  }

  private run(task: Task, prompt: Int32Array, mode: DemoMode, exclude?: number[]): DemoDecoding {
    const t0 = now();
    const space = this.space(task);
    const d: DecodedIds = beamSearch({ model: this.net, prompts: [prompt], space, trie: this.trie(task), options: this.decodeOptions(mode), exclude: exclude && exclude.length ? [exclude] : undefined })[0];
    const milliseconds = now() - t0;
    const L = space.ids.length;
    const toCodes = (tokens: Int32Array) => Array.from(tokens, (tok, p) => tok - space.positionOffsets[p]).slice(0, L);
    return {
      task,
      mode,
      prompt,
      hits: d.items.map((item, i) => ({ item, score: d.itemScores[i], codes: this.codesOf(task, item) })),
      beams: d.beams.map((b) => ({ codes: toCodes(b.tokens), logProb: b.logProb })),
      milliseconds,
    };
  }

  dispose(): void {
    this.net.dispose();
  }

  /** tfjs tensors alive (a leak check for tests). */
  static liveTensors(): number {
    return tf.memory().numTensors;
  }
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}
