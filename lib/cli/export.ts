/**
 * `sid export`: the trained joint model as a live browser demo, reports/<profile>/demo.html (with
 * demo-data.js, demo-runtime.js and the folder's plotly.min.js), linked from the folder's index.html.
 * `sid reproduce` runs the same step for the multi-task model.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../backend/index';
import { bundleDemoRuntime, demoWasmScript } from '../demo/bundle';
import { buildDemoPayload } from '../demo/export';
import { demoHtml, DEMO_DATA_FILE, DEMO_HTML_FILE, DEMO_RUNTIME_FILE, DEMO_WASM_FILE } from '../demo/html';
import { demoDataScript } from '../demo/payload';
import { loadModel } from '../generate/jointModel';
import type { Profile } from '../pipeline/profiles';
import { createContext, dataStage, experimentStage, specId, vocabularyStage, type ExperimentSpec, type PipelineContext } from '../pipeline/stages';
import { writePlotlyBundle, writeReportIndex } from '../report/notebooks';
import { projectRoot, writeFileAtomic } from '../util/fs';
import { EMBEDDING_STRATEGIES } from '../embed/index';
import { parseQuantizerName, QUANTIZER_NAMES } from '../quantize/quantizer';
import { choice, parseArgs, UsageError } from './args';
import { PROFILE_OPTIONS, profileOf } from './runOptions';

export const DEMO_SPEC: ExperimentSpec = { embedding: 'multitask', quantizer: 'rq-kmeans', space: 'shared' };

export interface DemoFiles {
  html: string;
  /** Bytes of each file the page loads (demo.html, demo-data.js, demo-runtime.js, demo-wasm.js, plotly.min.js). */
  bytes: Record<string, number>;
  experiment: string;
}

/** Writes the demo of experiment `spec` into `outDir` and refreshes the folder's index. */
export async function writeDemo(profile: Profile, spec: ExperimentSpec, outDir: string, ctx: PipelineContext = createContext(profile)): Promise<DemoFiles> {
  const exp = await experimentStage(ctx, spec);
  const voc = await vocabularyStage(ctx, spec);
  const { data } = await dataStage(ctx);
  const model = loadModel(exp.modelDir, voc.vocab);
  let script: string;
  try {
    const settings = exp.result.evaluation.settings;
    const payload = await buildDemoPayload(model, data, {
      profile: profile.name,
      experiment: specId(spec),
      modelKey: exp.key,
      decode: settings.decode,
      candidates: settings.decodeCandidates,
      seed: profile.seed,
    });
    script = demoDataScript(payload);
  } finally {
    model.net.dispose();
  }
  const bundle = await bundleDemoRuntime();
  fs.mkdirSync(outDir, { recursive: true });
  writeFileAtomic(path.join(outDir, DEMO_DATA_FILE), script);
  writeFileAtomic(path.join(outDir, DEMO_RUNTIME_FILE), bundle.code);
  writeFileAtomic(path.join(outDir, DEMO_WASM_FILE), demoWasmScript());
  const plotly = writePlotlyBundle(outDir);
  const html = path.join(outDir, DEMO_HTML_FILE);
  writeFileAtomic(html, demoHtml({ profile: profile.name }));
  writeReportIndex(outDir, profile.name);
  const bytes: Record<string, number> = {};
  for (const f of [html, path.join(outDir, DEMO_DATA_FILE), path.join(outDir, DEMO_RUNTIME_FILE), path.join(outDir, DEMO_WASM_FILE), plotly]) bytes[path.basename(f)] = fs.statSync(f).size;
  return { html, bytes, experiment: specId(spec) };
}

/** The experiment named by --embedding, --quantizer (or its former name --tokenizer) and --space. */
function exportSpec(options: Record<string, string>): ExperimentSpec {
  const embedding = choice<ExperimentSpec['embedding']>('embedding', options.embedding, [...EMBEDDING_STRATEGIES, 'separate'], DEMO_SPEC.embedding);
  if (options.quantizer !== undefined && options.tokenizer !== undefined) throw new UsageError('give --quantizer only (--tokenizer is its former name)');
  const flag = options.quantizer !== undefined ? 'quantizer' : 'tokenizer';
  const raw = options[flag];
  const quantizer = raw === undefined ? DEMO_SPEC.quantizer : parseQuantizerName(raw, `--${flag}`);
  if (!quantizer) throw new UsageError(`--${flag} must be one of ${QUANTIZER_NAMES.join(', ')}, got "${raw}"`);
  const space = choice('space', options.space, ['shared', 'separate'] as const, embedding === 'separate' ? 'separate' : 'shared');
  if (embedding === 'separate' && space !== 'separate') throw new UsageError('--embedding separate needs --space separate');
  return { embedding, quantizer, space };
}

export async function exportCommand(argv: string[]): Promise<number> {
  const { options, flags } = parseArgs(argv, { flags: ['json'], options: ['embedding', 'quantizer', 'tokenizer', 'space', ...PROFILE_OPTIONS, 'out'] });
  if (options.out !== undefined && options.out.trim() === '') throw new UsageError('--out must name a folder');
  const spec = exportSpec(options);
  const profile = profileOf(options);
  const outDir = path.resolve(options.out ?? path.join(projectRoot(), 'reports', profile.name));
  await initBackend();
  const res = await writeDemo(profile, spec, outDir);
  const total = Object.values(res.bytes).reduce((a, b) => a + b, 0);
  if (flags.has('json')) process.stdout.write(JSON.stringify({ profile: profile.name, ...res, totalBytes: total }, null, 2) + '\n');
  else {
    const sizes = Object.entries(res.bytes).map(([f, b]) => `${f} ${(b / 1024).toFixed(0)} KiB`).join(', ');
    process.stdout.write(`${res.experiment} (${profile.name}) -> ${res.html}\n${sizes}; ${(total / 1048576).toFixed(2)} MiB in all\n`);
  }
  return 0;
}
