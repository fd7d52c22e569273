//===- HadamardAVX512.cpp - the fast Walsh-Hadamard blocks compiled for AVX512 -===//
#include "HadamardRows.h"

namespace quantc::rt {
void hadamardBlocksAVX512(float *v, int64_t count, int64_t p, float scale) {
  hadamard_detail::blocks(v, count, p, scale);
}
} // namespace quantc::rt
