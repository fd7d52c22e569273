//===- IGemm.cpp - int8 GEMM and convolution into int32 -------------------===//
//
// Same blocking as the float GEMM (SGemm.cpp): per task an MC x NC block of
// C, K in KC slices, A packed in MR-row panels and B in NR-column panels,
// here as int16 pairs along K (IGemm.h). Convolutions pack their im2col
// panels straight from the image, as the float ones do.
//
//===----------------------------------------------------------------------===//
#include "IGemm.h"
#include "GemmDriver.h"
#include "SkinnyIGemm.h"
#include "Im2Col.h"
#include "quantc/Runtime/ThreadPool.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace quantc::rt {
namespace {


constexpr int64_t kKC = 512, kNC = 256, kMC = 120; // kKC even, kMC a multiple of kIMR

IMicroKernel selectIMicroKernel() {
#ifdef QUANTC_HAVE_X86_KERNELS
  const char *cap = getenv("QUANTC_CPU_KERNELS");
  std::string limit = cap ? cap : "";
  __builtin_cpu_init();
#ifdef QUANTC_HAVE_AVX512_KERNELS
  if (limit != "generic" && limit != "avx2" && __builtin_cpu_supports("avx512f") &&
      __builtin_cpu_supports("avx512vnni"))
    return iMicroKernelAVX512VNNI;
#endif
  if (limit != "generic" && __builtin_cpu_supports("avx2"))
    return iMicroKernelAVX2;
#endif
  return iMicroKernelGeneric;
}

/// Columns 0..15 of two int8 rows (k even, k + 1) as 16 int16 pairs:
/// out[2c] = even[c], out[2c + 1] = odd[c].
inline void interleavePairs(const int8_t *even, const int8_t *odd, int16_t *out) {
  static_assert(kINR == 16, "a panel is 16 columns");
#ifdef __SSE2__
  const __m128i e = _mm_loadu_si128(reinterpret_cast<const __m128i *>(even));
  const __m128i o = _mm_loadu_si128(reinterpret_cast<const __m128i *>(odd));
  const __m128i lo = _mm_unpacklo_epi8(e, o), hi = _mm_unpackhi_epi8(e, o);
  __m128i *d = reinterpret_cast<__m128i *>(out);
  _mm_storeu_si128(d, _mm_srai_epi16(_mm_unpacklo_epi8(lo, lo), 8));
  _mm_storeu_si128(d + 1, _mm_srai_epi16(_mm_unpackhi_epi8(lo, lo), 8));
  _mm_storeu_si128(d + 2, _mm_srai_epi16(_mm_unpacklo_epi8(hi, hi), 8));
  _mm_storeu_si128(d + 3, _mm_srai_epi16(_mm_unpackhi_epi8(hi, hi), 8));
#else
  for (int c = 0; c < 16; ++c) {
    out[2 * c] = even[c];
    out[2 * c + 1] = odd[c];
  }
#endif
}

class DenseIBPacker : public IBPacker {
public:
  explicit DenseIBPacker(MatrixS8 b) : b(b) {}
  /// Whole panels of unit-stride rows two rows at a time (interleaved by
  /// interleavePairs, row by row so that each row is read in order); the
  /// last partial panel and strided B element by element.
  void pack(int64_t k0, int64_t kc, int64_t n0, int64_t nc, int16_t *dst) const override {
    int64_t kcp = (kc + 1) / 2;
    int64_t whole = 0; // columns packed by the vector loop
    if (b.cs == 1) {
      whole = nc / kINR * kINR;
      static const int8_t zeros[kINR] = {};
      for (int64_t kp = 0; kp < kcp; ++kp) {
        const int8_t *even = b.ptr + (k0 + 2 * kp) * b.rs + n0;
        const int8_t *odd = 2 * kp + 1 < kc ? even + b.rs : nullptr;
        for (int64_t p = 0; p < whole; p += kINR)
          interleavePairs(even + p, odd ? odd + p : zeros,
                          dst + (p / kINR) * kcp * kINR * 2 + kp * kINR * 2);
      }
    }
    for (int64_t p = whole; p < nc; p += kINR) {
      int64_t cols = std::min(kINR, nc - p);
      int16_t *d = dst + (p / kINR) * kcp * kINR * 2;
      for (int64_t k = 0; k < 2 * kcp; ++k) {
        int16_t *row = d + (k / 2) * kINR * 2 + k % 2;
        int64_t c = 0;
        if (k < kc) {
          const int8_t *src = b.ptr + (k0 + k) * b.rs + (n0 + p) * b.cs;
          for (; c < cols; ++c)
            row[c * 2] = src[c * b.cs];
        }
        for (; c < kINR; ++c)
          row[c * 2] = 0;
      }
    }
  }

private:
  MatrixS8 b;
};

class Im2ColIBPacker : public IBPacker {
public:
  Im2ColIBPacker(const Conv2DShape &s, const int8_t *x) : s(s), x(x) {}
  /// Per pair of k, both im2col rows over all nc columns at once as int8
  /// (one walk of the output pixels per row, not per 16-column panel: the
  /// walk's set-up per panel, and its 16-bit stores at a stride of 2, were
  /// most of PP-OCRv4 det w8a8's packing on Zen 3), then interleaved into
  /// pairs and widened 16 columns at a time, 64 bytes into each panel.
  void pack(int64_t k0, int64_t kc, int64_t n0, int64_t nc, int16_t *dst) const override {
    const int64_t khw = s.KH * s.KW;
    const int64_t kcp = (kc + 1) / 2, padded = (nc + kINR - 1) / kINR * kINR;
    thread_local AlignedVector<int8_t> rows;
    growTo(rows, padded * 2);
    int8_t *even = rows.data(), *odd = rows.data() + padded;
    for (int64_t kp = 0; kp < kcp; ++kp) {
      for (int64_t h = 0; h < 2; ++h) {
        const int64_t k = 2 * kp + h;
        int8_t *row = h ? odd : even;
        if (k >= kc) {
          std::memset(row, 0, padded);
          continue;
        }
        const int64_t kk = k0 + k;
        const int64_t c = kk / khw, ky = (kk % khw) / s.KW, kx = kk % s.KW;
        im2colRow<1>(s, x + c * s.xsC, ky, kx, n0, nc, padded, row);
      }
      for (int64_t p = 0; p < padded; p += kINR)
        interleavePairs(even + p, odd + p, dst + (p / kINR) * kcp * kINR * 2 + kp * kINR * 2);
    }
  }

private:
  Conv2DShape s;
  const int8_t *x;
};

struct IScratch {
  AlignedVector<int16_t> a, b;
};
thread_local IScratch iscratch;
} // namespace

