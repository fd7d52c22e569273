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
void hadamardBlocksGeneric(float *v, int64_t count, int64_t p, float scale) {
  hadamard_detail::blocks(v, count, p, scale);
}

HadamardBlocksFn selectHadamard() {
  std::string gemm = sgemmKernelName();
#ifdef QUANTC_HAVE_AVX512_KERNELS
  if (gemm == "avx512")
    return hadamardBlocksAVX512;
#endif
#ifdef QUANTC_HAVE_X86_KERNELS
  if (gemm == "avx2-fma")
    return hadamardBlocksAVX2;
#endif
  return hadamardBlocksGeneric;
}
} // namespace

const char *hadamardKernelName() {
  HadamardBlocksFn f = selectHadamard();
#ifdef QUANTC_HAVE_AVX512_KERNELS
  if (f == hadamardBlocksAVX512)
    return "avx512";
#endif
#ifdef QUANTC_HAVE_X86_KERNELS
  if (f == hadamardBlocksAVX2)
    return "avx2";
#endif
  return "generic";
}

void hadamardF32(int64_t rows, int64_t n, const float *x, int64_t xs, const float *F, int64_t m,
                 float *y, int64_t ys) {
  static const HadamardBlocksFn blocks = selectHadamard();
  if (rows <= 0 || n <= 0)
    return;
  const int64_t p = n / m;
  // Rows per task: at least 16, about four tasks per thread.
  const int64_t block = std::max<int64_t>(16, (rows + 4 * getNumThreads() - 1) /
                                                  (4 * getNumThreads()));
  const int64_t tasks = (rows + block - 1) / block;
  auto run = [&](int64_t t) {
    const int64_t r0 = t * block, R = std::min(rows, r0 + block) - r0;
    if (m == 1) {
      // S alone: each row in place in y, scaled by F[0][0] = 1/sqrt(n).
      for (int64_t r = r0; r < r0 + R; ++r) {
        float *yr = y + r * ys;
        if (yr != x + r * xs)
          std::copy(x + r * xs, x + r * xs + n, yr);
        blocks(yr, 1, n, F[0]);
      }
      return;
    }
    // Z [m][R][p]: block a of row r at (a * R + r) * p, transformed in place.
    thread_local std::vector<float> z, out;
    z.resize(m * R * p);
    out.resize(m * R * p);
    for (int64_t r = 0; r < R; ++r)
      for (int64_t a = 0; a < m; ++a)
        std::copy(x + (r0 + r) * xs + a * p, x + (r0 + r) * xs + (a + 1) * p,
                  z.data() + (a * R + r) * p);
    blocks(z.data(), m * R, p, 1.0f);
    // out [m][R * p] = F^T Z: element (c, a) of F^T is F[a * m + c].
    sgemm(m, R * p, m, Matrix{F, 1, m}, Matrix{z.data(), R * p, 1}, out.data(), R * p,
          /*overwrite=*/true);
    for (int64_t r = 0; r < R; ++r)
      for (int64_t c = 0; c < m; ++c)
        std::copy(out.data() + (c * R + r) * p, out.data() + (c * R + r + 1) * p,
                  y + (r0 + r) * ys + c * p);
  };
  if (tasks == 1)
    run(0);
  else
    parallelFor(tasks, run);
}

} // namespace quantc::rt
