/**
 * SASRec's validation grid as a stage: every setting trained with the run's seed, the best validation
 * recall chosen, the chosen setting trained once more per seed of the run, and nothing read from test.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../lib/backend';
import { ArtifactCache } from '../lib/pipeline/cache';
import { getProfile, type Profile } from '../lib/pipeline/profiles';
import { createContext, sasrecRunsStage } from '../lib/pipeline/stages';

before(async () => {
  await initBackend();
});

test('the SASRec grid chooses its best validation setting and trains it with every seed of the run', async () => {
  const tiny = getProfile('tiny');
  const profile: Profile = {
    ...tiny,
    baselines: { sasrec: { ...tiny.baselines.sasrec, maxEpochs: 3, patience: 3 }, sasrecGrid: { dropout: [0.2, 0.5], learningRate: [1e-3, 1e-2] } },
    generate: { ...tiny.generate, replicates: 2 },
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-sasrec-grid-'));
  try {
    const ctx = createContext(profile, new ArtifactCache(dir));
    const r = await sasrecRunsStage(ctx);
    const { grid, chosen } = r.selection;
    assert.deepEqual(grid.map((g) => [g.params.learningRate, g.params.dropout]), [[1e-3, 0.2], [1e-3, 0.5], [1e-2, 0.2], [1e-2, 0.5]]);
    for (const g of grid) {
      assert.equal(g.validRecall, Math.max(...g.curve));
      assert.equal(g.curve.length, g.epochs);
    }
    // The chosen setting is the first with the highest validation recall.
    const best = grid.findIndex((g) => g.validRecall === Math.max(...grid.map((x) => x.validRecall)));
    assert.deepEqual(chosen, grid[best].params);
    // Seed 0 of the run is the grid's own training; seed 1 another training of the same setting.
    assert.equal(r.runs.length, 2);
    assert.deepEqual(r.runs.map((x) => x.config.seed), [profile.seed, profile.seed + 1]);
    for (const x of r.runs) assert.deepEqual({ learningRate: x.config.learningRate, dropout: x.config.dropout, dim: x.config.dim }, chosen);
    assert.deepEqual(r.runs[0].validRecall, grid[best].curve);
    assert.notDeepEqual(r.runs[1].rankings, r.runs[0].rankings);
    // Four grid trainings and one more seed, each its own artifact; a second run finds them all.
    assert.equal(r.keys.length, 5);
    const again = await sasrecRunsStage(createContext(profile, new ArtifactCache(dir)));
    assert.equal(again.cached, true);
    assert.deepEqual(again.selection, r.selection);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
