/**
 * T5 relative position buckets: exact buckets for small distances, logarithmic ones up to
 * `maxDistance`. Bidirectional (encoder) splits buckets by sign; unidirectional (decoder) only looks back.
 */
function relativePositionBucket(
  relative: number,
  bidirectional: boolean,
  numBuckets: number,
  maxDistance: number,
): number {
  let buckets = 0;
  let n = numBuckets;
  let rel = relative;
  if (bidirectional) {
    n = Math.floor(n / 2);
    if (rel > 0) buckets += n;
    rel = Math.abs(rel);
  } else {
    rel = -Math.min(rel, 0);
  }
  const maxExact = Math.floor(n / 2);
  if (rel < maxExact) return buckets + rel;
  const large = maxExact + Math.floor((Math.log(rel / maxExact) / Math.log(maxDistance / maxExact)) * (n - maxExact));
  return buckets + Math.min(large, n - 1);
}

/** Bucket of every (query, key) pair, row-major [qLen * kLen]; relative = key - query. */
export function relativeBucketMatrix(
  qLen: number,
  kLen: number,
  bidirectional: boolean,
  numBuckets: number,
  maxDistance: number,
): Int32Array {
  const out = new Int32Array(qLen * kLen);
  for (let q = 0; q < qLen; q++) {
    for (let k = 0; k < kLen; k++) out[q * kLen + k] = relativePositionBucket(k - q, bidirectional, numBuckets, maxDistance);
  }
  return out;
}
