//===- SGemm.cpp - blocked, packed single-precision GEMM ------------------===//
#include "GemmDriver.h"
#include "RowSplit.h"
#include "SkinnyGemm.h"

#include <map>
#include <mutex>
#include <tuple>
#include "quantc/Runtime/ThreadPool.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <cstring>
#include <utility>
#include <vector>

namespace quantc::rt {
namespace {


constexpr int64_t kNC = 256, kMC = 128;

/// Depth of the K slices: up to 256 one slice; deeper K cut into equal
/// slices of at most ~192 (a multiple of 8), so that no slice is a short
/// remainder (K = 576 was 256 + 256 + 64) and a B panel (kc x 32 floats,
/// 24 KiB at 192) stays in L1 beside the streamed A panel. The 8x32
/// AVX-512 micro-kernel measured 194 GFLOP/s at kc 256 and 204 at 192 on
/// L2-resident panels. (Products with K <= 256 keep one slice: their sums
/// run in the order they always did, which quantized models' tests
/// compare bit for bit with ONNX Runtime after requantization.)
int64_t sliceDepth(int64_t K) {
  if (K <= 256)
    return K;
  int64_t slices = (K + 191) / 192;
  return ((K + slices - 1) / slices + 7) / 8 * 8;
}

/// The direct-A kernel's K slices: one slice up to K = 1536. Its A rows
/// come from cache in place and its C tile is read and written once per
/// slice, so one deep slice (B panel in L2) beat 192-deep ones on
/// SmolLM2's shapes (2 threads, Zen 4, quantc-kernel-bench "B packed
/// once": 256x49152x576 76.8 -> 72.3 ms, 256x1536x576 2.30 -> 2.15 ms,
/// 256x576x1536 2.10 -> 2.05 ms); the packed-A paths keep sliceDepth.
int64_t directSliceDepth(int64_t K) { return K <= 1536 ? K : sliceDepth(K); }

/// The best micro-kernel the CPU runs. QUANTC_CPU_KERNELS=generic|avx2
/// caps the choice (for tests and benchmarks of the other paths).
MicroKernel selectMicroKernel() {
  const char *cap = getenv("QUANTC_CPU_KERNELS");
  std::string limit = cap ? cap : "";
  (void)limit;
#ifdef QUANTC_HAVE_X86_KERNELS
  __builtin_cpu_init();
  if (limit == "generic")
    return microKernelGeneric;
#endif
#ifdef QUANTC_HAVE_AVX512_KERNELS
  if (limit != "avx2" && __builtin_cpu_supports("avx512f"))
    return microKernelAVX512;
#endif
#ifdef QUANTC_HAVE_X86_KERNELS
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return microKernelAVX2;
#endif
  return microKernelGeneric;
}

/// The skinny-product kernel of the same ISA as selectMicroKernel's.
SkinnyKernel selectSkinnyKernel() {
  MicroKernel k = selectMicroKernel();
  (void)k;
#ifdef QUANTC_HAVE_AVX512_KERNELS
  if (k == microKernelAVX512)
    return skinnyKernelAVX512;
#endif
#ifdef QUANTC_HAVE_X86_KERNELS
  if (k == microKernelAVX2)
    return skinnyKernelAVX2;
#endif
  return skinnyKernelGeneric;
}

/// A[m0 .. m0+mc, k0 .. k0+kc] as MR-row panels, rows past mc zero.
void packA(Matrix a, int64_t m0, int64_t mc, int64_t k0, int64_t kc, float *dst) {
  for (int64_t p = 0; p < mc; p += kMR) {
    int64_t rows = std::min(kMR, mc - p);
    float *d = dst + p * kc;
    for (int64_t k = 0; k < kc; ++k) {
      const float *src = a.ptr + (m0 + p) * a.rs + (k0 + k) * a.cs;
      int64_t r = 0;
      for (; r < rows; ++r)
        d[k * kMR + r] = src[r * a.rs];
      for (; r < kMR; ++r)
        d[k * kMR + r] = 0.0f;
    }
  }
}

struct Scratch {
  AlignedVector<float> a, b;
};

/// QUANTC_DIRECT_A=0 packs A even where the kernel could read it in place.
bool directAEnabled() {
  const char *env = getenv("QUANTC_DIRECT_A");
  return !(env && env[0] == '0');
}

/// The packed kernel that has a direct-A twin (null: none).
MicroKernel directAKernelFor() {
#ifdef QUANTC_HAVE_AVX512_KERNELS
  return microKernelAVX512;
#else
  return nullptr;
#endif
}
thread_local Scratch scratch;
/// Products with at most this many rows pack all of A once per call.
constexpr int64_t kWholeAMaxRows = 1024;
/// That packed A, per calling thread (a nested GEMM, e.g. one batch
/// element per task, has its own).
thread_local AlignedVector<float> wholeA;

/// How a product of P column panels (NR wide) and mPanels row panels is
/// cut into tasks for `threads` threads: {panels per column block, row
/// groups}. Every thread should get the same work, since the last one
/// to finish sets the time: the number of blocks is the smallest
/// multiple of `threads` that is at least P / 8 (blocks of at most 256
/// columns, kNC) and divides P (SmolLM2's 576 columns, 18 panels: 6
/// blocks of 3, where ceil-sized blocks of 5, 5, 5, 3 panels kept one
/// thread busy 10 panels and the other 8). Where no such count exists
/// (P prime, or fewer panels than threads), blocks of about 8 panels are
/// split further into `threads` groups of rows.
std::pair<int64_t, int64_t> balancedColumnBlocks(int64_t P, int64_t mPanels, int64_t threads) {
  constexpr int64_t kMaxBlockPanels = kNC / kNR;
  if (threads <= 1)
    return {std::min(P, kMaxBlockPanels), 1};
  int64_t least = std::max<int64_t>((P + kMaxBlockPanels - 1) / kMaxBlockPanels, 1);
  for (int64_t blocks = (least + threads - 1) / threads * threads; blocks <= P; blocks += threads)
    if (P % blocks == 0)
      return {P / blocks, 1};
  // Ceil-sized blocks: with many of them the imbalance is small; with
  // few, rows are split too.
  int64_t blocks = std::max(least, std::min(P, 2 * threads));
  int64_t per = (P + blocks - 1) / blocks;
  blocks = (P + per - 1) / per;
  int64_t groups = blocks >= 4 * threads ? 1 : std::min(mPanels, threads);
  return {per, std::max<int64_t>(groups, 1)};
}
} // namespace

void DenseBPacker::pack(int64_t k0, int64_t kc, int64_t n0, int64_t nc, float *dst) const {
  for (int64_t p = 0; p < nc; p += kNR) {
    int64_t cols = std::min(kNR, nc - p);
    float *d = dst + p * kc;
    for (int64_t k = 0; k < kc; ++k) {
      const float *src = b.ptr + (k0 + k) * b.rs + (n0 + p) * b.cs;
      float *row = d + k * kNR;
      if (b.cs == 1) {
        std::memcpy(row, src, cols * sizeof(float));
      } else {
        for (int64_t c = 0; c < cols; ++c)
          row[c] = src[c * b.cs];
      }
      for (int64_t c = cols; c < kNR; ++c)
        row[c] = 0.0f;
    }
  }
}

void microKernelGeneric(int64_t kc, const float *Ap, const float *Bp, float *C, int64_t ldc,
                        int64_t mr, int64_t nr, bool overwrite) {
  float acc[kMR][kNR] = {};
  for (int64_t k = 0; k < kc; ++k)
    for (int64_t r = 0; r < kMR; ++r) {
      float a = Ap[k * kMR + r];
      for (int64_t c = 0; c < kNR; ++c)
        acc[r][c] += a * Bp[k * kNR + c];
    }
  for (int64_t r = 0; r < mr; ++r)
    for (int64_t c = 0; c < nr; ++c)
      C[r * ldc + c] = overwrite ? acc[r][c] : C[r * ldc + c] + acc[r][c];
}

const char *sgemmKernelName() {
  MicroKernel k = selectMicroKernel();
#ifdef QUANTC_HAVE_AVX512_KERNELS
  if (k == microKernelAVX512)
    return "avx512";
#endif
#ifdef QUANTC_HAVE_X86_KERNELS
  if (k == microKernelAVX2)
    return "avx2-fma";
#endif
  return k == microKernelGeneric ? "generic" : "unknown";
}

void gemmWithPacker(int64_t M, int64_t N, int64_t K, Matrix A, const BPacker &B, float *C,
                    int64_t ldc, const float *prepacked, bool overwrite, int64_t sliceK,
                    const float *rowBias) {
  if (M <= 0 || N <= 0)
    return;
  if (K <= 0) {
    if (overwrite)
      for (int64_t i = 0; i < M; ++i)
        std::fill(C + i * ldc, C + i * ldc + N, rowBias ? rowBias[i] : 0.0f);
    return;
  }
  // The first K slice of an overwriting product with row biases: the
  // tile is set to its rows' biases just before the packed micro-kernels
  // add into it (in L1 then), instead of a separate pass over all of C;
  // the direct-A kernel starts its accumulators at them instead.
  auto first = [&](int64_t k0, int64_t row0, float *c, int64_t mr, int64_t nr) {
    if (!overwrite || k0 != 0)
      return false;
    if (!rowBias)
      return true;
    for (int64_t r = 0; r < mr; ++r)
      std::fill(c + r * ldc, c + r * ldc + nr, rowBias[row0 + r]);
    return false;
  };
  // With `prepacked` (all of B packed once: panel p holds all K rows of
  // its NR columns, K x NR floats), a task's panels for [n0, n0 + nc) of
  // the slice at k0 are read in place, panelStride apart; panels packed
  // here are kc x NR, back to back.
  auto panels = [&](int64_t k0, int64_t kc, int64_t n0, int64_t nc, AlignedVector<float> &buf) {
    if (prepacked)
      return prepacked + (n0 / kNR) * K * kNR + k0 * kNR;
    growTo(buf, ((nc + kNR - 1) / kNR) * kNR * kc);
    B.pack(k0, kc, n0, nc, buf.data());
    return static_cast<const float *>(buf.data());
  };
  static const MicroKernel kernel = selectMicroKernel();
  auto panelStride = [&](int64_t kc) { return (prepacked ? K : kc) * kNR; };
  int64_t threads = getNumThreads();
  if (M <= kWholeAMaxRows) {
    // A packed once, for all of M and K (every task would otherwise pack
    // the same rows again: lm_head's 256 rows 192 times), by slices of
    // sliceDepth: slice at k0 holds mPanels panels of kc x MR. Tasks own column
    // blocks and pack their B panels once per slice.
    int64_t mPanels = (M + kMR - 1) / kMR;
    AlignedVector<float> &ap = wholeA;
    // A with contiguous rows is read in place by the AVX-512 kernel (no
    // packing pass, no fork-join before the product).
    static const bool directOk = directAEnabled();
    const bool directA = directOk && kernel == directAKernelFor() && A.cs == 1;
    const int64_t kKC = sliceK > 0 ? sliceK : directA ? directSliceDepth(K) : sliceDepth(K);
    int64_t slices = (K + kKC - 1) / kKC;
    if (!directA) {
      growTo(ap, mPanels * kMR * K);
      parallelFor(slices * mPanels, [&](int64_t t) {
        int64_t k0 = (t / mPanels) * kKC, kc = std::min(kKC, K - k0), p = t % mPanels;
        packA(A, p * kMR, std::min(kMR, M - p * kMR), k0, kc,
              ap.data() + k0 * mPanels * kMR + p * kMR * kc);
      });
    }
    // Column blocks of whole NR panels, at most kNC wide, and as many
    // blocks per thread (balancedColumnBlocks); row groups only where the
    // panels cannot be shared evenly.
    int64_t allN = (N + kNR - 1) / kNR;
    // Row tiles: the packed kernel's MR rows, or 12 for the direct-A
    // kernel (fewer B loads and C updates per multiply-add).
    const int64_t rowTile = directA ? kDirectMR : kMR;
    const int64_t mTiles = (M + rowTile - 1) / rowTile;
    std::pair<int64_t, int64_t> cut = balancedColumnBlocks(allN, mTiles, threads);
    int64_t blockPanels = cut.first, rowGroups = cut.second;
    int64_t ncBlock = blockPanels * kNR;
    int64_t nBlocks = (allN + blockPanels - 1) / blockPanels;
    int64_t groupPanels = (mTiles + rowGroups - 1) / rowGroups;
    parallelFor(nBlocks * rowGroups, [&](int64_t t) {
      int64_t task = t / rowGroups, g = t % rowGroups;
      int64_t iBegin = g * groupPanels, iEnd = std::min(mTiles, iBegin + groupPanels);
      int64_t n0 = task * ncBlock, nc = std::min(ncBlock, N - n0);
      int64_t nPanels = (nc + kNR - 1) / kNR;
      Scratch &s = scratch;
      for (int64_t k0 = 0; k0 < K; k0 += kKC) {
        int64_t kc = std::min(kKC, K - k0);
        const float *bp = panels(k0, kc, n0, nc, s.b);
        const float *as = directA ? nullptr : ap.data() + k0 * mPanels * kMR;
        // Packed-once weights come from memory (each is read once per
        // run): while panel j is multiplied, panel j + 1 (or the next
        // slice's first) is prefetched, a share of its lines per
        // micro-kernel call. The direct-A kernel issues its share one
        // line per k step inside its loop (a burst of ~70 before the call
        // left MiniLM's GEMMs 4-6% slower with cold weights); the packed
        // kernels take theirs before the call. Panels packed here are in
        // cache already.
        int64_t kcNext = std::min(kKC, K - k0 - kc);
        const float *nextSlice =
            prepacked && kcNext > 0 ? panels(k0 + kc, kcNext, n0, nc, s.b) : nullptr;
        for (int64_t j = 0; j < nPanels; ++j) {
          const float *next = !prepacked ? nullptr
                              : j + 1 < nPanels ? bp + (j + 1) * panelStride(kc)
                                                : nextSlice;
          int64_t lines = next ? (j + 1 < nPanels ? kc : kcNext) * kNR / 16 : 0;
          int64_t per = (lines + (iEnd - iBegin) - 1) / std::max<int64_t>(1, iEnd - iBegin);
          for (int64_t i = iBegin; i < iEnd; ++i) {
            int64_t l0 = (i - iBegin) * per, l1 = std::min(lines, l0 + per);
#ifdef QUANTC_HAVE_AVX512_KERNELS
            if (directA) {
              float *c = C + i * rowTile * ldc + n0 + j * kNR;
              const int64_t mr = std::min(rowTile, M - i * rowTile), nr = std::min(kNR, nc - j * kNR);
              // The biases go into the tile's accumulators here (no fill).
              const bool set = overwrite && k0 == 0;
              microKernelAVX512DirectA12(kc, A.ptr + i * rowTile * A.rs + k0, A.rs,
                                         bp + j * panelStride(kc), c, ldc, mr, nr, set,
                                         next + l0 * 16, std::max<int64_t>(0, l1 - l0),
                                         set && rowBias ? rowBias + i * rowTile : nullptr);
              continue;
            }
#endif
            for (int64_t l = l0; l < l1; ++l)
              __builtin_prefetch(next + l * 16, 0, 2);
            float *c = C + i * kMR * ldc + n0 + j * kNR;
            const int64_t mr = std::min(kMR, M - i * kMR), nr = std::min(kNR, nc - j * kNR);
            kernel(kc, as + i * kMR * kc, bp + j * panelStride(kc), c, ldc, mr, nr,
                   first(k0, i * kMR, c, mr, nr));
          }
        }
      }
    });
    return;
  }
  const int64_t kKC = sliceK > 0 ? sliceK : sliceDepth(K);
  int64_t mBlocks = (M + kMC - 1) / kMC, nBlocks = (N + kNC - 1) / kNC, ncBlock = kNC;
  // Too few blocks to keep every thread busy: at least two tasks per
  // thread, N cut into equal widths (multiples of NR).
  if (threads > 1 && mBlocks * nBlocks < 2 * threads) {
    int64_t want = (2 * threads + mBlocks - 1) / mBlocks;
    ncBlock = std::max(kNR, ((N + want - 1) / want + kNR - 1) / kNR * kNR);
    nBlocks = (N + ncBlock - 1) / ncBlock;
  }
  parallelFor(mBlocks * nBlocks, [&](int64_t task) {
    int64_t m0 = (task % mBlocks) * kMC, n0 = (task / mBlocks) * ncBlock;
    int64_t mc = std::min(kMC, M - m0), nc = std::min(ncBlock, N - n0);
    int64_t mPanels = (mc + kMR - 1) / kMR, nPanels = (nc + kNR - 1) / kNR;
    Scratch &s = scratch;
    for (int64_t k0 = 0; k0 < K; k0 += kKC) {
      int64_t kc = std::min(kKC, K - k0);
      growTo(s.a, mPanels * kMR * kc);
      packA(A, m0, mc, k0, kc, s.a.data());
      const float *bp = panels(k0, kc, n0, nc, s.b);
      for (int64_t j = 0; j < nPanels; ++j)
        for (int64_t i = 0; i < mPanels; ++i) {
          float *c = C + (m0 + i * kMR) * ldc + n0 + j * kNR;
          const int64_t mr = std::min(kMR, mc - i * kMR), nr = std::min(kNR, nc - j * kNR);
          kernel(kc, s.a.data() + i * kMR * kc, bp + j * panelStride(kc), c, ldc, mr, nr,
                 first(k0, m0 + i * kMR, c, mr, nr));
        }
    }
  });
}

namespace {
/// Panels of B dequantized from 4-bit weights as they are packed.
class Int4BPacker : public BPacker {
public:
  explicit Int4BPacker(const Int4Weights &w) : w(w) {}
  void pack(int64_t k0, int64_t kc, int64_t n0, int64_t nc, float *dst) const override {
    for (int64_t p = 0; p < nc; p += kNR) {
      int64_t cols = std::min(kNR, nc - p);
      float *d = dst + p * kc;
      for (int64_t k = 0; k < kc; ++k) {
        int64_t kk = k0 + k, g = kk / w.group;
        const int8_t *prow = w.packed + kk * w.prs;
        const float *srow = w.scale + g * w.srs;
        const int8_t *zrow = w.zp + g * w.zrs;
        float *row = d + k * kNR;
        for (int64_t c = 0; c < cols; ++c) {
          int64_t n = n0 + p + c;
          uint8_t byte = static_cast<uint8_t>(prow[(n / 2) * w.pcs]);
          int32_t q = (n & 1) ? byte >> 4 : byte & 15;
          if (w.isSigned && q >= 8)
            q -= 16;
          row[c] = static_cast<float>(q - zrow[n * w.zcs]) * srow[n * w.scs];
        }
        for (int64_t c = cols; c < kNR; ++c)
          row[c] = 0.0f;
      }
    }
  }

private:
  Int4Weights w;
};
} // namespace

void skinnyW4KernelGeneric(int64_t m, int64_t K, int64_t n0, int64_t nc, Matrix A,
                           const Int4Weights &w, float *C, int64_t ldc, float *tmp) {
  w4Groups(m, K, n0, /*nv=*/0, nc, A, w, C, ldc, tmp, [](int64_t) {}, [](int64_t) {});
}

namespace {
SkinnyW4Kernel selectSkinnyW4Kernel() {
  MicroKernel k = selectMicroKernel();
  (void)k;
#ifdef QUANTC_HAVE_AVX512_KERNELS
  if (k == microKernelAVX512)
    return skinnyW4KernelAVX512;
#endif
#ifdef QUANTC_HAVE_X86_KERNELS
  if (k == microKernelAVX2)
    return skinnyW4KernelAVX2;
#endif
  return skinnyW4KernelGeneric;
}

/// Columns per task of the skinny kernels: N split evenly over the
/// threads in multiples of 16, at most kSkinnyTaskCols.
int64_t skinnyTaskWidth(int64_t N) {
  int64_t threads = getNumThreads();
  return std::min(kSkinnyTaskCols, ((N + threads - 1) / threads + 15) / 16 * 16);
}
} // namespace

void sgemmW4(int64_t M, int64_t N, int64_t K, Matrix A, const Int4Weights &B, float *C,
             int64_t ldc) {
  // Up to kSkinnyW4BlockedRows rows (a prompt), the skinny kernel runs on
  // blocks of 4 rows: each task's nibbles (K x 1024 / 2 bytes at most)
  // stay in L2 between blocks, where the packed GEMM would dequantize all
  // of B into float panels first (8x the bytes). kernel-bench: 8x1536x576
  // 0.84 -> 0.10 ms.
  if (M > 0 && M <= kSkinnyW4BlockedRows && B.pcs == 1 && N > 0 && K > 0 && B.group > 0) {
    static const SkinnyW4Kernel kernel = selectSkinnyW4Kernel();
    int64_t width = skinnyTaskWidth(N), tasks = (N + width - 1) / width;
    parallelFor(tasks, [&](int64_t t) {
      int64_t n0 = t * width, nc = std::min(width, N - n0);
      thread_local std::vector<float> tmp;
      tmp.resize(kSkinnyMaxRows * nc);
      for (int64_t r0 = 0; r0 < M; r0 += kSkinnyMaxRows) {
        Matrix Ar = A;
        Ar.ptr = A.ptr + r0 * A.rs;
        kernel(std::min(kSkinnyMaxRows, M - r0), K, n0, nc, Ar, B, C + r0 * ldc, ldc, tmp.data());
      }
    });
    return;
  }
  gemmWithPacker(M, N, K, A, Int4BPacker(B), C, ldc);
}

void skinnyKernelGeneric(int64_t m, int64_t K, int64_t nc, Matrix A, const float *B, int64_t ldb,
                         float *C, int64_t ldc) {
  for (int64_t r = 0; r < m; ++r) {
    float *c = C + r * ldc;
    for (int64_t k = 0; k < K; ++k) {
      float a = A.ptr[r * A.rs + k * A.cs];
      const float *b = B + k * ldb;
      for (int64_t n = 0; n < nc; ++n)
        c[n] += a * b[n];
    }
  }
}

namespace {
/// C[0 .. M, n0 .. n0 + nc] = 0: the skinny kernels accumulate, so a
/// product that overwrites its output zeroes each task's columns first.
void zeroColumns(float *C, int64_t ldc, int64_t M, int64_t n0, int64_t nc) {
  for (int64_t r = 0; r < M; ++r)
    std::memset(C + r * ldc + n0, 0, nc * sizeof(float));
}
} // namespace

void sgemm(int64_t M, int64_t N, int64_t K, Matrix A, Matrix B, float *C, int64_t ldc,
           bool overwrite) {
  if (M > kSkinnyMaxRows && M <= kSkinnyBlockedRows && B.cs == 1 && N > 0 && K > 0) {
    // A prompt's few rows: the packed GEMM would copy all of B into
    // panels on every call (SmolLM2's 113 MB output head for 8 tokens),
    // so the skinny kernel runs on blocks of 4 rows instead, each task's
    // columns of B (about 512 KiB) staying in L2 between blocks.
    static const SkinnyKernel kernel = selectSkinnyKernel();
    int64_t fit = std::max<int64_t>(16, (int64_t(512) * 1024 / (4 * K)) / 16 * 16);
    int64_t width = std::min(skinnyTaskWidth(N), fit);
    int64_t tasks = (N + width - 1) / width;
    parallelFor(tasks, [&](int64_t t) {
      int64_t n0 = t * width, nc = std::min(width, N - n0);
      if (overwrite)
        zeroColumns(C, ldc, M, n0, nc);
      for (int64_t r0 = 0; r0 < M; r0 += kSkinnyMaxRows) {
        Matrix Ar = A;
        Ar.ptr = A.ptr + r0 * A.rs;
        kernel(std::min(kSkinnyMaxRows, M - r0), K, nc, Ar, B.ptr + n0, B.rs, C + r0 * ldc + n0, ldc);
      }
    });
    return;
  }
  if (M > 0 && M <= kSkinnyMaxRows && B.cs == 1 && N > 0 && K > 0 && rowSplitApplies(K)) {
    static const SkinnyKernel kernel = selectSkinnyKernel();
    rowSplitProduct(M, N, K, 4, C, ldc, overwrite, [&](int64_t k0, int64_t kc, float *p) {
      Matrix At = A;
      At.ptr = A.ptr + k0 * A.cs;
      kernel(M, kc, N, At, B.ptr + k0 * B.rs, B.rs, p, N);
    });
    return;
  }
  if (M > 0 && M <= kSkinnyMaxRows && B.cs == 1 && N > 0 && K > 0) {
    static const SkinnyKernel kernel = selectSkinnyKernel();
    int64_t width = skinnyTaskWidth(N);
    int64_t tasks = (N + width - 1) / width;
    parallelFor(tasks, [&](int64_t t) {
      int64_t n0 = t * width, nc = std::min(width, N - n0);
      if (overwrite)
        zeroColumns(C, ldc, M, n0, nc);
      kernel(M, K, nc, A, B.ptr + n0, B.rs, C + n0, ldc);
    });
    return;
  }
  gemmWithPacker(M, N, K, A, DenseBPacker(B), C, ldc, nullptr, overwrite);
}

namespace {
/// All of a constant B packed once as NR-column panels of all K rows
/// (what DenseBPacker writes for [0, N) at depth K): panel p starts at
/// p * K * NR floats, so every slice depth reads it in place.
struct PackedWeights {
  std::mutex mu;
  std::map<std::tuple<const float *, int64_t, int64_t, int64_t>, AlignedVector<float>> packed;
};

PackedWeights &packedWeights() {
  static PackedWeights *w = new PackedWeights(); // never destroyed: models may run at exit
  return *w;
}

bool prepackEnabled() {
  static const bool on = [] {
    const char *env = getenv("QUANTC_PREPACK");
    return !(env && env[0] == '0');
  }();
  return on;
}

const float *packOnce(Matrix B, int64_t K, int64_t N) {
  PackedWeights &w = packedWeights();
  std::lock_guard<std::mutex> lock(w.mu);
  auto key = std::make_tuple(B.ptr, B.rs, K, N);
  auto it = w.packed.find(key);
  if (it != w.packed.end())
    return it->second.data();
  int64_t panels = (N + kNR - 1) / kNR;
  AlignedVector<float> buf(panels * kNR * K);
  DenseBPacker packer(B);
  constexpr int64_t kChunk = 8; // panels per packing task
  parallelFor((panels + kChunk - 1) / kChunk, [&](int64_t t) {
    int64_t n0 = t * kChunk * kNR, nc = std::min(kChunk * kNR, N - n0);
    packer.pack(0, K, n0, nc, buf.data() + (n0 / kNR) * K * kNR);
  });
  return w.packed.emplace(key, std::move(buf)).first->second.data();
}
} // namespace

void releasePackedWeights() {
  {
    PackedWeights &w = packedWeights();
    std::lock_guard<std::mutex> lock(w.mu);
    w.packed.clear();
  }
  releasePackedS8Weights();
}

void sgemmConstB(int64_t M, int64_t N, int64_t K, Matrix A, Matrix B, float *C, int64_t ldc,
                 bool overwrite) {
  // Prompt- and decode-sized products stream B in place (no packing to
  // save); so does everything with QUANTC_PREPACK=0.
  if (M <= kSkinnyBlockedRows || B.cs != 1 || N <= 0 || K <= 0 || !prepackEnabled()) {
    sgemm(M, N, K, A, B, C, ldc, overwrite);
    return;
  }
  gemmWithPacker(M, N, K, A, DenseBPacker(B), C, ldc, packOnce(B, K, N), overwrite);
}

} // namespace quantc::rt
