//===- numerics-driver.cpp - the numeric library on .npy files ------------===//
//
// Test driver: runs lib/Quant and lib/Calibration on numpy files so that
// test/Numerics/check_numerics.py can compare them with numpy, ml_dtypes
// and ONNX Runtime's quantization utilities.
//
//   quantize FORMAT SCALE ZP SATURATE IN.npy OUT.npy     (OUT: uint8 storage)
//   dequantize FORMAT SCALE ZP N IN.npy OUT.npy
//   params FORMAT SYMMETRIC MIN MAX                      -> "scale zp"
//   minmax CHANNELS AXIS MOMENTUM IN.npy...              -> mins / maxs / nonfinite
//   clip METHOD BINS BITS IN.npy...                      -> threshold width mse
//        METHOD: percentile:P | entropy | mse
//   weightparams BITS ASYMMETRIC IN.npy                  -> "scale zp ratio"
//   gptq|rtn BITS GROUP ASYMMETRIC ACTORDER W.npy H.npy OUT_PREFIX [DAMP MINSHRINK REFITROUNDS]
//        W [K, N] float32, H [K, K] float64; writes OUT_PREFIX{q,scale,zero}.npy
//        (int32 [K, N], float32 [G, N], int32 [G, N])
//   eig RANK H.npy OUT_PREFIX                            -> "iterations"
//        H [K, K] float64; the RANK leading eigenpairs (quant::leadingEigenpairs):
//        OUT_PREFIX{values,vectors}.npy (float64 [RANK], float64 [RANK, K])
//
//===----------------------------------------------------------------------===//
#include "quantc/Support/NpyFile.h"
#include "quantc/Calibration/Statistics.h"
#include "quantc/Quant/Formats.h"
#include "quantc/Quant/Eigen.h"
#include "quantc/Quant/GPTQ.h"
#include "quantc/Runtime/ThreadPool.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace quantc;

namespace {
int fail(const std::string &m) {
  std::fprintf(stderr, "numerics-driver: %s\n", m.c_str());
  return 1;
}

bool load(const std::string &path, cpu::HostTensor &t) {
  auto r = readNpy(path);
  if (!r) {
    std::fprintf(stderr, "numerics-driver: %s\n", llvm::toString(r.takeError()).c_str());
    return false;
  }
  t = std::move(*r);
  return true;
}
} // namespace

