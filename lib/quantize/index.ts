/** Semantic ID tokenizers, IDs, vocabulary, prefix trie and diagnostics. */
export * from './matrix';
export * from './distances';
export * from './kmeans';
export * from './rqKmeans';
export * from './hierKmeans';
export * from './rqVae';
export * from './rlfq';
export * from './ids';
export * from './artifact';
export * from './vocabulary';
export * from './trie';
export * from './diagnostics';
export * from './quantizer';
