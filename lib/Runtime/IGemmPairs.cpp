//===- IGemmPairs.cpp - int8 GEMM with B packed once as int8 pairs --------===//
//
// igemmS8ConstB's path on AVX2 (IGemmPairs.h). A is packed once per call
// (int16 pairs, all k blocks, in parallel); tasks own blocks of whole B
// panels (up to 256 columns) and, for up to kPairRows rows at a time, run
// each k block's row panels past each of their B panels while its 8 KB
// are in L1. The first k block writes C, the later ones add to it.
//
//===----------------------------------------------------------------------===//
#include "IGemmPairs.h"
#include "IGemm.h"
#include "PanelBlocks.h"
#include "quantc/Runtime/ThreadPool.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace quantc::rt {
namespace {

/// Rows per pass of a task: A's block of 512 k (1 KB a row) and the
/// task's strip of C (1 KB a row at 256 columns) stay in L2 (512 KB on
/// Zen 3) for up to this many rows; more rows are split evenly.
constexpr int64_t kPairRows = 192;

/// Panels per column task: at most 16 (256 columns).
constexpr int64_t kPairBlockPanels = 16;

struct PairsCache {
  std::mutex mu;
  std::map<std::tuple<const int8_t *, int64_t, int64_t, int64_t, int64_t>, PackedPairsS8> packed;
};

PairsCache &pairsCache() {
  static PairsCache *c = new PairsCache(); // never destroyed: models may run at exit
  return *c;
}

/// Byte offset of k block kb's panel p.
int64_t panelOffset(const PackedPairsS8 &pb, int64_t kb, int64_t p) {
  const int64_t kc = std::min(kPairKC, pb.K - kb * kPairKC), kcp = (kc + 1) / 2;
  return kb * pb.panels * (kPairKC / 2) * kINR * 2 + p * kcp * kINR * 2;
}

/// The product in tasks of whole B panels: for task t's panels [p0, p1)
/// and rows [m0, m1), strip(m0, m1, p0, p1) = {c, ld} gives where row m0,
/// column p0 * kINR goes (row m at c + (m - m0) * ld); done(m0, m1, p0, p1)
/// follows on the task's thread once those rows are complete.
template <typename Strip, typename Done>
void pairsProduct(int64_t M, int64_t N, int64_t K, MatrixS8 A, const PackedPairsS8 &pb,
                  bool overwrite, Strip strip, Done done) {
  const int64_t kBlocks = (K + kPairKC - 1) / kPairKC, mPanels = (M + kIMR - 1) / kIMR;
  const int64_t blockA = mPanels * kIMR * kPairKC; // int16 per full k block
  thread_local AlignedVector<int16_t> ap;
  growTo(ap, kBlocks * blockA);
  int16_t *a = ap.data();
  // A's panels: rows in chunks of 8 panels per task, each k block.
  constexpr int64_t kPackPanels = 8;
  const int64_t chunks = (mPanels + kPackPanels - 1) / kPackPanels;
  parallelFor(kBlocks * chunks, [&](int64_t t) {
    const int64_t kb = t / chunks, i0 = (t % chunks) * kPackPanels;
    const int64_t k0 = kb * kPairKC, kc = std::min(kPairKC, K - k0), kcp = (kc + 1) / 2;
    const int64_t m0 = i0 * kIMR, mc = std::min(kPackPanels * kIMR, M - m0);
    packAPairs(A, m0, mc, k0, kc, a + kb * blockA + i0 * kcp * kIMR * 2);
  });
  const int64_t P = pb.panels, per = panelsPerBlock(P, kPairBlockPanels);
  const int64_t blocks = (P + per - 1) / per;
  const int64_t passes = (M + kPairRows - 1) / kPairRows;
  const int64_t rowsPerPass = ((M + passes - 1) / passes + kIMR - 1) / kIMR * kIMR;
  parallelFor(blocks, [&](int64_t t) {
    const int64_t p0 = t * per, p1 = std::min(P, p0 + per);
    for (int64_t m0 = 0; m0 < M; m0 += rowsPerPass) {
      const int64_t m1 = std::min(M, m0 + rowsPerPass);
      auto [c, ld] = strip(m0, m1, p0, p1);
      for (int64_t kb = 0; kb < kBlocks; ++kb) {
        const int64_t kc = std::min(kPairKC, K - kb * kPairKC), kcp = (kc + 1) / 2;
        const bool accumulate = kb > 0 || !overwrite;
        for (int64_t p = p0; p < p1; ++p) {
          const int8_t *bp = pb.b.data() + panelOffset(pb, kb, p);
          const int64_t nr = std::min(kINR, N - p * kINR);
          for (int64_t m = m0; m < m1; m += kIMR)
            iMicroKernelAVX2Pairs(kcp, a + kb * blockA + (m / kIMR) * kcp * kIMR * 2, bp,
                                  c + (m - m0) * ld + (p - p0) * kINR, ld,
                                  std::min(kIMR, m1 - m), nr, accumulate);
        }
      }
      done(m0, m1, p0, p1);
    }
  });
}
} // namespace

