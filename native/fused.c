/*
 * Fused element-wise kernels of a training step, on the wasm heap (heap.h). Each replaces a chain of
 * tfjs kernels that would read and write the whole tensor once per operation. Offsets are byte
 * offsets into the heap; -1 marks an absent operand.
 *
 *   geluGate(heap, a, b, out, n)                     out = gelu(a) * b  (b = -1: out = gelu(a))
 *   geluGateGrad(heap, dy, a, b, da, db, n)          da = dy * b * gelu'(a), db = dy * gelu(a)
 *   rmsNorm(heap, x, g, out, rows, d, eps)           out = x / sqrt(mean(x^2) + eps) * g per row
 *   rmsNormGrad(heap, dy, x, g, dx, dg, rows, d, eps)
 *   adamw(heap, offsets, n, params)                  one AdamW update of one parameter tensor:
 *     offsets [x, grad, m, v, xOut, mOut, vOut, scale or -1], params [lr, beta1, 1 - beta1, beta2,
 *     1 - beta2, eps, biasCorrection1, biasCorrection2, decayFactor or -1]
 *   softmaxXent(heap, logits, labels, loss, lse, rows, v)
 *                                                    loss = logsumexp(z) - z[label] per row of v
 *                                                    (int32 labels, -1: no loss); lse kept for:
 *   softmaxXentGrad(heap, dy, logits, labels, lse, dz, rows, v)
 *                                                    dz = dy * (softmax(z) - onehot(label))
 *
 * gelu is the tanh form written as a * sigmoid(2c (a + 0.044715 a^3)), c = sqrt(2 / pi), the same
 * operations lib/backend/fusedOps.ts composes from tfjs kernels; AdamW applies the operations of
 * lib/generate/adamw.ts in the same order on the same float32 constants.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "heap.h"
#include "fused.h"

#define GELU_C 1.5957691216057308f /* 2 sqrt(2 / pi) */
#define GELU_K 0.044715f

/*
 * e^x in float32 that the compiler can vectorise: x = n ln2 + r with |r| <= ln2 / 2, then a
 * degree-6 polynomial in r (Cephes' expf coefficients) scaled by 2^n. x is clamped to [-87, 88],
 * where 2^n stays a normal float.
 */
