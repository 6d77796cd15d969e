import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../lib/util/random';
import { csrOperator, denseOperator, orthonormalizeColumns, randomizedSvd, symmetricEigen, type CsrMatrix } from '../lib/embed/svd';
import { fitTfidf } from '../lib/embed/tfidf';
import { choleskySolve } from '../lib/embed/cf';

function randomLowRankPlusNoise(rng: Rng, m: number, n: number, spectrum: number[], noise: number): Float64Array {
  const a = new Float64Array(m * n);
  for (const s of spectrum) {
    const u = Array.from({ length: m }, () => rng.normal());
    const v = Array.from({ length: n }, () => rng.normal());
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) a[i * n + j] += (s * u[i] * v[j]) / Math.sqrt(m * n);
  }
  for (let i = 0; i < a.length; i++) a[i] += noise * rng.normal();
  return a;
}

/** Brute force: all singular values from the eigenvalues of A^T A. */
function allSingularValues(a: Float64Array, m: number, n: number): number[] {
  const g = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let r = 0; r < m; r++) s += a[r * n + i] * a[r * n + j];
    g[i * n + j] = s;
  }
  return Array.from(symmetricEigen(g, n).values, (x) => Math.sqrt(Math.max(0, x)));
}

test('symmetricEigen reconstructs a symmetric matrix with orthonormal vectors', () => {
  const rng = new Rng(3);
  const n = 12;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = rng.normal();
  const { values, vectors } = symmetricEigen(a, n);
  for (let i = 1; i < n; i++) assert.ok(values[i - 1] >= values[i], 'eigenvalues sorted descending');
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let rec = 0;
    let dot = 0;
    for (let k = 0; k < n; k++) {
      rec += vectors[i * n + k] * values[k] * vectors[j * n + k];
      dot += vectors[k * n + i] * vectors[k * n + j];
    }
    assert.ok(Math.abs(rec - a[i * n + j]) < 1e-9, `A[${i},${j}] reconstructed`);
    assert.ok(Math.abs(dot - (i === j ? 1 : 0)) < 1e-9, 'V^T V = I');
  }
});

test('randomized truncated SVD matches the brute-force best rank-k approximation', () => {
  const rng = new Rng(11);
  const m = 40;
  const n = 25;
  const k = 5;
  const a = randomLowRankPlusNoise(rng, m, n, [30, 20, 12, 8, 5, 3, 2], 0.05);
  const exact = allSingularValues(a, m, n);
  const svd = randomizedSvd(denseOperator(a, m, n), k, { seed: 5, powerIterations: 4 });
  for (let j = 0; j < k; j++) assert.ok(Math.abs(svd.s[j] - exact[j]) < 1e-6 * exact[0], `sigma_${j}: ${svd.s[j]} vs ${exact[j]}`);
  // ||A - U S V^T||_F^2 must equal the Eckart-Young optimum: sum of the discarded sigma^2.
  let err = 0;
  for (let i = 0; i < m; i++) for (let c = 0; c < n; c++) {
    let r = 0;
    for (let j = 0; j < k; j++) r += svd.u[i * k + j] * svd.s[j] * svd.v[c * k + j];
    err += (a[i * n + c] - r) ** 2;
  }
  const best = exact.slice(k).reduce((s, x) => s + x * x, 0);
  assert.ok(Math.abs(err - best) < 1e-6 * (best + 1e-12) + 1e-9, `rank-${k} error ${err} vs optimum ${best}`);
  // U and V have orthonormal columns.
  for (const [mat, rows] of [[svd.u, m], [svd.v, n]] as const) {
    for (let p = 0; p < k; p++) for (let q = 0; q < k; q++) {
      let d = 0;
      for (let r = 0; r < rows; r++) d += mat[r * k + p] * mat[r * k + q];
      assert.ok(Math.abs(d - (p === q ? 1 : 0)) < 1e-8);
    }
  }
});

