//===- SoftmaxAVX2.cpp - the row softmax compiled for AVX2 ----------------===//
#include "Softmax.h"

namespace quantc::rt {
void softmaxRowAVX2(float *x, int64_t n, float scale, const float *mask, int64_t ms) {
  softmax_detail::softmaxRow(x, n, scale, mask, ms);
}
} // namespace quantc::rt
