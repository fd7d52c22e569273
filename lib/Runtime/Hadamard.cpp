//===- Hadamard.cpp - the online Hadamard transform (qc.hadamard) ---------===//
//
// Picks the row kernel of the float GEMM's ISA (so QUANTC_CPU_KERNELS caps
// both alike) and splits the rows over the thread pool in blocks of at
// least 16 rows.
//
//===----------------------------------------------------------------------===//
#include "HadamardRows.h"
#include "quantc/Runtime/Kernels.h"
#include "quantc/Runtime/ThreadPool.h"

#include <algorithm>
#include <string>
#include <vector>

namespace quantc::rt {
namespace {
void hadamardRowsGeneric(const float *x, int64_t xs, float *y, int64_t ys, int64_t r0, int64_t r1,
                         int64_t n, const float *F, int64_t m, float *work) {
  hadamard_detail::rows(x, xs, y, ys, r0, r1, n, F, m, work);
}

HadamardRowsFn selectHadamard() {
  std::string gemm = sgemmKernelName();
#ifdef QUANTC_HAVE_AVX512_KERNELS
  if (gemm == "avx512")
    return hadamardRowsAVX512;
#endif
#ifdef QUANTC_HAVE_X86_KERNELS
  if (gemm == "avx2-fma")
    return hadamardRowsAVX2;
#endif
  return hadamardRowsGeneric;
}
} // namespace

const char *hadamardKernelName() {
  HadamardRowsFn f = selectHadamard();
#ifdef QUANTC_HAVE_AVX512_KERNELS
  if (f == hadamardRowsAVX512)
    return "avx512";
#endif
#ifdef QUANTC_HAVE_X86_KERNELS
  if (f == hadamardRowsAVX2)
    return "avx2";
#endif
  return "generic";
}

void hadamardF32(int64_t rows, int64_t n, const float *x, int64_t xs, const float *F, int64_t m,
                 float *y, int64_t ys) {
  static const HadamardRowsFn kernel = selectHadamard();
  if (rows <= 0 || n <= 0)
    return;
  const int64_t block = std::max<int64_t>(16, (rows + 4 * getNumThreads() - 1) /
                                                  (4 * getNumThreads()));
  const int64_t tasks = (rows + block - 1) / block;
  auto run = [&](int64_t t) {
    thread_local std::vector<float> work;
    work.resize(n);
    int64_t r0 = t * block, r1 = std::min(rows, r0 + block);
    kernel(x, xs, y, ys, r0, r1, n, F, m, work.data());
  };
  if (tasks == 1)
    run(0);
  else
    parallelFor(tasks, run);
}

} // namespace quantc::rt
