//===- GPTQ.cpp - error-compensating weight rounding (GPTQ) ---------------===//
//
// See quantc/Quant/GPTQ.h. Factorizations in double, the weight updates
// in float (as the method's own implementation does).
//
//===----------------------------------------------------------------------===//
#include "quantc/Quant/GPTQ.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <numeric>
#include <thread>

namespace quantc::quant {
namespace {

double dot(const double *a, const double *b, int64_t n) {
  // Vectorized: the file is built with reassociation allowed
  // (lib/Quant/CMakeLists.txt).
  double s = 0;
  for (int64_t k = 0; k < n; ++k)
    s += a[k] * b[k];
  return s;
}

/// In-place lower Cholesky of a row-major n x n SPD matrix (the lower
/// triangle holds L, H = L L^T; the upper is zeroed). False if a pivot is
/// not positive.
bool cholesky(std::vector<double> &a, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    double *aj = a.data() + j * n;
    double d = aj[j] - dot(aj, aj, j);
    if (!(d > 0))
      return false;
    d = std::sqrt(d);
    aj[j] = d;
    for (int64_t i = j + 1; i < n; ++i) {
      double *ai = a.data() + i * n;
      ai[j] = (ai[j] - dot(ai, aj, j)) / d;
    }
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j)
      a[i * n + j] = 0;
  return true;
}

/// U upper with U^T U = H^-1, from H (SPD, row-major n x n), without
/// forming H^-1: with J the reversal, J H J = L L^T gives H = V V^T for
/// the upper V = J L J, so H^-1 = V^-T V^-1 and U = V^-1 = J L^-1 J. One
/// Cholesky and one triangular inverse (n^3 / 2 multiply-adds).
bool upperCholeskyOfInverse(const std::vector<double> &h, int64_t n, std::vector<double> &u) {
  std::vector<double> l(n * n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      l[i * n + j] = h[(n - 1 - i) * n + (n - 1 - j)];
  if (!cholesky(l, n))
    return false;
  // T = (L^-1)^T row by row: T[c][i] = L^-1[i][c], forward substitution
  // down column c of L^-1 with contiguous dot products.
  std::vector<double> t(n * n, 0.0);
  for (int64_t c = 0; c < n; ++c) {
    double *tc = t.data() + c * n;
    tc[c] = 1.0 / l[c * n + c];
    for (int64_t i = c + 1; i < n; ++i) {
      const double *li = l.data() + i * n;
      tc[i] = -dot(li + c, tc + c, i - c) / li[i];
    }
  }
  // U[a][b] = L^-1[n-1-a][n-1-b] = T[n-1-b][n-1-a].
  u.assign(n * n, 0.0);
  for (int64_t a = 0; a < n; ++a)
    for (int64_t b = a; b < n; ++b)
      u[a * n + b] = t[(n - 1 - b) * n + (n - 1 - a)];
  return true;
}

struct Grid {
  double qmin, qmax;
};

Grid gridOf(const GPTQOptions &o) {
  if (o.asymmetric)
    return {0.0, std::ldexp(1.0, o.bits) - 1};
  return {-std::ldexp(1.0, o.bits - 1), std::ldexp(1.0, o.bits - 1) - 1};
}

/// Scale and zero point of one group from its range [lo, hi].
void paramsOf(double lo, double hi, const GPTQOptions &o, const Grid &grid, float &scale,
              int32_t &zero) {
  float s;
  int32_t z = 0;
  if (o.asymmetric) {
    s = static_cast<float>((hi - lo) / grid.qmax);
    if (s > 0)
      z = static_cast<int32_t>(std::clamp(std::nearbyint(-lo / s), grid.qmin, grid.qmax));
  } else {
    s = static_cast<float>(std::max(-lo, hi) / grid.qmax);
  }
  scale = s > 0 ? s : 1.0f;
  zero = z;
}

/// Scale and zero point per (group, column) from W's min/max, or (with
/// minShrink < 1 and the Hessian's diagonal `diag`) from the shrunk range
/// with the least diag-weighted rounding error.
void groupParams(const float *W, int64_t K, int64_t N, const GPTQOptions &o, GPTQResult &r,
                 const std::vector<double> *diag = nullptr) {
  const int64_t g = o.group > 0 ? o.group : K;
  r.groups = (K + g - 1) / g;
  r.scale.assign(r.groups * N, 1.0f);
  r.zero.assign(r.groups * N, 0);
  Grid grid = gridOf(o);
  const int steps = o.minShrink < 1.0 ? static_cast<int>(std::lround((1.0 - o.minShrink) * 100)) : 0;
  for (int64_t gi = 0; gi < r.groups; ++gi) {
    const int64_t k0 = gi * g, k1 = std::min(K, (gi + 1) * g);
    for (int64_t n = 0; n < N; ++n) {
      double lo = 0, hi = 0;
      for (int64_t k = k0; k < k1; ++k) {
        lo = std::min<double>(lo, W[k * N + n]);
        hi = std::max<double>(hi, W[k * N + n]);
      }
      float bestS;
      int32_t bestZ;
      paramsOf(lo, hi, o, grid, bestS, bestZ);
      if (steps > 0) {
        auto error = [&](float s, int32_t z) {
          double e = 0;
          for (int64_t k = k0; k < k1; ++k) {
            double w = W[k * N + n];
            double q = std::clamp(static_cast<double>(std::nearbyint(w / s)) + z, grid.qmin, grid.qmax);
            double d = w - (q - z) * s;
            e += (diag ? (*diag)[k] : 1.0) * d * d;
          }
          return e;
        };
        double best = error(bestS, bestZ);
        for (int i = 1; i <= steps; ++i) {
          const double ratio = 1.0 - 0.01 * i;
          float s;
          int32_t z;
          paramsOf(lo * ratio, hi * ratio, o, grid, s, z);
          double e = error(s, z);
          if (e < best) {
            best = e;
            bestS = s;
            bestZ = z;
          }
        }
      }
      r.scale[gi * N + n] = bestS;
      r.zero[gi * N + n] = bestZ;
    }
  }
}

} // namespace

GPTQResult roundToNearest(const float *W, int64_t K, int64_t N, const GPTQOptions &o) {
  GPTQResult r;
  groupParams(W, K, N, o, r);
  Grid grid = gridOf(o);
  const int64_t g = o.group > 0 ? o.group : K;
  r.q.resize(K * N);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) {
      int64_t p = (k / g) * N + n;
      r.q[k * N + n] = static_cast<int32_t>(
          std::clamp(static_cast<double>(std::nearbyint(W[k * N + n] / r.scale[p])) + r.zero[p], grid.qmin, grid.qmax));
    }
  return r;
}

