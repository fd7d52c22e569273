//===- RowSplit.h - skinny products split along K over the threads --*- C++ -*-===//
//
// A product of a few rows (a language model decoding one token) is bound
// by reading B once. Split by columns, each thread reads a short piece of
// every row of B and skips the rest, which the hardware prefetchers
// follow badly; split along K, each thread streams one contiguous block
// of B's rows (all N columns) into a partial product of its own, and the
// partials are summed into C afterwards (M x N values per thread, small
// against B). SmolLM2's decode step: 29 -> 22-25 ms (docs/performance-log.md,
// session 17). Used by the float skinny product: the int8 and 4-bit ones
// are bound by their arithmetic, not by reading B, and measured no faster
// split this way on a quiet machine (session 17), so they keep the column
// split.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_RUNTIME_ROWSPLIT_H
#define QUANTC_LIB_RUNTIME_ROWSPLIT_H

#include "quantc/Runtime/ThreadPool.h"
#include "quantc/Support/HostTensor.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace quantc::rt {

/// Whether a skinny product of depth K splits K: more than one thread, at
/// least 64 rows of B per thread, and QUANTC_KSPLIT not "0" (the column
/// split, for comparison).
inline bool rowSplitApplies(int64_t K) {
  static const bool enabled = [] {
    const char *env = std::getenv("QUANTC_KSPLIT");
    return !(env && std::string(env) == "0");
  }();
  int64_t threads = getNumThreads();
  return enabled && threads > 1 && K >= 64 * threads;
}

/// C[0..M, 0..N] (= when overwrite, else +=) the sum over K blocks of
/// partial(k0, kc, p): p (M x N, rows N apart, zeroed) += A[:, k0..k0+kc]
/// * B[k0..k0+kc, :]. One block per thread, each a multiple of `align`
/// rows but the last.
template <typename T, typename Partial>
void rowSplitProduct(int64_t M, int64_t N, int64_t K, int64_t align, T *C, int64_t ldc,
                     bool overwrite, Partial &&partial) {
  int64_t threads = getNumThreads();
  int64_t chunk = ((K + threads - 1) / threads + align - 1) / align * align;
  int64_t tasks = (K + chunk - 1) / chunk;
  // The caller's buffer (a thread_local named inside the tasks would be
  // each worker's own).
  thread_local std::vector<T, cpu::CacheLineAllocator<T>> buffer;
  int64_t stride = (M * N + 15) / 16 * 16;
  buffer.resize(tasks * stride);
  T *parts = buffer.data();
  parallelFor(tasks, [&](int64_t t) {
    int64_t k0 = t * chunk;
    T *p = parts + t * stride;
    std::memset(p, 0, M * N * sizeof(T));
    partial(k0, std::min(chunk, K - k0), p);
  });
  auto sum = [&](int64_t n0, int64_t n1) {
    for (int64_t r = 0; r < M; ++r) {
      T *c = C + r * ldc;
      for (int64_t n = n0; n < n1; ++n) {
        T s = overwrite ? T(0) : c[n];
        for (int64_t t = 0; t < tasks; ++t)
          s += parts[t * stride + r * N + n];
        c[n] = s;
      }
    }
  };
  if (N >= 8192) { // the output head's 49152 columns: summed on all threads
    int64_t w = (N + threads - 1) / threads;
    parallelFor(threads, [&](int64_t i) { sum(std::min(N, i * w), std::min(N, (i + 1) * w)); });
  } else {
    sum(0, N);
  }
}

} // namespace quantc::rt

#endif
