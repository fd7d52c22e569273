//===- IGemmQuad.cpp - int8 GEMM with a constant B on u8 x s8 quads -------===//
//
// igemmS8ConstB: B (a weight) packed once into kQNR-column panels of k
// quads with its column sums (IGemmQuad.h) and kept, keyed by its address
// and shape (releasePackedWeights drops them); A packed per call, shifted
// to unsigned. Tasks own blocks of whole column panels, as the float
// GEMM's do, and run every row panel against each B panel while it is in
// cache. CPUs without AVX-512 VNNI, QUANTC_CPU_KERNELS=avx2|generic and
// QUANTC_PREPACK=0 take igemmS8 instead; so do products of 1-3 rows
// (decode: B read in place there).
//
//===----------------------------------------------------------------------===//
#include "IGemmQuad.h"
#include "Transpose.h"
#include "GemmDriver.h"
#include "IGemmAMX.h"
#include "IGemmPairs.h"
#include "PanelBlocks.h"
#include "SkinnyIGemm.h"
#include "PointwiseConvAMX.h"
#include "quantc/Runtime/Kernels.h"
#include "quantc/Runtime/ThreadPool.h"

#include <algorithm>
#include <cstring>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace quantc::rt {
namespace {

/// Quads of k per slice: a B panel slice of 256 x 128 bytes stays in L1
/// while the row panels stream past it.
constexpr int64_t kQuadSlice = 256;

/// Fewer rows take igemmS8's skinny kernels (B read in place). From 4
/// rows up the packed quads won (quantc-kernel-bench, 2 threads, B packed
/// once, ms skinny / quads): 4x1536x576 0.053 / 0.046, 8x1536x576 0.052 /
/// 0.046, 16x1536x576 0.205 / 0.093, 32x1536x576 0.435 / 0.139,
/// 32x49152x576 19.3 / 5.8; one row lost on small products (1x1536x576
/// 0.027 / 0.047) though it won on the output head (1x49152x576 1.83 /
/// 1.51).
constexpr int64_t kQuadMinRows = 4;

/// AMX tiles for products of at least kAmxMinRows rows (fewer take the
/// VNNI quads: a tile call computes 32 rows whatever M is).
constexpr int64_t kAmxMinRows = 16;

/// Tiles of k (2 KB of a B panel each) per K slice of the AMX product:
/// 24 KB of B stay in the 48 KB L1 while A's tiles stream (a throwaway
/// loop test, 256x512x1024 on one core: A streamed past an L1-resident
/// B panel 28.8 ns per 32 x 32 x 64 step against 40.5 with A's block
/// kept and B panels read from L2).
constexpr int64_t kAmxSliceTiles = 24;

bool quadAvailable();

bool amxAvailable() {
#ifdef QUANTC_HAVE_AMX_KERNELS
  return quadAvailable() && amxInt8Usable();
#else
  return false;
#endif
}

bool quadAvailable() {
#ifdef QUANTC_HAVE_AVX512_KERNELS
  static const bool ok = [] {
    const char *cap = getenv("QUANTC_CPU_KERNELS");
    std::string limit = cap ? cap : "";
    const char *pre = getenv("QUANTC_PREPACK");
    __builtin_cpu_init();
    return limit != "generic" && limit != "avx2" && !(pre && pre[0] == '0') &&
           __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vnni");
  }();
  return ok;
#else
  return false;
#endif
}

struct PackedS8 {
  int64_t kq = 0, panels = 0;
  AlignedVector<int8_t> b;   // panels x kq x kQNR x 4
  std::vector<int32_t> corr; // panels x kQNR: 128 * column sum
};

struct PackedS8Cache {
  std::mutex mu;
  std::map<std::tuple<const int8_t *, int64_t, int64_t, int64_t, int64_t>, PackedS8> packed;
};

PackedS8Cache &cache() {
  static PackedS8Cache *c = new PackedS8Cache(); // never destroyed: models may run at exit
  return *c;
}

/// B[k, n] for k < K, n < N (at(k, n)) packed into panels of quads, kept
/// under `key`.
template <typename At>
const PackedS8 &packOnceWith(std::tuple<const int8_t *, int64_t, int64_t, int64_t, int64_t> key,
                             int64_t K, int64_t N, At at) {
  PackedS8Cache &c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  auto it = c.packed.find(key);
  if (it != c.packed.end())
    return it->second;
  PackedS8 p;
  p.kq = (K + 3) / 4;
  // Whole tiles of k for the AMX kernel (zero quads for VNNI), where K has
  // at least one tile (a shorter K, e.g. the products per group of 32 of
  // w4a4-g32, would more than double its packed bytes: VNNI quads there).
  if (amxInt8Usable() && p.kq >= kTileQuads)
    p.kq = (p.kq + kTileQuads - 1) / kTileQuads * kTileQuads;
  p.panels = (N + kQNR - 1) / kQNR;
  p.b.assign(p.panels * p.kq * kQNR * 4, 0);
  p.corr.assign(p.panels * kQNR, 0);
  parallelFor(p.panels, [&](int64_t j) {
    int8_t *dst = p.b.data() + j * p.kq * kQNR * 4;
    int32_t *corr = p.corr.data() + j * kQNR;
    int64_t cols = std::min(kQNR, N - j * kQNR);
    for (int64_t k = 0; k < K; ++k) {
      int8_t *q = dst + (k / 4) * kQNR * 4 + k % 4;
      for (int64_t col = 0; col < cols; ++col) {
        int8_t v = at(k, j * kQNR + col);
        q[col * 4] = v;
        corr[col] += 128 * int32_t(v);
      }
    }
  });
  return c.packed.emplace(key, std::move(p)).first->second;
}

const PackedS8 &packOnce(MatrixS8 B, int64_t K, int64_t N) {
  return packOnceWith(std::make_tuple(B.ptr, B.rs, B.cs, K, N), K, N,
                      [&](int64_t k, int64_t n) { return B.ptr[k * B.rs + n * B.cs]; });
}

/// A's rows as kQMR-row panels of quads, each byte xor 0x80 (a + 128 as
/// unsigned); rows past M and k past K zero (their products are never
/// stored, or meet zero B rows).
void packA(MatrixS8 A, int64_t M, int64_t K, int64_t kq, int64_t panel, uint8_t *dst) {
  for (int64_t r = 0; r < kQMR; ++r) {
    int64_t m = panel * kQMR + r;
    uint8_t *d = dst + r * 4;
    if (m >= M) { // one 32-bit store per quad (std::fill made a memset call of 4 bytes)
      const uint32_t zero = 0;
      for (int64_t q = 0; q < kq; ++q)
        std::memcpy(d + q * kQMR * 4, &zero, 4);
      continue;
    }
    const int8_t *src = A.ptr + m * A.rs;
    int64_t k = 0;
    if (A.cs == 1) // whole quads as 32-bit words
      for (; k + 4 <= K; k += 4) {
        uint32_t w;
        std::memcpy(&w, src + k, 4);
        w ^= 0x80808080u;
        std::memcpy(d + (k / 4) * kQMR * 4, &w, 4);
      }
    for (; k < K; ++k)
      d[(k / 4) * kQMR * 4 + k % 4] = static_cast<uint8_t>(src[k * A.cs]) ^ 0x80;
    for (; k < kq * 4; ++k)
      d[(k / 4) * kQMR * 4 + k % 4] = 0;
  }
}

/// A's rows as s8 in AMX tiles (IGemmAMX.h): rows in groups of
/// 16, each group kq * 64 bytes, k in steps of 64 bytes (one 16 x 64 tile
/// of 1 KB per step); k past K and rows past M zero. Rows [r0, r1).
void packTilesS8(MatrixS8 A, int64_t M, int64_t K, int64_t kq, int64_t r0, int64_t r1,
                 int8_t *dst) {
  const int64_t steps = kq / kTileQuads, groupBytes = kq * 4 * 16;
  for (int64_t m = r0; m < r1; ++m) {
    int8_t *d = dst + (m / 16) * groupBytes + (m % 16) * 64;
    if (m >= M) {
      for (int64_t t = 0; t < steps; ++t)
        std::memset(d + t * 1024, 0, 64);
      continue;
    }
    const int8_t *src = A.ptr + m * A.rs;
    for (int64_t t = 0; t < steps; ++t) {
      int8_t *o = d + t * 1024;
      const int64_t k0 = t * 64, n = std::max<int64_t>(0, std::min<int64_t>(64, K - k0));
      if (A.cs == 1)
        std::memcpy(o, src + k0, n);
      else
        for (int64_t k = 0; k < n; ++k)
          o[k] = src[(k0 + k) * A.cs];
      if (n < 64)
        std::memset(o + n, 0, 64 - n);
    }
  }
}

/// Whether the AMX product can load A's tiles straight from its rows:
/// whole 64-byte tiles of k on cache lines, nothing past K to read.
bool aInPlace(MatrixS8 A, int64_t K) {
  return A.cs == 1 && K % 64 == 0 && A.rs % 64 == 0 &&
         reinterpret_cast<uintptr_t>(A.ptr) % 64 == 0;
}

/// Quad and tile panels per column task: at most 8 (256 columns).
constexpr int64_t kQuadBlockPanels = 8;

} // namespace