namespace {
#ifdef __SSE2__
/// The first `kv` (a multiple of 16) k of six rows `src` (unit stride) as
/// one panel of int16 pairs (packAPairs's layout): per 16 k, each row's
/// bytes sign-extended to 8 pairs (int32 words), and the 6 x 4 words of
/// each half transposed so that pair kp's six words are adjacent.
void packSixRowsSSE2(const int8_t *const src[kIMR], int64_t kv, int16_t *d) {
  static_assert(kIMR == 6, "written for panels of 6 rows");
  for (int64_t k = 0; k < kv; k += 16) {
    __m128i w[2][kIMR];
    for (int r = 0; r < kIMR; ++r) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(src[r] + k));
      w[0][r] = _mm_srai_epi16(_mm_unpacklo_epi8(v, v), 8);
      w[1][r] = _mm_srai_epi16(_mm_unpackhi_epi8(v, v), 8);
    }
    for (int h = 0; h < 2; ++h) {
      const __m128i *x = w[h];
      const __m128i t0 = _mm_unpacklo_epi32(x[0], x[1]), t1 = _mm_unpacklo_epi32(x[2], x[3]);
      const __m128i t2 = _mm_unpackhi_epi32(x[0], x[1]), t3 = _mm_unpackhi_epi32(x[2], x[3]);
      const __m128i u0 = _mm_unpacklo_epi32(x[4], x[5]), u1 = _mm_unpackhi_epi32(x[4], x[5]);
      const __m128i rows03[4] = {_mm_unpacklo_epi64(t0, t1), _mm_unpackhi_epi64(t0, t1),
                                 _mm_unpacklo_epi64(t2, t3), _mm_unpackhi_epi64(t2, t3)};
      const __m128i rows45[4] = {u0, _mm_unpackhi_epi64(u0, u0), u1,
                                 _mm_unpackhi_epi64(u1, u1)};
      for (int j = 0; j < 4; ++j) {
        int16_t *o = d + (k / 2 + h * 4 + j) * kIMR * 2;
        _mm_storeu_si128(reinterpret_cast<__m128i *>(o), rows03[j]);
        _mm_storel_epi64(reinterpret_cast<__m128i *>(o + 8), rows45[j]);
      }
    }
  }
}
#endif
} // namespace

