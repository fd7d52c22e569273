//===- HadamardAVX2.cpp - the fast Walsh-Hadamard blocks compiled for AVX2 -===//
#include "HadamardRows.h"

namespace quantc::rt {
void hadamardBlocksAVX2(float *v, int64_t count, int64_t p, float scale) {
  hadamard_detail::blocks(v, count, p, scale);
}
} // namespace quantc::rt