static inline float exp_vec(float x) {
  x = x < -87.f ? -87.f : (x > 88.f ? 88.f : x);
  const float n = rintf(x * 1.44269504088896341f);
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.f;
  const int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

static inline float gelu_sigmoid(float x) {
  return 1.f / (1.f + exp_vec(-((x + (x * x * x) * GELU_K) * GELU_C)));
}

/* argv[0] as the heap and argv[1 .. count] as doubles: how every kernel here but adamw is called. */
static int heap_and_doubles(napi_env env, napi_callback_info info, size_t count, heap_t *heap, double *out) {
  napi_value argv[9];
  size_t argc = 9;
  if (count + 1 > 9 || napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < count + 1 || !get_heap(env, argv[0], heap)) return 0;
  for (size_t i = 0; i < count; i++) {
    if (napi_get_value_double(env, argv[1 + i], &out[i]) != napi_ok) return 0;
  }
  return 1;
}

/* A count that is a non-negative integer. */
static int as_count(double v, size_t *out) {
  if (!(v >= 0) || v != floor(v) || v > 9007199254740992.0) return 0;
  *out = (size_t)v;
  return 1;
}

/* The float32 region at `off` (NULL and *ok unchanged when off is -1 and the operand is optional). */
static float *operand(const heap_t *heap, double off, size_t count, int optional, int *ok) {
  if (optional && off == -1) return NULL;
  float *p = region(heap, off, count);
  if (!p) *ok = 0;
  return p;
}

static void throw_outside(napi_env env, const char *fn) {
  char msg[160];
  snprintf(msg, sizeof msg, "sid_native.%s: an operand lies outside the heap or is misaligned", fn);
  napi_throw_range_error(env, NULL, msg);
}

napi_value sid_gelu_gate(napi_env env, napi_callback_info info) {
  heap_t heap;
  double d[4];
  size_t n;
  if (!heap_and_doubles(env, info, 4, &heap, d) || !as_count(d[3], &n)) {
    napi_throw_type_error(env, NULL, "sid_native.geluGate(heap, aOffset, bOffset or -1, outOffset, n): bad arguments");
    return NULL;
  }
  int ok = 1;
  const float *a = operand(&heap, d[0], n, 0, &ok), *b = operand(&heap, d[1], n, 1, &ok);
  float *out = operand(&heap, d[2], n, 0, &ok);
  if (!ok) {
    throw_outside(env, "geluGate");
    return NULL;
  }
  if (b) {
    for (size_t i = 0; i < n; i++) out[i] = (a[i] * gelu_sigmoid(a[i])) * b[i];
  } else {
    for (size_t i = 0; i < n; i++) out[i] = a[i] * gelu_sigmoid(a[i]);
  }
  return NULL;
}

napi_value sid_gelu_gate_grad(napi_env env, napi_callback_info info) {
  heap_t heap;
  double d[6];
  size_t n;
  if (!heap_and_doubles(env, info, 6, &heap, d) || !as_count(d[5], &n)) {
    napi_throw_type_error(env, NULL, "sid_native.geluGateGrad(heap, dyOffset, aOffset, bOffset or -1, daOffset, dbOffset or -1, n): bad arguments");
    return NULL;
  }
  int ok = 1;
  const float *dy = operand(&heap, d[0], n, 0, &ok), *a = operand(&heap, d[1], n, 0, &ok), *b = operand(&heap, d[2], n, 1, &ok);
  float *da = operand(&heap, d[3], n, 0, &ok), *db = operand(&heap, d[4], n, 1, &ok);
  if (!ok || (b == NULL) != (db == NULL)) {
    throw_outside(env, "geluGateGrad");
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    const float x = a[i], s = gelu_sigmoid(x);
    /* d/dx [x s(z)] with z = 2c (x + k x^3): s + x s (1 - s) 2c (1 + 3k x^2) */
    const float slope = s + x * s * (1.f - s) * GELU_C * (1.f + 3.f * GELU_K * x * x);
    if (b) {
      da[i] = dy[i] * b[i] * slope;
      db[i] = dy[i] * (x * s);
    } else {
      da[i] = dy[i] * slope;
    }
  }
  return NULL;
}

/* 1 / sqrt(mean(x^2) + eps) of one row (the sum in double). */
static inline float inverse_rms(const float *x, size_t d, float eps) {
  double ss = 0;
  for (size_t j = 0; j < d; j++) ss += (double)x[j] * x[j];
  return 1.f / sqrtf((float)(ss / (double)d) + eps);
}

/* Shared argument checks of rmsNorm and rmsNormGrad: rows and d as counts, eps as float. */
static int norm_sizes(const double *v, size_t *rows, size_t *d, float *eps) {
  if (!as_count(v[0], rows) || !as_count(v[1], d) || *d == 0 || !(v[2] >= 0)) return 0;
  *eps = (float)v[2];
  return 1;
}

napi_value sid_rms_norm(napi_env env, napi_callback_info info) {
  heap_t heap;
  double o[6];
  size_t rows, d;
  float eps;
  if (!heap_and_doubles(env, info, 6, &heap, o) || !norm_sizes(o + 3, &rows, &d, &eps)) {
    napi_throw_type_error(env, NULL, "sid_native.rmsNorm(heap, xOffset, gainOffset, outOffset, rows, d, eps): bad arguments");
    return NULL;
  }
  int ok = 1;
  const float *x = operand(&heap, o[0], rows * d, 0, &ok), *g = operand(&heap, o[1], d, 0, &ok);
  float *out = operand(&heap, o[2], rows * d, 0, &ok);
  if (!ok) {
    throw_outside(env, "rmsNorm");
    return NULL;
  }
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * d;
    float *yr = out + r * d;
    const float inv = inverse_rms(xr, d, eps);
    for (size_t j = 0; j < d; j++) yr[j] = (xr[j] * inv) * g[j];
  }
  return NULL;
}

