/**
 * Randomized truncated SVD (Halko, Martinsson & Tropp 2011, Alg. 4.4 + 5.1): a Gaussian sketch,
 * a few power iterations re-orthonormalised with QR at every half step, then the small SVD of
 * B = Q^T A from the eigen-decomposition of the l x l Gram matrix B B^T (cyclic Jacobi).
 * Works on any matrix given as a linear operator, so sparse TF-IDF never becomes dense.
 * Float64 typed arrays throughout: the Gram step squares the condition number.
 */
import { Rng } from '../util/random';

/** A [rows, cols] matrix seen through products with row-major dense blocks. */
export interface LinearOperator {
  rows: number;
  cols: number;
  /** A X for X [cols, l] -> [rows, l]. */
  times(x: Float64Array, l: number): Float64Array;
  /** A^T Y for Y [rows, l] -> [cols, l]. */
  timesT(y: Float64Array, l: number): Float64Array;
}

/** Compressed sparse rows. */
export interface CsrMatrix {
  rows: number;
  cols: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

export function csrOperator(a: CsrMatrix): LinearOperator {
  return {
    rows: a.rows,
    cols: a.cols,
    times(x, l) {
      const out = new Float64Array(a.rows * l);
      for (let i = 0; i < a.rows; i++) {
        const o = i * l;
        for (let p = a.indptr[i]; p < a.indptr[i + 1]; p++) {
          const v = a.values[p];
          const r = a.indices[p] * l;
          for (let j = 0; j < l; j++) out[o + j] += v * x[r + j];
        }
      }
      return out;
    },
    timesT(y, l) {
      const out = new Float64Array(a.cols * l);
      for (let i = 0; i < a.rows; i++) {
        const o = i * l;
        for (let p = a.indptr[i]; p < a.indptr[i + 1]; p++) {
          const v = a.values[p];
          const r = a.indices[p] * l;
          for (let j = 0; j < l; j++) out[r + j] += v * y[o + j];
        }
      }
      return out;
    },
  };
}

/** A dense row-major matrix as an operator. */
export function denseOperator(data: ArrayLike<number>, rows: number, cols: number): LinearOperator {
  if (data.length !== rows * cols) {
    throw new Error(`lib/embed/svd.ts denseOperator: ${data.length} values for a ${rows}x${cols} matrix`);
  }
  return {
    rows,
    cols,
    times(x, l) {
      const out = new Float64Array(rows * l);
      for (let i = 0; i < rows; i++) {
        const o = i * l;
        for (let c = 0; c < cols; c++) {
          const v = data[i * cols + c];
          if (v === 0) continue;
          const r = c * l;
          for (let j = 0; j < l; j++) out[o + j] += v * x[r + j];
        }
      }
      return out;
    },
    timesT(y, l) {
      const out = new Float64Array(cols * l);
      for (let i = 0; i < rows; i++) {
        const o = i * l;
        for (let c = 0; c < cols; c++) {
          const v = data[i * cols + c];
          if (v === 0) continue;
          const r = c * l;
          for (let j = 0; j < l; j++) out[r + j] += v * y[o + j];
        }
      }
      return out;
    },
  };
}

/**
 * In-place orthonormalisation of the columns of a row-major [n, l] block (modified Gram-Schmidt,
 * applied twice by default for stability: "twice is enough"). Columns that are numerically dependent become 0.
 * Works on a column-major copy so every inner loop is contiguous.
 */
export function orthonormalizeColumns(y: Float64Array, n: number, l: number, passes = 2): Float64Array {
  const c = new Float64Array(n * l);
  for (let i = 0; i < n; i++) for (let j = 0; j < l; j++) c[j * n + i] = y[i * l + j];
  const norm0 = new Float64Array(l);
  for (let j = 0; j < l; j++) {
    const cj = c.subarray(j * n, (j + 1) * n);
    let s = 0;
    for (let i = 0; i < n; i++) s += cj[i] * cj[i];
    norm0[j] = Math.sqrt(s);
  }
  for (let pass = 0; pass < passes; pass++) {
    for (let j = 0; j < l; j++) {
      const cj = c.subarray(j * n, (j + 1) * n);
      for (let q = 0; q < j; q++) {
        const cq = c.subarray(q * n, (q + 1) * n);
        let dot = 0;
        for (let i = 0; i < n; i++) dot += cj[i] * cq[i];
        if (dot !== 0) for (let i = 0; i < n; i++) cj[i] -= dot * cq[i];
      }
      let s = 0;
      for (let i = 0; i < n; i++) s += cj[i] * cj[i];
      const nrm = Math.sqrt(s);
      const inv = nrm > 1e-10 * norm0[j] && nrm > 1e-300 ? 1 / nrm : 0;
      for (let i = 0; i < n; i++) cj[i] *= inv;
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < l; j++) y[i * l + j] = c[j * n + i];
  return y;
}

export interface SymmetricEigen {
  /** Eigenvalues, descending. */
  values: Float64Array;
  /** Row-major [n, n]: column j is the eigenvector of values[j]. */
  vectors: Float64Array;
}

/** Cyclic Jacobi eigen-decomposition of a symmetric row-major [n, n] matrix. */
export function symmetricEigen(aIn: ArrayLike<number>, n: number, maxSweeps = 60): SymmetricEigen {
  const a = Float64Array.from(aIn as ArrayLike<number>);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale += a[i] * a[i];
  const tol = 1e-30 * Math.max(scale, 1e-300);
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    if (off <= tol) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j * n + j] - a[i * n + i]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = a[src * n + src];
    for (let k = 0; k < n; k++) vectors[k * n + dst] = v[k * n + src];
  });
  return { values, vectors };
}

