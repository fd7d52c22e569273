//===- AlignedVector.h - cache-line aligned packing buffers -----*- C++ -*-===//
//
// std::vector's storage is 16-byte aligned (a large block from mmap starts
// 16 bytes into its page), so every 64-byte row of a packed panel or tile
// straddled two cache lines: AMX tile loads of such rows ran at less than
// half speed (a 32 x 32 x 1024 tile block: 94 against 40 ns per 64-byte
// step of k, docs/performance-log.md) and zmm loads of them split. The
// kernels' packed operands and scratch buffers are AlignedVectors, whose
// storage starts on a 64-byte boundary.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_RUNTIME_ALIGNEDVECTOR_H
#define QUANTC_LIB_RUNTIME_ALIGNEDVECTOR_H

#include <cstddef>
#include <new>
#include <vector>

namespace quantc::rt {

constexpr std::size_t kCacheLine = 64;

template <typename T> struct CacheLineAllocator {
  using value_type = T;
  CacheLineAllocator() = default;
  template <typename U> CacheLineAllocator(const CacheLineAllocator<U> &) {}
  T *allocate(std::size_t n) {
    return static_cast<T *>(::operator new(n * sizeof(T), std::align_val_t(kCacheLine)));
  }
  void deallocate(T *p, std::size_t) { ::operator delete(p, std::align_val_t(kCacheLine)); }
  template <typename U> bool operator==(const CacheLineAllocator<U> &) const { return true; }
};

template <typename T> using AlignedVector = std::vector<T, CacheLineAllocator<T>>;

/// Grows a packing buffer to n elements, never shrinking it: shrinking
/// and growing back would zero the tail again on every call (the packers
/// write every element they use, padding included).
template <typename T, typename A> inline void growTo(std::vector<T, A> &v, std::size_t n) {
  if (v.size() < n)
    v.resize(n);
}

} // namespace quantc::rt

#endif
