/*
 * Node-API addon: matmuls (oneDNN or OpenBLAS) on the tfjs wasm backend's heap, without copies.
 *
 * Every entry point takes the heap as a typed array (a view over the wasm memory, shared or not) and
 * byte offsets into it, so tensors are read and written where the wasm backend keeps them. Offsets
 * are passed as doubles because the heap can reach 4 GiB. Every matrix extent is checked against
 * the heap's length before BLAS touches it.
 *
 *   sgemm(heap, transA, transB, M, N, K, offsets, epilogue?)
 *     For each batch entry i, C_i = op(A_i) op(B_i), row-major, with offsets[3i..3i+2] the byte
 *     offsets of A_i, B_i and C_i. Transposes are BLAS flags: nothing is materialised.
 *     epilogue (optional): [biasOffset or -1, biasLength (1 or N), activation code, alpha,
 *     preluOffset or -1, preluLength (1 or N)], applied in place to every C_i: bias broadcast over
 *     rows, then the activation (PReLU's slopes per column or one for all).
 *   transpose(heap, xOffset, outOffset, shape, perm)
 *     out = x permuted by `perm` (Float64Arrays of one rank), for 4-byte elements (float32, int32).
 *   binary(heap, op, aOffset, bOffset, outOffset, outShape, aStrides, bStrides)
 *     out = a op b for float32 (op 0 add, 1 sub, 2 mul, 3 div), broadcast by element strides
 *     (0 on a broadcast axis) over `outShape`.
 *   sumMiddle(heap, xOffset, outOffset, A, R, B)
 *     out[a, b] = sum over r of x[a, r, b] (float32, accumulated in double).
 *   setThreads(n), getThreads(), config()
 *   setGemmLibrary("onednn" | "openblas"), gemmLibrary(): where the larger products go (oneDNN's
 *     sgemm when the addon was built with it: the default then)
 *   setSmallGemm(on): whether sgemm computes products of at most SMALL_GEMM_MAX_MACS multiply-adds
 *     itself (smallgemm.c) rather than through BLAS (default on)
 *   geluGate, geluGateGrad, rmsNorm, rmsNormGrad, adamw, softmaxXent, softmaxXentGrad, logSoftmax: the fused
 *   kernels of fused.c
 *   gatherBlocks, concatBlocks: the block copies of copy.c (GatherV2, Concat)
 *   bagSum, bagAccumulate, sparseAdam: the embedding-bag kernels of rows.c (on JS typed arrays)
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <node_api.h>
#include <cblas.h>
#include "heap.h"
#include "fused.h"
#include "rows.h"
#include "smallgemm.h"
#include "copy.h"
#ifdef SID_DNNL
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#endif

enum { ACT_LINEAR = 0, ACT_RELU = 1, ACT_RELU6 = 2, ACT_SIGMOID = 3, ACT_LEAKYRELU = 4, ACT_ELU = 5, ACT_PRELU = 6 };

static void apply_epilogue(float *c, size_t rows, size_t n, const float *bias, size_t bias_len, int act, float alpha,
                           const float *prelu, size_t prelu_len) {
  for (size_t r = 0; r < rows; r++) {
    float *row = c + r * n;
    if (bias) {
      if (bias_len == 1) {
        const float b = bias[0];
        for (size_t j = 0; j < n; j++) row[j] += b;
      } else {
        for (size_t j = 0; j < n; j++) row[j] += bias[j];
      }
    }
    switch (act) {
      case ACT_RELU:
        for (size_t j = 0; j < n; j++) row[j] = row[j] > 0.f ? row[j] : 0.f;
        break;
      case ACT_RELU6:
        for (size_t j = 0; j < n; j++) row[j] = row[j] < 0.f ? 0.f : (row[j] > 6.f ? 6.f : row[j]);
        break;
      case ACT_SIGMOID:
        for (size_t j = 0; j < n; j++) row[j] = 1.f / (1.f + expf(-row[j]));
        break;
      case ACT_LEAKYRELU:
        for (size_t j = 0; j < n; j++) row[j] = row[j] < 0.f ? alpha * row[j] : row[j];
        break;
      case ACT_ELU:
        for (size_t j = 0; j < n; j++) row[j] = row[j] < 0.f ? expm1f(row[j]) : row[j];
        break;
      case ACT_PRELU:
        for (size_t j = 0; j < n; j++) {
          const float w = prelu_len == 1 ? prelu[0] : prelu[j];
          row[j] = row[j] < 0.f ? w * row[j] : row[j];
        }
        break;
      default:
        break;
    }
  }
}

/* Whether sgemm sends small products to small_sgemm (setSmallGemm; on by default). */
static bool small_gemm_enabled = true;

