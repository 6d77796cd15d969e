/*
 * What every entry point of the addon shares: the wasm heap as a byte view, byte offsets into it
 * checked against its length, and argument readers. Offsets are doubles because the heap can
 * reach 4 GiB.
 */
#ifndef SID_HEAP_H
#define SID_HEAP_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <node_api.h>

#define CHECK(env, call)                                                          \
  do {                                                                            \
    if ((call) != napi_ok) {                                                      \
      napi_throw_error((env), NULL, "sid_native: Node-API call failed: " #call);  \
      return NULL;                                                                \
    }                                                                             \
  } while (0)

typedef struct {
  uint8_t *base;
  size_t length;
} heap_t;

static inline int get_heap(napi_env env, napi_value value, heap_t *heap) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  size_t length;
  void *data;
  napi_value buffer;
  size_t byte_offset;
  if (napi_get_typedarray_info(env, value, &type, &length, &data, &buffer, &byte_offset) != napi_ok) return 0;
  if (type != napi_uint8_array) return 0;
  heap->base = (uint8_t *)data;
  heap->length = length;
  return 1;
}

static inline int get_double_array(napi_env env, napi_value value, double **out, size_t *n) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  void *data;
  napi_value buffer;
  size_t byte_offset;
  if (napi_get_typedarray_info(env, value, &type, n, &data, &buffer, &byte_offset) != napi_ok) return 0;
  if (type != napi_float64_array) return 0;
  *out = (double *)data;
  return 1;
}

static inline int get_int(napi_env env, napi_value value, int64_t *out) {
  return napi_get_value_int64(env, value, out) == napi_ok;
}

static inline int get_bool(napi_env env, napi_value value, bool *out) {
  return napi_get_value_bool(env, value, out) == napi_ok;
}

/* A float32 region of `count` elements at byte offset `off` lies inside the heap, aligned. */
static inline float *region(const heap_t *heap, double off, size_t count) {
  if (!(off >= 0) || off != floor(off) || off > (double)heap->length) return NULL;
  size_t o = (size_t)off;
  if (o % sizeof(float) != 0) return NULL;
  if (count > (heap->length - o) / sizeof(float)) return NULL;
  return (float *)(heap->base + o);
}

/* A typed array of the given type: its data and element count. */
static inline int get_typed(napi_env env, napi_value value, napi_typedarray_type want, void **data, size_t *length) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  napi_value buffer;
  size_t byte_offset;
  if (napi_get_typedarray_info(env, value, &type, length, data, &buffer, &byte_offset) != napi_ok) return 0;
  return type == want;
}

#endif
