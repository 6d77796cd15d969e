/** `sid bench <name>`: the benchmarks whose figures the README and the issue notes quote. */
import { initBackend } from '../backend/index';
import { parseArgs, UsageError } from './args';

const BENCHES = ['matmul', 'contrastive', 'kmeans', 'seq2seq'] as const;

export async function benchCommand(argv: string[]): Promise<number> {
  const { positional, flags, options } = parseArgs(argv, { flags: ['json'], options: ['n', 'prompts', 'steps', 'd-model', 'd-ff'] });
  const name = positional[0];
  if (!name || !(BENCHES as readonly string[]).includes(name)) {
    throw new UsageError(`expected a benchmark name: ${BENCHES.join(', ')}`);
  }
  const backend = await initBackend();
  let result: unknown;
  switch (name) {
    case 'matmul': {
      const { measureMatmulGflops } = await import('../bench/matmul');
      const n = Number(options.n ?? 1024);
      result = { n, gflops: measureMatmulGflops(n) };
      break;
    }
    case 'contrastive':
      result = await (await import('../bench/contrastive')).benchContrastive();
      break;
    case 'kmeans':
      result = await (await import('../bench/kmeans')).benchKmeans({ log: !flags.has('json') });
      break;
    case 'seq2seq': {
      const o: Record<string, number> = {};
      if (options.prompts) o.decodePrompts = Number(options.prompts);
      if (options.steps) o.trainSteps = Number(options.steps);
      if (options['d-model']) o.dModel = Number(options['d-model']);
      if (options['d-ff']) o.dFF = Number(options['d-ff']);
      result = await (await import('../bench/seq2seq')).runSeq2SeqBench(o);
      break;
    }
  }
  process.stdout.write(JSON.stringify({ bench: name, backend, result }, null, 2) + '\n');
  return 0;
}
