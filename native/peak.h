#ifndef SID_PEAK_H
#define SID_PEAK_H

/* Single-core float32 GFLOP/s of a loop of independent FMAs on 8 or 16 lanes, run for at least `seconds`. */
double fma_peak_gflops(int lanes, double seconds);

#endif
