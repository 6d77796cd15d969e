#include "smallgemm.h"

#include <string.h>

void small_sgemm(bool ta, bool tb, size_t m, size_t n, size_t k, const float *restrict a, const float *restrict b, float *restrict c,
                 float *restrict scratch) {
  /* op(B) as a row-major [k, n] matrix: B itself, or B^T copied into scratch. */
  const float *restrict bk = b;
  if (tb) {
    for (size_t j = 0; j < n; j++)
      for (size_t p = 0; p < k; p++) scratch[p * n + j] = b[j * k + p];
    bk = scratch;
  }
  memset(c, 0, m * n * sizeof(float));
  for (size_t i = 0; i < m; i++) {
    float *restrict row = c + i * n;
    for (size_t p = 0; p < k; p++) {
      /* op(A)[i, p]: A[i, p] stored [m, k], or A[p, i] stored [k, m]. */
      const float x = ta ? a[p * m + i] : a[i * k + p];
      const float *restrict brow = bk + p * n;
      for (size_t j = 0; j < n; j++) row[j] = __builtin_fmaf(x, brow[j], row[j]);
    }
  }
}