/*
 * The library the larger products go to: oneDNN where the addon was built with it (it picks its
 * kernels by the CPU's instruction sets at run time: AVX-512 where there is AVX-512), else OpenBLAS
 * (whose kernels follow OPENBLAS_CORETYPE or its own CPU detection). setGemmLibrary switches.
 */
#ifdef SID_DNNL
static bool use_dnnl = true;
#else
static const bool use_dnnl = false;
#endif

static void gemm_row_major(bool ta, bool tb, int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc) {
#ifdef SID_DNNL
  if (use_dnnl) {
    dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1.f, a, lda, b, ldb, 0.f, c, ldc);
    return;
  }
#endif
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.f, a, lda, b, ldb, 0.f, c, ldc);
}

static napi_value sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 7) {
    napi_throw_type_error(env, NULL, "sid_native.sgemm(heap, transA, transB, M, N, K, offsets[, epilogue])");
    return NULL;
  }
  heap_t heap;
  bool ta, tb;
  int64_t m, n, k;
  double *offsets;
  size_t n_offsets;
  if (!get_heap(env, argv[0], &heap) || !get_bool(env, argv[1], &ta) || !get_bool(env, argv[2], &tb) ||
      !get_int(env, argv[3], &m) || !get_int(env, argv[4], &n) || !get_int(env, argv[5], &k) ||
      !get_double_array(env, argv[6], &offsets, &n_offsets)) {
    napi_throw_type_error(env, NULL, "sid_native.sgemm: expected (Uint8Array, bool, bool, int, int, int, Float64Array)");
    return NULL;
  }
  if (m < 0 || n < 0 || k < 0 || m > INT32_MAX || n > INT32_MAX || k > INT32_MAX || n_offsets % 3 != 0) {
    napi_throw_range_error(env, NULL, "sid_native.sgemm: bad dimensions or offsets length");
    return NULL;
  }
  const float *bias = NULL;
  size_t bias_len = 0;
  int act = ACT_LINEAR;
  float alpha = 0.f;
  const float *prelu = NULL;
  size_t prelu_len = 0;
  if (argc >= 8) {
    double *ep;
    size_t n_ep;
    if (!get_double_array(env, argv[7], &ep, &n_ep) || n_ep != 6) {
      napi_throw_type_error(env, NULL, "sid_native.sgemm: epilogue must be a Float64Array [biasOffset, biasLength, activation, alpha, preluOffset, preluLength]");
      return NULL;
    }
    act = (int)ep[2];
    alpha = (float)ep[3];
    if (act < ACT_LINEAR || act > ACT_PRELU) {
      napi_throw_range_error(env, NULL, "sid_native.sgemm: unknown activation code");
      return NULL;
    }
    if (ep[0] >= 0) {
      bias_len = (size_t)ep[1];
      if ((bias_len != 1 && bias_len != (size_t)n) || !(bias = region(&heap, ep[0], bias_len))) {
        napi_throw_range_error(env, NULL, "sid_native.sgemm: bias outside the heap or of the wrong length");
        return NULL;
      }
    }
    if (act == ACT_PRELU) {
      prelu_len = ep[4] >= 0 ? (size_t)ep[5] : 0;
      if ((prelu_len != 1 && prelu_len != (size_t)n) || !(prelu = region(&heap, ep[4], prelu_len))) {
        napi_throw_range_error(env, NULL, "sid_native.sgemm: PReLU slopes outside the heap or of the wrong length");
        return NULL;
      }
    }
  }
  const size_t batch = n_offsets / 3;
  const size_t a_count = (size_t)m * (size_t)k, b_count = (size_t)k * (size_t)n, c_count = (size_t)m * (size_t)n;
  /* Row-major leading dimensions of the stored (untransposed) matrices; BLAS wants them >= 1. */
  const int lda = (int)(ta ? (m > 0 ? m : 1) : (k > 0 ? k : 1));
  const int ldb = (int)(tb ? (k > 0 ? k : 1) : (n > 0 ? n : 1));
  const int ldc = (int)(n > 0 ? n : 1);
  for (size_t i = 0; i < batch; i++) {
    const float *a = region(&heap, offsets[3 * i], a_count);
    const float *b = region(&heap, offsets[3 * i + 1], b_count);
    float *c = region(&heap, offsets[3 * i + 2], c_count);
    if (!a || !b || !c) {
      napi_throw_range_error(env, NULL, "sid_native.sgemm: an operand lies outside the heap or is misaligned");
      return NULL;
    }
  }
  if (c_count == 0) return NULL;
  /* Small products (the attention's per-(batch, head) ones) skip BLAS's per-call overhead. */
  const bool small = small_gemm_enabled && k > 0 && (uint64_t)m * (uint64_t)n * (uint64_t)k <= SMALL_GEMM_MAX_MACS;
  float *bt = NULL;
  if (small && tb) {
    bt = malloc(b_count * sizeof(float));
    if (!bt) {
      napi_throw_error(env, NULL, "sid_native.sgemm: out of memory");
      return NULL;
    }
  }
  for (size_t i = 0; i < batch; i++) {
    const float *a = (const float *)(heap.base + (size_t)offsets[3 * i]);
    const float *b = (const float *)(heap.base + (size_t)offsets[3 * i + 1]);
    float *c = (float *)(heap.base + (size_t)offsets[3 * i + 2]);
    if (k == 0) {
      memset(c, 0, c_count * sizeof(float));
    } else if (small) {
      small_sgemm(ta, tb, (size_t)m, (size_t)n, (size_t)k, a, b, c, bt);
    } else {
      gemm_row_major(ta, tb, (int)m, (int)n, (int)k, a, lda, b, ldb, c, ldc);
    }
    if (bias || act != ACT_LINEAR) apply_epilogue(c, (size_t)m, (size_t)n, bias, bias_len, act, alpha, prelu, prelu_len);
  }
  free(bt);
  return NULL;
}

