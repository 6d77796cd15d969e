/*
 * Embedding-bag kernels on a table kept in JS typed arrays (lib/embed/sparseTable.ts), the loops
 * that dominate a contrastive step: the weighted bag sum, the scatter-add of its gradient into a
 * compact buffer of the rows a batch touched, and the lazy (sparse-row) Adam step. The arithmetic is
 * the JS loops' own, in double with a float32 store, so both give the same bits.
 *
 *   bagSum(table, d, offsets, ids, weights, out)
 *     out[b] += sum over p in bag b of weights[p] * table[ids[p]]
 *   bagAccumulate(grad, d, offsets, ids, weights, dOut, mark, slot, touched, count, epoch) -> count
 *     adds weights[p] * dOut[b] to the gradient slot of row ids[p]; a row first seen in this epoch
 *     (mark[row] != epoch) gets slot `count` and is appended to `touched`
 *   sparseAdam(weights, mv, grad, touched, count, d, [beta1, 1 - beta1, beta2, 1 - beta2, lr, eps])
 *     Adam on the `count` touched rows; mv holds [m(d), v(d)] per row
 */
#include <math.h>
#include <stdio.h>
#include "heap.h"
#include "rows.h"

typedef struct {
  const int32_t *offsets;
  const int32_t *ids;
  const float *weights;
  size_t bags;
} bags_t;

/* offsets [B + 1] ascending from 0 within ids; weights as long as ids; every id a row of the table. */
static const char *check_bags(napi_env env, napi_value *argv, size_t rows, bags_t *out) {
  size_t n_off, n_ids, n_w;
  void *po, *pi, *pw;
  if (!get_typed(env, argv[0], napi_int32_array, &po, &n_off) || !get_typed(env, argv[1], napi_int32_array, &pi, &n_ids) ||
      !get_typed(env, argv[2], napi_float32_array, &pw, &n_w)) {
    return "offsets and ids must be Int32Arrays, weights a Float32Array";
  }
  if (n_off < 1 || n_w < n_ids) return "offsets must hold B + 1 values and weights one per id";
  const int32_t *off = (const int32_t *)po, *ids = (const int32_t *)pi;
  if (off[0] != 0) return "offsets must start at 0";
  for (size_t b = 1; b < n_off; b++) {
    if (off[b] < off[b - 1] || (size_t)off[b] > n_ids) return "offsets must ascend within the ids";
  }
  for (size_t p = 0; p < (size_t)off[n_off - 1]; p++) {
    if (ids[p] < 0 || (size_t)ids[p] >= rows) return "an id lies outside the table";
  }
  out->offsets = off;
  out->ids = ids;
  out->weights = (const float *)pw;
  out->bags = n_off - 1;
  return NULL;
}

static void throw_args(napi_env env, const char *fn, const char *why) {
  char msg[200];
  snprintf(msg, sizeof msg, "sid_native.%s: %s", fn, why);
  napi_throw_range_error(env, NULL, msg);
}

napi_value sid_bag_sum(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *pt, *po;
  size_t n_t, n_o;
  int64_t d;
  bags_t bags;
  if (argc < 6 || !get_typed(env, argv[0], napi_float32_array, &pt, &n_t) || !get_int(env, argv[1], &d) || d <= 0 ||
      !get_typed(env, argv[5], napi_float32_array, &po, &n_o)) {
    throw_args(env, "bagSum", "expected (table: Float32Array, d > 0, offsets, ids, weights, out: Float32Array)");
    return NULL;
  }
  const char *bad = check_bags(env, argv + 2, n_t / (size_t)d, &bags);
  if (bad || n_o < bags.bags * (size_t)d) {
    throw_args(env, "bagSum", bad ? bad : "out must hold B x d values");
    return NULL;
  }
  const float *table = (const float *)pt;
  float *out = (float *)po;
  const size_t dim = (size_t)d;
  for (size_t b = 0; b < bags.bags; b++) {
    float *o = out + b * dim;
    for (int32_t p = bags.offsets[b]; p < bags.offsets[b + 1]; p++) {
      const float *row = table + (size_t)bags.ids[p] * dim;
      const double w = bags.weights[p];
      for (size_t k = 0; k < dim; k++) o[k] = (float)((double)o[k] + w * (double)row[k]);
    }
  }
  return NULL;
}