GPTQResult gptq(const float *W0, int64_t K, int64_t N, const std::vector<double> &H0,
                const GPTQOptions &o) {
  GPTQResult r;
  std::vector<double> diag(K);
  for (int64_t k = 0; k < K; ++k)
    diag[k] = H0[k * K + k];
  groupParams(W0, K, N, o, r, &diag);
  Grid grid = gridOf(o);
  const int64_t g = o.group > 0 ? o.group : K;
  std::vector<float> W(W0, W0 + K * N);
  std::vector<double> H(H0);
  // Dead inputs: never active, so any value is as good; rounded as zero.
  for (int64_t k = 0; k < K; ++k)
    if (!(H[k * K + k] > 0)) {
      H[k * K + k] = 1;
      std::fill(W.begin() + k * N, W.begin() + (k + 1) * N, 0.0f);
      ++r.deadInputs;
    }
  // Order: by decreasing diagonal (act-order), else as given.
  std::vector<int64_t> perm(K);
  std::iota(perm.begin(), perm.end(), 0);
  if (o.actOrder)
    std::stable_sort(perm.begin(), perm.end(),
                     [&](int64_t a, int64_t b) { return H[a * K + a] > H[b * K + b]; });
  std::vector<double> Hp(K * K);
  double meanDiag = 0;
  for (int64_t i = 0; i < K; ++i) {
    for (int64_t j = 0; j < K; ++j)
      Hp[i * K + j] = H[perm[i] * K + perm[j]];
    meanDiag += Hp[i * K + i];
  }
  meanDiag /= static_cast<double>(K);
  for (int64_t i = 0; i < K; ++i)
    Hp[i * K + i] += o.damp * meanDiag;
  std::vector<double> U;
  if (!upperCholeskyOfInverse(Hp, K, U)) {
    r.error = "the Hessian is not positive definite after damping " + std::to_string(o.damp);
    return r;
  }
  // Rows in processing order.
  std::vector<float> Wp(K * N);
  r.q.assign(K * N, 0);
  const int rounds = o.refitScales ? std::max(1, o.refitRounds) : 1;
  for (int round = 0; round < rounds; ++round) {
    for (int64_t i = 0; i < K; ++i)
      std::copy(W.begin() + perm[i] * N, W.begin() + (perm[i] + 1) * N, Wp.begin() + i * N);
    const int64_t B = std::max<int64_t>(1, o.block);
    std::vector<float> E(B * N);
    for (int64_t i1 = 0; i1 < K; i1 += B) {
      const int64_t i2 = std::min(K, i1 + B);
      for (int64_t i = i1; i < i2; ++i) {
        const int64_t k = perm[i];
        const float *sc = r.scale.data() + (k / g) * N;
        const int32_t *zp = r.zero.data() + (k / g) * N;
        float *w = Wp.data() + i * N;
        float *e = E.data() + (i - i1) * N;
        const double d = U[i * K + i];
        for (int64_t n = 0; n < N; ++n) {
          double q = std::clamp(static_cast<double>(std::nearbyint(w[n] / sc[n])) + zp[n], grid.qmin, grid.qmax);
          r.q[k * N + n] = static_cast<int32_t>(q);
          double back = (q - zp[n]) * sc[n];
          e[n] = static_cast<float>((w[n] - back) / d);
        }
        for (int64_t j = i + 1; j < i2; ++j) {
          const float u = static_cast<float>(U[i * K + j]);
          float *wj = Wp.data() + j * N;
          for (int64_t n = 0; n < N; ++n)
            wj[n] -= u * e[n];
        }
      }
      // The block's errors onto every later row: W[j] -= sum_i U[i][j] E[i].
      for (int64_t j = i2; j < K; ++j) {
        float *wj = Wp.data() + j * N;
        for (int64_t i = i1; i < i2; ++i) {
          const float u = static_cast<float>(U[i * K + j]);
          if (u == 0)
            continue;
          const float *e = E.data() + (i - i1) * N;
          for (int64_t n = 0; n < N; ++n)
            wj[n] -= u * e[n];
        }
      }
    }
    // The scales refitted to these integers; the next round rounds again
    // with them.
    if (o.refitScales)
      refitScales(W0, K, N, H0, o, r);
  }
  return r;
}