#define MAX_RANK 8
#define TILE 32

/*
 * Row-major [rows, cols] -> [cols, rows], in tiles so both sides stay in cache; the inner loop writes
 * contiguously (strided writes to rows a power of two apart alias in the cache and were slower).
 */
static void transpose2d(const uint32_t *x, uint32_t *out, size_t rows, size_t cols) {
  for (size_t j0 = 0; j0 < cols; j0 += TILE) {
    const size_t j1 = j0 + TILE < cols ? j0 + TILE : cols;
    for (size_t i0 = 0; i0 < rows; i0 += TILE) {
      const size_t i1 = i0 + TILE < rows ? i0 + TILE : rows;
      for (size_t j = j0; j < j1; j++)
        for (size_t i = i0; i < i1; i++) out[j * rows + i] = x[i * cols + j];
    }
  }
}

static napi_value transpose(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  heap_t heap;
  double x_off, out_off, *shape_d, *perm_d;
  size_t rank, rank2;
  if (argc < 5 || !get_heap(env, argv[0], &heap) || napi_get_value_double(env, argv[1], &x_off) != napi_ok ||
      napi_get_value_double(env, argv[2], &out_off) != napi_ok || !get_double_array(env, argv[3], &shape_d, &rank) ||
      !get_double_array(env, argv[4], &perm_d, &rank2) || rank != rank2 || rank < 1 || rank > MAX_RANK) {
    napi_throw_type_error(env, NULL, "sid_native.transpose(heap, xOffset, outOffset, shape, perm): bad arguments");
    return NULL;
  }
  size_t shape[MAX_RANK], perm[MAX_RANK], in_stride[MAX_RANK], out_shape[MAX_RANK], step[MAX_RANK];
  size_t size = 1;
  int seen = 0;
  for (size_t i = 0; i < rank; i++) {
    if (!(shape_d[i] >= 0) || !(perm_d[i] >= 0) || perm_d[i] >= (double)rank || (seen & (1 << (int)perm_d[i]))) {
      napi_throw_range_error(env, NULL, "sid_native.transpose: bad shape or permutation");
      return NULL;
    }
    seen |= 1 << (int)perm_d[i];
    shape[i] = (size_t)shape_d[i];
    perm[i] = (size_t)perm_d[i];
    size *= shape[i];
  }
  const uint32_t *x = (const uint32_t *)region(&heap, x_off, size);
  uint32_t *out = (uint32_t *)region(&heap, out_off, size);
  if (!x || !out) {
    napi_throw_range_error(env, NULL, "sid_native.transpose: an operand lies outside the heap or is misaligned");
    return NULL;
  }
  if (size == 0) return NULL;
  in_stride[rank - 1] = 1;
  for (size_t i = rank - 1; i > 0; i--) in_stride[i - 1] = in_stride[i] * shape[i];
  for (size_t i = 0; i < rank; i++) {
    out_shape[i] = shape[perm[i]];
    step[i] = in_stride[perm[i]];
  }
  /* Leading axes kept in place, then the last two swapped: a batch of 2-D transposes. */
  size_t lead = 0;
  while (lead < rank && perm[lead] == lead) lead++;
  if (lead == rank) {
    memcpy(out, x, size * sizeof(uint32_t));
    return NULL;
  }
  if (rank >= 2 && lead == rank - 2 && perm[rank - 2] == rank - 1 && perm[rank - 1] == rank - 2) {
    const size_t rows = shape[rank - 2], cols = shape[rank - 1], mat = rows * cols;
    for (size_t b = 0; b < size / mat; b++) transpose2d(x + b * mat, out + b * mat, rows, cols);
    return NULL;
  }
  /* General case: walk the output in order with an odometer over its outer axes. */
  const size_t inner = out_shape[rank - 1], inner_step = step[rank - 1];
  size_t idx[MAX_RANK] = {0};
  size_t base = 0;
  for (size_t o = 0; o < size; o += inner) {
    if (inner_step == 1) {
      memcpy(out + o, x + base, inner * sizeof(uint32_t));
    } else {
      for (size_t j = 0; j < inner; j++) out[o + j] = x[base + j * inner_step];
    }
    for (size_t ax = rank - 1; ax-- > 0;) {
      idx[ax]++;
      base += step[ax];
      if (idx[ax] < out_shape[ax]) break;
      base -= step[ax] * out_shape[ax];
      idx[ax] = 0;
    }
  }
  return NULL;
}