int main(int argc, char **argv) {
  if (argc < 2)
    return fail("no command");
  std::string cmd = argv[1];
  if (cmd == "weightparams" && argc == 5) {
    cpu::HostTensor in;
    if (!load(argv[4], in) || in.dtype != cpu::DType::F32)
      return fail("float32 .npy expected");
    auto p = quant::searchWeightParams(reinterpret_cast<const float *>(in.data.data()),
                                       in.numElements(), std::atoi(argv[2]),
                                       std::atoi(argv[3]) != 0);
    std::printf("%.9g %d %.17g\n", p.scale, p.zeroPoint, p.ratio);
    return 0;
  }
  if (cmd == "eig" && argc == 5) {
    cpu::HostTensor h;
    if (!load(argv[3], h) || h.dtype != cpu::DType::F64 || h.shape.size() != 2 ||
        h.shape[0] != h.shape[1])
      return fail("H: float64 [K, K] .npy expected");
    const int64_t K = h.shape[0], k = std::atoi(argv[2]);
    if (k < 1 || k > K)
      return fail("RANK must be in [1, K]");
    const double *hp = reinterpret_cast<const double *>(h.data.data());
    quant::Eigenpairs e = quant::leadingEigenpairs(std::vector<double>(hp, hp + K * K), K, k);
    auto save = [&](const std::string &suffix, std::vector<int64_t> shape,
                    const std::vector<double> &v) {
      cpu::HostTensor out;
      out.dtype = cpu::DType::F64;
      out.shape = std::move(shape);
      out.data.resize(v.size() * 8);
      std::memcpy(out.data.data(), v.data(), v.size() * 8);
      return writeNpy(std::string(argv[4]) + suffix, out);
    };
    if (auto err = save("values.npy", {k}, e.values))
      return fail(llvm::toString(std::move(err)));
    if (auto err = save("vectors.npy", {k, K}, e.vectors))
      return fail(llvm::toString(std::move(err)));
    std::printf("%d\n", e.iterations);
    return 0;
  }
  if ((cmd == "gptq" || cmd == "rtn") && (argc == 9 || argc == 12)) {
    cpu::HostTensor w, h;
    if (!load(argv[6], w) || w.dtype != cpu::DType::F32 || w.shape.size() != 2)
      return fail("W: float32 [K, N] .npy expected");
    if (!load(argv[7], h) || h.dtype != cpu::DType::F64 || h.numElements() != w.shape[0] * w.shape[0])
      return fail("H: float64 [K, K] .npy expected");
    quant::GPTQOptions o;
    o.bits = std::atoi(argv[2]);
    o.group = std::atoi(argv[3]);
    o.asymmetric = std::atoi(argv[4]) != 0;
    o.actOrder = std::atoi(argv[5]) != 0;
    if (argc == 12) {
      o.damp = std::atof(argv[9]);
      o.minShrink = std::atof(argv[10]);
      o.refitScales = std::atoi(argv[11]) != 0;
      o.refitRounds = std::max(1, std::atoi(argv[11]));
    }
    const int64_t K = w.shape[0], N = w.shape[1];
    const double *hp = reinterpret_cast<const double *>(h.data.data());
    const float *wp = reinterpret_cast<const float *>(w.data.data());
    quant::GPTQResult r = cmd == "gptq"
                              ? quant::gptq(wp, K, N, std::vector<double>(hp, hp + K * K), o)
                              : quant::roundToNearest(wp, K, N, o);
    if (!r.error.empty())
      return fail(r.error);
    auto save = [&](const std::string &suffix, cpu::DType t, std::vector<int64_t> shape,
                    const void *data, size_t bytes) {
      cpu::HostTensor out;
      out.dtype = t;
      out.shape = std::move(shape);
      out.data.resize(bytes);
      std::memcpy(out.data.data(), data, bytes);
      return writeNpy(std::string(argv[8]) + suffix, out);
    };
    if (auto err = save("q.npy", cpu::DType::I32, {K, N}, r.q.data(), r.q.size() * 4))
      return fail(llvm::toString(std::move(err)));
    if (auto err = save("scale.npy", cpu::DType::F32, {r.groups, N}, r.scale.data(), r.scale.size() * 4))
      return fail(llvm::toString(std::move(err)));
    if (auto err = save("zero.npy", cpu::DType::I32, {r.groups, N}, r.zero.data(), r.zero.size() * 4))
      return fail(llvm::toString(std::move(err)));
    return 0;
  }
  if (cmd == "quantize" && argc == 8) {
    auto f = quant::parseFormat(argv[2]);
    cpu::HostTensor in;
    if (!f || !load(argv[6], in) || in.dtype != cpu::DType::F32)
      return fail("bad format or input (float32 .npy expected)");
    quant::Params p{static_cast<float>(std::atof(argv[3])), std::atoi(argv[4])};
    int64_t n = in.numElements();
    cpu::HostTensor out;
    out.dtype = cpu::DType::U8;
    out.shape = {quant::storageBytes(*f, n)};
    out.data.resize(out.shape[0]);
    quant::quantize(reinterpret_cast<const float *>(in.data.data()), n, p, *f,
                    reinterpret_cast<uint8_t *>(out.data.data()), std::atoi(argv[5]) != 0);
    if (auto err = writeNpy(argv[7], out))
      return fail(llvm::toString(std::move(err)));
    return 0;
  }
  if (cmd == "dequantize" && argc == 8) {
    auto f = quant::parseFormat(argv[2]);
    cpu::HostTensor in;
    if (!f || !load(argv[6], in) || in.dtype != cpu::DType::U8)
      return fail("bad format or input (uint8 .npy expected)");
    quant::Params p{static_cast<float>(std::atof(argv[3])), std::atoi(argv[4])};
    int64_t n = std::atoll(argv[5]);
    if (quant::storageBytes(*f, n) > in.numElements())
      return fail("too few bytes for N elements");
    cpu::HostTensor out;
    out.dtype = cpu::DType::F32;
    out.shape = {n};
    out.data.resize(n * 4);
    quant::dequantize(reinterpret_cast<const uint8_t *>(in.data.data()), n, p, *f,
                      reinterpret_cast<float *>(out.data.data()));
    if (auto err = writeNpy(argv[7], out))
      return fail(llvm::toString(std::move(err)));
    return 0;
  }
  if (cmd == "params" && argc == 6) {
    auto f = quant::parseFormat(argv[2]);
    if (!f)
      return fail("bad format");
    auto p = quant::chooseParams(std::strtod(argv[4], nullptr), std::strtod(argv[5], nullptr), *f,
                                 std::atoi(argv[3]) != 0);
    if (!p)
      return fail("no parameters for this range");
    std::printf("%.9g %d\n", p->scale, p->zeroPoint);
    return 0;
  }
  if (cmd == "minmax" && argc >= 6) {
    if (const char *t = std::getenv("QUANTC_THREADS"))
      rt::setNumThreads(std::atoi(t));
    calib::MinMax mm(std::atoll(argv[2]), std::atof(argv[4]));
    for (int i = 5; i < argc; ++i) {
      cpu::HostTensor in;
      if (!load(argv[i], in) || in.dtype != cpu::DType::F32)
        return fail("float32 .npy expected");
      mm.add(reinterpret_cast<const float *>(in.data.data()), in.shape, std::atoll(argv[3]));
    }
    for (double v : mm.min())
      std::printf("%.9g ", v);
    std::printf("\n");
    for (double v : mm.max())
      std::printf("%.9g ", v);
    std::printf("\n%lld\n", static_cast<long long>(mm.nonFinite()));
    return 0;
  }
  if (cmd == "histogram" && argc >= 4) {
    // histogram THREADS BINS FILE...: the reducer's bin width, count,
    // non-finite count and bins after all batches (chunked and threaded
    // for large batches; THREADS for the runtime's pool).
    rt::setNumThreads(std::atoi(argv[2]));
    calib::Histogram h(std::atoll(argv[3]));
    for (int i = 4; i < argc; ++i) {
      cpu::HostTensor in;
      if (!load(argv[i], in) || in.dtype != cpu::DType::F32)
        return fail("float32 .npy expected");
      h.add(reinterpret_cast<const float *>(in.data.data()), in.numElements());
    }
    std::printf("%.17g %.17g %lld\n", h.binWidth(), h.count(),
                static_cast<long long>(h.nonFinite()));
    for (double c : h.binCounts())
      std::printf("%.17g ", c);
    std::printf("\n");
    return 0;
  }
  if (cmd == "clip" && argc >= 5) {
    std::string method = argv[2];
    int bits = std::atoi(argv[4]);
    calib::Histogram h(std::atoll(argv[3]));
    for (int i = 5; i < argc; ++i) {
      cpu::HostTensor in;
      if (!load(argv[i], in) || in.dtype != cpu::DType::F32)
        return fail("float32 .npy expected");
      h.add(reinterpret_cast<const float *>(in.data.data()), in.numElements());
    }
    std::optional<double> t;
    if (method.rfind("percentile:", 0) == 0)
      t = calib::percentileClip(h, std::atof(method.c_str() + 11));
    else if (method == "entropy")
      t = calib::entropyClip(h, bits);
    else if (method == "mse")
      t = calib::mseClip(h, bits);
    else
      return fail("unknown method " + method);
    if (!t)
      return fail("empty histogram: no data was seen");
    std::printf("%.9g %.9g %.9g %lld\n", *t, h.binWidth(), calib::quantizationMSE(h, *t, bits),
                static_cast<long long>(h.nonFinite()));
    return 0;
  }
  return fail("unknown command or wrong arguments: " + cmd);
}