void releasePackedS8Weights() {
  PackedS8Cache &c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.packed.clear();
  releasePackedPairs();
  releasePointwiseConvWeights();
}

bool igemmConstBReadsAInPlace(int64_t M, int64_t K, MatrixS8 A) {
  return M >= kAmxMinRows && K > 0 && amxAvailable() && aInPlace(A, K);
}

const char *igemmConstBKernelName() {
  if (quadAvailable())
    return amxAvailable() ? "amx" : "avx512vnni-u8s8";
  return pairsAvailable() ? "avx2-pairs" : igemmKernelName();
}

#ifdef QUANTC_HAVE_AMX_KERNELS
namespace {
/// The AMX product A * B (B packed in `pb`, kq a multiple of 16) in tasks
/// of whole B panels: task t's panels [j0, j1) are written to
/// strip(t, j0, j1) = {c, ldc}, column j * kQNR of C at c + (j - j0) *
/// kQNR (C = that where `overwrite`); done(t, j0, j1) is then called on
/// the task's thread.
template <typename Strip, typename Done>
void amxConstB(int64_t M, int64_t N, int64_t K, MatrixS8 A, const PackedS8 &pb, bool overwrite,
               Strip strip, Done done) {
  const int64_t kq = pb.kq, lda = kq * 4, blocksM = (M + kTileRows - 1) / kTileRows;
  // A's whole 32-row blocks are read in place where its rows are whole
  // tiles of k on cache lines (K a multiple of 64: no padding to read);
  // the others, and the last partial block, are packed.
  const int64_t firstPacked = aInPlace(A, K) ? M / kTileRows : 0;
  thread_local AlignedVector<int8_t> ap;
  growTo(ap, (blocksM - firstPacked) * kTileRows * lda);
  int8_t *a = ap.data();
  const MatrixS8 rest{A.ptr + firstPacked * kTileRows * A.rs, A.rs, A.cs};
  const int64_t restRows = M - firstPacked * kTileRows;
  parallelFor(blocksM - firstPacked, [&](int64_t i) {
    packTilesS8(rest, restRows, K, kq, i * kTileRows, (i + 1) * kTileRows, a);
  });
  const int64_t P = pb.panels, per = panelsPerBlock(P, kQuadBlockPanels);
  const int64_t blocks = (P + per - 1) / per;
  // K in equal slices of at most kAmxSliceTiles tiles: one B panel
  // slice stays in L1 while every row block's A tiles stream past it.
  const int64_t tiles = kq / kTileQuads, slices = (tiles + kAmxSliceTiles - 1) / kAmxSliceTiles;
  const int64_t sliceQuads = (tiles + slices - 1) / slices * kTileQuads;
  parallelFor(blocks, [&](int64_t t) {
    const int64_t j0 = t * per, j1 = std::min(P, (t + 1) * per);
    auto [C, ldc] = strip(t, j0, j1);
    amxBeginTiles();
    for (int64_t q0 = 0; q0 < kq; q0 += sliceQuads)
      for (int64_t j = j0; j < j1; ++j) {
        const int8_t *bp = pb.b.data() + j * kq * kQNR * 4;
        const int64_t nr = std::min(kQNR, N - j * kQNR);
        const int64_t q1 = std::min(kq, q0 + sliceQuads);
        for (int64_t i = 0; i < blocksM; ++i) {
          int32_t *c = C + i * kTileRows * ldc + (j - j0) * kQNR;
          const int64_t mr = std::min(kTileRows, M - i * kTileRows);
          if (i < firstPacked)
            iTileKernelAMXRows(q0, q1, A.ptr + i * kTileRows * A.rs, A.rs, bp, c, ldc, mr, nr,
                               overwrite && q0 == 0, /*streamA=*/true);
          else
            iTileKernelAMX(kq, q0, q1, a + (i - firstPacked) * kTileRows * lda, bp, c, ldc, mr,
                           nr, overwrite && q0 == 0);
        }
      }
    amxEndTiles();
    done(t, j0, j1);
  });
}
} // namespace
#endif

