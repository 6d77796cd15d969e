/**
 * Brute-force float64 batched matmul, the reference the matmul kernel tests compare against:
 * transposes read as views, batch dimensions broadcast as numpy does (a size-1 axis takes the
 * other's size, even 0).
 */

export interface DenseArray {
  shape: number[];
  data: ArrayLike<number>;
}

export function referenceMatMul(a: DenseArray, b: DenseArray, ta: boolean, tb: boolean): { shape: number[]; data: Float64Array } {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const [aR, aC] = [a.shape[ra - 2], a.shape[ra - 1]];
  const [bR, bC] = [b.shape[rb - 2], b.shape[rb - 1]];
  const M = ta ? aC : aR;
  const K = ta ? aR : aC;
  const N = tb ? bR : bC;
  if ((tb ? bC : bR) !== K) throw new Error(`referenceMatMul: inner dimensions ${K} and ${tb ? bC : bR} differ`);
  const r = Math.max(ra, rb) - 2;
  const pad = (s: number[]) => [...new Array(r - s.length).fill(1), ...s];
  const pa = pad(a.shape.slice(0, -2));
  const pb = pad(b.shape.slice(0, -2));
  const outer = pa.map((d, i) => (d === 1 ? pb[i] : d));
  const batches = outer.reduce((p, d) => p * d, 1);
  const out = new Float64Array(batches * M * N);
  for (let bi = 0; bi < batches; bi++) {
    // Unravel bi over `outer`, then ravel into a's and b's (broadcast) batch index.
    let rem = bi;
    let ia = 0;
    let ib = 0;
    let sa = 1;
    let sb = 1;
    for (let ax = r - 1; ax >= 0; ax--) {
      const idx = rem % outer[ax];
      rem = Math.floor(rem / outer[ax]);
      ia += (pa[ax] === 1 ? 0 : idx) * sa;
      ib += (pb[ax] === 1 ? 0 : idx) * sb;
      sa *= pa[ax];
      sb *= pb[ax];
    }
    const aOff = ia * aR * aC;
    const bOff = ib * bR * bC;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = ta ? a.data[aOff + k * aC + i] : a.data[aOff + i * aC + k];
          const bv = tb ? b.data[bOff + j * bC + k] : b.data[bOff + k * bC + j];
          s += av * bv;
        }
        out[(bi * M + i) * N + j] = s;
      }
    }
  }
  return { shape: [...outer, M, N], data: out };
}