napi_value sid_rms_norm_grad(napi_env env, napi_callback_info info) {
  heap_t heap;
  double o[8];
  size_t rows, d;
  float eps;
  if (!heap_and_doubles(env, info, 8, &heap, o) || !norm_sizes(o + 5, &rows, &d, &eps)) {
    napi_throw_type_error(env, NULL, "sid_native.rmsNormGrad(heap, dyOffset, xOffset, gainOffset, dxOffset, dgainOffset, rows, d, eps): bad arguments");
    return NULL;
  }
  int ok = 1;
  const float *dy = operand(&heap, o[0], rows * d, 0, &ok), *x = operand(&heap, o[1], rows * d, 0, &ok);
  const float *g = operand(&heap, o[2], d, 0, &ok);
  float *dx = operand(&heap, o[3], rows * d, 0, &ok), *dg = operand(&heap, o[4], d, 0, &ok);
  if (!ok) {
    throw_outside(env, "rmsNormGrad");
    return NULL;
  }
  double *acc = (double *)calloc(d, sizeof(double));
  if (!acc) {
    napi_throw_error(env, NULL, "sid_native.rmsNormGrad: out of memory");
    return NULL;
  }
  /* y = x r g with r = (mean(x^2) + eps)^-1/2: dx = r (dy g) - x r^3 sum(dy g x) / d, dg = sum over rows of dy x r. */
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * d, *dyr = dy + r * d;
    float *dxr = dx + r * d;
    const float inv = inverse_rms(xr, d, eps);
    double dot = 0;
    for (size_t j = 0; j < d; j++) dot += (double)(dyr[j] * g[j]) * xr[j];
    const float coef = (float)(dot / (double)d) * inv * inv * inv;
    for (size_t j = 0; j < d; j++) {
      dxr[j] = inv * (dyr[j] * g[j]) - xr[j] * coef;
      acc[j] += (double)(dyr[j] * xr[j] * inv);
    }
  }
  for (size_t j = 0; j < d; j++) dg[j] = (float)acc[j];
  free(acc);
  return NULL;
}

static void adamw_run(const float *restrict x, const float *restrict gr, const float *restrict m, const float *restrict v,
                      float *restrict xo, float *restrict mo, float *restrict vo, size_t n, float s, const double *prm) {
  const float lr = (float)prm[0], b1 = (float)prm[1], c1 = (float)prm[2], b2 = (float)prm[3], c2 = (float)prm[4];
  const float eps = (float)prm[5], bc1 = (float)prm[6], bc2 = (float)prm[7];
  const float df = prm[8] >= 0 ? (float)prm[8] : 1.f;
  for (size_t i = 0; i < n; i++) {
    const float g = gr[i] * s;
    const float mi = m[i] * b1 + g * c1;
    const float vi = v[i] * b2 + (g * g) * c2;
    const float update = (mi / bc1) / (sqrtf(vi / bc2) + eps);
    xo[i] = x[i] * df - update * lr;
    mo[i] = mi;
    vo[i] = vi;
  }
}

napi_value sid_adamw(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  heap_t heap;
  double *off, *prm, nd;
  size_t n_off, n_prm, n;
  if (argc < 4 || !get_heap(env, argv[0], &heap) || !get_double_array(env, argv[1], &off, &n_off) || n_off != 8 ||
      napi_get_value_double(env, argv[2], &nd) != napi_ok || !as_count(nd, &n) ||
      !get_double_array(env, argv[3], &prm, &n_prm) || n_prm != 9) {
    napi_throw_type_error(env, NULL, "sid_native.adamw(heap, offsets[8], n, params[9]): bad arguments");
    return NULL;
  }
  int ok = 1;
  const float *x = operand(&heap, off[0], n, 0, &ok), *gr = operand(&heap, off[1], n, 0, &ok);
  const float *m = operand(&heap, off[2], n, 0, &ok), *v = operand(&heap, off[3], n, 0, &ok);
  float *xo = operand(&heap, off[4], n, 0, &ok), *mo = operand(&heap, off[5], n, 0, &ok), *vo = operand(&heap, off[6], n, 0, &ok);
  const float *scale = operand(&heap, off[7], 1, 1, &ok);
  if (!ok) {
    throw_outside(env, "adamw");
    return NULL;
  }
  /* Multiplying by 1 is exact, so an absent scale or decay costs no branch in the loop. */
  adamw_run(x, gr, m, v, xo, mo, vo, n, scale ? *scale : 1.f, prm);
  return NULL;
}

/* Max and log-sum-exp of one row of logits, over 16 lanes of partial maxima and sums (vectorisable), the sums added in double. */
static void row_lse(const float *z, size_t v, float *max_out, float *lse_out) {
  float top[16];
  for (size_t l = 0; l < 16; l++) top[l] = -INFINITY;
  size_t j = 0;
  for (; j + 16 <= v; j += 16) {
    for (size_t l = 0; l < 16; l++) top[l] = z[j + l] > top[l] ? z[j + l] : top[l];
  }
  float mx = -INFINITY;
  for (; j < v; j++) mx = z[j] > mx ? z[j] : mx;
  for (size_t l = 0; l < 16; l++) mx = top[l] > mx ? top[l] : mx;
  float part[16] = {0};
  j = 0;
  for (; j + 16 <= v; j += 16) {
    for (size_t l = 0; l < 16; l++) part[l] += exp_vec(z[j + l] - mx);
  }
  double sum = 0;
  for (; j < v; j++) sum += exp_vec(z[j] - mx);
  for (size_t l = 0; l < 16; l++) sum += part[l];
  *max_out = mx;
  *lse_out = mx + (float)log(sum);
}