namespace {
/// Products of more rows than igemmS8's skinny kernels take, on CPUs
/// without the quads where the AVX2 kernel is selected: B packed once as
/// int8 pairs (IGemmPairs.h).
bool takesPairs(int64_t M, int64_t N, int64_t K) {
  return M > kSkinnyIBlockedRows && N > 0 && K > 0 && !quadAvailable() && pairsAvailable();
}
} // namespace

void igemmS8ConstB(int64_t M, int64_t N, int64_t K, MatrixS8 A, MatrixS8 B, int32_t *C,
                   int64_t ldc, bool overwrite) {
  if (takesPairs(M, N, K)) {
    igemmS8Pairs(M, N, K, A, packPairsOnce(B, K, N), C, ldc, overwrite);
    return;
  }
  if (M < kQuadMinRows || N <= 0 || K <= 0 || !quadAvailable()) {
    if (overwrite)
      for (int64_t i = 0; i < M; ++i)
        std::fill(C + i * ldc, C + i * ldc + std::max<int64_t>(N, 0), 0);
    igemmS8(M, N, K, A, B, C, ldc);
    return;
  }
#ifdef QUANTC_HAVE_AMX_KERNELS
  const PackedS8 *packed = M >= kAmxMinRows && amxAvailable() ? &packOnce(B, K, N) : nullptr;
  if (packed && packed->kq % kTileQuads == 0) {
    amxConstB(
        M, N, K, A, *packed, overwrite,
        [&](int64_t, int64_t j0, int64_t) { return std::make_pair(C + j0 * kQNR, ldc); },
        [](int64_t, int64_t, int64_t) {});
    return;
  }
#endif
#ifdef QUANTC_HAVE_AVX512_KERNELS
  const PackedS8 &pb = packOnce(B, K, N);
  const int64_t kq = pb.kq, mPanels = (M + kQMR - 1) / kQMR;
  thread_local AlignedVector<uint8_t> ap;
  // Grown, never shrunk (a resize back up zeroed A's size per call, 5%
  // of a quantized MiniLM run).
  growTo(ap, mPanels * kq * kQMR * 4);
  uint8_t *a = ap.data();
  parallelFor(mPanels, [&](int64_t i) { packA(A, M, K, kq, i, a + i * kq * kQMR * 4); });
  const int64_t P = pb.panels, per = panelsPerBlock(P, kQuadBlockPanels);
  const int64_t blocks = (P + per - 1) / per;
  parallelFor(blocks, [&](int64_t t) {
    for (int64_t j = t * per; j < std::min(P, (t + 1) * per); ++j) {
      const int8_t *bp = pb.b.data() + j * kq * kQNR * 4;
      const int64_t nr = std::min(kQNR, N - j * kQNR);
      for (int64_t q0 = 0; q0 < kq; q0 += kQuadSlice) {
        const int64_t qs = std::min(kQuadSlice, kq - q0);
        for (int64_t i = 0; i < mPanels; ++i)
          iQuadKernelAVX512VNNI(qs, a + i * kq * kQMR * 4 + q0 * kQMR * 4, bp + q0 * kQNR * 4,
                                q0 == 0 ? pb.corr.data() + j * kQNR : nullptr,
                                C + i * kQMR * ldc + j * kQNR, ldc,
                                std::min(kQMR, M - i * kQMR), nr, overwrite && q0 == 0);
      }
    }
  });
#endif
}