enum { OP_ADD = 0, OP_SUB = 1, OP_MUL = 2, OP_DIV = 3 };

static void binary_run(int op, const float *a, size_t sa, const float *b, size_t sb, float *out, size_t n) {
#define LOOP(EXPR)                                                                     \
  if (sa == 1 && sb == 1) {                                                            \
    for (size_t j = 0; j < n; j++) { const float x = a[j], y = b[j]; out[j] = (EXPR); } \
  } else if (sa == 1) {                                                                \
    const float y = b[0];                                                              \
    for (size_t j = 0; j < n; j++) { const float x = a[j]; out[j] = (EXPR); }          \
  } else if (sb == 1) {                                                                \
    const float x = a[0];                                                              \
    for (size_t j = 0; j < n; j++) { const float y = b[j]; out[j] = (EXPR); }          \
  } else {                                                                             \
    const float x = a[0], y = b[0];                                                    \
    for (size_t j = 0; j < n; j++) out[j] = (EXPR);                                    \
  }
  switch (op) {
    case OP_ADD: LOOP(x + y) break;
    case OP_SUB: LOOP(x - y) break;
    case OP_MUL: LOOP(x * y) break;
    default: LOOP(x / y) break;
  }
#undef LOOP
}

static napi_value binary(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  heap_t heap;
  int64_t op;
  double a_off, b_off, out_off, *shape_d, *sa_d, *sb_d;
  size_t rank, r2, r3;
  if (argc < 8 || !get_heap(env, argv[0], &heap) || !get_int(env, argv[1], &op) || op < OP_ADD || op > OP_DIV ||
      napi_get_value_double(env, argv[2], &a_off) != napi_ok || napi_get_value_double(env, argv[3], &b_off) != napi_ok ||
      napi_get_value_double(env, argv[4], &out_off) != napi_ok || !get_double_array(env, argv[5], &shape_d, &rank) ||
      !get_double_array(env, argv[6], &sa_d, &r2) || !get_double_array(env, argv[7], &sb_d, &r3) || rank != r2 ||
      rank != r3 || rank < 1 || rank > MAX_RANK) {
    napi_throw_type_error(env, NULL, "sid_native.binary(heap, op, aOffset, bOffset, outOffset, outShape, aStrides, bStrides): bad arguments");
    return NULL;
  }
  size_t shape[MAX_RANK], sa[MAX_RANK], sb[MAX_RANK], size = 1, a_extent = 1, b_extent = 1;
  for (size_t i = 0; i < rank; i++) {
    if (!(shape_d[i] >= 0) || !(sa_d[i] >= 0) || !(sb_d[i] >= 0)) {
      napi_throw_range_error(env, NULL, "sid_native.binary: bad shape or strides");
      return NULL;
    }
    shape[i] = (size_t)shape_d[i];
    sa[i] = (size_t)sa_d[i];
    sb[i] = (size_t)sb_d[i];
    size *= shape[i];
  }
  if (size == 0) return NULL;
  /* The last element each operand is read at bounds its extent. */
  for (size_t i = 0; i < rank; i++) {
    a_extent += (shape[i] - 1) * sa[i];
    b_extent += (shape[i] - 1) * sb[i];
  }
  const float *a = region(&heap, a_off, a_extent), *b = region(&heap, b_off, b_extent);
  float *out = region(&heap, out_off, size);
  if (!a || !b || !out) {
    napi_throw_range_error(env, NULL, "sid_native.binary: an operand lies outside the heap or is misaligned");
    return NULL;
  }
  const size_t inner = shape[rank - 1];
  size_t idx[MAX_RANK] = {0}, ia = 0, ib = 0;
  for (size_t o = 0; o < size; o += inner) {
    binary_run((int)op, a + ia, sa[rank - 1] == 1 ? 1 : 0, b + ib, sb[rank - 1] == 1 ? 1 : 0, out + o, inner);
    for (size_t ax = rank - 1; ax-- > 0;) {
      idx[ax]++;
      ia += sa[ax];
      ib += sb[ax];
      if (idx[ax] < shape[ax]) break;
      ia -= sa[ax] * shape[ax];
      ib -= sb[ax] * shape[ax];
      idx[ax] = 0;
    }
  }
  return NULL;
}

