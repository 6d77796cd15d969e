import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../lib/backend';
import { Rng } from '../lib/util/random';
import { kmeans } from '../lib/quantize/kmeans';
import { Matrix } from '../lib/quantize/matrix';
import { decodeResidual, encodeResidual, fitRqKMeans, residualErrors, rqRelativeError } from '../lib/quantize/rqKmeans';
import { fitHierKMeans } from '../lib/quantize/hierKmeans';
import { benchKmeans, gaussianMixture } from '../lib/bench/kmeans';

before(async () => {
  await initBackend();
});

function planted(centres: number, per: number, d: number, spread: number, noise: number, seed: number): { x: Matrix; truth: Int32Array } {
  const rng = new Rng(seed);
  const c = Float32Array.from({ length: centres * d }, () => spread * rng.normal());
  const n = centres * per;
  const data = new Float32Array(n * d);
  const truth = new Int32Array(n);
  const order = rng.permutation(n);
  for (let r = 0; r < n; r++) {
    const i = order[r];
    const m = r % centres;
    truth[i] = m;
    for (let j = 0; j < d; j++) data[i * d + j] = c[m * d + j] + noise * rng.normal();
  }
  return { x: { data, rows: n, cols: d }, truth };
}

function bruteNearest(x: Matrix, cent: Float32Array, k: number): { labels: Int32Array; dist: Float64Array } {
  const d = x.cols;
  const labels = new Int32Array(x.rows);
  const dist = new Float64Array(x.rows);
  for (let i = 0; i < x.rows; i++) {
    let best = Infinity;
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const e = x.data[i * d + j] - cent[c * d + j];
        s += e * e;
      }
      if (s < best) {
        best = s;
        labels[i] = c;
      }
    }
    dist[i] = best;
  }
  return { labels, dist };
}

test('k-means recovers planted clusters exactly (up to label permutation)', () => {
  const { x, truth } = planted(12, 50, 16, 10, 0.3, 7);
  const r = kmeans(x, { k: 12, seed: 3 });
  const map = new Map<number, number>();
  for (let i = 0; i < x.rows; i++) {
    const prev = map.get(r.labels[i]);
    if (prev === undefined) map.set(r.labels[i], truth[i]);
    else assert.equal(prev, truth[i], `cluster ${r.labels[i]} mixes planted clusters`);
  }
  assert.equal(new Set(map.values()).size, 12);
  assert.ok(r.converged);
});

test('k-means inertia never rises across iterations and matches brute force', () => {
  const rng = new Rng(11);
  const n = 3000;
  const d = 10;
  const x: Matrix = { data: Float32Array.from({ length: n * d }, () => rng.normal()), rows: n, cols: d };
  for (const seed of [1, 2]) {
    const r = kmeans(x, { k: 40, seed, maxIter: 60, tol: 0 });
    assert.ok(r.inertiaHistory.length > 5, 'should run several iterations');
    for (let t = 1; t < r.inertiaHistory.length; t++) {
      assert.ok(r.inertiaHistory[t] <= r.inertiaHistory[t - 1] * (1 + 1e-7), `inertia rose at ${t}: ${r.inertiaHistory[t - 1]} -> ${r.inertiaHistory[t]}`);
    }
    const bf = bruteNearest(x, r.centroids, 40);
    let total = 0;
    for (let i = 0; i < n; i++) {
      total += bf.dist[i];
      assert.ok(r.dist[i] <= bf.dist[i] * (1 + 1e-5) + 1e-6, `row ${i} not assigned to its nearest centroid`);
    }
    assert.ok(Math.abs(total - r.inertia) <= 1e-5 * total);
    assert.equal(r.inertia, r.inertiaHistory[r.inertiaHistory.length - 1]);
  }
});

test('k-means mini-batch mode reaches an inertia close to full Lloyd', () => {
  const { x } = planted(8, 200, 8, 5, 0.5, 5);
  const full = kmeans(x, { k: 8, seed: 1 });
  const mb = kmeans(x, { k: 8, seed: 1, miniBatch: { batchSize: 256, steps: 60 } });
  assert.ok(mb.inertia <= full.inertia * 1.1, `mini-batch ${mb.inertia} vs full ${full.inertia}`);
  assert.equal(mb.labels.length, x.rows);
});

test('k-means rejects bad options with a message naming the option', () => {
  const x: Matrix = { data: new Float32Array(20), rows: 10, cols: 2 };
  assert.throws(() => kmeans(x, { k: 11 }), /kmeans\.ts \(option k\)/);
  assert.throws(() => kmeans({ data: new Float32Array(3), rows: 2, cols: 2 }, { k: 1 }), /data\.length 3/);
  assert.throws(() => kmeans(x, { k: 2, tol: -1 }), /option tol/);
});

test('k-means handles duplicate points (empty clusters repaired, no NaN)', () => {
  const d = 3;
  const n = 60;
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) data[i * d] = i % 3; // only 3 distinct points
  const r = kmeans({ data, rows: n, cols: d }, { k: 5, seed: 1 });
  assert.ok(r.centroids.every((v) => Number.isFinite(v)));
  assert.ok(r.inertia < 1e-9);
});

