/** `sid embed`, `sid ids`, `sid train`, `sid eval`: one configuration at a time, reusing cached stages. */
import { EMBEDDING_STRATEGIES, type EmbeddingStrategy } from '../embed/index';
import { TOKENIZER_NAMES, type TokenizerName } from '../quantize/tokenizer';
import { initBackend } from '../backend/index';
import { getProfile } from '../pipeline/profiles';
import { createContext, embeddingStage, idStage } from '../pipeline/stages';
import { choice, parseArgs } from './args';

function print(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : text() + '\n');
}

function fmt(e: { mean: number; lo: number; hi: number } | undefined): string {
  return e ? `${e.mean.toFixed(4)} [${e.lo.toFixed(4)}, ${e.hi.toFixed(4)}]` : '-';
}

export async function embedCommand(argv: string[]): Promise<number> {
  const { options, flags } = parseArgs(argv, { flags: ['json'], options: ['strategy', 'profile'] });
  const strategy = choice<EmbeddingStrategy>('strategy', options.strategy, EMBEDDING_STRATEGIES);
  await initBackend();
  const ctx = createContext(getProfile(options.profile));
  const res = await embeddingStage(ctx, strategy);
  const r = res.embedding.retrieval;
  print(flags.has('json'), { strategy, profile: ctx.profile.name, key: res.key, cached: res.cached, dim: res.embedding.dim, info: res.embedding.info, retrieval: r }, () =>
    [
      `${strategy} (${ctx.profile.name}): dim ${res.embedding.dim}, ${res.cached ? 'from cache' : 'built'} (${res.key})`,
      `search Recall@30 ${r.search ? fmt(r.search.overall['recall@30']) : `n/a (${r.searchMissing ?? 'no query encoder'})`}`,
      `rec    Recall@30 ${fmt(r.rec.overall['recall@30'])}`,
    ].join('\n'),
  );
  return 0;
}

export async function idsCommand(argv: string[]): Promise<number> {
  const { options, flags } = parseArgs(argv, { flags: ['json'], options: ['embedding', 'tokenizer', 'profile', 'collisions'] });
  const strategy = choice<EmbeddingStrategy>('embedding', options.embedding, EMBEDDING_STRATEGIES, 'multitask');
  const tokenizer = choice<TokenizerName>('tokenizer', options.tokenizer, TOKENIZER_NAMES, 'rq-kmeans');
  await initBackend();
  const ctx = createContext(getProfile(options.profile));
  const collisions = choice('collisions', options.collisions, ['extra-level', 'none'] as const, ctx.profile.ids.collisions);
  const res = await idStage(ctx, strategy, tokenizer, collisions);
  const d = res.ids.diagnostics;
  print(flags.has('json'), { strategy, tokenizer, collisions, profile: ctx.profile.name, key: res.key, cached: res.cached, length: res.ids.ids.length, cardinalities: res.ids.ids.cardinalities, seconds: res.ids.seconds, diagnostics: d }, () =>
    [
      `${tokenizer} on ${strategy} (${ctx.profile.name}): ${res.ids.ids.length} positions, cardinalities ${res.ids.ids.cardinalities.join(' x ')}`,
      ...d.positions.map((p, i) => `level ${i + 1}: usage ${(100 * p.usage).toFixed(1)}%, entropy ${p.entropyBits.toFixed(2)} bits`),
      `distinct codes ${d.distinctCodes}, collision rate ${(100 * d.collisionRate).toFixed(1)}%, largest group ${d.largestCollisionGroup}`,
      `relative reconstruction error ${d.relativeError === null ? '-' : d.relativeError.toFixed(4)}`,
    ].join('\n'),
  );
  return 0;
}
