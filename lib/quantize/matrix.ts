/**
 * The boundary type of every tokenizer: a row-major Float32Array of `rows` x `cols` (N items x d dims).
 * Plain typed arrays (not tf tensors) at the boundary because the hot loops (argmin, centroid
 * updates, residuals) are typed-array loops and only the distance matmuls go through tfjs.
 */
export interface Matrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

/** Wraps and checks a row-major matrix; `where` names the caller for error messages. */
export function asMatrix(data: Float32Array, rows: number, cols: number, where = 'lib/quantize/matrix.ts'): Matrix {
  const m = { data, rows, cols };
  checkMatrix(m, where);
  return m;
}

/** Throws a descriptive Error when `x` is not a finite, non-empty row-major Float32Array matrix. */
export function checkMatrix(x: Matrix, where: string): void {
  if (!x || !(x.data instanceof Float32Array)) {
    throw new Error(`${where}: expected x = { data: Float32Array, rows, cols }, got ${x && typeof x.data}`);
  }
  if (!Number.isInteger(x.rows) || !Number.isInteger(x.cols) || x.rows <= 0 || x.cols <= 0) {
    throw new Error(`${where}: expected positive integer rows/cols, got rows=${x.rows} cols=${x.cols}`);
  }
  if (x.data.length !== x.rows * x.cols) {
    throw new Error(`${where}: data.length ${x.data.length} != rows*cols = ${x.rows}*${x.cols}`);
  }
  for (let i = 0; i < x.data.length; i++) {
    if (!Number.isFinite(x.data[i])) {
      throw new Error(`${where}: x has a non-finite value at row ${Math.floor(i / x.cols)}, col ${i % x.cols}`);
    }
  }
}

/** Squared L2 norm of each row, in float64. */
export function rowSqNorms(x: Matrix): Float64Array {
  const { data, rows, cols } = x;
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    const o = i * cols;
    for (let j = 0; j < cols; j++) {
      const v = data[o + j];
      s += v * v;
    }
    out[i] = s;
  }
  return out;
}

/** x - y, elementwise (same shapes). */
export function subtract(x: Matrix, y: Float32Array): Matrix {
  if (y.length !== x.data.length) throw new Error(`lib/quantize/matrix.ts subtract: length ${y.length} != ${x.data.length}`);
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < out.length; i++) out[i] = x.data[i] - y[i];
  return { data: out, rows: x.rows, cols: x.cols };
}

/** Rows `idx` of x gathered into a new matrix. */
export function takeRows(x: Matrix, idx: ArrayLike<number>): Matrix {
  const d = x.cols;
  const out = new Float32Array(idx.length * d);
  for (let r = 0; r < idx.length; r++) out.set(x.data.subarray(idx[r] * d, idx[r] * d + d), r * d);
  return { data: out, rows: idx.length, cols: d };
}

/** Relative reconstruction error sum ||x - xhat||^2 / sum ||x||^2 (float64 accumulation). */
export function relativeError(x: Matrix, xhat: Float32Array): number {
  if (xhat.length !== x.data.length) {
    throw new Error(`lib/quantize/matrix.ts relativeError: xhat length ${xhat.length} != ${x.data.length}`);
  }
  let num = 0;
  let den = 0;
  for (let i = 0; i < xhat.length; i++) {
    const v = x.data[i];
    const e = v - xhat[i];
    num += e * e;
    den += v * v;
  }
  return den > 0 ? num / den : 0;
}

/** Mean of x^2 over all entries (float64). */
export function meanSquare(x: Matrix): number {
  let s = 0;
  for (let i = 0; i < x.data.length; i++) s += x.data[i] * x.data[i];
  return x.data.length > 0 ? s / x.data.length : 0;
}
