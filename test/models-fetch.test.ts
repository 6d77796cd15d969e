/**
 * `sid models fetch` (lib/embed/modelFetch.ts) against a loopback hub (node:http on 127.0.0.1) that
 * serves the tiny sentence-transformer test/fixtures/make-tiny-sentence-model.py builds, with Range
 * support and a switch to drop the connection mid-file: the fetched folder, its manifest and the
 * checks on load (lib/embed/modelStore.ts, lib/embed/pretrained.ts), resuming, offline and 404
 * errors, `sid models list` and `--content-model`. Without python3-onnx the downloads serve
 * arbitrary bytes and only the test that loads the model is skipped.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchModel, ModelFetchError } from '../lib/embed/modelFetch';
import { MODEL_MANIFEST, readModelManifest, verifyModelFolder, type ModelManifest } from '../lib/embed/modelStore';
import { loadPretrainedEncoder } from '../lib/embed/pretrained';
import { selectProfile, selectorArgs } from '../lib/pipeline/budget';
import { dataSourceEnvironment, reportName } from '../lib/pipeline/profiles';
import { main } from '../lib/cli/main';

const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'make-tiny-sentence-model.py');
const onnxCheck = spawnSync(PYTHON, ['-c', 'import onnx'], { encoding: 'utf8' });
const NO_FIXTURE = onnxCheck.status === 0 ? false : `needs ${PYTHON} with the onnx module (apt-get install -y python3-onnx): ${(onnxCheck.stderr || String(onnxCheck.error)).trim()}`;

const ID = 'TestOrg/tiny-model';
const FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx', 'onnx/model_quantized.onnx'];
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let tmp = '';
let fixtureDir = '';
/** What the hub serves, by path relative to the model folder. */
const served = new Map<string, Buffer>();

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-models-fetch-'));
  if (!NO_FIXTURE) {
    fixtureDir = path.join(tmp, 'fixture');
    const r = spawnSync(PYTHON, [SCRIPT, fixtureDir, '--dim', '8', '--seed', '7'], { encoding: 'utf8' });
    assert.equal(r.status, 0, `make-tiny-sentence-model.py failed: ${r.stderr}`);
    for (const f of FILES) served.set(f, fs.readFileSync(path.join(fixtureDir, f)));
  } else {
    // Arbitrary bytes: enough for every test that does not load the model.
    FILES.forEach((f, i) => served.set(f, Buffer.from(Array.from({ length: f.endsWith('.onnx') ? 50_000 : 300 }, (_, j) => (j * 31 + i * 7) & 255))));
  }
  assert.ok(served.get('onnx/model.onnx')!.length > 1000, 'the model file must be large enough to be cut in the middle');
});

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

interface HubRequest {
  file: string;
  range?: string;
  ifRange?: string;
  status: number;
}

interface Hub {
  url: string;
  requests: HubRequest[];
  /** The next full answer for this file sends `bytes` bytes and then drops the connection. */
  dropOnce(file: string, bytes: number): void;
  /** Answer every Range request with the whole file (HTTP 200). */
  ignoreRange: boolean;
  close(): Promise<void>;
}

