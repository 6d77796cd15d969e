/*
 * Block copies on the wasm heap for 4-byte elements: a gather along one axis and a concatenation
 * along one axis. Each gathered slice and each input's part of an output row is one contiguous run.
 *
 *   gatherBlocks(heap, [xOffset, indicesOffset, outOffset, outer, axisLength, count, inner])
 *     out[o, i, :] = x[o, indices[i], :] for o < outer, i < count, runs of `inner` elements.
 *   concatBlocks(heap, outOffset, outer, offsets, widths)
 *     out[o, :] = input_0[o, :] ++ input_1[o, :] ++ ..., input j at offsets[j] with widths[j]
 *     elements per outer index.
 */
#include "copy.h"

#include <math.h>
#include <string.h>
#include "heap.h"

static int as_size(double v, size_t *out) {
  if (!(v >= 0) || v != floor(v) || v > 9.0e15) return 0;
  *out = (size_t)v;
  return 1;
}

napi_value sid_gather_blocks(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  heap_t heap;
  double *a;
  size_t na, outer, axis, count, inner;
  if (argc < 2 || !get_heap(env, argv[0], &heap) || !get_double_array(env, argv[1], &a, &na) || na != 7 || !as_size(a[3], &outer) ||
      !as_size(a[4], &axis) || !as_size(a[5], &count) || !as_size(a[6], &inner)) {
    napi_throw_type_error(env, NULL, "sid_native.gatherBlocks(heap, Float64Array [xOffset, indicesOffset, outOffset, outer, axisLength, count, inner]): bad arguments");
    return NULL;
  }
  const float *x = region(&heap, a[0], outer * axis * inner);
  const int32_t *idx = (const int32_t *)region(&heap, a[1], count);
  float *out = region(&heap, a[2], outer * count * inner);
  if (!x || !idx || !out) {
    napi_throw_range_error(env, NULL, "sid_native.gatherBlocks: an operand lies outside the heap or is misaligned");
    return NULL;
  }
  for (size_t i = 0; i < count; i++) {
    if (idx[i] < 0 || (size_t)idx[i] >= axis) {
      napi_throw_range_error(env, NULL, "sid_native.gatherBlocks: an index is outside the axis");
      return NULL;
    }
  }
  for (size_t o = 0; o < outer; o++) {
    const float *base = x + o * axis * inner;
    for (size_t i = 0; i < count; i++, out += inner) memcpy(out, base + (size_t)idx[i] * inner, inner * sizeof(float));
  }
  return NULL;
}

napi_value sid_concat_blocks(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  heap_t heap;
  double out_off, outer_d, *offsets, *widths;
  size_t n_in, n_w, outer;
  if (argc < 5 || !get_heap(env, argv[0], &heap) || napi_get_value_double(env, argv[1], &out_off) != napi_ok ||
      napi_get_value_double(env, argv[2], &outer_d) != napi_ok || !as_size(outer_d, &outer) || !get_double_array(env, argv[3], &offsets, &n_in) ||
      !get_double_array(env, argv[4], &widths, &n_w) || n_in != n_w || n_in > 4096) {
    napi_throw_type_error(env, NULL, "sid_native.concatBlocks(heap, outOffset, outer, offsets, widths): bad arguments");
    return NULL;
  }
  const float *src[4096];
  size_t w[4096], total = 0;
  for (size_t j = 0; j < n_in; j++) {
    if (!as_size(widths[j], &w[j])) {
      napi_throw_type_error(env, NULL, "sid_native.concatBlocks: widths must be counts");
      return NULL;
    }
    src[j] = w[j] ? region(&heap, offsets[j], outer * w[j]) : NULL;
    if (w[j] && !src[j]) {
      napi_throw_range_error(env, NULL, "sid_native.concatBlocks: an input lies outside the heap or is misaligned");
      return NULL;
    }
    total += w[j];
  }
  float *out = region(&heap, out_off, outer * total);
  if (!out) {
    napi_throw_range_error(env, NULL, "sid_native.concatBlocks: the output lies outside the heap or is misaligned");
    return NULL;
  }
  for (size_t o = 0; o < outer; o++) {
    for (size_t j = 0; j < n_in; j++) {
      if (!w[j]) continue;
      memcpy(out, src[j] + o * w[j], w[j] * sizeof(float));
      out += w[j];
    }
  }
  return NULL;
}
