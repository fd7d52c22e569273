//===- PointwiseConvAMX.cpp - 1x1 int8 convolutions as W x X on tiles -----===//
#include "PointwiseConvAMX.h"
#include "AlignedVector.h"
#include "IGemmAMX.h"
#include "IGemmQuad.h"
#include "quantc/Runtime/ThreadPool.h"

#include <algorithm>
#include <cstring>
#include <emmintrin.h>
#include <map>
#include <mutex>
#include <tuple>

namespace quantc::rt {

#ifdef QUANTC_HAVE_AMX_KERNELS
namespace {

/// W [M, C] as AMX A tiles: 32-row blocks of two 16-row groups, each group
/// kq * 64 bytes (a 16 x 64 tile per 16 quads of k); rows past M and
/// channels past C zero. kq: C in quads, padded to whole tiles.
struct PackedW {
  int64_t kq = 0, blocks = 0;
  AlignedVector<int8_t> a;
};

struct Cache {
  std::mutex mu;
  std::map<std::tuple<const int8_t *, int64_t, int64_t>, PackedW> packed;
};

Cache &cache() {
  static Cache *c = new Cache(); // never destroyed: models may run at exit
  return *c;
}

const PackedW &packW(const int8_t *w, int64_t M, int64_t C) {
  Cache &c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  auto key = std::make_tuple(w, M, C);
  auto it = c.packed.find(key);
  if (it != c.packed.end())
    return it->second;
  PackedW p;
  p.kq = ((C + 3) / 4 + kTileQuads - 1) / kTileQuads * kTileQuads;
  p.blocks = (M + kTileRows - 1) / kTileRows;
  const int64_t group = p.kq * 64;
  p.a.assign(p.blocks * 2 * group, 0);
  for (int64_t m = 0; m < M; ++m) {
    int8_t *d = p.a.data() + (m / 16) * group + (m % 16) * 64;
    for (int64_t k = 0; k < C; ++k)
      d[(k / 64) * 1024 + k % 64] = w[m * C + k];
  }
  return c.packed.emplace(key, std::move(p)).first->second;
}

/// B panel of `cols` (<= 32) pixels from n0: quad q of column j at
/// q * 128 + j * 4 (IGemmQuad.h's panel layout), byte i of it channel
/// 4q + i; channels past C and columns past `cols` zero.
void packPanel(const int8_t *x, int64_t planeStride, int64_t C, int64_t kq, int64_t n0,
               int64_t cols, int8_t *dst) {
  const int64_t fullQuads = C / 4;
  for (int64_t q = 0; q < kq; ++q) {
    int8_t *d = dst + q * kQNR * 4;
    if (q < fullQuads && cols == kQNR) {
      const int8_t *r = x + 4 * q * planeStride + n0;
      for (int h = 0; h < 2; ++h) { // columns 16h .. 16h+15
        __m128i r0 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(r + 16 * h));
        __m128i r1 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(r + planeStride + 16 * h));
        __m128i r2 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(r + 2 * planeStride + 16 * h));
        __m128i r3 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(r + 3 * planeStride + 16 * h));
        __m128i a = _mm_unpacklo_epi8(r0, r1), b = _mm_unpackhi_epi8(r0, r1);
        __m128i c = _mm_unpacklo_epi8(r2, r3), e = _mm_unpackhi_epi8(r2, r3);
        __m128i *o = reinterpret_cast<__m128i *>(d + 64 * h);
        _mm_storeu_si128(o, _mm_unpacklo_epi16(a, c));     // columns 0-3
        _mm_storeu_si128(o + 1, _mm_unpackhi_epi16(a, c)); // 4-7
        _mm_storeu_si128(o + 2, _mm_unpacklo_epi16(b, e)); // 8-11
        _mm_storeu_si128(o + 3, _mm_unpackhi_epi16(b, e)); // 12-15
      }
      continue;
    }
    std::memset(d, 0, kQNR * 4);
    for (int64_t i = 0; i < 4; ++i) {
      const int64_t ch = 4 * q + i;
      if (ch >= C)
        break;
      const int8_t *r = x + ch * planeStride + n0;
      for (int64_t j = 0; j < cols; ++j)
        d[j * 4 + i] = r[j];
    }
  }
}

} // namespace
#endif

bool pointwiseConvS8AMX(const Conv2DShape &s, const int8_t *x, const int8_t *w, int32_t *out,
                        bool overwrite, const Epilogue *epi) {
#ifdef QUANTC_HAVE_AMX_KERNELS
  if (!(s.KH == 1 && s.KW == 1 && s.sh == 1 && s.sw == 1 && s.padT == 0 && s.padL == 0 &&
        s.OH == s.H && s.OW == s.W && s.xsW == 1 && s.xsH == s.W && s.C >= 16 &&
        amxInt8Usable()))
    return false;
  const int64_t M = s.M, C = s.C, N = s.H * s.W;
  const PackedW &pw = packW(w, M, C);
  const int64_t kq = pw.kq, group = kq * 64, panels = (N + kQNR - 1) / kQNR;
  // Tasks of whole panels, a few per thread so that uneven ones balance.
  const int64_t perTask = std::max<int64_t>(1, panels / (8 * getNumThreads()));
  const int64_t tasks = (panels + perTask - 1) / perTask;
  // With an epilogue: runs of up to kEpiPanels panels into a tile of
  // M rows (L2), handed to it before the next run.
  constexpr int64_t kEpiPanels = 8;
  parallelFor(tasks, [&](int64_t t) {
    thread_local AlignedVector<int8_t> bp;
    thread_local AlignedVector<int32_t> tile;
    growTo(bp, kq * kQNR * 4);
    if (epi)
      growTo(tile, pw.blocks * kTileRows * kEpiPanels * kQNR);
    const int64_t j1 = std::min(panels, (t + 1) * perTask);
    amxBeginTiles();
    for (int64_t r0 = t * perTask; r0 < j1; r0 += epi ? kEpiPanels : j1) {
      const int64_t r1 = epi ? std::min(j1, r0 + kEpiPanels) : j1;
      const int64_t ldt = (r1 - r0) * kQNR;
      for (int64_t j = r0; j < r1; ++j) {
        const int64_t n0 = j * kQNR, cols = std::min(kQNR, N - n0);
        packPanel(x, s.xsC, C, kq, n0, cols, bp.data());
        for (int64_t i = 0; i < pw.blocks; ++i)
          iTileKernelAMX(kq, 0, kq, pw.a.data() + i * 2 * group, bp.data(),
                         epi ? tile.data() + i * kTileRows * ldt + (j - r0) * kQNR
                             : out + i * kTileRows * N + n0,
                         epi ? ldt : N, std::min(kTileRows, M - i * kTileRows), cols,
                         overwrite || epi);
      }
      if (epi)
        (*epi)(tile.data(), ldt, 0, M, r0 * kQNR, std::min(N, r1 * kQNR));
    }
    amxEndTiles();
  });
  return true;
#else
  (void)s, (void)x, (void)w, (void)out, (void)overwrite, (void)epi;
  return false;
#endif
}

void releasePointwiseConvWeights() {
#ifdef QUANTC_HAVE_AMX_KERNELS
  Cache &c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.packed.clear();
#endif
}

} // namespace quantc::rt