/** A loopback hub serving `files` at /<id>/resolve/main/<file>, with Range and If-Range. */
async function startHub(files: Map<string, Buffer>): Promise<Hub> {
  const requests: HubRequest[] = [];
  const drops = new Map<string, number>();
  const prefix = `/${ID}/resolve/main/`;
  const hub: Hub = {
    url: '',
    requests,
    dropOnce: (file, bytes) => drops.set(file, bytes),
    ignoreRange: false,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer((req, res) => {
    const file = req.url!.startsWith(prefix) ? decodeURIComponent(req.url!.slice(prefix.length)) : '';
    const body = files.get(file);
    const rec: HubRequest = { file, range: req.headers.range, ifRange: req.headers['if-range'] as string | undefined, status: 0 };
    requests.push(rec);
    if (!body) {
      rec.status = 404;
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Entry not found');
      return;
    }
    const etag = `"${sha(body)}"`;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const honour = m && !hub.ignoreRange && (rec.ifRange === undefined || rec.ifRange === etag);
    const start = honour ? Number(m![1]) : 0;
    const drop = drops.get(file);
    if (honour) {
      rec.status = 206;
      res.writeHead(206, { etag, 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
    } else {
      rec.status = 200;
      res.writeHead(200, { etag, 'content-length': body.length });
    }
    if (drop !== undefined) {
      drops.delete(file);
      // Part of the body, then the connection goes away mid-file.
      res.write(body.subarray(start, start + drop), () => res.socket?.destroy());
      return;
    }
    res.end(body.subarray(start));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return hub;
}

/** A fresh models folder. */
let nth = 0;
function modelsDir(): string {
  return path.join(tmp, `models-${++nth}`);
}

function quietLog(): { lines: string[]; log: (l: string) => void } {
  const lines: string[] = [];
  return { lines, log: (l) => lines.push(l) };
}

/**
 * Runs main() in this process, capturing the text it writes. The test runner's own messages (binary,
 * written while main() awaits the network) go through.
 */
async function runSid(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  let out = '';
  let err = '';
  process.stdout.write = ((c: string | Uint8Array, ...rest: never[]) => (typeof c === 'string' ? ((out += c), true) : o(c, ...rest))) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array, ...rest: never[]) => (typeof c === 'string' ? ((err += c), true) : e(c, ...rest))) as typeof process.stderr.write;
  try {
    return { code: await main(argv), out, err };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

const VARIANT = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx'];

function assertManifestMatches(dir: string, m: ModelManifest, files: string[], hubUrl: string): void {
  assert.equal(m.id, ID);
  assert.equal(m.hubUrl, hubUrl);
  assert.deepEqual(Object.keys(m.files).sort(), [...files].sort());
  for (const f of files) {
    const want = served.get(f)!;
    assert.equal(m.files[f].bytes, want.length, `${f}: bytes`);
    assert.equal(m.files[f].sha256, sha(want), `${f}: sha256`);
    assert.equal(m.files[f].url, `${hubUrl}/${ID}/resolve/main/${f}`);
    assert.equal(sha(fs.readFileSync(path.join(dir, f))), sha(want), `${f} on disk`);
  }
  assert.ok(Math.abs(Date.now() - Date.parse(m.fetchedAt)) < 600_000, `fetchedAt ${m.fetchedAt}`);
}

test('a fetch writes <models>/<owner>/<name>/ with a manifest of sizes and sha256, a progress line, and is not repeated', async () => {
  const hub = await startHub(served);
  try {
    const root = modelsDir();
    const { lines, log } = quietLog();
    let progress = '';
    const stream = { write: (c: string) => ((progress += c), true) } as unknown as NodeJS.WritableStream;
    const r = await fetchModel(ID, { hubUrl: hub.url, modelsDir: root, log, progressMinBytes: 0, progressStream: stream });
    assert.equal(r.dir, path.join(root, 'TestOrg', 'tiny-model'));
    assert.deepEqual(r.downloaded, VARIANT);
    assert.deepEqual(r.resumed, []);
    assertManifestMatches(r.dir, r.manifest, VARIANT, hub.url);
    assert.deepEqual(readModelManifest(r.dir), r.manifest);
    assert.equal(fs.existsSync(path.join(r.dir, 'onnx', 'model_quantized.onnx')), false);
    // Nothing is left in the download folder; the only entry beside the model is the owner folder.
    assert.deepEqual(fs.readdirSync(path.join(root, '.downloads')).filter((n) => !n.endsWith('.lock')), []);
    assert.deepEqual(fs.readdirSync(path.join(root, 'TestOrg')), ['tiny-model']);
    assert.match(progress, /\[fetch TestOrg\/tiny-model onnx\/model\.onnx\] 1\/1 \(100\.0%\) [\d.]+ MB\/s ETA /);
    assert.ok(lines.some((l) => l.includes('ready in')), lines.join('\n'));
    assert.deepEqual(hub.requests.map((q) => [q.file, q.status, q.range]), VARIANT.map((f) => [f, 200, undefined]));

    const again = await fetchModel(ID, { hubUrl: hub.url, modelsDir: root, log });
    assert.deepEqual(again.downloaded, []);
    assert.deepEqual(again.kept, VARIANT);
    assert.equal(hub.requests.length, VARIANT.length, 'a complete, checked folder is not fetched again');

    // The other variant is added beside the first; the files already there are kept.
    const q = await fetchModel(ID, { hubUrl: hub.url, modelsDir: root, log, quantized: true });
    assert.deepEqual(q.downloaded, ['onnx/model_quantized.onnx']);
    assertManifestMatches(q.dir, q.manifest, [...VARIANT, 'onnx/model_quantized.onnx'], hub.url);
  } finally {
    await hub.close();
  }
});

test('a fetched model loads through loadPretrainedEncoder and encodes as the original folder does', { skip: NO_FIXTURE }, async () => {
  const hub = await startHub(served);
  try {
    const r = await fetchModel(ID, { hubUrl: hub.url, modelsDir: modelsDir(), log: () => {} });
    const fetched = await loadPretrainedEncoder({ modelDir: r.dir });
    const original = await loadPretrainedEncoder({ modelDir: fixtureDir });
    try {
      assert.equal(fetched.dim, 8);
      const texts = ['Toy Story (1995)', 'heat', 'The Dark Knight'];
      const a = await fetched.encode(texts);
      const b = await original.encode(texts);
      assert.equal(a.length, 3 * 8);
      assert.deepEqual(Array.from(a), Array.from(b));
      // Rows are unit vectors, and not all the same.
      for (let i = 0; i < 3; i++) assert.ok(Math.abs(Math.hypot(...a.subarray(i * 8, i * 8 + 8)) - 1) < 1e-5);
      assert.notDeepEqual(Array.from(a.subarray(0, 8)), Array.from(a.subarray(8, 16)));
    } finally {
      await fetched.dispose();
      await original.dispose();
    }
  } finally {
    await hub.close();
  }
});

test('a file changed or truncated after the fetch: the load refuses, naming the file and what was expected', async () => {
  const hub = await startHub(served);
  try {
    const r = await fetchModel(ID, { hubUrl: hub.url, modelsDir: modelsDir(), log: () => {} });
    assert.equal(verifyModelFolder(r.dir)?.id, ID);
    // Same size, one byte changed (its hash was remembered by the check above; the new mtime invalidates it).
    const cfg = path.join(r.dir, 'tokenizer_config.json');
    const bytes = fs.readFileSync(cfg);
    const edited = Buffer.from(bytes);
    edited[1] = edited[1] === 0x20 ? 0x0a : 0x20;
    fs.writeFileSync(cfg, edited);
    await assert.rejects(
      loadPretrainedEncoder({ modelDir: r.dir }),
      (err: Error) => {
        assert.match(err.message, /tokenizer_config\.json has sha256 [0-9a-f]{64}, expected ([0-9a-f]{64})/);
        assert.ok(err.message.includes(`expected ${sha(bytes)}`), err.message);
        assert.ok(err.message.includes(`sid models fetch ${ID}`), err.message);
        return true;
      },
    );
    fs.writeFileSync(cfg, bytes);
    assert.equal(verifyModelFolder(r.dir)?.id, ID, 'the restored file passes again');
    const onnx = path.join(r.dir, 'onnx', 'model.onnx');
    fs.truncateSync(onnx, 100);
    await assert.rejects(loadPretrainedEncoder({ modelDir: r.dir }), new RegExp(`onnx/model\\.onnx has 100 bytes, expected ${served.get('onnx/model.onnx')!.length}`));
    // A rerun of the fetch replaces the damaged file only.
    const again = await fetchModel(ID, { hubUrl: hub.url, modelsDir: path.dirname(path.dirname(r.dir)), log: () => {} });
    assert.deepEqual(again.downloaded, ['onnx/model.onnx']);
    assert.equal(verifyModelFolder(again.dir)?.files['onnx/model.onnx'].sha256, sha(served.get('onnx/model.onnx')!));
  } finally {
    await hub.close();
  }
});

test('an interrupted download leaves no model folder; the rerun resumes with a Range request', async () => {
  const hub = await startHub(served);
  try {
    const root = modelsDir();
    const target = path.join(root, 'TestOrg', 'tiny-model');
    const full = served.get('onnx/model.onnx')!;
    const cut = Math.floor(full.length / 2);
    hub.dropOnce('onnx/model.onnx', cut);
    await assert.rejects(fetchModel(ID, { hubUrl: hub.url, modelsDir: root, log: () => {} }), (err: Error) => {
      assert.ok(err instanceof ModelFetchError);
      assert.match(err.message, new RegExp(`download of onnx/model\\.onnx from .* broke off after \\d+ of ${full.length} bytes`));
      assert.match(err.message, /run the same command again to resume/);
      return true;
    });
    assert.equal(fs.existsSync(target), false, 'no model folder after an interrupted fetch');
    const part = path.join(root, '.downloads', 'TestOrg--tiny-model', 'onnx', 'model.onnx.part');
    const kept = fs.statSync(part).size;
    assert.ok(kept > 0 && kept <= cut, `kept ${kept} of the ${cut} bytes sent`);
    assert.deepEqual(fs.readFileSync(part), full.subarray(0, kept));

    const before = hub.requests.length;
    const r = await fetchModel(ID, { hubUrl: hub.url, modelsDir: root, log: () => {} });
    const rerun = hub.requests.slice(before);
    // Only the cut file is asked for again, from where it stopped, with the validator it was served with.
    assert.deepEqual(rerun.map((q) => [q.file, q.range, q.status]), [['onnx/model.onnx', `bytes=${kept}-`, 206]]);
    assert.equal(rerun[0].ifRange, `"${sha(full)}"`);
    assert.deepEqual(r.resumed, ['onnx/model.onnx']);
    assert.deepEqual(r.downloaded, ['onnx/model.onnx']);
    assert.equal(r.manifest.files['onnx/model.onnx'].sha256, sha(full));
    assert.equal(r.manifest.files['onnx/model.onnx'].bytes, full.length);
    assertManifestMatches(target, r.manifest, VARIANT, hub.url);
    assert.equal(fs.existsSync(part), false);
  } finally {
    await hub.close();
  }
});

test('a server that answers a Range request with 200 gets a fresh download', async () => {
  const hub = await startHub(served);
  try {
    const root = modelsDir();
    const full = served.get('onnx/model.onnx')!;
    hub.dropOnce('onnx/model.onnx', 700);
    await assert.rejects(fetchModel(ID, { hubUrl: hub.url, modelsDir: root, log: () => {} }), ModelFetchError);
    hub.ignoreRange = true;
    const { lines, log } = quietLog();
    const before = hub.requests.length;
    const r = await fetchModel(ID, { hubUrl: hub.url, modelsDir: root, log });
    const rerun = hub.requests.slice(before);
    assert.match(rerun[0].range ?? '', /^bytes=\d+-$/);
    assert.equal(rerun[0].status, 200);
    assert.deepEqual(r.resumed, []);
    assert.equal(r.manifest.files['onnx/model.onnx'].sha256, sha(full));
    assert.equal(sha(fs.readFileSync(path.join(r.dir, 'onnx', 'model.onnx'))), sha(full));
    assert.ok(lines.some((l) => /HTTP 200, not 206/.test(l)), lines.join('\n'));
  } finally {
    await hub.close();
  }
});

test('offline (connection refused): one line saying which files to place by hand, and where', async () => {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const root = modelsDir();
  const url = `http://127.0.0.1:${port}`;
  const target = path.join(root, 'TestOrg', 'tiny-model');
  await assert.rejects(fetchModel(ID, { hubUrl: url, modelsDir: root, log: () => {} }), (err: Error) => {
    assert.ok(err instanceof ModelFetchError);
    assert.doesNotMatch(err.message, /\n/);
    assert.match(err.message, new RegExp(`^could not reach ${url} .*ECONNREFUSED`));
    assert.ok(err.message.includes('download config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx'), err.message);
    assert.ok(err.message.includes(`into ${target}${path.sep} (onnx/ as a subfolder) and pass --content-model ${ID}`), err.message);
    return true;
  });
  assert.equal(fs.existsSync(target), false);
  assert.equal(fs.existsSync(path.join(root, '.downloads', 'TestOrg--tiny-model')), false, 'no empty download folder is left');
  // The command prints that one line and exits 1.
  const r = await runSid(['models', 'fetch', ID, '--hub-url', url, '--models-dir', root]);
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  const errLines = r.err.trimEnd().split('\n').filter((l) => !l.includes('waiting for another fetch'));
  assert.equal(errLines.length, 1, r.err);
  assert.match(errLines[0], /^sid models: could not reach .* To place TestOrg\/tiny-model by hand: download /);
});

test('a file the hub does not have (404) stops the fetch, naming its URL; no model folder appears', async () => {
  const withoutQuantized = new Map(served);
  withoutQuantized.delete('onnx/model_quantized.onnx');
  const hub = await startHub(withoutQuantized);
  try {
    const root = modelsDir();
    await assert.rejects(fetchModel(ID, { hubUrl: hub.url, modelsDir: root, log: () => {}, quantized: true }), (err: Error) => {
      assert.ok(err instanceof ModelFetchError);
      assert.ok(err.message.startsWith(`${hub.url}/${ID}/resolve/main/onnx/model_quantized.onnx answered HTTP 404 Not Found`), err.message);
      assert.match(err.message, /download config\.json, tokenizer\.json, tokenizer_config\.json, onnx\/model_quantized\.onnx from .* into /);
      assert.doesNotMatch(err.message, /\n/);
      return true;
    });
    assert.equal(hub.requests.at(-1)?.status, 404);
    assert.equal(fs.existsSync(path.join(root, 'TestOrg', 'tiny-model')), false);
  } finally {
    await hub.close();
  }
});

test('sid models list shows fetched models with their sizes; --verify names a damaged file', async () => {
  const hub = await startHub(served);
  try {
    const root = modelsDir();
    let r = await runSid(['models', 'list', '--models-dir', root]);
    assert.equal(r.code, 0);
    assert.match(r.out, /^no models in .*sid models fetch <hub id>/);
    r = await runSid(['models', 'fetch', ID, '--hub-url', hub.url, '--models-dir', root]);
    assert.equal(r.code, 0, r.err);
    const dir = path.join(root, 'TestOrg', 'tiny-model');
    assert.equal(r.out, `${dir}\n`);
    const bytes = VARIANT.reduce((s, f) => s + served.get(f)!.length, 0) + fs.statSync(path.join(dir, MODEL_MANIFEST)).size;
    r = await runSid(['models', 'list', '--models-dir', root, '--json']);
    assert.equal(r.code, 0);
    const listed = JSON.parse(r.out) as { models: Array<{ id: string; bytes: number; onnx: string[]; checked: string; problems: string[] }> };
    assert.deepEqual(listed.models.map((m) => [m.id, m.bytes, m.onnx, m.checked, m.problems]), [[ID, bytes, ['onnx/model.onnx'], 'sizes', []]]);
    r = await runSid(['models', 'list', '--models-dir', root]);
    assert.match(r.out, new RegExp(`^TestOrg/tiny-model +${(bytes / 1e6).toFixed(1)} MB  onnx/model.onnx  from ${hub.url}`));
    const tok = path.join(dir, 'tokenizer.json');
    const t = fs.readFileSync(tok);
    t[0] ^= 1;
    fs.writeFileSync(tok, t);
    r = await runSid(['models', 'list', '--models-dir', root]);
    assert.equal(r.code, 0, 'sizes still match');
    r = await runSid(['models', 'list', '--models-dir', root, '--verify']);
    assert.equal(r.code, 1);
    assert.match(r.out, /FAILS: tokenizer\.json has sha256 [0-9a-f]{64}, expected/);
  } finally {
    await hub.close();
  }
});

test('--content-model: a fetched hub id or a folder sets the content encoder, travels to workers, and a missing id is a usage error', async () => {
  const hub = await startHub(served);
  const saved = { models: process.env.SID_MODELS_DIR, cache: process.env.SID_CACHE_DIR };
  try {
    const root = modelsDir();
    process.env.SID_MODELS_DIR = root;
    process.env.SID_CACHE_DIR = path.join(tmp, 'cache');
    const r = await fetchModel(ID, { hubUrl: hub.url, log: () => {} });
    assert.equal(r.dir, path.join(root, 'TestOrg', 'tiny-model'), 'SID_MODELS_DIR is the default models folder');
    const p = selectProfile({ name: 'tiny', contentModel: ID });
    assert.deepEqual(p.embed.content?.pretrained, { modelDir: r.dir, quantized: false });
    assert.equal(p.embed.content?.dim, selectProfile({ name: 'tiny' }).embed.content?.dim, 'the other content options are kept');
    assert.deepEqual(selectorArgs(p), ['--profile', 'tiny', '--content-model', r.dir]);
    assert.equal(reportName(p), 'tiny-tiny-model');
    assert.deepEqual(dataSourceEnvironment(p), { SID_CONTENT_MODEL: r.dir });
    // What a worker gets back selects the same profile; a folder is used as it is.
    assert.deepEqual(selectProfile({ name: 'tiny', contentModel: r.dir }), p);
    assert.equal(selectProfile({ name: 'tiny' }).embed.content?.pretrained, undefined);
    assert.deepEqual(selectorArgs(selectProfile({ name: 'tiny' })), ['--profile', 'tiny']);
    // A folder holding only the quantized graph selects it.
    const qDir = path.join(tmp, 'hand-placed-q8');
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model_quantized.onnx']) {
      fs.mkdirSync(path.dirname(path.join(qDir, f)), { recursive: true });
      fs.writeFileSync(path.join(qDir, f), served.get(f)!);
    }
    assert.deepEqual(selectProfile({ name: 'tiny', contentModel: qDir }).embed.content?.pretrained, { modelDir: qDir, quantized: true });

    assert.throws(() => selectProfile({ name: 'tiny', contentModel: 'TestOrg/other' }), /--content-model TestOrg\/other: TestOrg\/other is not fetched .*run: sid models fetch TestOrg\/other/);
    assert.throws(() => selectProfile({ name: 'tiny', contentModel: path.join(tmp, 'nope', 'x', 'y') }), /no such folder .*nope.*is not a hub id/);
    assert.throws(() => selectProfile({ name: 'tiny', contentModel: tmp }), /has no config\.json, tokenizer\.json, tokenizer_config\.json, onnx\/model\.onnx \(or onnx\/model_quantized\.onnx\)/);
    const cli = await runSid(['embed', '--strategy', 'content', '--profile', 'tiny', '--content-model', 'TestOrg/other']);
    assert.equal(cli.code, 2, cli.err);
    assert.match(cli.err, /^sid embed: --content-model TestOrg\/other: .*sid models fetch TestOrg\/other\n$/);
    assert.doesNotMatch(cli.err, /\[backend\]/);
  } finally {
    await hub.close();
    for (const [k, v] of [['SID_MODELS_DIR', saved.models], ['SID_CACHE_DIR', saved.cache]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});
