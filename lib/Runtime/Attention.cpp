//===- Attention.cpp - fused scaled dot-product attention -----------------===//
//
// softmax(scale * Q K^T + mask) V per head without the [m, s] score matrix
// of every head: each task takes a block of query rows, computes their
// scores with the packed GEMM, applies scale, mask and softmax in place and
// multiplies by V into the output. Grouped-query heads read their K/V head
// directly (no repeat). Transposed operands are read through their strides.
//
//===----------------------------------------------------------------------===//
#include "GemmDriver.h"
#include "Softmax.h"
#include "quantc/Runtime/Kernels.h"
#include "quantc/Runtime/ThreadPool.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <string>
#include <limits>
#include <vector>

namespace quantc::rt {

void softmaxRowGeneric(float *x, int64_t n, float scale, const float *mask, int64_t ms) {
  softmax_detail::softmaxRow(x, n, scale, mask, ms);
}

namespace {
/// The row softmax of the same ISA as the float GEMM's micro-kernel (so
/// QUANTC_CPU_KERNELS caps both alike).
SoftmaxRowFn selectSoftmax() {
  std::string gemm = sgemmKernelName();
#ifdef QUANTC_HAVE_AVX512_KERNELS
  if (gemm == "avx512")
    return softmaxRowAVX512;
#endif
#ifdef QUANTC_HAVE_X86_KERNELS
  if (gemm == "avx2-fma")
    return softmaxRowAVX2;
#endif
  return softmaxRowGeneric;
}

/// Score floats a task holds: a block of rows of at most this many.
constexpr int64_t kScoreBlock = 64 * 1024;
/// Query rows of a block when the mask varies along the keys (a causal
/// or padding mask), so blocks near the top of a causal mask skip most
/// keys: a multiple of the GEMM's 12-row tile.
constexpr int64_t kMaskedRowBlock = 48;
/// Mask values at or below this hide a key: exporters write -inf or
/// float32's lowest (-3.4e38). Such a key's softmax term is exactly 0
/// whenever its row has a key above it (e^x is 0 below x = -87.3).
constexpr float kHidden = -1e30f;

/// The keys [first, last] one mask row can see (mask value above
/// kHidden), or {-1, -1} when it hides every key. Outside the union of a
/// block's rows' ranges every term is exactly 0 and need not be computed.
std::pair<int32_t, int32_t> visibleRange(const float *m, int64_t s, int64_t col) {
  int64_t a = 0, b = s - 1;
  while (a < s && m[a * col] <= kHidden)
    ++a;
  if (a == s)
    return {-1, -1};
  while (b > a && m[b * col] <= kHidden)
    --b;
  return {static_cast<int32_t>(a), static_cast<int32_t>(b)};
}
} // namespace

const char *softmaxKernelName() {
  SoftmaxRowFn f = selectSoftmax();
#ifdef QUANTC_HAVE_AVX512_KERNELS
  if (f == softmaxRowAVX512)
    return "avx512";
#endif
#ifdef QUANTC_HAVE_X86_KERNELS
  if (f == softmaxRowAVX2)
    return "avx2";
#endif
  return "generic";
}

void attentionF32(const View4 &q, const View4 &k, const View4 &v, const View4 *mask,
                  const View4 &out, float scale) {
  static const SoftmaxRowFn softmax = selectSoftmax();
  const int64_t B = q.sizes[0], H = q.sizes[1], m = q.sizes[2], d = q.sizes[3];
  const int64_t G = k.sizes[1], s = k.sizes[2], dv = v.sizes[3];
  if (B <= 0 || H <= 0 || m <= 0 || dv <= 0)
    return;
  const int64_t R = G > 0 ? H / G : 1;
  // Batches left symbolic by qc-fuse-attention: K and V of batch 1 are
  // broadcast over Q's (ONNX's MatMul broadcasting); any other mismatch
  // would read out of bounds, so the output is NaN instead.
  if (k.sizes[0] != B || v.sizes[0] != B) {
    if ((k.sizes[0] != 1 && k.sizes[0] != B) || (v.sizes[0] != 1 && v.sizes[0] != B)) {
      for (int64_t i = 0; i < B; ++i)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t r = 0; r < m; ++r)
            for (int64_t c = 0; c < dv; ++c)
              out.ptr[i * out.strides[0] + h * out.strides[1] + r * out.strides[2] +
                      c * out.strides[3]] = std::numeric_limits<float>::quiet_NaN();
      return;
    }
    View4 kb = k, vb = v;
    for (View4 *t : {&kb, &vb})
      if (t->sizes[0] == 1) {
        t->sizes[0] = B;
        t->strides[0] = 0;
      }
    attentionF32(q, kb, vb, mask, out, scale);
    return;
  }
  if (out.strides[3] != 1) {
    // Rare (the output is a fresh buffer): through a contiguous copy.
    std::vector<float> tmp(B * H * m * dv);
    View4 t{tmp.data(), {B, H, m, dv}, {H * m * dv, m * dv, dv, 1}};
    attentionF32(q, k, v, mask, t, scale);
    for (int64_t i = 0; i < B; ++i)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t r = 0; r < m; ++r)
          for (int64_t c = 0; c < dv; ++c)
            out.ptr[i * out.strides[0] + h * out.strides[1] + r * out.strides[2] +
                    c * out.strides[3]] = tmp[((i * H + h) * m + r) * dv + c];
    return;
  }
  // One decode row per head: the R heads of a group form one block.
  const bool stack = m == 1 && R > 1;
  int64_t rows = stack ? R : std::clamp<int64_t>(kScoreBlock / std::max<int64_t>(s, 1) / 8 * 8,
                                                 8, m);
  const int64_t maskCol = mask && mask->sizes[3] > 1 ? mask->strides[3] : 0;
  if (!stack && maskCol != 0)
    rows = std::min(rows, kMaskedRowBlock);
  rows = std::min(rows, stack ? R : m);
  const int64_t blocks = stack ? 1 : (m + rows - 1) / rows;
  const int64_t heads = stack ? G : H;
  auto maskRow = [&](int64_t b, int64_t h, int64_t i) -> const float * {
    if (!mask)
      return nullptr;
    const View4 &mk = *mask;
    return mk.ptr + (mk.sizes[0] > 1 ? b * mk.strides[0] : 0) +
           (mk.sizes[1] > 1 ? h * mk.strides[1] : 0) + (mk.sizes[2] > 1 ? i * mk.strides[2] : 0);
  };
  // Each distinct mask row's visible keys, scanned once for all heads
  // that share it (a causal [m, s] mask: m rows for H heads).
  // (The caller's buffer, reached through a pointer: a thread_local named
  // inside the tasks would be each worker's own.)
  thread_local std::vector<std::pair<int32_t, int32_t>> rangeBuffer;
  std::vector<std::pair<int32_t, int32_t>> &ranges = rangeBuffer;
  int64_t mb = 1, mh = 1, mi = 1;
  if (maskCol != 0) {
    mb = mask->sizes[0] > 1 ? mask->sizes[0] : 1;
    mh = mask->sizes[1] > 1 ? mask->sizes[1] : 1;
    mi = mask->sizes[2] > 1 ? mask->sizes[2] : 1;
    ranges.resize(mb * mh * mi);
    constexpr int64_t kRowsPerTask = 64;
    int64_t total = mb * mh * mi;
    parallelFor((total + kRowsPerTask - 1) / kRowsPerTask, [&](int64_t t) {
      for (int64_t x = t * kRowsPerTask, e = std::min(total, x + kRowsPerTask); x < e; ++x)
        ranges[x] = visibleRange(maskRow(x / (mh * mi), (x / mi) % mh, x % mi), s, maskCol);
    });
  }
  // Kᵀ of every K/V head packed once into the GEMM's column panels (one
  // K slice: d <= 256), shared by the row blocks of its R query heads;
  // otherwise each block's product packs its own keys (a strided gather).
  const bool packK = !stack && d <= 256 && s > 0 && blocks * R > 1;
  const int64_t panelFloats = ((s + kNR - 1) / kNR) * kNR * d;
  thread_local AlignedVector<float> packBuffer;
  AlignedVector<float> &packedK = packBuffer;
  if (packK) {
    packedK.resize(B * G * panelFloats);
    parallelFor(B * G, [&](int64_t t) {
      int64_t b = t / G, g = t % G;
      DenseBPacker(Matrix{k.ptr + b * k.strides[0] + g * k.strides[1], k.strides[3], k.strides[2]})
          .pack(0, d, 0, s, packedK.data() + t * panelFloats);
    });
  }
  auto rangeOf = [&](int64_t b, int64_t h, int64_t i) {
    return ranges[((mb > 1 ? b : 0) * mh + (mh > 1 ? h : 0)) * mi + (mi > 1 ? i : 0)];
  };
  parallelFor(B * heads * blocks, [&](int64_t t) {
    int64_t b = t / (heads * blocks), rest = t % (heads * blocks);
    int64_t hh = rest / blocks, i0 = (rest % blocks) * rows;
    int64_t n = stack ? R : std::min(rows, m - i0);
    int64_t h0 = stack ? hh * R : hh, g = stack ? hh : hh / R;
    // Rows of the block: query rows i0.. of head h0, or heads h0.. at row 0.
    const float *qp = q.ptr + b * q.strides[0] + h0 * q.strides[1] + i0 * q.strides[2];
    int64_t qrs = stack ? q.strides[1] : q.strides[2];
    float *op = out.ptr + b * out.strides[0] + h0 * out.strides[1] + i0 * out.strides[2];
    int64_t ors = stack ? out.strides[1] : out.strides[2];
    auto rowMask = [&](int64_t r) {
      return stack ? maskRow(b, h0 + r, 0) : maskRow(b, h0, i0 + r);
    };
    // Keys every row of the block hides (a causal mask's upper triangle,
    // padding) are left out of both products and the softmax.
    int64_t lo = 0, hi = s;
    if (maskCol != 0) {
      lo = s, hi = 0;
      for (int64_t r = 0; r < n; ++r) {
        auto [first, last] = stack ? rangeOf(b, h0 + r, 0) : rangeOf(b, h0, i0 + r);
        if (first < 0) { // a row that hides every key keeps all s (uniform)
          lo = 0, hi = s;
          break;
        }
        lo = std::min<int64_t>(lo, first);
        hi = std::max<int64_t>(hi, last + 1);
      }
    }
    const int64_t w = hi - lo;
    const float *kp = k.ptr + b * k.strides[0] + g * k.strides[1] + lo * k.strides[2];
    const float *vp = v.ptr + b * v.strides[0] + g * v.strides[1] + lo * v.strides[2];
    thread_local std::vector<float> scores;
    scores.resize(n * w);
    if (w > 0 && packK && lo % kNR == 0) {
      // The prepacked panels from lo on (whole panels: lo is a multiple of
      // NR; columns of the last panel past w are computed, not stored).
      Matrix kt{kp, k.strides[3], k.strides[2]};
      gemmWithPacker(n, w, d, Matrix{qp, qrs, q.strides[3]}, DenseBPacker(kt), scores.data(), w,
                     packedK.data() + (b * G + g) * panelFloats + (lo / kNR) * kNR * d,
                     /*overwrite=*/true);
    } else if (w > 0) {
      sgemm(n, w, d, Matrix{qp, qrs, q.strides[3]}, Matrix{kp, k.strides[3], k.strides[2]},
            scores.data(), w, /*overwrite=*/true);
    }
    for (int64_t r = 0; r < n; ++r) {
      const float *mr = rowMask(r);
      softmax(scores.data() + r * w, w, scale, mr ? mr + lo * maskCol : nullptr, maskCol);
    }
    sgemm(n, dv, w, Matrix{scores.data(), w, 1}, Matrix{vp, v.strides[2], v.strides[3]}, op, ors,
          /*overwrite=*/true);
  });
}

} // namespace quantc::rt
