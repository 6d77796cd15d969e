/**
 * The names a user types (profiles, embedding strategies, quantizers, tables), in one leaf module
 * that imports nothing: the CLI checks and prints them without loading model code, and the modules
 * that implement each kind key their registries by these types, so a name missing there is a type
 * error.
 */

export const PROFILE_NAMES = ['tiny', 'small', 'paper'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export const EMBEDDING_STRATEGIES = ['content', 'content-lsa', 'search', 'rec', 'fused-concat', 'fused-svd', 'multitask'] as const;
export type EmbeddingStrategy = (typeof EMBEDDING_STRATEGIES)[number];

/** The quantizers the project ships; lib/quantize/quantizer.ts's registry may hold more (registerQuantizer). */
export const QUANTIZER_NAMES = ['rq-kmeans', 'hier-kmeans', 'rq-vae', 'rlfq'] as const;
export type BuiltinQuantizerName = (typeof QUANTIZER_NAMES)[number];
/** A quantizer's name: a built-in one, or one registered at run time. */
export type QuantizerName = BuiltinQuantizerName | (string & {});
/** Quantizer names accepted for compatibility, with the name each now stands for. */
export const DEPRECATED_QUANTIZER_NAMES: Readonly<Record<string, BuiltinQuantizerName>> = { kmeans: 'hier-kmeans' };

export const TABLE_NAMES = ['task-tradeoff', 'quantizers', 'shared-vs-separate', 'head-torso', 'last-n'] as const;
export type TableName = (typeof TABLE_NAMES)[number];

/** Styles of LLM-written search queries (`sid data queries --llm`, lib/data/llmQueryPrompt.ts). */
export const LLM_QUERY_STYLES = ['plot', 'people', 'vibe', 'title', 'mixed'] as const;
export type LlmQueryStyle = (typeof LLM_QUERY_STYLES)[number];
