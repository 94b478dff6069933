/* bench_gemm_main.c — `dissipate bench`'s GEMM table for the WebAssembly SIMD128 kernels, one thread, run under
 * node by tools/bench-wasm.mjs: the 128-bit GEMM as the browser's engine runs it (V8's code, not gcc's SSE). */
#include "bench_kernels.h"

int main(void) { return dsp_bench_gemm(stdout, 1, DSP_KERNELS_SIMD128) ? 1 : 0; }