/* rows and the class count v of both cross-entropy entry points, as counts (v > 0). */
static int xent_sizes(const double *v, size_t *rows, size_t *cols) {
  return as_count(v[0], rows) && as_count(v[1], cols) && *cols > 0;
}

napi_value sid_softmax_xent(napi_env env, napi_callback_info info) {
  heap_t heap;
  double o[6];
  size_t rows, v;
  if (!heap_and_doubles(env, info, 6, &heap, o) || !xent_sizes(o + 4, &rows, &v)) {
    napi_throw_type_error(env, NULL, "sid_native.softmaxXent(heap, logitsOffset, labelsOffset, lossOffset, lseOffset, rows, v): bad arguments");
    return NULL;
  }
  int ok = 1;
  const float *z = operand(&heap, o[0], rows * v, 0, &ok);
  const int32_t *labels = (const int32_t *)operand(&heap, o[1], rows, 0, &ok);
  float *loss = operand(&heap, o[2], rows, 0, &ok), *lse = operand(&heap, o[3], rows, 0, &ok);
  if (!ok) {
    throw_outside(env, "softmaxXent");
    return NULL;
  }
  for (size_t r = 0; r < rows; r++) {
    if (labels[r] >= (int32_t)v) {
      napi_throw_range_error(env, NULL, "sid_native.softmaxXent: a label is not below the number of classes");
      return NULL;
    }
  }
  for (size_t r = 0; r < rows; r++) {
    float mx;
    row_lse(z + r * v, v, &mx, &lse[r]);
    loss[r] = labels[r] < 0 ? 0.f : lse[r] - z[r * v + (size_t)labels[r]];
  }
  return NULL;
}

napi_value sid_softmax_xent_grad(napi_env env, napi_callback_info info) {
  heap_t heap;
  double o[7];
  size_t rows, v;
  if (!heap_and_doubles(env, info, 7, &heap, o) || !xent_sizes(o + 5, &rows, &v)) {
    napi_throw_type_error(env, NULL, "sid_native.softmaxXentGrad(heap, dyOffset, logitsOffset, labelsOffset, lseOffset, dzOffset, rows, v): bad arguments");
    return NULL;
  }
  int ok = 1;
  const float *dy = operand(&heap, o[0], rows, 0, &ok), *z = operand(&heap, o[1], rows * v, 0, &ok);
  const int32_t *labels = (const int32_t *)operand(&heap, o[2], rows, 0, &ok);
  const float *lse = operand(&heap, o[3], rows, 0, &ok);
  float *dz = operand(&heap, o[4], rows * v, 0, &ok);
  if (!ok) {
    throw_outside(env, "softmaxXentGrad");
    return NULL;
  }
  /* d loss_r / d z_rj = softmax(z_r)_j - [j = label_r]; rows with label -1 have no loss. */
  for (size_t r = 0; r < rows; r++) {
    float *g = dz + r * v;
    const float *zr = z + r * v;
    const int32_t label = labels[r];
    if (label < 0 || label >= (int32_t)v) {
      memset(g, 0, v * sizeof(float));
      continue;
    }
    const float scale = dy[r], m = lse[r];
    for (size_t j = 0; j < v; j++) g[j] = scale * exp_vec(zr[j] - m);
    g[label] -= scale;
  }
  return NULL;
}

napi_value sid_log_softmax(napi_env env, napi_callback_info info) {
  heap_t heap;
  double o[4];
  size_t rows, v;
  if (!heap_and_doubles(env, info, 4, &heap, o) || !xent_sizes(o + 2, &rows, &v)) {
    napi_throw_type_error(env, NULL, "sid_native.logSoftmax(heap, xOffset, outOffset, rows, v): bad arguments");
    return NULL;
  }
  int ok = 1;
  const float *z = operand(&heap, o[0], rows * v, 0, &ok);
  float *out = operand(&heap, o[1], rows * v, 0, &ok);
  if (!ok) {
    throw_outside(env, "logSoftmax");
    return NULL;
  }
  for (size_t r = 0; r < rows; r++) {
    float mx, lse;
    row_lse(z + r * v, v, &mx, &lse);
    const float *zr = z + r * v;
    float *y = out + r * v;
    for (size_t j = 0; j < v; j++) y[j] = zr[j] - lse;
  }
  return NULL;
}
