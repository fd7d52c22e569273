//===- HostTensor.h - tensors in host memory, and their dtypes --*- C++ -*-===//
//
// What calibration, the driver, the JIT and the tools pass tensors as: a
// name, a dtype, a shape and 64-byte aligned bytes. No MLIR or LLVM here,
// so that code reading or writing tensors does not depend on the JIT.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_SUPPORT_HOSTTENSOR_H
#define QUANTC_SUPPORT_HOSTTENSOR_H

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

namespace quantc::cpu {

enum class DType { F32, F64, F16, I64, I32, I16, I8, U8, Bool };

size_t dtypeSize(DType t);
const char *dtypeName(DType t);

/// Allocates 64-byte aligned storage (a cache line, one AVX-512 vector).
/// A plain std::vector's large blocks start 16 bytes into a page, so a
/// GEMM writing its output in place stored every 32-float row segment
/// across three cache lines instead of two (SmolLM2's 256x49152 logits:
/// 52.7 -> 47.9 ms in quantc-kernel-bench with the output aligned).
template <typename T> struct CacheLineAllocator {
  using value_type = T;
  CacheLineAllocator() = default;
  template <typename U> CacheLineAllocator(const CacheLineAllocator<U> &) {}
  T *allocate(size_t n) {
    size_t bytes = (n * sizeof(T) + 63) / 64 * 64;
    void *p = std::aligned_alloc(64, bytes == 0 ? 64 : bytes);
    if (!p)
      throw std::bad_alloc();
    return static_cast<T *>(p);
  }
  void deallocate(T *p, size_t) { std::free(p); }
  template <typename U> bool operator==(const CacheLineAllocator<U> &) const { return true; }
  template <typename U> bool operator!=(const CacheLineAllocator<U> &) const { return false; }
};

struct HostTensor {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<char, CacheLineAllocator<char>> data;
  int64_t numElements() const;
};

struct TensorSpec {
  std::string name;
  DType dtype;
  /// -1 for a dynamic dimension.
  std::vector<int64_t> shape;
};

} // namespace quantc::cpu

#endif