static napi_value sum_middle(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  heap_t heap;
  double x_off, out_off;
  int64_t A, R, B;
  if (argc < 6 || !get_heap(env, argv[0], &heap) || napi_get_value_double(env, argv[1], &x_off) != napi_ok ||
      napi_get_value_double(env, argv[2], &out_off) != napi_ok || !get_int(env, argv[3], &A) || !get_int(env, argv[4], &R) ||
      !get_int(env, argv[5], &B) || A < 0 || R < 0 || B < 0) {
    napi_throw_type_error(env, NULL, "sid_native.sumMiddle(heap, xOffset, outOffset, A, R, B): bad arguments");
    return NULL;
  }
  const float *x = region(&heap, x_off, (size_t)A * (size_t)R * (size_t)B);
  float *out = region(&heap, out_off, (size_t)A * (size_t)B);
  if (!x || !out) {
    napi_throw_range_error(env, NULL, "sid_native.sumMiddle: an operand lies outside the heap or is misaligned");
    return NULL;
  }
  if (B == 1) {
    for (int64_t a = 0; a < A; a++) {
      const float *row = x + (size_t)a * (size_t)R;
      double s = 0;
      for (int64_t r = 0; r < R; r++) s += row[r];
      out[a] = (float)s;
    }
    return NULL;
  }
  double acc_stack[1024];
  double *acc = B <= 1024 ? acc_stack : (double *)malloc((size_t)B * sizeof(double));
  if (!acc) {
    napi_throw_error(env, NULL, "sid_native.sumMiddle: out of memory");
    return NULL;
  }
  for (int64_t a = 0; a < A; a++) {
    for (int64_t j = 0; j < B; j++) acc[j] = 0;
    const float *block = x + (size_t)a * (size_t)R * (size_t)B;
    for (int64_t r = 0; r < R; r++) {
      const float *row = block + (size_t)r * (size_t)B;
      for (int64_t j = 0; j < B; j++) acc[j] += row[j];
    }
    for (int64_t j = 0; j < B; j++) out[(size_t)a * (size_t)B + j] = (float)acc[j];
  }
  if (acc != acc_stack) free(acc);
  return NULL;
}