test('sparse and dense operators give the same SVD; same seed gives the same result', () => {
  const rng = new Rng(2);
  const m = 30;
  const n = 50;
  const dense = new Float64Array(m * n);
  const indptr = new Int32Array(m + 1);
  const idx: number[] = [];
  const val: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      if (rng.next() < 0.15) {
        const v = Math.fround(rng.normal());
        dense[i * n + j] = v;
        idx.push(j);
        val.push(v);
      }
    }
    indptr[i + 1] = idx.length;
  }
  const csr: CsrMatrix = { rows: m, cols: n, indptr, indices: Int32Array.from(idx), values: Float32Array.from(val) };
  const a = randomizedSvd(csrOperator(csr), 6, { seed: 9 });
  const b = randomizedSvd(denseOperator(dense, m, n), 6, { seed: 9 });
  const c = randomizedSvd(csrOperator(csr), 6, { seed: 9 });
  for (let j = 0; j < 6; j++) assert.ok(Math.abs(a.s[j] - b.s[j]) < 1e-9);
  assert.deepEqual(Array.from(a.v), Array.from(c.v));
  assert.throws(() => randomizedSvd(csrOperator(csr), 31), /k must be an integer in 1\.\.30/);
});

test('orthonormalizeColumns zeroes a dependent column', () => {
  const n = 6;
  const col0 = [1, 0, 3, 1, 1, 2];
  const col2 = [2, 4, 1, 4, 2, 0];
  const y = new Float64Array(n * 3);
  for (let i = 0; i < n; i++) {
    y[i * 3] = col0[i];
    y[i * 3 + 1] = 2 * col0[i]; // dependent on column 0
    y[i * 3 + 2] = col2[i];
  }
  orthonormalizeColumns(y, n, 3);
  let n1 = 0;
  for (let i = 0; i < n; i++) n1 += y[i * 3 + 1] ** 2;
  assert.ok(n1 < 1e-12, 'dependent column removed');
  let n0 = 0;
  let n2 = 0;
  let d02 = 0;
  for (let i = 0; i < n; i++) {
    n0 += y[i * 3] ** 2;
    n2 += y[i * 3 + 2] ** 2;
    d02 += y[i * 3] * y[i * 3 + 2];
  }
  assert.ok(Math.abs(n0 - 1) < 1e-12 && Math.abs(n2 - 1) < 1e-12 && Math.abs(d02) < 1e-12);
});

test('TF-IDF: sublinear tf, smooth idf, L2 rows, unigrams and bigrams', () => {
  const v = fitTfidf(['red apple red', 'green apple', 'blue sky']);
  assert.ok(v.vocabulary.has('red apple') && v.vocabulary.has('apple red') && v.vocabulary.has('sky'));
  const x = v.transform(['red apple red']);
  const w = new Map<string, number>();
  for (let p = x.indptr[0]; p < x.indptr[1]; p++) w.set([...v.vocabulary.entries()].find(([, j]) => j === x.indices[p])![0], x.values[p]);
  const idf = (df: number) => Math.log(4 / (1 + df)) + 1;
  const raw = { red: (1 + Math.log(2)) * idf(1), apple: idf(2), 'red apple': idf(1), 'apple red': idf(1) };
  const norm = Math.sqrt(Object.values(raw).reduce((s, t) => s + t * t, 0));
  for (const [t, r] of Object.entries(raw)) assert.ok(Math.abs(w.get(t)! - r / norm) < 1e-6, t);
  assert.equal(v.transform(['unknown words']).indptr[1], 0);
});

test('choleskySolve solves an SPD system', () => {
  const a = new Float64Array([4, 2, 0.6, 2, 5, 1, 0.6, 1, 3]);
  const x = [1, -2, 0.5];
  const b = new Float64Array(3);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) b[i] += a[i * 3 + j] * x[j];
  const sol = choleskySolve(a.slice(), b, 3);
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(sol[i] - x[i]) < 1e-12);
  assert.throws(() => choleskySolve(new Float64Array([1, 2, 2, 1]), new Float64Array(2), 2), /not positive definite/);
});

test('pretrained encoder: a missing model folder is a clear error', async () => {
  const { loadPretrainedEncoder } = await import('../lib/embed/pretrained');
  await assert.rejects(loadPretrainedEncoder({ modelDir: '/nonexistent/model' }), /has no config\.json/);
});
