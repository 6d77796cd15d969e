/*
 * fma-peak: the CPU's single-core float32 FMA peak, measured: chains of independent multiply-adds on 8-lane
 * (AVX2, 256-bit) or 16-lane (AVX-512, 512-bit) vectors, enough chains to cover the FMA units'
 * latency. GCC's vector extensions compile to vfmadd on the widest registers -march=native allows;
 * where the CPU lacks 512-bit registers the 16-lane loop runs as two 8-lane halves (and measures
 * about the AVX2 peak).
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef float v8 __attribute__((vector_size(32)));
typedef float v16 __attribute__((vector_size(64)));

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/*
 * 24 chains, each its own variable so they stay in registers (an array would live in memory): 12
 * were measured to reach only about half of oneDNN's own matmul rate on this machine's cores.
 */
#define CHAINS 24
#define DECL(i) __typeof__(a) c##i = a * (float)(i + 1);
#define STEP(i) c##i = c##i * a + b;
#define ADD(i) +c##i
#define EACH(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11) M(12) M(13) M(14) M(15) M(16) M(17) M(18) M(19) M(20) M(21) M(22) M(23)
#define FMA_LOOP(T, LANES)                                              \
  static float fma_loop_##LANES(long iters) {                           \
    T a, b;                                                             \
    for (int l = 0; l < LANES; l++) { a[l] = 0.999999f; b[l] = 1e-7f; } \
    EACH(DECL)                                                          \
    for (long i = 0; i < iters; i++) { EACH(STEP) }                     \
    T s = c0 - c0 EACH(ADD);                                            \
    float out = 0.f;                                                    \
    for (int l = 0; l < LANES; l++) out += s[l];                        \
    return out;                                                         \
  }
FMA_LOOP(v8, 8)
FMA_LOOP(v16, 16)

static volatile float peak_sink;

static double fma_peak_gflops(int lanes, double seconds) {
  long iters = 1 << 16;
  for (;;) {
    const double t0 = now();
    peak_sink = lanes == 16 ? fma_loop_16(iters) : fma_loop_8(iters);
    const double dt = now() - t0;
    if (dt >= seconds) return 2.0 * CHAINS * lanes * (double)iters / dt / 1e9;
    iters *= 2;
  }
}

/* Prints {"avx2": GFLOP/s, "avx512": GFLOP/s}, each loop timed for at least argv[1] seconds (default 1). */
int main(int argc, char **argv) {
  const double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  if (!(seconds > 0 && seconds <= 10)) {
    fprintf(stderr, "fma-peak: seconds must be in (0, 10]\n");
    return 2;
  }
  const double avx2 = fma_peak_gflops(8, seconds);
  const double avx512 = fma_peak_gflops(16, seconds);
  printf("{\"avx2\": %.2f, \"avx512\": %.2f}\n", avx2, avx512);
  return 0;
}
