//===- Rotate.cpp - rotation folding (QuaRot) -----------------------------===//
//
// See quantc/Calibration/Rotate.h for the math and what is accepted.
//
//===----------------------------------------------------------------------===//
#include "quantc/Calibration/Rotate.h"
#include "Constants.h"
#include "quantc/Dialect/QC/QCOps.h"
#include "quantc/Quant/Hadamard.h"
#include "quantc/Runtime/Kernels.h"
#include "quantc/Support/NpyFile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <string>

using namespace mlir;
using namespace quantc;

namespace quantc::calib {
namespace {

std::string where(Operation *op) {
  std::string s = op->getName().getStringRef().str();
  if (auto nl = dyn_cast<NameLoc>(op->getLoc()))
    s += " '" + nl.getName().str() + "'";
  return s;
}

llvm::Error fail(Operation *op, const std::string &what) {
  return llvm::createStringError("qc-fold-rotations: " + where(op) + ": " + what);
}

bool isScalarConstant(Value v, double *value = nullptr) {
  auto f = floatValues(v);
  if (!f || f->size() != 1)
    return false;
  if (value)
    *value = (*f)[0];
  return true;
}

/// A constant [D, N] (or [K, D]) f32 weight of a MatMul.
bool isConstantMatrix(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.getRank() == 2 && floatValues(v).has_value();
}

struct Norm {
  Operation *div = nullptr;   // x / rms
  qc::MulOp gamma;            // * gamma (null: none)
  std::vector<qc::MatMulOp> readers;
};

struct Writer {
  qc::MatMulOp matmul;
  qc::AddOp bias; // + bias (null: none)
  unsigned biasOperand = 0;
};

struct Plan {
  qc::GatherOp embedding;
  int64_t dim = 0;
  std::vector<Norm> norms;
  std::vector<Writer> writers;
};

/// `div` = x / sqrt(mean(x^2, last axis) + eps): RMSNorm's normalization.
bool isRmsNormalization(qc::DivOp div, Value x) {
  if (div.getA() != x)
    return false;
  auto sqrt = div.getB().getDefiningOp<qc::SqrtOp>();
  if (!sqrt)
    return false;
  auto add = sqrt->getOperand(0).getDefiningOp<qc::AddOp>();
  if (!add)
    return false;
  for (unsigned i = 0; i < 2; ++i) {
    auto mean = add->getOperand(i).getDefiningOp<qc::ReduceMeanOp>();
    if (!mean || !isScalarConstant(add->getOperand(1 - i)))
      continue;
    auto pow = mean->getOperand(0).getDefiningOp<qc::PowOp>();
    double two = 0;
    if (!pow || pow->getOperand(0) != x || !isScalarConstant(pow->getOperand(1), &two) || two != 2.0)
      continue;
    // Over the last axis only.
    auto xt = cast<RankedTensorType>(x.getType());
    if (mean->getNumOperands() < 2)
      continue;
    auto axes = mean->getOperand(1).getDefiningOp<qc::ConstantOp>();
    if (!axes)
      continue;
    auto values = dyn_cast<DenseIntElementsAttr>(axes.getValue());
    if (!values || values.getNumElements() != 1)
      continue;
    int64_t axis = (*values.begin()).getSExtValue();
    if (axis < 0)
      axis += xt.getRank();
    if (axis == xt.getRank() - 1)
      return true;
  }
  return false;
}

llvm::Expected<Norm> readNorm(qc::DivOp div, int64_t d) {
  Norm n;
  n.div = div;
  Value out = div.getResult();
  if (out.hasOneUse())
    if (auto mul = dyn_cast<qc::MulOp>(*out.getUsers().begin())) {
      for (unsigned i = 0; i < 2; ++i) {
        auto g = floatValues(mul->getOperand(i));
        if (mul->getOperand(1 - i) == out && g && static_cast<int64_t>(g->size()) == d) {
          n.gamma = mul;
          out = mul.getResult();
        }
      }
    }
  for (Operation *user : out.getUsers()) {
    auto mm = dyn_cast<qc::MatMulOp>(user);
    if (!mm || mm.getA() != out || !isConstantMatrix(mm.getB()) ||
        cast<RankedTensorType>(mm.getB().getType()).getShape()[0] != d)
      return fail(user, "reads an RMSNorm's output, which only MatMuls with a constant [" +
                            std::to_string(d) + ", N] weight may do");
    n.readers.push_back(mm);
  }
  if (n.readers.empty())
    return fail(div, "an RMSNorm whose output nothing reads");
  return n;
}

llvm::Expected<Writer> readWriter(Value branch, int64_t d, Operation *add) {
  Writer w;
  Value mmOut = branch;
  if (auto badd = branch.getDefiningOp<qc::AddOp>()) {
    for (unsigned i = 0; i < 2 && !w.bias; ++i) {
      auto b = floatValues(badd->getOperand(1 - i));
      if (badd->getOperand(i).getDefiningOp<qc::MatMulOp>() && b &&
          static_cast<int64_t>(b->size()) == d) {
        w.bias = badd;
        w.biasOperand = 1 - i;
        mmOut = badd->getOperand(i);
      }
    }
  }
  auto mm = mmOut.getDefiningOp<qc::MatMulOp>();
  if (!mm || !isConstantMatrix(mm.getB()) ||
      cast<RankedTensorType>(mm.getB().getType()).getShape()[1] != d || !mmOut.hasOneUse() ||
      (w.bias && !branch.hasOneUse()))
    return fail(add, "a residual Add whose other operand is not a MatMul with a constant [K, " +
                         std::to_string(d) + "] weight (+ a constant bias) read only there");
  w.matmul = mm;
  return w;
}

llvm::Expected<Plan> plan(func::FuncOp main) {
  Plan p;
  SmallVector<qc::GatherOp> gathers;
  main.walk([&](qc::GatherOp g) {
    auto t = dyn_cast<RankedTensorType>(g->getOperand(0).getType());
    if (t && t.getRank() == 2 && floatValues(g->getOperand(0)))
      gathers.push_back(g);
  });
  if (gathers.size() != 1)
    return llvm::createStringError(
        "qc-fold-rotations: expected one embedding (a Gather from a constant [V, D] table), found " +
        std::to_string(gathers.size()));
  p.embedding = gathers.front();
  p.dim = cast<RankedTensorType>(p.embedding->getOperand(0).getType()).getShape()[1];
  Value stream = p.embedding->getResult(0);
  while (true) {
    qc::AddOp next;
    Value branch;
    for (Operation *user : stream.getUsers()) {
      if (isa<qc::PowOp>(user))
        continue; // part of an RMSNorm, checked from its Div
      if (auto div = dyn_cast<qc::DivOp>(user)) {
        if (!isRmsNormalization(div, stream))
          return fail(user, "reads the residual stream but is not an RMSNorm's x / rms(x)");
        auto n = readNorm(div, p.dim);
        if (!n)
          return n.takeError();
        p.norms.push_back(std::move(*n));
        continue;
      }
      if (auto add = dyn_cast<qc::AddOp>(user)) {
        if (next)
          return fail(user, "the residual stream feeds two Adds");
        next = add;
        branch = add.getA() == stream ? add.getB() : add.getA();
        continue;
      }
      return fail(user, "reads the residual stream (only RMSNorms and the next residual Add "
                        "may; a LayerNorm's mean subtraction does not commute with a rotation)");
    }
    if (!next)
      break;
    auto w = readWriter(branch, p.dim, next);
    if (!w)
      return w.takeError();
    p.writers.push_back(*w);
    stream = next.getResult();
  }
  if (p.norms.empty() || p.writers.empty())
    return llvm::createStringError("qc-fold-rotations: no residual stream of RMSNorm blocks found "
                                   "from the embedding");
  return p;
}

/// C = A B for row-major float matrices (the runtime's GEMM).
std::vector<float> matmul(const std::vector<float> &a, const std::vector<float> &b, int64_t m,
                          int64_t k, int64_t n, bool transposeA = false) {
  std::vector<float> c(m * n);
  rt::Matrix am = transposeA ? rt::Matrix{a.data(), 1, m} : rt::Matrix{a.data(), k, 1};
  rt::sgemm(m, n, k, am, rt::Matrix{b.data(), n, 1}, c.data(), n, /*overwrite=*/true);
  return c;
}

} // namespace

llvm::Expected<RotationReport> foldRotations(ModuleOp module, const RotationOptions &options) {
  const uint64_t seed = options.seed;
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main)
    return llvm::createStringError("qc-fold-rotations: no main function");
  bool observed = false;
  module.walk([&](qc::ObserveOp) { observed = true; });
  if (observed)
    return llvm::createStringError("qc-fold-rotations: the module has observers; fold rotations "
                                   "before calibrating (the statistics would be of the old basis)");
  auto p = plan(main);
  if (!p)
    return p.takeError();
  int64_t d = p->dim;
  RotationReport report;
  report.dim = d;
  std::vector<double> qd;
  if (options.matrix.empty()) {
    qd = quant::rotation(d, seed, &report.hadamard);
  } else {
    if (static_cast<int64_t>(options.matrix.size()) != d * d)
      return llvm::createStringError(llvm::formatv(
          "qc-fold-rotations: rotation matrix {0} has {1} values; the residual stream is {2} "
          "wide, so it must be {2} x {2}",
          options.matrixName, options.matrix.size(), d));
    std::vector<float> qf(options.matrix.begin(), options.matrix.end());
    std::vector<float> qtq = matmul(qf, qf, d, d, d, /*transposeA=*/true);
    double worst = 0;
    for (int64_t i = 0; i < d * d; ++i) {
      double e = std::fabs(qtq[i] - (i % (d + 1) == 0 ? 1.0 : 0.0));
      worst = std::isnan(e) || std::isnan(worst) ? NAN : std::max(worst, e);
    }
    if (!(worst <= 1e-3))
      return llvm::createStringError(llvm::formatv(
          "qc-fold-rotations: rotation matrix {0} is not orthogonal (max |Q^T Q - I| = {1:e2}, "
          "over 1e-3): folding it would change the model's function",
          options.matrixName, worst));
    qd = options.matrix;
    report.given = true;
  }
  std::vector<float> q(qd.begin(), qd.end());
  OpBuilder b(module.getContext());
  auto replaceWeight = [&](Operation *op, unsigned operand, ArrayRef<int64_t> shape,
                           const std::vector<float> &v) {
    b.setInsertionPoint(op);
    Operation *old = op->getOperand(operand).getDefiningOp();
    op->setOperand(operand, floatConstant(b, op->getLoc(), shape, v));
    if (old && old->use_empty())
      old->erase();
  };

