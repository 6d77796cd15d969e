/** Row-wise vector helpers shared by the embedding, evaluation and view layers. */

/** L2-normalises each row of a row-major [n, d] matrix in place (zero rows stay zero). */
export function l2NormalizeRows(x: Float32Array, d: number): Float32Array {
  const n = x.length / d;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i * d + j] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < d; j++) x[i * d + j] *= inv;
  }
  return x;
}
