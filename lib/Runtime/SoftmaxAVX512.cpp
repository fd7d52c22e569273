//===- SoftmaxAVX512.cpp - the row softmax compiled for AVX512 ----------------===//
#include "Softmax.h"

namespace quantc::rt {
void softmaxRowAVX512(float *x, int64_t n, float scale, const float *mask, int64_t ms) {
  softmax_detail::softmaxRow(x, n, scale, mask, ms);
}
} // namespace quantc::rt