  // Embedding: E <- E Q.
  {
    Value table = p->embedding->getOperand(0);
    auto shape = cast<RankedTensorType>(table.getType()).getShape();
    replaceWeight(p->embedding, 0, shape, matmul(*floatValues(table), q, shape[0], d, d));
  }
  // Readers: W <- Q^T diag(gamma) W; the gamma Mul goes.
  for (Norm &n : p->norms) {
    std::vector<float> gamma(d, 1.0f);
    if (n.gamma) {
      for (unsigned i = 0; i < 2; ++i)
        if (n.gamma->getOperand(i) != n.div->getResult(0))
          gamma = *floatValues(n.gamma->getOperand(i));
    }
    for (qc::MatMulOp mm : n.readers) {
      auto shape = cast<RankedTensorType>(mm.getB().getType()).getShape();
      std::vector<float> w = *floatValues(mm.getB());
      for (int64_t i = 0; i < d; ++i)
        for (int64_t j = 0; j < shape[1]; ++j)
          w[i * shape[1] + j] *= gamma[i];
      replaceWeight(mm, 1, shape, matmul(q, w, d, d, shape[1], /*transposeA=*/true));
      ++report.readers;
    }
    if (n.gamma) {
      Value g = n.gamma->getOperand(n.gamma->getOperand(0) == n.div->getResult(0) ? 1 : 0);
      n.gamma.getResult().replaceAllUsesWith(n.div->getResult(0));
      n.gamma->erase();
      if (Operation *def = g.getDefiningOp(); def && isa<qc::ConstantOp>(def) && def->use_empty())
        def->erase();
    }
    ++report.norms;
  }
  // Writers: W <- W Q, bias <- bias Q.
  for (Writer &w : p->writers) {
    auto shape = cast<RankedTensorType>(w.matmul.getB().getType()).getShape();
    replaceWeight(w.matmul, 1, shape, matmul(*floatValues(w.matmul.getB()), q, shape[0], d, d));
    if (w.bias) {
      Value bias = w.bias->getOperand(w.biasOperand);
      auto bshape = cast<RankedTensorType>(bias.getType()).getShape();
      replaceWeight(w.bias, w.biasOperand, bshape, matmul(*floatValues(bias), q, 1, d, d));
    }
    ++report.writers;
  }
  // Online: x <- x H before the writer (qc.hadamard), W <- H^T W.
  if (options.online)
    for (Writer &w : p->writers) {
      Value x = w.matmul.getA();
      auto xt = dyn_cast<RankedTensorType>(x.getType());
      auto shape = cast<RankedTensorType>(w.matmul.getB().getType()).getShape();
      std::vector<float> h;
      std::vector<float> factor = quant::onlineHadamardFactor(shape[0], &h);
      if (h.empty() || !xt || xt.isDynamicDim(xt.getRank() - 1)) {
        ++report.onlineSkipped;
        continue;
      }
      int64_t k = shape[0], m = static_cast<int64_t>(std::sqrt(double(factor.size())));
      replaceWeight(w.matmul, 1, shape,
                    matmul(h, *floatValues(w.matmul.getB()), k, k, shape[1], /*transposeA=*/true));
      b.setInsertionPoint(w.matmul);
      Location loc = w.matmul.getLoc();
      if (auto nl = dyn_cast<NameLoc>(loc))
        loc = NameLoc::get(b.getStringAttr(nl.getName().str() + "/hadamard"), nl.getChildLoc());
      Value f = floatConstant(b, loc, {m, m}, factor);
      auto had = qc::HadamardOp::create(b, loc, xt, x, f);
      w.matmul->setOperand(0, had.getResult());
      ++report.online;
    }
  return report;
}

llvm::Expected<std::vector<double>> readRotationMatrix(const std::string &path) {
  auto t = readNpy(path);
  if (!t)
    return t.takeError();
  if (t->shape.size() != 2 || t->shape[0] != t->shape[1] || t->shape[0] == 0)
    return llvm::createStringError("rotation matrix " + path +
                                   ": expected a square [D, D] array");
  int64_t n = t->numElements();
  std::vector<double> m(n);
  if (t->dtype == cpu::DType::F32) {
    const float *p = reinterpret_cast<const float *>(t->data.data());
    std::copy(p, p + n, m.begin());
  } else if (t->dtype == cpu::DType::F64) {
    const double *p = reinterpret_cast<const double *>(t->data.data());
    std::copy(p, p + n, m.begin());
  } else {
    return llvm::createStringError("rotation matrix " + path +
                                   ": expected float32 or float64 values");
  }
  return m;
}

} // namespace quantc::calib