export interface TruncatedSvd {
  k: number;
  /** Left singular vectors, row-major [rows, k]. */
  u: Float64Array;
  /** Singular values, descending. */
  s: Float64Array;
  /** Right singular vectors, row-major [cols, k]. */
  v: Float64Array;
}

export interface RandomizedSvdOptions {
  /** Extra sketch columns beyond k. Default 10. */
  oversample?: number;
  /** Power iterations. Default 4. */
  powerIterations?: number;
  seed?: number;
}

export function randomizedSvd(a: LinearOperator, k: number, opts: RandomizedSvdOptions = {}): TruncatedSvd {
  const maxRank = Math.min(a.rows, a.cols);
  if (!Number.isInteger(k) || k < 1 || k > maxRank) {
    throw new Error(`lib/embed/svd.ts randomizedSvd: k must be an integer in 1..${maxRank} (min of ${a.rows}x${a.cols}), got ${k}`);
  }
  const l = Math.min(maxRank, k + (opts.oversample ?? 10));
  const rng = new Rng(opts.seed ?? 1);
  const omega = new Float64Array(a.cols * l);
  for (let i = 0; i < omega.length; i++) omega[i] = rng.normal();
  let q = orthonormalizeColumns(a.times(omega, l), a.rows, l, (opts.powerIterations ?? 4) > 0 ? 1 : 2);
  // Intermediate bases only have to stay well conditioned: one Gram-Schmidt pass; the final Q two.
  const iters = opts.powerIterations ?? 4;
  for (let it = 0; it < iters; it++) {
    const z = orthonormalizeColumns(a.timesT(q, l), a.cols, l, 1);
    q = orthonormalizeColumns(a.times(z, l), a.rows, l, it === iters - 1 ? 2 : 1);
  }
  // B^T = A^T Q: [cols, l]; Gram B B^T = (B^T)^T B^T: [l, l].
  const bt = a.timesT(q, l);
  const gram = new Float64Array(l * l);
  for (let r = 0; r < a.cols; r++) {
    const o = r * l;
    for (let i = 0; i < l; i++) {
      const bi = bt[o + i];
      if (bi === 0) continue;
      for (let j = i; j < l; j++) gram[i * l + j] += bi * bt[o + j];
    }
  }
  for (let i = 0; i < l; i++) for (let j = 0; j < i; j++) gram[i * l + j] = gram[j * l + i];
  const eig = symmetricEigen(gram, l);
  const s = new Float64Array(k);
  for (let j = 0; j < k; j++) s[j] = Math.sqrt(Math.max(0, eig.values[j]));
  // U = Q W[:, :k]; V = B^T W[:, :k] S^-1 (row-wise, contiguous inner loops).
  const w = eig.vectors;
  const u = new Float64Array(a.rows * k);
  for (let r = 0; r < a.rows; r++) {
    for (let i = 0; i < l; i++) {
      const qi = q[r * l + i];
      if (qi === 0) continue;
      for (let j = 0; j < k; j++) u[r * k + j] += qi * w[i * l + j];
    }
  }
  const v = new Float64Array(a.cols * k);
  for (let c = 0; c < a.cols; c++) {
    for (let i = 0; i < l; i++) {
      const bi = bt[c * l + i];
      if (bi === 0) continue;
      for (let j = 0; j < k; j++) v[c * k + j] += bi * w[i * l + j];
    }
  }
  for (let j = 0; j < k; j++) {
    const inv = s[j] > 1e-300 ? 1 / s[j] : 0;
    let best = 0;
    for (let c = 0; c < a.cols; c++) {
      v[c * k + j] *= inv;
      if (Math.abs(v[c * k + j]) > Math.abs(best)) best = v[c * k + j];
    }
    // Sign convention: the largest-magnitude entry of each right vector is positive.
    if (best < 0) {
      for (let c = 0; c < a.cols; c++) v[c * k + j] = -v[c * k + j];
      for (let r = 0; r < a.rows; r++) u[r * k + j] = -u[r * k + j];
    }
  }
  return { k, u, s, v };
}
