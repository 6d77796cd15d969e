/**
 * RQ-KMeans: L levels of K centroids, level l fitted by k-means on the residuals left by levels
 * 0..l-1 (greedy assignment during fitting). Encoding is greedy (nearest centroid per level) or a
 * beam search over code paths, as FAISS's ResidualQuantizer does: at each level every kept path is
 * extended by every code and the `beamWidth` paths with the smallest residual survive. The greedy
 * path is always kept as a candidate, so beam encoding is never worse than greedy.
 */
import { Rng } from '../util/random';
import { AssignStats, DEFAULT_CHUNK_ROWS, forEachDotChunk, nearestCentroids, prepareCentroids, releaseCentroids } from './distances';
import { KMeansOptions, kmeans } from './kmeans';
import { Matrix, checkMatrix, relativeError, rowSqNorms } from './matrix';

export interface RqKMeansOptions {
  /** Number of levels (default 2). */
  levels?: number;
  /** Codes per level: one number for all levels or one per level (default 256). */
  k?: number | number[];
  seed?: number;
  /** Beam width for the final encoding (1 = greedy, default 1). */
  beamWidth?: number;
  /** Options passed to each level's k-means (k and seed are set per level). */
  kmeans?: Omit<KMeansOptions, 'k' | 'seed'>;
}

export interface ResidualCodebooks {
  d: number;
  /** Codes per level. */
  k: number[];
  /** codebooks[l] is k[l] x d, row-major. */
  codebooks: Float32Array[];
}

export interface RqKMeansFit {
  model: ResidualCodebooks;
  /** N x L codes, row-major. */
  codes: Int32Array;
  /** Relative reconstruction error after each level (greedy codes of the fit). */
  levelErrors: number[];
  /** k-means inertia history of each level. */
  inertiaHistory: number[][];
}

/** The defaults of every quantizer: 2 levels of 256 codes (the paper's 2 x 256). */
export const DEFAULT_LEVELS = 2;
export const DEFAULT_CODES = 256;

/** Codes per level from the `levels` and `k` options (defaults DEFAULT_LEVELS x DEFAULT_CODES). */
export function levelSizes(levelsOption: number | undefined, k: number | number[] = DEFAULT_CODES, where: string): number[] {
  const levels = levelsOption ?? (Array.isArray(k) ? k.length : DEFAULT_LEVELS);
  if (!Number.isInteger(levels) || levels < 1) throw new Error(`${where} (option levels): expected a positive integer, got ${levels}`);
  const ks = Array.isArray(k) ? k.slice() : new Array<number>(levels).fill(k);
  if (ks.length !== levels) throw new Error(`${where} (option k): expected ${levels} sizes, got ${ks.length}`);
  for (const v of ks) if (!Number.isInteger(v) || v < 1) throw new Error(`${where} (option k): expected positive integers, got ${v}`);
  return ks;
}

/** Fits RQ-KMeans on the rows of x. */
export function fitRqKMeans(x: Matrix, opts: RqKMeansOptions = {}, stats?: AssignStats): RqKMeansFit {
  const where = 'lib/quantize/rqKmeans.ts fitRqKMeans';
  checkMatrix(x, where);
  const ks = levelSizes(opts.levels, opts.k, where);
  const L = ks.length;
  const n = x.rows;
  const d = x.cols;
  const rng = new Rng(opts.seed ?? 0);
  const codes = new Int32Array(n * L);
  const residual = Float32Array.from(x.data);
  const codebooks: Float32Array[] = [];
  const levelErrors: number[] = [];
  const inertiaHistory: number[][] = [];
  const norm0 = rowSqNorms(x).reduce((a, b) => a + b, 0);
  for (let l = 0; l < L; l++) {
    const km = kmeans({ data: residual, rows: n, cols: d }, { ...(opts.kmeans ?? {}), k: ks[l], seed: rng.nextU32(), stats: stats ?? opts.kmeans?.stats });
    codebooks.push(km.centroids);
    inertiaHistory.push(km.inertiaHistory);
    for (let i = 0; i < n; i++) {
      const c = km.labels[i];
      codes[i * L + l] = c;
      const o = i * d;
      const co = c * d;
      for (let j = 0; j < d; j++) residual[o + j] -= km.centroids[co + j];
    }
    levelErrors.push(norm0 > 0 ? km.inertia / norm0 : 0);
  }
  const model: ResidualCodebooks = { d, k: ks, codebooks };
  const beam = opts.beamWidth ?? 1;
  const finalCodes = beam > 1 ? encodeResidual(model, x, { beamWidth: beam, chunkRows: opts.kmeans?.chunkRows }) : codes;
  return { model, codes: finalCodes, levelErrors, inertiaHistory };
}

