//===- LowBitWeights.cpp - 2- and 3-bit weights in bit planes -------------===//
//
// The planes (Kernels.h, LowBitWeights) are widened to the 4-bit nibble
// layout sgemmW4 reads, eight columns at a time through two tables: a byte
// of the low plane holds four 2-bit values, which become four nibbles (16
// bits); a byte of the high plane holds bit 2 of eight values, which
// becomes bit 2 of eight nibbles (32 bits). The library stores 2 or 3 bits
// per weight; the widened copy lives in one per-thread buffer for the
// duration of a product.
//
//===----------------------------------------------------------------------===//
#include "AlignedVector.h"
#include "LowBitWiden.h"
#include "quantc/Runtime/Kernels.h"
#include "quantc/Runtime/ThreadPool.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <string>

namespace quantc::rt {
namespace {

struct Tables {
  std::array<uint16_t, 256> low{};  // 4 two-bit values -> 4 nibbles
  std::array<uint32_t, 256> high{}; // 8 bits -> bit 2 of 8 nibbles
  Tables() {
    for (int b = 0; b < 256; ++b) {
      for (int i = 0; i < 4; ++i)
        low[b] |= static_cast<uint16_t>(((b >> (2 * i)) & 3) << (4 * i));
      for (int i = 0; i < 8; ++i)
        high[b] |= static_cast<uint32_t>((b >> i) & 1) << (4 * i + 2);
    }
  }
};
const Tables &tables() {
  static const Tables t;
  return t;
}

inline int valueAt(const LowBitWeights &w, int64_t k, int64_t n) {
  int v = (static_cast<uint8_t>(w.low[k * w.lrs + n / 4]) >> (2 * (n % 4))) & 3;
  if (w.bits == 3)
    v |= ((static_cast<uint8_t>(w.high[k * w.hrs + n / 8]) >> (n % 8)) & 1) << 2;
  return v;
}

/// The AVX2 widening (64 columns a step) unless the CPU lacks AVX2 or
/// QUANTC_CPU_KERNELS=generic.
bool useAVX2() {
#ifdef QUANTC_HAVE_X86_KERNELS
  static const bool ok = [] {
    const char *cap = std::getenv("QUANTC_CPU_KERNELS");
    __builtin_cpu_init();
    return !(cap && std::string(cap) == "generic") && __builtin_cpu_supports("avx2");
  }();
  return ok;
#else
  return false;
#endif
}

} // namespace

const char *lowBitWidenKernelName() { return useAVX2() ? "avx2" : "generic"; }

void unpackLowBitRows(const LowBitWeights &w, int64_t k0, int64_t k1, int64_t N, int8_t *nibbles,
                      int64_t nrs) {
  const Tables &t = tables();
  const int64_t full = N / 8;
  for (int64_t k = k0; k < k1; ++k) {
    const uint8_t *lo = reinterpret_cast<const uint8_t *>(w.low + k * w.lrs);
    const uint8_t *hi = w.bits == 3 ? reinterpret_cast<const uint8_t *>(w.high + k * w.hrs)
                                    : nullptr;
    int8_t *out = nibbles + (k - k0) * nrs;
    int64_t j = 0;
#ifdef QUANTC_HAVE_X86_KERNELS
    if (useAVX2()) {
      const int64_t blocks = N / 64;
      widenLowBitRowAVX2(lo, hi, blocks, out);
      j = blocks * 8;
    }
#endif
    for (; j < full; ++j) {
      uint32_t v = t.low[lo[2 * j]] | static_cast<uint32_t>(t.low[lo[2 * j + 1]]) << 16;
      if (hi)
        v |= t.high[hi[j]];
      std::memcpy(out + 4 * j, &v, 4); // little-endian: nibble i in byte i / 2
    }
    for (int64_t n = full * 8; n < N; n += 2) {
      int a = valueAt(w, k, n), b = n + 1 < N ? valueAt(w, k, n + 1) : 0;
      out[n / 2] = static_cast<int8_t>(a | b << 4);
    }
  }
}

void sgemmLowBit(int64_t M, int64_t N, int64_t K, Matrix A, const LowBitWeights &B, float *C,
                 int64_t ldc) {
  if (M <= 0 || N <= 0 || K <= 0)
    return;
  const int64_t half = (N + 1) / 2;
  thread_local AlignedVector<int8_t> buffer;
  buffer.resize(static_cast<size_t>(K * half));
  int8_t *nib = buffer.data();
  constexpr int64_t kRows = 64;
  parallelFor((K + kRows - 1) / kRows, [&](int64_t t) {
    int64_t k0 = t * kRows, k1 = std::min(K, k0 + kRows);
    unpackLowBitRows(B, k0, k1, N, nib + k0 * half, half);
  });
  Int4Weights w{nib, half, 1, B.scale, B.srs, B.scs, B.zp, B.zrs, B.zcs, B.group, false};
  sgemmW4(M, N, K, A, w, C, ldc);
}

} // namespace quantc::rt
