/** `sid models fetch <hub id>` (lib/embed/modelFetch.ts) and `sid models list` (lib/embed/modelStore.ts). */
import { fetchModel } from '../embed/modelFetch';
import { checkModelFile, hubBaseUrl, isHubId, listModels, MODEL_MANIFEST, modelsRoot, type StoredModel } from '../embed/modelStore';
import { parseArgs, UsageError } from './args';

export async function modelsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'fetch') return fetchCommand(rest);
  if (sub === 'list') return listCommand(rest);
  throw new UsageError(`expected "models fetch" or "models list", got "models ${sub ?? ''}"`);
}

async function fetchCommand(argv: string[]): Promise<number> {
  const { positional, options, flags } = parseArgs(argv, { flags: ['quantized'], options: ['hub-url', 'models-dir'] });
  const id = positional[0];
  if (!id || !isHubId(id)) throw new UsageError(`expected a hub id <owner>/<name>, e.g. Xenova/all-mpnet-base-v2, got "${id ?? ''}"`);
  let hubUrl: string;
  try {
    hubUrl = hubBaseUrl(options['hub-url']);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const r = await fetchModel(id, { quantized: flags.has('quantized'), hubUrl, modelsDir: options['models-dir'] });
  process.stdout.write(`${r.dir}\n`);
  return 0;
}

interface ListedModel {
  id: string;
  dir: string;
  bytes: number;
  onnx: string[];
  fetchedAt: string | null;
  hubUrl: string | null;
  /** What was checked against sid-model.json: 'sizes', 'sha256', or 'none' for a folder placed by hand. */
  checked: 'sizes' | 'sha256' | 'none';
  problems: string[];
}

function check(m: StoredModel, sha: boolean): ListedModel {
  const problems = m.manifest
    ? Object.entries(m.manifest.files).flatMap(([name, entry]) => checkModelFile(m.dir, name, entry, sha) ?? [])
    : [];
  return {
    id: m.id, dir: m.dir, bytes: m.bytes, onnx: m.onnx,
    fetchedAt: m.manifest?.fetchedAt ?? null, hubUrl: m.manifest?.hubUrl ?? null,
    checked: m.manifest ? (sha ? 'sha256' : 'sizes') : 'none',
    problems,
  };
}

async function listCommand(argv: string[]): Promise<number> {
  const { options, flags } = parseArgs(argv, { flags: ['json', 'verify'], options: ['models-dir'] });
  const root = modelsRoot(options['models-dir']);
  const models = listModels(root).map((m) => check(m, flags.has('verify')));
  const failed = models.filter((m) => m.problems.length > 0).length;
  if (flags.has('json')) {
    process.stdout.write(JSON.stringify({ root, models }, null, 2) + '\n');
  } else if (models.length === 0) {
    process.stdout.write(`no models in ${root}; fetch one with: sid models fetch <hub id>\n`);
  } else {
    const width = Math.max(...models.map((m) => m.id.length));
    for (const m of models) {
      const origin = m.checked === 'none' ? `no ${MODEL_MANIFEST} (placed by hand, not checked)` : `from ${m.hubUrl} ${m.fetchedAt}, ${m.checked} checked`;
      const state = m.problems.length ? `; FAILS: ${m.problems.join('; ')}` : '';
      process.stdout.write(`${m.id.padEnd(width)}  ${(m.bytes / 1e6).toFixed(1).padStart(8)} MB  ${m.onnx.join(', ') || 'no onnx/ graph'}  ${origin}${state}\n`);
    }
    process.stdout.write(`(in ${root})\n`);
  }
  return failed > 0 ? 1 : 0;
}