/** Sum of the selected codewords of each row: the reconstruction of `codes` (N x L). */
export function decodeResidual(model: ResidualCodebooks, codes: Int32Array, n: number): Float32Array {
  const L = model.k.length;
  const d = model.d;
  if (codes.length !== n * L) throw new Error(`lib/quantize/rqKmeans.ts decodeResidual: codes length ${codes.length} != ${n}*${L}`);
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let l = 0; l < L; l++) {
      const c = codes[i * L + l];
      if (!(c >= 0 && c < model.k[l])) throw new Error(`lib/quantize/rqKmeans.ts decodeResidual: code ${c} at item ${i} level ${l} outside 0..${model.k[l] - 1}`);
      const cb = model.codebooks[l];
      const co = c * d;
      for (let j = 0; j < d; j++) out[o + j] += cb[co + j];
    }
  }
  return out;
}

/** Greedy encoding: nearest codeword of the running residual at each level. */
function encodeGreedy(model: ResidualCodebooks, x: Matrix, chunkRows = 4096, stats?: AssignStats): Int32Array {
  const L = model.k.length;
  const n = x.rows;
  const d = model.d;
  const codes = new Int32Array(n * L);
  const r: Matrix = { data: Float32Array.from(x.data), rows: n, cols: d };
  for (let l = 0; l < L; l++) {
    const pc = prepareCentroids(model.codebooks[l], model.k[l], d);
    let labels: Int32Array;
    try {
      labels = nearestCentroids(r, rowSqNorms(r), pc, { chunkRows, stats }).labels;
    } finally {
      releaseCentroids(pc);
    }
    const cb = model.codebooks[l];
    for (let i = 0; i < n; i++) {
      const c = labels[i];
      codes[i * L + l] = c;
      for (let j = 0; j < d; j++) r.data[i * d + j] -= cb[c * d + j];
    }
  }
  return codes;
}

/** Squared residual norm of each row after subtracting its decoded codes (float64). */
export function residualErrors(model: ResidualCodebooks, x: Matrix, codes: Int32Array): Float64Array {
  const xhat = decodeResidual(model, codes, x.rows);
  const d = x.cols;
  const out = new Float64Array(x.rows);
  for (let i = 0; i < x.rows; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const e = x.data[i * d + j] - xhat[i * d + j];
      s += e * e;
    }
    out[i] = s;
  }
  return out;
}

/**
 * Beam-search encoding of width `beamWidth` (1 = greedy). Rows are processed in blocks so the
 * B x d residuals of a block stay small; each level's distances are one matmul per block.
 */
export function encodeResidual(model: ResidualCodebooks, x: Matrix, opts: { beamWidth?: number; chunkRows?: number; stats?: AssignStats } = {}): Int32Array {
  const B = opts.beamWidth ?? 1;
  if (!Number.isInteger(B) || B < 1) throw new Error(`lib/quantize/rqKmeans.ts encodeResidual (option beamWidth): expected a positive integer, got ${B}`);
  if (x.cols !== model.d) throw new Error(`lib/quantize/rqKmeans.ts encodeResidual: x has ${x.cols} columns, the codebooks ${model.d}`);
  const greedy = encodeGreedy(model, x, opts.chunkRows, opts.stats);
  if (B === 1) return greedy;
  const L = model.k.length;
  const d = model.d;
  const n = x.rows;
  const codes = new Int32Array(n * L);
  const prepared = model.codebooks.map((cb, l) => prepareCentroids(cb, model.k[l], d));
  const block = Math.max(1, Math.floor((opts.chunkRows ?? DEFAULT_CHUNK_ROWS) / B));
  try {
    for (let s = 0; s < n; s += block) {
      const m = Math.min(block, n - s);
      beamBlock(model, prepared, x, s, m, B, codes, opts.stats);
    }
  } finally {
    prepared.forEach(releaseCentroids);
  }
  // Keep the greedy path where it is better (possible with L > 2, when it fell out of the beam).
  const eb = residualErrors(model, x, codes);
  const eg = residualErrors(model, x, greedy);
  for (let i = 0; i < n; i++) if (eg[i] < eb[i]) codes.set(greedy.subarray(i * L, i * L + L), i * L);
  return codes;
}

