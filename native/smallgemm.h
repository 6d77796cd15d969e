#ifndef SID_SMALLGEMM_H
#define SID_SMALLGEMM_H
#include <stdbool.h>
#include <stddef.h>

/* Products at most this many multiply-adds (m * n * k) go to small_sgemm rather than BLAS. */
#define SMALL_GEMM_MAX_MACS (64 * 64 * 64)

/*
 * C = op(A) op(B) for one small row-major product (C is overwritten), in loops the compiler
 * vectorises: no call, packing or buffer overhead, which for the attention's many tiny products
 * (a few thousand multiply-adds each) costs more than the arithmetic. Accumulates in float, one
 * fused multiply-add per k, in order of increasing k. `scratch` holds at least k * n floats (used when B is transposed).
 */
void small_sgemm(bool ta, bool tb, size_t m, size_t n, size_t k, const float *a, const float *b, float *c, float *scratch);

#endif
