/**
 * Profiles: one object per scale that fixes every stage's options. `tiny` runs the whole pipeline on
 * the synthetic catalogue in CI; `small` reproduces the tables on ml-latest-small within 90 minutes
 * on 2 cores; `paper` uses ml-25m at the paper's scale and sizes, for bigger machines.
 */
import type { DataOptions } from '../data/prepare';
import { embeddingOptionsForProfile, type EmbeddingOptions } from '../embed/index';
import type { RetrievalOptions } from '../eval/retrieval';
import type { CollisionMode } from '../quantize/ids';
import type { TokenizerName, TokenizerOptions } from '../quantize/tokenizer';

export type ProfileName = 'tiny' | 'small' | 'paper';
export const PROFILE_NAMES: readonly ProfileName[] = ['tiny', 'small', 'paper'];

export interface Profile {
  name: ProfileName;
  data: DataOptions;
  /** Seed shared by every stochastic stage (each stage derives its own stream from it). */
  seed: number;
  embed: EmbeddingOptions;
  /** Embedding-level dense retrieval evaluation. */
  retrieval: RetrievalOptions;
  ids: {
    levels: number;
    /** Codes per level. */
    k: number;
    collisions: CollisionMode;
    tokenizers: Partial<Record<TokenizerName, Omit<TokenizerOptions, 'levels' | 'k' | 'seed'>>>;
  };
}

const RETRIEVAL: RetrievalOptions = { ks: [10, 30], bootstrapIterations: 1000 };

const PROFILES: Record<ProfileName, Profile> = {
  tiny: {
    name: 'tiny',
    seed: 7,
    data: { dataset: 'synthetic', queriesPerItem: 12, minHistory: 5 },
    embed: embeddingOptionsForProfile('tiny'),
    retrieval: RETRIEVAL,
    // 400 items: 2 x 32 codes leave room for distinct IDs while keeping every code well used.
    ids: { levels: 2, k: 32, collisions: 'extra-level', tokenizers: {} },
  },
  small: {
    name: 'small',
    seed: 7,
    data: { dataset: 'ml-latest-small', queriesPerItem: 10, minHistory: 5 },
    embed: embeddingOptionsForProfile('small'),
    retrieval: RETRIEVAL,
    ids: { levels: 2, k: 256, collisions: 'extra-level', tokenizers: {} },
  },
  paper: {
    name: 'paper',
    seed: 7,
    data: { dataset: 'ml-25m', queriesPerItem: 20, minHistory: 5, paperScale: true },
    embed: embeddingOptionsForProfile('paper'),
    retrieval: RETRIEVAL,
    ids: { levels: 2, k: 256, collisions: 'extra-level', tokenizers: {} },
  },
};

/** The profile of that name, or the one named by SID_PROFILE, or `small`. */
export function getProfile(name?: string): Profile {
  const n = name ?? process.env.SID_PROFILE ?? 'small';
  if (!(PROFILE_NAMES as readonly string[]).includes(n)) {
    throw new Error(`unknown profile "${n}": expected one of ${PROFILE_NAMES.join(', ')} (option --profile or SID_PROFILE)`);
  }
  return PROFILES[n as ProfileName];
}
