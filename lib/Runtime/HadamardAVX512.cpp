//===- HadamardAVX512.cpp - the online Hadamard transform compiled for AVX512 ---===//
#include "HadamardRows.h"

namespace quantc::rt {
void hadamardRowsAVX512(const float *x, int64_t xs, float *y, int64_t ys, int64_t r0, int64_t r1,
                      int64_t n, const float *F, int64_t m, float *work) {
  hadamard_detail::rows(x, xs, y, ys, r0, r1, n, F, m, work);
}
} // namespace quantc::rt