static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int64_t t;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !get_int(env, argv[0], &t) || t < 1 || t > 1024) {
    napi_throw_range_error(env, NULL, "sid_native.setThreads: expected an integer >= 1");
    return NULL;
  }
  openblas_set_num_threads((int)t);
#ifdef SID_DNNL
  omp_set_num_threads((int)t);
#endif
  return NULL;
}

static napi_value set_gemm_library(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char name[16];
  size_t len = 0;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok ||
      (strcmp(name, "openblas") != 0 && strcmp(name, "onednn") != 0)) {
    napi_throw_type_error(env, NULL, "sid_native.setGemmLibrary: expected \"openblas\" or \"onednn\"");
    return NULL;
  }
#ifdef SID_DNNL
  use_dnnl = strcmp(name, "onednn") == 0;
#else
  if (strcmp(name, "onednn") == 0) {
    napi_throw_error(env, NULL, "sid_native.setGemmLibrary: the addon was built without oneDNN (install libdnnl-dev and rerun bash native/build.sh)");
    return NULL;
  }
#endif
  return NULL;
}

static napi_value gemm_library(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  CHECK(env, napi_create_string_utf8(env, use_dnnl ? "onednn" : "openblas", NAPI_AUTO_LENGTH, &out));
  return out;
}

static napi_value set_small_gemm(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  bool on;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !get_bool(env, argv[0], &on)) {
    napi_throw_type_error(env, NULL, "sid_native.setSmallGemm: expected a boolean");
    return NULL;
  }
  small_gemm_enabled = on;
  return NULL;
}

static napi_value get_threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  CHECK(env, napi_create_int32(env, openblas_get_num_threads(), &out));
  return out;
}

static napi_value config(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  CHECK(env, napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &out));
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sgemm", NULL, sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"transpose", NULL, transpose, NULL, NULL, NULL, napi_default, NULL},
      {"binary", NULL, binary, NULL, NULL, NULL, napi_default, NULL},
      {"sumMiddle", NULL, sum_middle, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_default, NULL},
      {"getThreads", NULL, get_threads, NULL, NULL, NULL, napi_default, NULL},
      {"setSmallGemm", NULL, set_small_gemm, NULL, NULL, NULL, napi_default, NULL},
      {"setGemmLibrary", NULL, set_gemm_library, NULL, NULL, NULL, napi_default, NULL},
      {"gemmLibrary", NULL, gemm_library, NULL, NULL, NULL, napi_default, NULL},
      {"config", NULL, config, NULL, NULL, NULL, napi_default, NULL},
      {"geluGate", NULL, sid_gelu_gate, NULL, NULL, NULL, napi_default, NULL},
      {"geluGateGrad", NULL, sid_gelu_gate_grad, NULL, NULL, NULL, napi_default, NULL},
      {"rmsNorm", NULL, sid_rms_norm, NULL, NULL, NULL, napi_default, NULL},
      {"rmsNormGrad", NULL, sid_rms_norm_grad, NULL, NULL, NULL, napi_default, NULL},
      {"adamw", NULL, sid_adamw, NULL, NULL, NULL, napi_default, NULL},
      {"softmaxXent", NULL, sid_softmax_xent, NULL, NULL, NULL, napi_default, NULL},
      {"softmaxXentGrad", NULL, sid_softmax_xent_grad, NULL, NULL, NULL, napi_default, NULL},
      {"logSoftmax", NULL, sid_log_softmax, NULL, NULL, NULL, napi_default, NULL},
      {"gatherBlocks", NULL, sid_gather_blocks, NULL, NULL, NULL, napi_default, NULL},
      {"concatBlocks", NULL, sid_concat_blocks, NULL, NULL, NULL, napi_default, NULL},
      {"bagSum", NULL, sid_bag_sum, NULL, NULL, NULL, napi_default, NULL},
      {"bagAccumulate", NULL, sid_bag_accumulate, NULL, NULL, NULL, napi_default, NULL},
      {"sparseAdam", NULL, sid_sparse_adam, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