bool pairsAvailable() {
  static const bool ok = [] {
    const char *pre = getenv("QUANTC_PREPACK");
    return std::string(igemmKernelName()) == "avx2" && !(pre && pre[0] == '0');
  }();
  return ok;
}

const PackedPairsS8 &packPairsOnce(MatrixS8 B, int64_t K, int64_t N) {
  PairsCache &c = pairsCache();
  std::lock_guard<std::mutex> lock(c.mu);
  auto key = std::make_tuple(B.ptr, B.rs, B.cs, K, N);
  auto it = c.packed.find(key);
  if (it != c.packed.end())
    return it->second;
  PackedPairsS8 p;
  p.K = K;
  p.N = N;
  p.panels = (N + kINR - 1) / kINR;
  const int64_t kBlocks = (K + kPairKC - 1) / kPairKC;
  p.b.assign(kBlocks * p.panels * (kPairKC / 2) * kINR * 2, 0);
  parallelFor(kBlocks * p.panels, [&](int64_t t) {
    const int64_t kb = t / p.panels, panel = t % p.panels;
    const int64_t k0 = kb * kPairKC, kc = std::min(kPairKC, K - k0);
    const int64_t cols = std::min(kINR, N - panel * kINR);
    int8_t *dst = p.b.data() + panelOffset(p, kb, panel);
    for (int64_t k = 0; k < kc; ++k) {
      const int8_t *src = B.ptr + (k0 + k) * B.rs + panel * kINR * B.cs;
      int8_t *row = dst + (k / 2) * kINR * 2 + k % 2;
      for (int64_t col = 0; col < cols; ++col)
        row[col * 2] = src[col * B.cs];
    }
  });
  return c.packed.emplace(key, std::move(p)).first->second;
}

void releasePackedPairs() {
  PairsCache &c = pairsCache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.packed.clear();
}

void igemmS8Pairs(int64_t M, int64_t N, int64_t K, MatrixS8 A, const PackedPairsS8 &pb,
                  int32_t *C, int64_t ldc, bool overwrite) {
  if (M <= 0 || N <= 0 || K <= 0)
    return;
  pairsProduct(
      M, N, K, A, pb, overwrite,
      [&](int64_t m0, int64_t, int64_t p0, int64_t) {
        return std::make_pair(C + m0 * ldc + p0 * kINR, ldc);
      },
      [](int64_t, int64_t, int64_t, int64_t) {});
}

void igemmS8PairsEpilogue(int64_t M, int64_t N, int64_t K, MatrixS8 A,
                          const PackedPairsS8 &pb, const Epilogue &epi) {
  if (M <= 0 || N <= 0 || K <= 0)
    return;
  thread_local AlignedVector<int32_t> strip;
  pairsProduct(
      M, N, K, A, pb, /*overwrite=*/true,
      [&](int64_t m0, int64_t m1, int64_t p0, int64_t p1) {
        const int64_t ld = (p1 - p0) * kINR;
        growTo(strip, (m1 - m0) * ld);
        return std::make_pair(strip.data(), ld);
      },
      [&](int64_t m0, int64_t m1, int64_t p0, int64_t p1) {
        epi(strip.data(), (p1 - p0) * kINR, m0, m1, p0 * kINR, std::min(N, p1 * kINR));
      });
}

} // namespace quantc::rt