napi_value sid_bag_accumulate(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *pg, *pd, *pm, *ps, *pt;
  size_t n_g, n_d, n_m, n_s, n_t;
  int64_t d, count, epoch;
  if (argc < 11 || !get_typed(env, argv[0], napi_float32_array, &pg, &n_g) || !get_int(env, argv[1], &d) || d <= 0 ||
      !get_typed(env, argv[5], napi_float32_array, &pd, &n_d) || !get_typed(env, argv[6], napi_int32_array, &pm, &n_m) ||
      !get_typed(env, argv[7], napi_int32_array, &ps, &n_s) || !get_typed(env, argv[8], napi_int32_array, &pt, &n_t) ||
      !get_int(env, argv[9], &count) || !get_int(env, argv[10], &epoch) || n_s != n_m || count < 0 || (size_t)count > n_t) {
    throw_args(env, "bagAccumulate", "expected (grad, d > 0, offsets, ids, weights, dOut, mark, slot, touched, count, epoch)");
    return NULL;
  }
  bags_t bags;
  const char *bad = check_bags(env, argv + 2, n_m, &bags);
  if (bad || n_d < bags.bags * (size_t)d) {
    throw_args(env, "bagAccumulate", bad ? bad : "dOut must hold B x d values");
    return NULL;
  }
  float *grad = (float *)pg;
  const float *dout = (const float *)pd;
  int32_t *mark = (int32_t *)pm, *slot = (int32_t *)ps, *touched = (int32_t *)pt;
  const size_t dim = (size_t)d;
  size_t c = (size_t)count;
  for (size_t b = 0; b < bags.bags; b++) {
    const float *dy = dout + b * dim;
    for (int32_t p = bags.offsets[b]; p < bags.offsets[b + 1]; p++) {
      const int32_t id = bags.ids[p];
      const double w = bags.weights[p];
      if (mark[id] != (int32_t)epoch) {
        if (c >= n_t || (c + 1) * dim > n_g) {
          throw_args(env, "bagAccumulate", "grad or touched has no room for another row");
          return NULL;
        }
        mark[id] = (int32_t)epoch;
        slot[id] = (int32_t)c;
        touched[c] = id;
        float *g = grad + c * dim;
        for (size_t k = 0; k < dim; k++) g[k] = (float)(w * (double)dy[k]);
        c++;
      } else {
        float *g = grad + (size_t)slot[id] * dim;
        for (size_t k = 0; k < dim; k++) g[k] = (float)((double)g[k] + w * (double)dy[k]);
      }
    }
  }
  napi_value result;
  CHECK(env, napi_create_int64(env, (int64_t)c, &result));
  return result;
}

napi_value sid_sparse_adam(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *pw, *pmv, *pg, *pt;
  size_t n_w, n_mv, n_g, n_t, n_p;
  int64_t count, d;
  double *prm;
  if (argc < 7 || !get_typed(env, argv[0], napi_float32_array, &pw, &n_w) || !get_typed(env, argv[1], napi_float32_array, &pmv, &n_mv) ||
      !get_typed(env, argv[2], napi_float32_array, &pg, &n_g) || !get_typed(env, argv[3], napi_int32_array, &pt, &n_t) ||
      !get_int(env, argv[4], &count) || !get_int(env, argv[5], &d) || !get_double_array(env, argv[6], &prm, &n_p) || n_p != 6 ||
      d <= 0 || count < 0 || (size_t)count > n_t || n_mv != 2 * n_w || (size_t)count * (size_t)d > n_g) {
    throw_args(env, "sparseAdam", "expected (weights, mv [2 x weights], grad [count x d], touched, count, d > 0, params[6])");
    return NULL;
  }
  float *W = (float *)pw, *MV = (float *)pmv;
  const float *G = (const float *)pg;
  const int32_t *touched = (const int32_t *)pt;
  const size_t dim = (size_t)d, rows = n_w / dim;
  const double b1 = prm[0], a1 = prm[1], b2 = prm[2], a2 = prm[3], lr = prm[4], eps = prm[5];
  for (size_t t = 0; t < (size_t)count; t++) {
    if (touched[t] < 0 || (size_t)touched[t] >= rows) {
      throw_args(env, "sparseAdam", "a touched row lies outside the table");
      return NULL;
    }
  }
  for (size_t t = 0; t < (size_t)count; t++) {
    const size_t r = (size_t)touched[t];
    float *w = W + r * dim, *m = MV + 2 * r * dim, *v = m + dim;
    const float *g = G + t * dim;
    for (size_t k = 0; k < dim; k++) {
      const double gk = g[k];
      const double mk = b1 * (double)m[k] + a1 * gk;
      const double vk = b2 * (double)v[k] + a2 * gk * gk;
      m[k] = (float)mk;
      v[k] = (float)vk;
      w[k] = (float)((double)w[k] - (lr * mk) / (sqrt(vk) + eps));
    }
  }
  return NULL;
}