function beamBlock(
  model: ResidualCodebooks,
  prepared: ReturnType<typeof prepareCentroids>[],
  x: Matrix,
  start: number,
  m: number,
  B: number,
  out: Int32Array,
  stats?: AssignStats,
): void {
  const L = model.k.length;
  const d = model.d;
  // Live paths per row: count, residual vectors, codes so far, residual norms.
  let width = 1;
  let res = Float32Array.from(x.data.subarray(start * d, (start + m) * d));
  let paths = new Int32Array(m * L);
  let norms = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let sq = 0;
    for (let j = 0; j < d; j++) sq += res[i * d + j] * res[i * d + j];
    norms[i] = sq;
  }
  for (let l = 0; l < L; l++) {
    const K = model.k[l];
    const cb = model.codebooks[l];
    const pc = prepared[l];
    const nextWidth = Math.min(B, width * K);
    const bestVal = new Float64Array(m * nextWidth).fill(Infinity);
    const bestSrc = new Int32Array(m * nextWidth);
    const bestCode = new Int32Array(m * nextWidth);
    forEachDotChunk(
      { data: res, rows: m * width, cols: d },
      pc,
      1 << 30,
      (_s, rows, dots) => {
        for (let r = 0; r < rows; r++) {
          const i = Math.floor(r / width);
          const bo = i * nextWidth;
          const base = norms[r];
          for (let c = 0; c < K; c++) {
            const v = base + pc.cc[c] - 2 * dots[r * K + c];
            if (v >= bestVal[bo + nextWidth - 1]) continue;
            // Insertion into the row's sorted top list.
            let p = nextWidth - 1;
            while (p > 0 && bestVal[bo + p - 1] > v) {
              bestVal[bo + p] = bestVal[bo + p - 1];
              bestSrc[bo + p] = bestSrc[bo + p - 1];
              bestCode[bo + p] = bestCode[bo + p - 1];
              p--;
            }
            bestVal[bo + p] = v;
            bestSrc[bo + p] = r;
            bestCode[bo + p] = c;
          }
        }
      },
      stats,
    );
    const nres = new Float32Array(m * nextWidth * d);
    const npaths = new Int32Array(m * nextWidth * L);
    const nnorms = new Float64Array(m * nextWidth);
    for (let q = 0; q < m * nextWidth; q++) {
      const src = bestSrc[q];
      const c = bestCode[q];
      let sq = 0;
      for (let j = 0; j < d; j++) {
        const v = res[src * d + j] - cb[c * d + j];
        nres[q * d + j] = v;
        sq += v * v;
      }
      nnorms[q] = sq;
      npaths.set(paths.subarray(src * L, src * L + L), q * L);
      npaths[q * L + l] = c;
    }
    res = nres;
    paths = npaths;
    norms = nnorms;
    width = nextWidth;
  }
  for (let i = 0; i < m; i++) {
    let best = 0;
    for (let w = 1; w < width; w++) if (norms[i * width + w] < norms[i * width + best]) best = w;
    out.set(paths.subarray((i * width + best) * L, (i * width + best) * L + L), (start + i) * L);
  }
}

/** Relative reconstruction error of codes on x. */
export function rqRelativeError(model: ResidualCodebooks, x: Matrix, codes: Int32Array): number {
  return relativeError(x, decodeResidual(model, codes, x.rows));
}
