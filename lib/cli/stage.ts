/**
 * `sid run-stage`: one cached stage in this process (the tasks of `sid reproduce --executor slurm`).
 * Trainings are `sid run-config <spec id>`; everything before them runs here.
 */
import { initBackend } from '../backend/index';
import { EMBEDDING_STRATEGIES, type EmbeddingStrategy } from '../embed/index';
import { createContext, embeddingStage, idStage, sasrecStage } from '../pipeline/stages';
import { parseQuantizerName, QUANTIZER_NAMES } from '../quantize/quantizer';
import { parseArgs, UsageError } from './args';
import { PROFILE_OPTIONS, profileOf } from './runOptions';

function strategyOf(s: string): EmbeddingStrategy {
  if (!(EMBEDDING_STRATEGIES as readonly string[]).includes(s)) throw new UsageError(`unknown embedding strategy "${s}" (known: ${EMBEDDING_STRATEGIES.join(', ')})`);
  return s as EmbeddingStrategy;
}

export async function runStageCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, { options: [...PROFILE_OPTIONS] });
  const [stage, arg] = positional;
  const usage = 'expected "embed <strategy>[,<strategy>...]", "ids <embedding>/<quantizer>" or "sasrec"';
  if (stage === 'embed') {
    if (!arg || positional.length !== 2) throw new UsageError(usage);
    const strategies = arg.split(',').map(strategyOf);
    const ctx = createContext(profileOf(options));
    await initBackend();
    // In one process, so the fused strategies reuse the search and rec models built for the first.
    for (const s of strategies) {
      const r = await embeddingStage(ctx, s);
      process.stdout.write(`embeddings ${s} ${r.cached ? 'cached' : 'built'} ${r.key}\n`);
    }
    return 0;
  }
  if (stage === 'ids') {
    const [e, q, extra] = (arg ?? '').split('/');
    if (!e || !q || extra !== undefined || positional.length !== 2) throw new UsageError(usage);
    const quantizer = parseQuantizerName(q, 'sid run-stage');
    if (!quantizer) throw new UsageError(`unknown quantizer "${q}" (known: ${QUANTIZER_NAMES.join(', ')})`);
    const ctx = createContext(profileOf(options));
    await initBackend();
    const r = await idStage(ctx, strategyOf(e), quantizer);
    process.stdout.write(`ids ${e}/${quantizer} ${r.cached ? 'cached' : 'built'} ${r.key}\n`);
    return 0;
  }
  if (stage === 'sasrec') {
    if (positional.length !== 1) throw new UsageError(usage);
    const ctx = createContext(profileOf(options));
    await initBackend();
    const r = await sasrecStage(ctx);
    process.stdout.write(`sasrec ${r.cached ? 'cached' : 'built'} ${r.key}\n`);
    return 0;
  }
  throw new UsageError(`${usage}, got "${positional.join(' ')}"`);
}