void igemmS8ConstBEpilogue(int64_t M, int64_t N, int64_t K, MatrixS8 A, MatrixS8 B,
                           const Epilogue &epi) {
  if (M <= 0 || N <= 0)
    return;
#ifdef QUANTC_HAVE_AMX_KERNELS
  const PackedS8 *packed =
      M >= kAmxMinRows && K > 0 && amxAvailable() ? &packOnce(B, K, N) : nullptr;
  if (packed && packed->kq % kTileQuads == 0) {
    // Each task's strip of columns (all rows, up to 8 panels) in a
    // buffer of the task's thread that the epilogue reads while it is in
    // cache (both lambdas run on that thread: its own `strip`).
    const int64_t rows = (M + kTileRows - 1) / kTileRows * kTileRows;
    thread_local AlignedVector<int32_t> strip;
    amxConstB(
        M, N, K, A, *packed, /*overwrite=*/true,
        [&](int64_t, int64_t j0, int64_t j1) {
          const int64_t ld = (j1 - j0) * kQNR;
          growTo(strip, rows * ld);
          return std::make_pair(strip.data(), ld);
        },
        [&](int64_t, int64_t j0, int64_t j1) {
          epi(strip.data(), (j1 - j0) * kQNR, 0, M, j0 * kQNR, std::min(N, j1 * kQNR));
        });
    return;
  }
#endif
  if (takesPairs(M, N, K)) {
    igemmS8PairsEpilogue(M, N, K, A, packPairsOnce(B, K, N), epi);
    return;
  }
  // Elsewhere: the whole product, then the epilogue on blocks of rows.
  thread_local AlignedVector<int32_t> product;
  growTo(product, M * N);
  int32_t *C = product.data();
  igemmS8ConstB(M, N, K, A, B, C, N, /*overwrite=*/true);
  constexpr int64_t kRows = 32;
  parallelFor((M + kRows - 1) / kRows, [&](int64_t t) {
    const int64_t m0 = t * kRows, m1 = std::min(M, m0 + kRows);
    epi(C + m0 * N, N, m0, m1, 0, N);
  });
}

