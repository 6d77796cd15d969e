/** `sid bench <name>`: the benchmarks whose figures the README and the issue notes quote. */
import { formatAdapter, initBackend, type BackendName } from '../backend/index';
import { kernelSets, withKernels } from '../bench/kernels';
import { choice, intOption, optionalIntOption, parseArgs, UsageError } from './args';

const BENCHES = ['matmul', 'contrastive', 'kmeans', 'seq2seq', 'train-step'] as const;

export async function benchCommand(argv: string[]): Promise<number> {
  const { positional, flags, options } = parseArgs(argv, { flags: ['json'], options: ['n', 'prompts', 'steps', 'd-model', 'd-ff', 'layers', 'batch', 'backend', 'kernels', 'profile', 'task-batches'] });
  const name = positional[0];
  if (!name || !(BENCHES as readonly string[]).includes(name)) {
    throw new UsageError(`expected a benchmark name: ${BENCHES.join(', ')}`);
  }
  // --backend forces one (as SID_BACKEND does; initBackend rejects unknown names).
  const backend = await initBackend(options.backend ? { backend: options.backend as BackendName } : {});
  // The adapter goes to stderr too, so a software adapter's figures are never read as a GPU's.
  if (backend.adapter) process.stderr.write(`[bench] webgpu adapter: ${formatAdapter(backend.adapter)}\n`);
  const sets = kernelSets(options.kernels);
  const runOnce = async (): Promise<unknown> => {
    switch (name) {
      case 'matmul': {
        const { measureFmaPeak, measureMatmulGflops } = await import('../bench/matmul');
        const n = intOption(options, 'n', 1024);
        const gflops = measureMatmulGflops(n);
        // The core's FMA peak, measured after the products: the matmul as a fraction of it.
        const peak = measureFmaPeak();
        return { n, gflops, ...(peak ? { fmaPeakGflops: peak, fractionOfAvx512Peak: gflops / peak.avx512 } : {}) };
      }
      case 'contrastive':
        return (await import('../bench/contrastive')).benchContrastive();
      case 'kmeans':
        return (await import('../bench/kmeans')).benchKmeans({ log: !flags.has('json') });
      case 'seq2seq': {
        // Absent options keep the bench's calibration size (lib/bench/seq2seq.ts).
        const o: Record<string, number> = {};
        const set = (option: string, ...keys: string[]): void => {
          const v = optionalIntOption(options, option);
          if (v !== undefined) for (const k of keys) o[k] = v;
        };
        set('prompts', 'decodePrompts');
        set('steps', 'trainSteps');
        set('d-model', 'dModel');
        set('d-ff', 'dFF');
        set('layers', 'layers');
        set('batch', 'batchSize', 'microBatch');
        return (await import('../bench/seq2seq')).runSeq2SeqBench(o);
      }
      case 'train-step': {
        // A real training of a profile (default small): its data, sizes and training settings.
        const { dataStage, createContext } = await import('../pipeline/stages');
        const { selectProfile } = await import('../pipeline/budget');
        const profile = selectProfile({ name: options.profile ?? 'small' });
        const { data } = await dataStage(createContext(profile));
        const train = profile.generate.train;
        const batch = optionalIntOption(options, 'batch');
        const taskBatches = options['task-batches'] === undefined ? undefined : choice('task-batches', options['task-batches'], ['single', 'mixed'] as const, 'single');
        return (await import('../bench/trainStep')).benchTrainStep({
          data,
          train: { ...train, ...(batch === undefined ? {} : { batchSize: batch, microBatch: batch }), ...(taskBatches ? { taskBatches } : {}) },
          k: profile.ids.k,
          levels: profile.ids.levels,
          steps: intOption(options, 'steps', 60),
          seed: profile.seed,
          log: (l) => process.stderr.write(l + '\n'),
        });
      }
    }
    return undefined;
  };
  // Each kernel set in turn, in one process: the figures are measured back to back.
  const kernels: Record<string, unknown> = {};
  for (const set of sets) {
    if (!flags.has('json')) process.stderr.write(`[bench] ${name} on the ${set} kernels\n`);
    kernels[set] = await withKernels(set, runOnce);
  }
  process.stdout.write(JSON.stringify({ bench: name, backend, kernels }, null, 2) + '\n');
  return 0;
}