/// A[m0 .. m0+mc, k0 .. k0+kc] as MR-row panels of k pairs: element (r, k)
/// of panel q at dst[q*kcp*MR*2 + (k/2)*MR*2 + r*2 + k%2].
void packAPairs(MatrixS8 a, int64_t m0, int64_t mc, int64_t k0, int64_t kc, int16_t *dst) {
  int64_t kcp = (kc + 1) / 2;
  for (int64_t p = 0; p < mc; p += kIMR) {
    int64_t rows = std::min(kIMR, mc - p);
    int16_t *d = dst + (p / kIMR) * kcp * kIMR * 2;
    int64_t kv = 0; // k packed by the vector loop
#ifdef __SSE2__
    if (rows == kIMR && a.cs == 1) {
      const int8_t *src[kIMR];
      for (int64_t r = 0; r < kIMR; ++r)
        src[r] = a.ptr + (m0 + p + r) * a.rs + k0;
      kv = kc / 16 * 16;
      packSixRowsSSE2(src, kv, d);
    }
#endif
    for (int64_t r = 0; r < kIMR; ++r) {
      if (r >= rows) {
        for (int64_t k = 0; k < 2 * kcp; ++k)
          d[(k / 2) * kIMR * 2 + r * 2 + k % 2] = 0;
        continue;
      }
      const int8_t *src = a.ptr + (m0 + p + r) * a.rs + k0 * a.cs;
      int64_t k = kv;
      for (; k < kc; ++k)
        d[(k / 2) * kIMR * 2 + r * 2 + k % 2] = src[k * a.cs];
      for (; k < 2 * kcp; ++k)
        d[(k / 2) * kIMR * 2 + r * 2 + k % 2] = 0;
    }
  }
}

void iMicroKernelGeneric(int64_t kcp, const int16_t *Ap, const int16_t *Bp, int32_t *C,
                         int64_t ldc, int64_t mr, int64_t nr) {
  int32_t acc[kIMR][kINR] = {};
  for (int64_t kp = 0; kp < kcp; ++kp) {
    const int16_t *a = Ap + kp * kIMR * 2, *b = Bp + kp * kINR * 2;
    for (int64_t r = 0; r < kIMR; ++r)
      for (int64_t c = 0; c < kINR; ++c)
        acc[r][c] += int32_t(a[r * 2]) * b[c * 2] + int32_t(a[r * 2 + 1]) * b[c * 2 + 1];
  }
  for (int64_t r = 0; r < mr; ++r)
    for (int64_t c = 0; c < nr; ++c)
      C[r * ldc + c] += acc[r][c];
}