namespace {
/// Output pixels per task of conv2dS8ConstW: whole AMX blocks (32 rows)
/// and VNNI row panels (12).
constexpr int64_t kConvRows = 96;

/// Shallower products (K below one AMX tile of 64) keep conv2dS8, except
/// pointwise ones of 16+ channels on AMX (PointwiseConvAMX.h): PP-OCRv4
/// det's pointwise 16 -> 32 convolution at 320 x 320 took 7.1 ms on the
/// quads against 4.2 ms there (quantc bench --profile, 2 threads; the
/// channels-last copy and the transposed store cost more than a K of 16
/// saves), its first 3 x 3 convolution of 3 channels 5.9 against 3.7.
constexpr int64_t kConvMinK = 64;
} // namespace

const char *convS8ConstWKernelName() { return igemmConstBKernelName(); }

namespace {
/// conv2dS8ConstW and conv2dS8ConstWEpilogue: out (+)= the product, or
/// with `epi`, the product's blocks handed to it (out unused).
void conv2dS8ConstWImpl(const Conv2DShape &s, const int8_t *x, const int8_t *w, int32_t *out,
                        bool overwrite, const Epilogue *epi) {
  const int64_t K = s.C * s.KH * s.KW, N = s.OH * s.OW, M = s.M;
  if (N >= kQuadMinRows && M > 0 && quadAvailable() &&
      pointwiseConvS8AMX(s, x, w, out, overwrite, epi))
    return;
  if (N < kQuadMinRows || M <= 0 || K < kConvMinK || !quadAvailable()) {
    if (M <= 0 || N <= 0)
      return;
    if (epi) {
      conv2dS8Epilogue(s, x, w, *epi);
      return;
    }
    if (overwrite)
      std::memset(out, 0, sizeof(int32_t) * M * N);
    conv2dS8(s, x, w, out);
    return;
  }
  // w^T with k = (ky * KW + kx) * C + c, so that a pixel's patch is KH x KW
  // runs of C channels of the channels-last image. The key's row stride
  // -1 keeps it apart from igemmS8ConstB's packings of the same address.
  const int64_t taps = s.KH * s.KW;
  const PackedS8 &pb = packOnceWith(
      std::make_tuple(w, int64_t(-1), taps, K, M), K, M, [&](int64_t k, int64_t m) {
        const int64_t t = k / s.C, c = k % s.C;
        return w[(m * s.C + c) * taps + t];
      });
  const int64_t kq = pb.kq, lda = kq * 4, P = pb.panels, ldt = P * kQNR;
  const bool amx = amxAvailable() && kq % kTileQuads == 0;
  // A pointwise convolution (1 x 1, unit strides, no padding): a pixel's
  // patch is its C channels, so the channels-last image, with rows of lda
  // bytes, is the GEMM's A, read in place; bytes past C in a row, and the
  // rows past N up to a whole task, meet B's zero quads or are never stored
  // (zero when the buffer grows; any finite int8 would do).
  const bool pointwise = s.KH == 1 && s.KW == 1 && s.sh == 1 && s.sw == 1 && s.padT == 0 &&
                         s.padL == 0 && s.OH == s.H && s.OW == s.W;
  const int64_t ldx = pointwise ? lda : s.C;
  const int64_t tasks = (N + kConvRows - 1) / kConvRows;
  // The image channels-last, [H][W][C], pixel rows ldx bytes apart.
  thread_local AlignedVector<int8_t> xt;
  growTo(xt, (pointwise ? tasks * kConvRows : s.H * s.W) * ldx);
  int8_t *xl = xt.data();
  parallelFor(s.H, [&](int64_t iy) {
    if (s.xsW == 1) { // the row's C runs of W bytes -> W runs of C bytes
      transposeBytes(x + iy * s.xsH, s.xsC, s.C, s.W, xl + iy * s.W * ldx, ldx);
      return;
    }
    for (int64_t c = 0; c < s.C; ++c) {
      const int8_t *src = x + c * s.xsC + iy * s.xsH;
      int8_t *dst = xl + iy * s.W * ldx + c;
      for (int64_t ix = 0; ix < s.W; ++ix)
        dst[ix * ldx] = src[ix * s.xsW];
    }
  });
  parallelFor(tasks, [&](int64_t t) {
    const int64_t p0 = t * kConvRows, rows = std::min(kConvRows, N - p0);
    thread_local AlignedVector<int8_t> patches;
    thread_local AlignedVector<uint8_t> ap;
    thread_local AlignedVector<int32_t> acc;
    growTo(acc, kConvRows * ldt);
    int8_t *a = pointwise ? xl + p0 * lda : nullptr;
    if (!pointwise) {
      growTo(patches, kConvRows * lda);
      a = patches.data();
    }
    // One row of patches per output pixel; rows past N and k past K zero.
    for (int64_t r = 0; r < kConvRows && !pointwise; ++r) {
      int8_t *d = a + r * lda;
      std::memset(d + (r < rows ? K : 0), 0, r < rows ? lda - K : lda);
      if (r >= rows)
        continue;
      const int64_t p = p0 + r, oy = p / s.OW, ox = p % s.OW;
      for (int64_t ky = 0; ky < s.KH; ++ky) {
        const int64_t iy = oy * s.sh + ky * s.dh - s.padT;
        for (int64_t kx = 0; kx < s.KW; ++kx, d += s.C) {
          const int64_t ix = ox * s.sw + kx * s.dw - s.padL;
          if (iy < 0 || iy >= s.H || ix < 0 || ix >= s.W)
            std::memset(d, 0, s.C);
          else
            std::memcpy(d, xl + (iy * s.W + ix) * s.C, s.C);
        }
      }
    }
    int32_t *cbuf = acc.data();
#ifdef QUANTC_HAVE_AMX_KERNELS
    if (amx) {
      amxBeginTiles();
      for (int64_t i = 0; i * kTileRows < rows; ++i)
        for (int64_t j = 0; j < P; ++j)
          iTileKernelAMXRows(0, kq, a + i * kTileRows * lda, lda, pb.b.data() + j * kq * kQNR * 4,
                             cbuf + i * kTileRows * ldt + j * kQNR, ldt,
                             std::min(kTileRows, rows - i * kTileRows), std::min(kQNR, M - j * kQNR),
                             /*overwrite=*/true, /*streamA=*/false);
      amxEndTiles();
    }
#endif
#ifdef QUANTC_HAVE_AVX512_KERNELS
    if (!amx) {
      const int64_t mPanels = (rows + kQMR - 1) / kQMR;
      growTo(ap, mPanels * kq * kQMR * 4);
      for (int64_t i = 0; i < mPanels; ++i)
        packA(MatrixS8{a, lda, 1}, rows, lda, kq, i, ap.data() + i * kq * kQMR * 4);
      for (int64_t j = 0; j < P; ++j)
        for (int64_t i = 0; i < mPanels; ++i)
          iQuadKernelAVX512VNNI(kq, ap.data() + i * kq * kQMR * 4, pb.b.data() + j * kq * kQNR * 4,
                                pb.corr.data() + j * kQNR, cbuf + i * kQMR * ldt + j * kQNR, ldt,
                                std::min(kQMR, rows - i * kQMR), std::min(kQNR, M - j * kQNR),
                                /*overwrite=*/true);
    }
#endif
    // out[m, p] (+)= acc[p, m]; with an epilogue, into a tile for it.
    if (!epi) {
      transposeInt32(cbuf, ldt, rows, M, out + p0, N, !overwrite);
      return;
    }
    thread_local AlignedVector<int32_t> tile;
    growTo(tile, M * kConvRows);
    transposeInt32(cbuf, ldt, rows, M, tile.data(), kConvRows, false);
    (*epi)(tile.data(), kConvRows, 0, M, p0, p0 + rows);
  });
}
} // namespace

void conv2dS8ConstW(const Conv2DShape &s, const int8_t *x, const int8_t *w, int32_t *out,
                    bool overwrite) {
  conv2dS8ConstWImpl(s, x, w, out, overwrite, nullptr);
}

void conv2dS8ConstWEpilogue(const Conv2DShape &s, const int8_t *x, const int8_t *w,
                            const Epilogue &epi) {
  conv2dS8ConstWImpl(s, x, w, nullptr, true, &epi);
}

} // namespace quantc::rt
