/**
 * Hierarchical k-means baseline ("K-Means" tokenizer). Definition used here:
 * level 0 clusters all item vectors into k[0] groups; level l (l >= 1) clusters, separately inside
 * each level-(l-1) cluster, the item vectors themselves (not residuals) into k[l] groups. A cluster
 * with at most k[l] items gets one code per item (0..n-1 in item index order) instead of a k-means
 * run. The reconstruction of an item is the centroid of its deepest cluster (the item itself for
 * those one-code-per-item clusters).
 */
import { Rng } from '../util/random';
import { AssignStats } from './distances';
import { KMeansOptions, kmeans } from './kmeans';
import { Matrix, checkMatrix, takeRows } from './matrix';
import { levelSizes } from './rqKmeans';

export interface HierKMeansOptions {
  levels?: number;
  k?: number | number[];
  seed?: number;
  kmeans?: Omit<KMeansOptions, 'k' | 'seed'>;
}

export interface HierKMeansFit {
  k: number[];
  /** N x L codes, row-major. */
  codes: Int32Array;
  /** N x d: the centroid of each item's deepest cluster. */
  reconstruction: Float32Array;
  /** Clusters split by k-means at each level (the rest got one code per item). */
  kmeansRuns: number[];
}

export function fitHierKMeans(x: Matrix, opts: HierKMeansOptions = {}, stats?: AssignStats): HierKMeansFit {
  const where = 'lib/quantize/hierKmeans.ts fitHierKMeans';
  checkMatrix(x, where);
  const ks = levelSizes(opts.levels, opts.k, where);
  const L = ks.length;
  const n = x.rows;
  const d = x.cols;
  const rng = new Rng(opts.seed ?? 0);
  const codes = new Int32Array(n * L);
  const reconstruction = new Float32Array(n * d);
  const kmeansRuns = new Array<number>(L).fill(0);
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const split = (members: Int32Array, level: number) => {
    const K = ks[level];
    const m = members.length;
    if (m <= K) {
      for (let r = 0; r < m; r++) {
        const i = members[r];
        codes[i * L + level] = r;
        for (let l = level + 1; l < L; l++) codes[i * L + l] = 0;
        reconstruction.set(x.data.subarray(i * d, i * d + d), i * d);
      }
      return;
    }
    kmeansRuns[level]++;
    const sub = takeRows(x, members);
    const km = kmeans(sub, { ...(opts.kmeans ?? {}), k: K, seed: rng.nextU32(), stats: stats ?? opts.kmeans?.stats });
    const groups: number[][] = Array.from({ length: K }, () => []);
    for (let r = 0; r < m; r++) {
      const i = members[r];
      const c = km.labels[r];
      codes[i * L + level] = c;
      groups[c].push(i);
      if (level === L - 1) reconstruction.set(km.centroids.subarray(c * d, c * d + d), i * d);
    }
    if (level < L - 1) for (const g of groups) if (g.length > 0) split(Int32Array.from(g), level + 1);
  };
  split(all, 0);
  return { k: ks, codes, reconstruction, kmeansRuns };
}
