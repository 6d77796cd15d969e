/**
 * An experiment's cached result does not depend on where it was trained: in a process with two BLAS
 * threads (a notebook's kernel, sid export) or in a one-thread worker. Products split over threads may
 * add their terms in another order, so the experiment stage trains and evaluates on one BLAS thread.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend, withBlasThreads } from '../lib/backend/index';
import { loadNative } from '../lib/backend/native';
import { ArtifactCache } from '../lib/pipeline/cache';
import { getProfile } from '../lib/pipeline/profiles';
import { createContext, experimentStage } from '../lib/pipeline/stages';
import { projectRoot } from '../lib/util/fs';

const addon = loadNative().addon;

before(async () => {
  await initBackend({ threads: 2 });
});

test('withBlasThreads sets the count for its work and puts the previous one back, also on an error', { skip: addon ? false : 'no native addon' }, async () => {
  addon!.setThreads(2);
  assert.equal(await withBlasThreads(1, async () => addon!.getThreads()), 1);
  assert.equal(addon!.getThreads(), 2);
  await assert.rejects(withBlasThreads(1, async () => {
    throw new Error('inside');
  }), /inside/);
  assert.equal(addon!.getThreads(), 2);
});

test('an experiment trained in a two-thread process equals one trained by a one-thread sid train', { skip: addon ? false : 'no native addon', timeout: 20 * 60 * 1000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-threads-'));
  try {
    const spec = { embedding: 'multitask', quantizer: 'rq-kmeans', space: 'shared' } as const;
    addon!.setThreads(2);
    const here = (await experimentStage(createContext(getProfile('tiny'), new ArtifactCache(path.join(dir, 'a'))), spec)).result;
    assert.equal(addon!.getThreads(), 2, 'the process keeps its own count');
    const r = spawnSync(process.execPath, [path.join(projectRoot(), 'bin', 'sid.mjs'), 'train', '--profile', 'tiny', '--embedding', 'multitask', '--json'], {
      cwd: projectRoot(),
      env: { ...process.env, SID_THREADS: '1', SID_QUIET: '1', SID_CACHE_DIR: path.join(dir, 'b') },
      encoding: 'utf8',
      maxBuffer: 256 << 20,
    });
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    const there = JSON.parse(r.stdout) as { history: { trainLoss: number }[]; search: { overall: Record<string, { mean: number }> }; rec: { overall: Record<string, { mean: number }> } };
    assert.deepEqual(there.history.map((h) => h.trainLoss), here.history.map((h) => h.trainLoss));
    for (const task of ['search', 'rec'] as const) assert.equal(there[task].overall['recall@30'].mean, here.evaluation[task].overall['recall@30'].mean);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
