//===- BufferPool.cpp - the allocator compiled models use -----------------===//
//
// Compiled code allocates its intermediate buffers through
// _mlir_memref_to_llvm_alloc/_free (finalize-memref-to-llvm with generic
// allocation functions). Large blocks from malloc come and go through
// mmap/munmap, so every run would page-fault its activations in afresh;
// this pool keeps freed blocks per size and hands them out again, so that
// from the second run on a model allocates no new memory.
//
// With symbolic dimensions the sizes change from run to run (a growing KV
// cache), so blocks of sizes no longer asked for would pile up: the pool
// caches at most kMaxCached bytes (QUANTC_POOL_MB overrides), and a free
// that would exceed it first returns the cached blocks of other sizes to
// the system.
//
//===----------------------------------------------------------------------===//
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace {
constexpr size_t kHeader = 64; // keeps the user pointer 64-byte aligned

struct Pool {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<void *>> free;
  size_t cached = 0, limit = 0;
};

size_t cacheLimit() {
  if (const char *env = getenv("QUANTC_POOL_MB"); env && *env)
    return static_cast<size_t>(std::strtoull(env, nullptr, 10)) << 20;
  return size_t(2048) << 20;
}

Pool &pool() {
  static Pool *p = [] {
    auto *q = new Pool(); // never destroyed: models may run at exit
    q->limit = cacheLimit();
    return q;
  }();
  return *p;
}

void *allocate(size_t size) {
  size_t rounded = (size + 63) & ~size_t(63);
  {
    Pool &p = pool();
    std::lock_guard<std::mutex> lock(p.mu);
    auto it = p.free.find(rounded);
    if (it != p.free.end() && !it->second.empty()) {
      void *block = it->second.back();
      it->second.pop_back();
      p.cached -= rounded;
      return static_cast<char *>(block) + kHeader;
    }
  }
  void *block = nullptr;
  if (posix_memalign(&block, 64, rounded + kHeader) != 0)
    return nullptr;
  *static_cast<size_t *>(block) = rounded;
  return static_cast<char *>(block) + kHeader;
}
} // namespace

extern "C" {
void *_mlir_memref_to_llvm_alloc(size_t size) { return allocate(size); }

void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment, size_t size) {
  // Blocks are 64-byte aligned; larger alignments are not requested by
  // the lowering (it asks for the element or vector alignment).
  if (alignment > 64)
    return nullptr;
  return allocate(size);
}

void _mlir_memref_to_llvm_free(void *ptr) {
  if (!ptr)
    return;
  void *block = static_cast<char *>(ptr) - kHeader;
  size_t rounded = *static_cast<size_t *>(block);
  Pool &p = pool();
  std::lock_guard<std::mutex> lock(p.mu);
  if (p.cached + rounded > p.limit) {
    for (auto &[size, blocks] : p.free) {
      if (size == rounded)
        continue;
      for (void *b : blocks)
        std::free(b);
      p.cached -= size * blocks.size();
      blocks.clear();
    }
    if (p.cached + rounded > p.limit) {
      std::free(block);
      return;
    }
  }
  p.cached += rounded;
  p.free[rounded].push_back(block);
}
}