void refitScales(const float *W, int64_t K, int64_t N, const std::vector<double> &H,
                 const GPTQOptions &o, GPTQResult &r) {
  const int64_t g = o.group > 0 ? o.group : K;
  const int64_t G = r.groups;
  const int64_t chunk = 128;
  const int64_t chunks = (N + chunk - 1) / chunk;
  // Chunks of columns are independent (each writes only its columns'
  // scales): shared out over the cores, the same result in any order.
  std::atomic<int64_t> nextChunk{0};
  auto worker = [&] {
    std::vector<double> A(K * chunk), Wd(K * chunk), HW(K * chunk), HA(G * K * chunk);
    std::vector<double> M(G * G), b(G), L(G * G), y(G);
    for (int64_t ci = nextChunk++; ci < chunks; ci = nextChunk++) {
      const int64_t n0 = ci * chunk;
      const int64_t C = std::min(chunk, N - n0);
      // A = Q - Z and the products H W, H A^(h) for the chunk's columns
      // (A^(h): A's rows of group h, zero elsewhere).
      for (int64_t k = 0; k < K; ++k)
        for (int64_t c = 0; c < C; ++c)
          A[k * C + c] = r.q[k * N + n0 + c] - r.zero[(k / g) * N + n0 + c];
      std::fill(HW.begin(), HW.begin() + K * C, 0.0);
      std::fill(HA.begin(), HA.begin() + G * K * C, 0.0);
      for (int64_t l = 0; l < K; ++l)
        for (int64_t c = 0; c < C; ++c)
          Wd[l * C + c] = W[l * N + n0 + c];
      // Four rows k at a time, so each row l of A and W is read once per
      // four (the loop is bound by reading them, not by the arithmetic).
      for (int64_t k0 = 0; k0 < K; k0 += 4) {
        const int64_t kb = std::min<int64_t>(4, K - k0);
        for (int64_t l = 0; l < K; ++l) {
          const double *a = A.data() + l * C, *w = Wd.data() + l * C;
          double h[4] = {0, 0, 0, 0};
          double *ha[4], *hw[4];
          for (int64_t j = 0; j < 4; ++j) {
            const int64_t k = k0 + std::min(j, kb - 1);
            h[j] = j < kb ? H[k * K + l] : 0.0;
            ha[j] = HA.data() + ((l / g) * K + k) * C;
            hw[j] = HW.data() + k * C;
          }
          if (kb < 4) {
            for (int64_t j = 0; j < kb; ++j)
              for (int64_t c = 0; c < C; ++c) {
                ha[j][c] += h[j] * a[c];
                hw[j][c] += h[j] * w[c];
              }
            continue;
          }
          for (int64_t c = 0; c < C; ++c) {
            const double av = a[c], wv = w[c];
            ha[0][c] += h[0] * av;
            hw[0][c] += h[0] * wv;
            ha[1][c] += h[1] * av;
            hw[1][c] += h[1] * wv;
            ha[2][c] += h[2] * av;
            hw[2][c] += h[2] * wv;
            ha[3][c] += h[3] * av;
            hw[3][c] += h[3] * wv;
          }
        }
      }
      for (int64_t c = 0; c < C; ++c) {
        const int64_t n = n0 + c;
        // M = A^T H A, b = A^T H w (G x G, G): the normal equations of
        // min_s (w - A s)^T H (w - A s).
        std::fill(M.begin(), M.end(), 0.0);
        std::fill(b.begin(), b.end(), 0.0);
        for (int64_t k = 0; k < K; ++k) {
          const double a = A[k * C + c];
          if (a == 0)
            continue;
          const int64_t gk = k / g;
          b[gk] += a * HW[k * C + c];
          for (int64_t h = 0; h < G; ++h)
            M[gk * G + h] += a * HA[(h * K + k) * C + c];
        }
        // Groups whose integers are all at the zero point keep their scale
        // (no equation); the rest are solved by Cholesky.
        std::vector<int64_t> live;
        for (int64_t h = 0; h < G; ++h)
          if (M[h * G + h] > 0)
            live.push_back(h);
        const int64_t m = static_cast<int64_t>(live.size());
        if (m == 0)
          continue;
        // Right-hand side with the fixed groups' part moved over.
        for (int64_t i = 0; i < m; ++i) {
          double v = b[live[i]];
          for (int64_t h = 0; h < G; ++h)
            if (!(M[h * G + h] > 0))
              v -= M[live[i] * G + h] * r.scale[h * N + n];
          y[i] = v;
        }
        bool ok = true;
        for (int64_t i = 0; i < m && ok; ++i)
          for (int64_t j = 0; j <= i; ++j) {
            double v = M[live[i] * G + live[j]];
            for (int64_t t = 0; t < j; ++t)
              v -= L[i * G + t] * L[j * G + t];
            if (i == j) {
              if (!(v > 1e-12 * M[live[i] * G + live[i]])) {
                ok = false;
                break;
              }
              L[i * G + i] = std::sqrt(v);
            } else {
              L[i * G + j] = v / L[j * G + j];
            }
          }
        if (!ok)
          continue;
        for (int64_t i = 0; i < m; ++i) { // L z = y
          double v = y[i];
          for (int64_t t = 0; t < i; ++t)
            v -= L[i * G + t] * y[t];
          y[i] = v / L[i * G + i];
        }
        for (int64_t i = m - 1; i >= 0; --i) { // L^T s = z
          double v = y[i];
          for (int64_t t = i + 1; t < m; ++t)
            v -= L[t * G + i] * y[t];
          y[i] = v / L[i * G + i];
        }
        bool positive = true;
        for (int64_t i = 0; i < m; ++i)
          positive &= y[i] > 0 && std::isfinite(y[i]);
        if (!positive)
          continue;
        for (int64_t i = 0; i < m; ++i)
          r.scale[live[i] * N + n] = static_cast<float>(y[i]);
      }
    }
  };
  const int64_t threads =
      std::min<int64_t>(chunks, std::max(1u, std::min(8u, std::thread::hardware_concurrency())));
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < threads; ++t)
    pool.emplace_back(worker);
  worker();
  for (auto &th : pool)
    th.join();
}

} // namespace quantc::quant
