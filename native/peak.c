/*
 * The CPU's single-core float32 FMA peak, measured: chains of independent multiply-adds on 8-lane
 * (AVX2, 256-bit) or 16-lane (AVX-512, 512-bit) vectors, enough chains to cover the FMA units'
 * latency. GCC's vector extensions compile to vfmadd on the widest registers -march=native allows;
 * where the CPU lacks 512-bit registers the 16-lane loop runs as two 8-lane halves (and measures
 * about the AVX2 peak).
 */
#include "peak.h"

#include <time.h>

typedef float v8 __attribute__((vector_size(32)));
typedef float v16 __attribute__((vector_size(64)));

#define CHAINS 12

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Runs `iters` rounds of CHAINS FMAs per lane count; the result is kept so the loop is not removed. */
#define FMA_LOOP(T, LANES)                                                     \
  static float fma_loop_##LANES(long iters) {                                  \
    T acc[CHAINS];                                                             \
    T a, b;                                                                    \
    for (int l = 0; l < LANES; l++) { a[l] = 0.999999f; b[l] = 1e-7f; }        \
    for (int c = 0; c < CHAINS; c++) acc[c] = a * (float)(c + 1);              \
    for (long i = 0; i < iters; i++)                                           \
      for (int c = 0; c < CHAINS; c++) acc[c] = acc[c] * a + b;                \
    float s = 0.f;                                                             \
    for (int c = 0; c < CHAINS; c++)                                           \
      for (int l = 0; l < LANES; l++) s += acc[c][l];                          \
    return s;                                                                  \
  }
FMA_LOOP(v8, 8)
FMA_LOOP(v16, 16)

volatile float peak_sink;

double fma_peak_gflops(int lanes, double seconds) {
  long iters = 1 << 16;
  for (;;) {
    const double t0 = now();
    peak_sink = lanes == 16 ? fma_loop_16(iters) : fma_loop_8(iters);
    const double dt = now() - t0;
    if (dt >= seconds) return 2.0 * CHAINS * lanes * (double)iters / dt / 1e9;
    iters *= 2;
  }
}