const char *igemmKernelName() {
  IMicroKernel k = selectIMicroKernel();
#ifdef QUANTC_HAVE_X86_KERNELS
  if (k == iMicroKernelAVX2)
    return "avx2";
#endif
#ifdef QUANTC_HAVE_AVX512_KERNELS
  if (k == iMicroKernelAVX512VNNI)
    return "avx512vnni";
#endif
  return k == iMicroKernelGeneric ? "generic" : "unknown";
}

void igemmWithPacker(int64_t M, int64_t N, int64_t K, MatrixS8 A, const IBPacker &B,
                     int32_t *C, int64_t ldc) {
  if (M <= 0 || N <= 0 || K <= 0)
    return;
  static const IMicroKernel kernel = selectIMicroKernel();
  int64_t mBlocks = (M + kMC - 1) / kMC, nBlocks = (N + kNC - 1) / kNC;
  parallelFor(mBlocks * nBlocks, [&](int64_t task) {
    int64_t m0 = (task % mBlocks) * kMC, n0 = (task / mBlocks) * kNC;
    int64_t mc = std::min(kMC, M - m0), nc = std::min(kNC, N - n0);
    int64_t mPanels = (mc + kIMR - 1) / kIMR, nPanels = (nc + kINR - 1) / kINR;
    IScratch &s = iscratch;
    for (int64_t k0 = 0; k0 < K; k0 += kKC) {
      int64_t kc = std::min(kKC, K - k0), kcp = (kc + 1) / 2;
      growTo(s.a, mPanels * kIMR * kcp * 2);
      growTo(s.b, nPanels * kINR * kcp * 2);
      packAPairs(A, m0, mc, k0, kc, s.a.data());
      B.pack(k0, kc, n0, nc, s.b.data());
      for (int64_t j = 0; j < nPanels; ++j)
        for (int64_t i = 0; i < mPanels; ++i)
          kernel(kcp, s.a.data() + i * kIMR * kcp * 2, s.b.data() + j * kINR * kcp * 2,
                 C + (m0 + i * kIMR) * ldc + n0 + j * kINR, ldc,
                 std::min(kIMR, mc - i * kIMR), std::min(kINR, nc - j * kINR));
    }
  });
}

void skinnyIKernelGeneric(int64_t m, int64_t K, int64_t nc, MatrixS8 A, const int8_t *B,
                          int64_t ldb, int32_t *C, int64_t ldc, int32_t *) {
  skinnyIScalarColumns(m, K, 0, nc, A, B, ldb, C, ldc);
}