test('RQ-KMeans reconstruction error falls with each level; decode agrees with fit', () => {
  const x = gaussianMixture(1500, 16, 64, 0.5, 3);
  const fit = fitRqKMeans(x, { levels: 3, k: 16, seed: 2 });
  for (let l = 1; l < 3; l++) assert.ok(fit.levelErrors[l] < fit.levelErrors[l - 1], `level ${l}: ${fit.levelErrors}`);
  const rel = rqRelativeError(fit.model, x, fit.codes);
  assert.ok(Math.abs(rel - fit.levelErrors[2]) < 1e-4, `${rel} vs ${fit.levelErrors[2]}`);
  // Greedy re-encoding of the training data reproduces the fitted codes (up to float ties).
  const again = encodeResidual(fit.model, x);
  let same = 0;
  for (let i = 0; i < again.length; i++) if (again[i] === fit.codes[i]) same++;
  assert.ok(same / again.length > 0.99);
});

test('beam encoding is never worse than greedy, and usually better', () => {
  const x = gaussianMixture(1200, 12, 40, 0.8, 9);
  const fit = fitRqKMeans(x, { levels: 3, k: 8, seed: 4 });
  const greedy = encodeResidual(fit.model, x, { beamWidth: 1 });
  const beam = encodeResidual(fit.model, x, { beamWidth: 6 });
  const eg = residualErrors(fit.model, x, greedy);
  const eb = residualErrors(fit.model, x, beam);
  let better = 0;
  for (let i = 0; i < x.rows; i++) {
    assert.ok(eb[i] <= eg[i] + 1e-9, `item ${i}: beam ${eb[i]} > greedy ${eg[i]}`);
    if (eb[i] < eg[i] - 1e-9) better++;
  }
  assert.ok(better > 0, 'beam should improve some items');
  const xhat = decodeResidual(fit.model, beam, x.rows);
  assert.equal(xhat.length, x.data.length);
});

test('same seed gives the same codes; another seed differs', () => {
  const x = gaussianMixture(800, 8, 32, 0.5, 1);
  const a = fitRqKMeans(x, { levels: 2, k: 16, seed: 5 });
  const b = fitRqKMeans(x, { levels: 2, k: 16, seed: 5 });
  const c = fitRqKMeans(x, { levels: 2, k: 16, seed: 6 });
  assert.deepEqual(a.codes, b.codes);
  assert.deepEqual(a.model.codebooks, b.model.codebooks);
  assert.notDeepEqual(a.codes, c.codes);
  const h1 = fitHierKMeans(x, { k: 8, seed: 5 });
  const h2 = fitHierKMeans(x, { k: 8, seed: 5 });
  assert.deepEqual(h1.codes, h2.codes);
});

test('hierarchical k-means: level-2 clusters inside level-1 clusters, per-item codes in small clusters', () => {
  const { x, truth } = planted(4, 30, 6, 20, 1, 2);
  // k=4: level 1 finds the planted clusters; each has 30 > 4 items, so level 2 runs k-means.
  const fit = fitHierKMeans(x, { levels: 2, k: 4, seed: 1 });
  const l1 = new Map<number, number>();
  for (let i = 0; i < x.rows; i++) {
    const c = fit.codes[i * 2];
    if (l1.has(c)) assert.equal(l1.get(c), truth[i]);
    else l1.set(c, truth[i]);
  }
  assert.equal(fit.kmeansRuns[1], 4);
  // k=64 >= cluster sizes: each item gets its own level-2 code, IDs are unique, reconstruction exact.
  const fine = fitHierKMeans(x, { levels: 2, k: [4, 64], seed: 1 });
  const keys = new Set<string>();
  for (let i = 0; i < x.rows; i++) keys.add(`${fine.codes[i * 2]},${fine.codes[i * 2 + 1]}`);
  assert.equal(keys.size, x.rows);
  assert.deepEqual(fine.reconstruction, x.data);
});

test('no tensor leaks in k-means, RQ fit and beam encoding', () => {
  const x = gaussianMixture(500, 8, 16, 0.5, 1);
  const before = tf.memory().numTensors;
  kmeans(x, { k: 10, seed: 1 });
  kmeans(x, { k: 10, seed: 1, miniBatch: { batchSize: 64, steps: 5 } });
  const fit = fitRqKMeans(x, { levels: 2, k: 8, seed: 1, beamWidth: 3 });
  encodeResidual(fit.model, x, { beamWidth: 4 });
  fitHierKMeans(x, { k: 4, seed: 1 });
  assert.equal(tf.memory().numTensors, before);
});

test('benchKmeans runs end to end on a small size and reports consistent numbers', async () => {
  const r = await benchKmeans({ sizes: [[700, 8]], log: false, matmulSize: 128 });
  assert.equal(r.cases.length, 1);
  const c = r.cases[0];
  assert.ok(c.relativeError > 0 && c.relativeError < 0.5, `${c.relativeError}`);
  assert.ok(c.assignGflops > 0 && r.matmulGflops > 0);
  assert.equal(c.iterations.length, 2);
});