namespace {
/// The skinny int8 kernel: AVX-512BW, else AVX2, else portable;
/// QUANTC_CPU_KERNELS=avx2|generic caps it as it caps the others.
SkinnyIKernel selectSkinnyIKernel() {
#ifdef QUANTC_HAVE_X86_KERNELS
  const char *cap = getenv("QUANTC_CPU_KERNELS");
  std::string limit = cap ? cap : "";
  __builtin_cpu_init();
  if (limit == "generic")
    return skinnyIKernelGeneric;
#ifdef QUANTC_HAVE_AVX512_KERNELS
  if (limit != "avx2" && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"))
    return skinnyIKernelAVX512;
#endif
  if (__builtin_cpu_supports("avx2"))
    return skinnyIKernelAVX2;
#endif
  return skinnyIKernelGeneric;
}
} // namespace

const char *skinnyIgemmKernelName() {
  SkinnyIKernel k = selectSkinnyIKernel();
#ifdef QUANTC_HAVE_AVX512_KERNELS
  if (k == skinnyIKernelAVX512)
    return "avx512bw";
#endif
#ifdef QUANTC_HAVE_X86_KERNELS
  if (k == skinnyIKernelAVX2)
    return "avx2";
#endif
  return k == skinnyIKernelGeneric ? "generic" : "unknown";
}

void igemmS8(int64_t M, int64_t N, int64_t K, MatrixS8 A, MatrixS8 B, int32_t *C,
             int64_t ldc) {
  if (M > 0 && M <= kSkinnyIBlockedRows && B.cs == 1 && N > 0 && K > 0) {
    // Decode-shaped: B read in place (SkinnyIGemm.h); columns split evenly
    // over the threads in multiples of 32, at most 1024 per task. Up to
    // kSkinnyIBlockedRows rows (a prompt) run as blocks of
    // kSkinnyIMaxRows, the task's columns of B staying in L2 between
    // blocks; the packed GEMM costs more there (kernel-bench: 8x1536x576
    // 0.255 -> 0.06 ms).
    static const SkinnyIKernel kernel = selectSkinnyIKernel();
    int64_t threads = getNumThreads();
    int64_t width = std::min<int64_t>(1024, ((N + threads - 1) / threads + 31) / 32 * 32);
    int64_t tasks = (N + width - 1) / width;
    parallelFor(tasks, [&](int64_t t) {
      int64_t n0 = t * width, nc = std::min(width, N - n0);
      thread_local std::vector<int32_t> tmp;
      tmp.resize(kSkinnyIMaxRows * (nc + 32));
      for (int64_t r0 = 0; r0 < M; r0 += kSkinnyIMaxRows) {
        MatrixS8 Ar = A;
        Ar.ptr = A.ptr + r0 * A.rs;
        kernel(std::min(kSkinnyIMaxRows, M - r0), K, nc, Ar, B.ptr + n0, B.rs, C + r0 * ldc + n0,
               ldc, tmp.data());
      }
    });
    return;
  }
  igemmWithPacker(M, N, K, A, DenseIBPacker(B), C, ldc);
}

namespace {
/// A packer's columns from `off` on.
class OffsetIBPacker : public IBPacker {
public:
  OffsetIBPacker(const IBPacker &b, int64_t off) : b(b), off(off) {}
  void pack(int64_t k0, int64_t kc, int64_t n0, int64_t nc, int16_t *dst) const override {
    b.pack(k0, kc, n0 + off, nc, dst);
  }

private:
  const IBPacker &b;
  int64_t off;
};
} // namespace

void conv2dS8Epilogue(const Conv2DShape &s, const int8_t *x, const int8_t *w,
                      const Epilogue &epi) {
  const int64_t K = s.C * s.KH * s.KW, N = s.OH * s.OW, M = s.M;
  if (M <= 0 || N <= 0)
    return;
  const MatrixS8 A{w, K, 1};
  const DenseIBPacker dense(MatrixS8{x, s.xsC, 1});
  const Im2ColIBPacker im2col(s, x);
  const IBPacker &packer = isPointwise(s) ? static_cast<const IBPacker &>(dense) : im2col;
  // Column blocks of kNC pixels, each product into a tile (L2) and on to
  // the epilogue; the GEMM inside a task runs on its thread.
  parallelFor((N + kNC - 1) / kNC, [&](int64_t t) {
    const int64_t n0 = t * kNC, nc = std::min(kNC, N - n0);
    thread_local AlignedVector<int32_t> tile;
    growTo(tile, M * kNC);
    std::fill(tile.data(), tile.data() + M * nc, 0);
    igemmWithPacker(M, nc, K, A, OffsetIBPacker(packer, n0), tile.data(), nc);
    epi(tile.data(), nc, 0, M, n0, n0 + nc);
  });
}

void conv2dS8(const Conv2DShape &s, const int8_t *x, const int8_t *w, int32_t *out) {
  int64_t K = s.C * s.KH * s.KW, N = s.OH * s.OW;
  MatrixS8 A{w, K, 1};
  if (isPointwise(s)) {
    igemmWithPacker(s.M, N, K, A, DenseIBPacker(MatrixS8{x, s.xsC, 1}), out, N);
    return;
  }
  igemmWithPacker(s.M, N, K, A, Im2ColIBPacker(s, x), out, N);
}

} // namespace quantc::rt
