//===- InferShapes.cpp - qc-infer-shapes ----------------------------------===//
//
// Refines the result types of qc ops from their operands. The ONNX shape
// functions are in inferResultShape; see Passes.td for the math.
//
//===----------------------------------------------------------------------===//
#include "quantc/Dialect/QC/QCOps.h"
#include "quantc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Traits.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/FoldUtils.h"

namespace quantc {
#define GEN_PASS_DEF_QCINFERSHAPES
#include "quantc/Transforms/Passes.h.inc"
} // namespace quantc

using namespace mlir;
using namespace quantc;
using namespace quantc::qc;

namespace {
using Dims = SmallVector<int64_t>;
constexpr int64_t kDyn = ShapedType::kDynamic;

std::optional<Dims> shapeOf(Value v) {
  if (auto t = dyn_cast<RankedTensorType>(v.getType()))
    return Dims(t.getShape().begin(), t.getShape().end());
  return std::nullopt;
}

bool isNone(Value v) { return isa<NoneType>(v.getType()); }

std::optional<Dims> constInts(Value v) {
  DenseIntElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  Dims out;
  for (const APInt &x : attr.getValues<APInt>())
    out.push_back(x.getSExtValue());
  return out;
}

/// The elements of a small integer tensor as far as they are known at
/// compile time: constants, dims of Shape, and what Gather, Concat, Slice,
/// Squeeze/Unsqueeze/Reshape/Cast/Identity and integer Add/Sub/Mul/Div make
/// of them; unknown elements are kDyn. Exporters build Reshape and Expand
/// targets this way (Concat(Unsqueeze(Gather(Shape(x), 0)), [-1, 9, 64])),
/// so with symbolic dims a target is often known but for one element.
std::optional<Dims> partialInts(Value v, int depth = 0) {
  if (auto c = constInts(v))
    return c;
  auto vt = dyn_cast<RankedTensorType>(v.getType());
  Operation *def = v.getDefiningOp();
  if (!def || depth > 24 || !vt || !vt.hasStaticShape() || vt.getRank() > 1 ||
      !isa<IntegerType>(vt.getElementType()) || vt.getNumElements() > 64)
    return std::nullopt;
  if (auto sh = dyn_cast<ShapeOp>(def)) {
    auto in = shapeOf(sh.getData());
    if (!in)
      return std::nullopt;
    int64_t rank = in->size();
    auto clampAxis = [&](int64_t a) { return std::clamp<int64_t>(a < 0 ? a + rank : a, 0, rank); };
    int64_t start = clampAxis(sh.getStart());
    int64_t end = sh.getEnd() ? clampAxis(*sh.getEnd()) : rank;
    return Dims(in->begin() + start, in->begin() + std::max(start, end));
  }
  if (auto g = dyn_cast<GatherOp>(def)) {
    auto data = partialInts(g.getData(), depth + 1);
    auto idx = constInts(g.getIndices());
    if (!data || !idx)
      return std::nullopt;
    Dims out;
    for (int64_t i : *idx) {
      if (i < 0)
        i += data->size();
      if (i < 0 || i >= static_cast<int64_t>(data->size()))
        return std::nullopt;
      out.push_back((*data)[i]);
    }
    return out;
  }
  if (auto c = dyn_cast<ConcatOp>(def)) {
    Dims out;
    for (Value in : c.getInputs()) {
      auto p = partialInts(in, depth + 1);
      if (!p)
        return std::nullopt;
      out.append(p->begin(), p->end());
    }
    return out;
  }
  if (auto sl = dyn_cast<SliceOp>(def)) {
    auto data = partialInts(sl.getData(), depth + 1);
    auto st = constInts(sl.getStarts()), en = constInts(sl.getEnds());
    if (!data || !st || !en || st->size() != 1 || en->size() != 1 ||
        (!isNone(sl.getSteps()) && constInts(sl.getSteps()) != Dims{1}))
      return std::nullopt;
    int64_t n = data->size();
    int64_t a = (*st)[0] < 0 ? (*st)[0] + n : (*st)[0];
    int64_t b = (*en)[0] < 0 ? (*en)[0] + n : std::min((*en)[0], n);
    a = std::clamp<int64_t>(a, 0, n);
    b = std::clamp<int64_t>(b, 0, n);
    return Dims(data->begin() + a, data->begin() + std::max(a, b));
  }
  if (isa<SqueezeOp, UnsqueezeOp, ReshapeOp, IdentityOp, CastOp>(def))
    return partialInts(def->getOperand(0), depth + 1);
  if (isa<AddOp, SubOp, MulOp, DivOp>(def)) {
    auto x = partialInts(def->getOperand(0), depth + 1), y = partialInts(def->getOperand(1), depth + 1);
    if (!x || !y || (x->size() != y->size() && x->size() != 1 && y->size() != 1))
      return std::nullopt;
    size_t n = std::max(x->size(), y->size());
    Dims out;
    for (size_t i = 0; i < n; ++i) {
      int64_t a = (*x)[x->size() == 1 ? 0 : i], b = (*y)[y->size() == 1 ? 0 : i];
      if (a == kDyn || b == kDyn || (isa<DivOp>(def) && b == 0)) {
        out.push_back(kDyn);
        continue;
      }
      out.push_back(isa<AddOp>(def) ? a + b : isa<SubOp>(def) ? a - b : isa<MulOp>(def) ? a * b : a / b);
    }
    return out;
  }
  return std::nullopt;
}

std::optional<SmallVector<double>> constFloats(Value v) {
  DenseFPElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  SmallVector<double> out;
  for (const APFloat &x : attr.getValues<APFloat>())
    out.push_back(x.convertToDouble());
  return out;
}

int64_t normAxis(int64_t axis, int64_t rank) { return axis < 0 ? axis + rank : axis; }

/// Numpy broadcasting of several shapes; nullopt on a contradiction or an
/// unknown rank.
std::optional<Dims> broadcast(ArrayRef<Value> values) {
  Dims out;
  for (Value v : values) {
    if (isNone(v))
      continue;
    auto s = shapeOf(v);
    if (!s)
      return std::nullopt;
    if (s->size() > out.size())
      out.insert(out.begin(), s->size() - out.size(), 1);
    size_t off = out.size() - s->size();
    for (size_t i = 0; i < s->size(); ++i) {
      int64_t &o = out[off + i];
      int64_t d = (*s)[i];
      if (d == 1)
        continue;
      if (o == 1)
        o = d;
      else if (o == kDyn)
        o = d == kDyn ? kDyn : d;
      else if (d != kDyn && d != o)
        return std::nullopt;
    }
  }
  return out;
}

int64_t prod(ArrayRef<int64_t> dims) {
  int64_t p = 1;
  for (int64_t d : dims) {
    if (d == kDyn)
      return kDyn;
    p *= d;
  }
  return p;
}

/// Output extent of a convolution or pooling window along one dim.
int64_t windowOut(int64_t in, int64_t k, int64_t s, int64_t d, int64_t p0,
                  int64_t p1, StringRef autoPad, bool ceilMode) {
  if (in == kDyn || k == kDyn)
    return kDyn;
  if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER")
    return (in + s - 1) / s;
  if (autoPad == "VALID")
    p0 = p1 = 0;
  int64_t span = in + p0 + p1 - ((k - 1) * d + 1);
  if (span < 0)
    return kDyn;
  int64_t out = (ceilMode ? (span + s - 1) / s : span / s) + 1;
  // ceil_mode must not start a window in the end padding.
  if (ceilMode && (out - 1) * s >= in + p0)
    --out;
  return out;
}

std::optional<Dims> windowShape(Value x, int64_t channels, ArrayRef<int64_t> kernel,
                                std::optional<ArrayRef<int64_t>> strides,
                                std::optional<ArrayRef<int64_t>> dilations,
                                std::optional<ArrayRef<int64_t>> pads,
                                StringRef autoPad, bool ceilMode) {
  auto xs = shapeOf(x);
  if (!xs || xs->size() < 3 || kernel.size() != xs->size() - 2)
    return std::nullopt;
  size_t n = kernel.size();
  Dims out{(*xs)[0], channels};
  for (size_t i = 0; i < n; ++i) {
    int64_t s = strides ? (*strides)[i] : 1;
    int64_t d = dilations ? (*dilations)[i] : 1;
    int64_t p0 = pads ? (*pads)[i] : 0, p1 = pads ? (*pads)[i + n] : 0;
    out.push_back(windowOut((*xs)[i + 2], kernel[i], s, d, p0, p1, autoPad, ceilMode));
  }
  return out;
}

template <typename PoolOp> std::optional<Dims> inferPool(PoolOp p) {
  auto x = shapeOf(p.getX());
  if (!x || x->size() < 2)
    return std::nullopt;
  return windowShape(p.getX(), (*x)[1], p.getKernelShape(), p.getStrides(),
                     p.getDilations(), p.getPads(), p.getAutoPad(), p.getCeilMode() != 0);
}

std::optional<Dims> reduceShape(Value data, std::optional<Dims> axes, bool keepdims,
                                bool noopWithEmpty) {
  auto s = shapeOf(data);
  if (!s)
    return std::nullopt;
  int64_t rank = s->size();
  SmallVector<bool> reduced(rank, false);
  if (!axes || axes->empty()) {
    if (noopWithEmpty)
      return s;
    reduced.assign(rank, true);
  } else {
    for (int64_t a : *axes) {
      a = normAxis(a, rank);
      if (a < 0 || a >= rank)
        return std::nullopt;
      reduced[a] = true;
    }
  }
  Dims out;
  for (int64_t i = 0; i < rank; ++i) {
    if (!reduced[i])
      out.push_back((*s)[i]);
    else if (keepdims)
      out.push_back(1);
  }
  return out;
}

template <typename ReduceOp> std::optional<Dims> inferReduce(ReduceOp op) {
  std::optional<Dims> axes;
  if (!isNone(op.getAxes())) {
    axes = constInts(op.getAxes());
    if (!axes)
      return std::nullopt;
  }
  return reduceShape(op.getData(), axes, op.getKeepdims() != 0,
                     op.getNoopWithEmptyAxes() != 0);
}

std::optional<Dims> inferMatMul(Value a, Value b) {
  auto as = shapeOf(a), bs = shapeOf(b);
  if (!as || !bs || as->empty() || bs->empty())
    return std::nullopt;
  bool aVec = as->size() == 1, bVec = bs->size() == 1;
  Dims A = aVec ? Dims{1, (*as)[0]} : *as;
  Dims B = bVec ? Dims{(*bs)[0], 1} : *bs;
  Dims batchA(A.begin(), A.end() - 2), batchB(B.begin(), B.end() - 2);
  // Broadcast the batch dims.
  Dims batch;
  size_t n = std::max(batchA.size(), batchB.size());
  batchA.insert(batchA.begin(), n - batchA.size(), 1);
  batchB.insert(batchB.begin(), n - batchB.size(), 1);
  for (size_t i = 0; i < n; ++i) {
    int64_t x = batchA[i], y = batchB[i];
    if (x == 1)
      batch.push_back(y);
    else if (y == 1 || y == x)
      batch.push_back(x);
    else if (x == kDyn || y == kDyn)
      batch.push_back(x == kDyn ? y : x);
    else
      return std::nullopt;
  }
  Dims out = batch;
  if (!aVec)
    out.push_back(A[A.size() - 2]);
  if (!bVec)
    out.push_back(B.back());
  return out;
}

std::optional<Dims> inferResultShape(Operation *op, unsigned idx) {
  if (isa<ConstantOp, NoneOp, YieldOp>(op))
    return std::nullopt;
  if (auto ifOp = dyn_cast<IfOp>(op)) {
    // The branches' common shape: dimensions they disagree on are dynamic.
    auto a = shapeOf(ifOp.getThenBranch().front().getTerminator()->getOperand(idx));
    auto b = shapeOf(ifOp.getElseBranch().front().getTerminator()->getOperand(idx));
    if (!a || !b || a->size() != b->size())
      return std::nullopt;
    Dims out = *a;
    for (auto [o, y] : llvm::zip(out, *b))
      if (o != y)
        o = kDyn;
    return out;
  }
  if (op->hasTrait<OpTrait::SameOperandsAndResultShape>())
    return shapeOf(op->getOperand(0));
  if (op->hasTrait<OpTrait::ResultsBroadcastableShape>() ||
      isa<WhereOp, MaxOp, MinOp, SumOp, MeanOp>(op))
    return broadcast(SmallVector<Value>(op->getOperands()));
  if (isa<ClipOp, CastOp, CastLikeOp, BatchNormalizationOp, InstanceNormalizationOp,
          MeanVarianceNormalizationOp, CumSumOp, DropoutOp, QuantizeLinearOp,
          DequantizeLinearOp, TriluOp, ScatterElementsOp, ScatterNDOp, HadamardOp>(op))
    return shapeOf(op->getOperand(0));
  if (auto ln = dyn_cast<LayerNormalizationOp>(op)) {
    auto s = shapeOf(ln.getX());
    if (!s || idx == 0)
      return s;
    int64_t axis = normAxis(static_cast<int64_t>(ln.getAxis()), s->size());
    for (size_t i = axis; i < s->size(); ++i)
      (*s)[i] = 1;
    return s;
  }
  if (auto dq = dyn_cast<DynamicQuantizeLinearOp>(op))
    return idx == 0 ? shapeOf(dq.getX()) : Dims{};
  if (auto dq = dyn_cast<DynamicQuantizeRowsOp>(op)) {
    auto s = shapeOf(dq.getX());
    if (s && idx != 0 && !s->empty())
      s->pop_back();
    return s;
  }
  if (auto at = dyn_cast<AttentionOp>(op)) {
    // [b, H, m, d] queries, [b, G, s, dv] values -> [b, H, m, dv].
    auto q = shapeOf(at.getQuery()), v = shapeOf(at.getValue());
    if (!q || !v || q->size() != 4 || v->size() != 4)
      return std::nullopt;
    return Dims{(*q)[0], (*q)[1], (*q)[2], (*v)[3]};
  }
  if (auto mm = dyn_cast<MatMulOp>(op))
    return inferMatMul(mm.getA(), mm.getB());
  if (auto mm = dyn_cast<MatMulIntegerOp>(op))
    return inferMatMul(mm.getA(), mm.getB());
  if (auto mm = dyn_cast<QLinearMatMulOp>(op))
    return inferMatMul(mm.getA(), mm.getB());
  if (auto g = dyn_cast<GemmOp>(op)) {
    auto a = shapeOf(g.getA()), b = shapeOf(g.getB());
    if (!a || !b || a->size() != 2 || b->size() != 2)
      return std::nullopt;
    return Dims{(*a)[g.getTransA() ? 1 : 0], (*b)[g.getTransB() ? 0 : 1]};
  }
  // Conv, ConvInteger and QLinearConv share the window arithmetic.
  auto convShape = [&](auto c, Value x, Value wv) -> std::optional<Dims> {
    auto w = shapeOf(wv);
    if (!w)
      return std::nullopt;
    Dims kernel = c.getKernelShape() ? Dims(c.getKernelShape()->begin(), c.getKernelShape()->end())
                                     : Dims(w->begin() + 2, w->end());
    return windowShape(x, (*w)[0], kernel, c.getStrides(), c.getDilations(), c.getPads(),
                       c.getAutoPad(), false);
  };
  if (auto c = dyn_cast<ConvOp>(op))
    return convShape(c, c.getX(), c.getW());
  if (auto c = dyn_cast<ConvIntegerOp>(op))
    return convShape(c, c.getX(), c.getW());
  if (auto c = dyn_cast<QLinearConvOp>(op))
    return convShape(c, c.getX(), c.getW());
  if (auto c = dyn_cast<ConvTransposeOp>(op)) {
    auto x = shapeOf(c.getX()), w = shapeOf(c.getW());
    if (!x || !w || x->size() < 3 || w->size() != x->size())
      return std::nullopt;
    int64_t ch = (*w)[1] == kDyn ? kDyn : (*w)[1] * static_cast<int64_t>(c.getGroup());
    Dims out{(*x)[0], ch};
    size_t n = x->size() - 2;
    if (auto os = c.getOutputShape()) {
      if (os->size() != n)
        return std::nullopt;
      out.append(os->begin(), os->end());
      return out;
    }
    if (c.getAutoPad() != "NOTSET" && c.getAutoPad() != "VALID") {
      for (size_t i = 0; i < n; ++i) {
        int64_t s = c.getStrides() ? (*c.getStrides())[i] : 1;
        out.push_back((*x)[i + 2] == kDyn ? kDyn : (*x)[i + 2] * s);
      }
      return out;
    }
    for (size_t i = 0; i < n; ++i) {
      int64_t in = (*x)[i + 2];
      int64_t k = c.getKernelShape() ? (*c.getKernelShape())[i] : (*w)[i + 2];
      int64_t s = c.getStrides() ? (*c.getStrides())[i] : 1;
      int64_t d = c.getDilations() ? (*c.getDilations())[i] : 1;
      int64_t op0 = c.getOutputPadding() ? (*c.getOutputPadding())[i] : 0;
      int64_t p0 = 0, p1 = 0;
      if (c.getPads() && c.getAutoPad() == "NOTSET") {
        p0 = (*c.getPads())[i];
        p1 = (*c.getPads())[i + n];
      }
      out.push_back(in == kDyn || k == kDyn ? kDyn
                                            : s * (in - 1) + op0 + (k - 1) * d + 1 - p0 - p1);
    }
    return out;
  }
  if (auto p = dyn_cast<MaxPoolOp>(op))
    return inferPool(p);
  if (auto p = dyn_cast<AveragePoolOp>(op))
    return inferPool(p);
  if (isa<GlobalAveragePoolOp, GlobalMaxPoolOp>(op)) {
    auto x = shapeOf(op->getOperand(0));
    if (!x || x->size() < 2)
      return std::nullopt;
    Dims out{(*x)[0], (*x)[1]};
    out.append(x->size() - 2, 1);
    return out;
  }
  if (auto r = dyn_cast<ReshapeOp>(op)) {
    auto target = partialInts(r.getShape());
    if (!target) {
      // A computed shape of known length still fixes the rank.
      auto st = dyn_cast<RankedTensorType>(r.getShape().getType());
      if (st && st.getRank() == 1 && !st.isDynamicDim(0))
        return Dims(st.getDimSize(0), kDyn);
      return std::nullopt;
    }
    auto in = shapeOf(r.getData());
    Dims out;
    int64_t inferIdx = -1;
    for (auto [i, t] : llvm::enumerate(*target)) {
      if (t == 0 && r.getAllowzero() == 0) {
        out.push_back(in && i < in->size() ? (*in)[i] : kDyn);
      } else if (t == -1) {
        inferIdx = i;
        out.push_back(kDyn);
      } else {
        out.push_back(t);
      }
    }
    if (inferIdx >= 0 && in) {
      int64_t total = prod(*in);
      Dims others(out);
      others.erase(others.begin() + inferIdx);
      int64_t known = prod(others);
      if (total != kDyn && known != kDyn && known != 0 && total % known == 0)
        out[inferIdx] = total / known;
    }
    return out;
  }
  if (auto t = dyn_cast<TransposeOp>(op)) {
    auto in = shapeOf(t.getData());
    if (!in)
      return std::nullopt;
    Dims perm;
    if (auto p = t.getPerm())
      perm.assign(p->begin(), p->end());
    else
      for (int64_t i = in->size() - 1; i >= 0; --i)
        perm.push_back(i);
    if (perm.size() != in->size())
      return std::nullopt;
    Dims out;
    for (int64_t p : perm)
      out.push_back((*in)[p]);
    return out;
  }
  if (auto c = dyn_cast<ConcatOp>(op)) {
    std::optional<Dims> out;
    int64_t axis = 0;
    for (Value v : c.getInputs()) {
      auto s = shapeOf(v);
      if (!s)
        return std::nullopt;
      if (!out) {
        out = s;
        axis = normAxis(static_cast<int64_t>(c.getAxis()), s->size());
        if (axis < 0 || axis >= static_cast<int64_t>(s->size()))
          return std::nullopt;
        continue;
      }
      if (s->size() != out->size())
        return std::nullopt;
      for (size_t i = 0; i < s->size(); ++i) {
        if (static_cast<int64_t>(i) == axis)
          (*out)[i] = ((*out)[i] == kDyn || (*s)[i] == kDyn) ? kDyn : (*out)[i] + (*s)[i];
        else if ((*out)[i] == kDyn)
          (*out)[i] = (*s)[i];
      }
    }
    return out;
  }
  if (auto f = dyn_cast<FlattenOp>(op)) {
    auto in = shapeOf(f.getInput());
    if (!in)
      return std::nullopt;
    int64_t axis = normAxis(static_cast<int64_t>(f.getAxis()), in->size());
    return Dims{prod(ArrayRef<int64_t>(*in).take_front(axis)),
                prod(ArrayRef<int64_t>(*in).drop_front(axis))};
  }
  if (auto s = dyn_cast<SqueezeOp>(op)) {
    auto in = shapeOf(s.getData());
    if (!in)
      return std::nullopt;
    SmallVector<bool> drop(in->size(), false);
    if (isNone(s.getAxes())) {
      for (size_t i = 0; i < in->size(); ++i) {
        if ((*in)[i] == kDyn)
          return std::nullopt;
        drop[i] = (*in)[i] == 1;
      }
    } else {
      auto axes = constInts(s.getAxes());
      if (!axes)
        return std::nullopt;
      for (int64_t a : *axes) {
        a = normAxis(a, in->size());
        if (a < 0 || a >= static_cast<int64_t>(in->size()))
          return std::nullopt;
        drop[a] = true;
      }
    }
    Dims out;
    for (size_t i = 0; i < in->size(); ++i)
      if (!drop[i])
        out.push_back((*in)[i]);
    return out;
  }
  if (auto u = dyn_cast<UnsqueezeOp>(op)) {
    auto in = shapeOf(u.getData());
    auto axes = constInts(u.getAxes());
    if (!in || !axes)
      return std::nullopt;
    int64_t rank = in->size() + axes->size();
    SmallVector<bool> isNew(rank, false);
    for (int64_t a : *axes) {
      a = normAxis(a, rank);
      if (a < 0 || a >= rank)
        return std::nullopt;
      isNew[a] = true;
    }
    Dims out;
    size_t j = 0;
    for (int64_t i = 0; i < rank; ++i)
      out.push_back(isNew[i] ? 1 : (*in)[j++]);
    return out;
  }
#define QC_REDUCE(OP)                                                          \
  if (auto r = dyn_cast<OP>(op))                                               \
    return inferReduce(r);
  QC_REDUCE(ReduceMeanOp) QC_REDUCE(ReduceSumOp) QC_REDUCE(ReduceMaxOp)
  QC_REDUCE(ReduceMinOp) QC_REDUCE(ReduceL1Op) QC_REDUCE(ReduceL2Op)
  QC_REDUCE(ReduceProdOp) QC_REDUCE(ReduceLogSumOp) QC_REDUCE(ReduceLogSumExpOp)
  QC_REDUCE(ReduceSumSquareOp)
#undef QC_REDUCE
  if (auto a = dyn_cast<ArgMaxOp>(op))
    return reduceShape(a.getData(), Dims{static_cast<int64_t>(a.getAxis())},
                       a.getKeepdims() != 0, false);
  if (auto a = dyn_cast<ArgMinOp>(op))
    return reduceShape(a.getData(), Dims{static_cast<int64_t>(a.getAxis())},
                       a.getKeepdims() != 0, false);
  if (auto s = dyn_cast<ShapeOp>(op)) {
    auto t = dyn_cast<RankedTensorType>(s.getData().getType());
    if (!t)
      return std::nullopt;
    int64_t rank = t.getRank();
    auto clampAxis = [&](int64_t v) { return std::clamp<int64_t>(normAxis(v, rank), 0, rank); };
    int64_t start = clampAxis(static_cast<int64_t>(s.getStart()));
    int64_t end = s.getEnd() ? clampAxis(static_cast<int64_t>(*s.getEnd())) : rank;
    return Dims{std::max<int64_t>(end - start, 0)};
  }
  if (isa<SizeOp>(op))
    return Dims{};
  if (auto g = dyn_cast<GatherOp>(op)) {
    auto d = shapeOf(g.getData()), i = shapeOf(g.getIndices());
    if (!d || !i)
      return std::nullopt;
    int64_t axis = normAxis(static_cast<int64_t>(g.getAxis()), d->size());
    if (axis < 0 || axis >= static_cast<int64_t>(d->size()))
      return std::nullopt;
    Dims out(d->begin(), d->begin() + axis);
    out.append(i->begin(), i->end());
    out.append(d->begin() + axis + 1, d->end());
    return out;
  }
  if (auto g = dyn_cast<GatherElementsOp>(op))
    return shapeOf(g.getIndices());
  if (auto s = dyn_cast<SliceOp>(op)) {
    auto in = shapeOf(s.getData());
    if (!in)
      return std::nullopt;
    Dims out = *in;
    auto starts = constInts(s.getStarts()), ends = constInts(s.getEnds());
    std::optional<Dims> axes, steps;
    if (!isNone(s.getAxes()))
      axes = constInts(s.getAxes());
    if (!isNone(s.getSteps()))
      steps = constInts(s.getSteps());
    if (!starts || !ends || (!isNone(s.getAxes()) && !axes) ||
        (!isNone(s.getSteps()) && !steps)) {
      // Only the sliced axes change; without constant axes any may.
      if (axes) {
        for (int64_t a : *axes) {
          a = normAxis(a, in->size());
          if (a < 0 || a >= static_cast<int64_t>(in->size()))
            return std::nullopt;
          out[a] = kDyn;
        }
        return out;
      }
      return Dims(in->size(), kDyn);
    }
    for (size_t k = 0; k < starts->size(); ++k) {
      int64_t a = axes ? normAxis((*axes)[k], in->size()) : static_cast<int64_t>(k);
      if (a < 0 || a >= static_cast<int64_t>(in->size()) || k >= ends->size())
        return std::nullopt;
      int64_t dim = (*in)[a];
      int64_t step = steps ? (*steps)[k] : 1;
      if (dim == kDyn || step == 0) {
        out[a] = kDyn;
        continue;
      }
      int64_t st = (*starts)[k], en = (*ends)[k];
      if (st < 0) st += dim;
      if (en < 0) en += dim;
      if (step > 0) {
        st = std::clamp<int64_t>(st, 0, dim);
        en = std::clamp<int64_t>(en, 0, dim);
        out[a] = en > st ? (en - st + step - 1) / step : 0;
      } else {
        st = std::clamp<int64_t>(st, -1, dim - 1);
        en = std::clamp<int64_t>(en, -1, dim - 1);
        out[a] = st > en ? (st - en + (-step) - 1) / (-step) : 0;
      }
    }
    return out;
  }
  if (auto e = dyn_cast<ExpandOp>(op)) {
    auto in = shapeOf(e.getInput());
    auto target = partialInts(e.getShape());
    if (in && !target) {
      auto st = dyn_cast<RankedTensorType>(e.getShape().getType());
      if (st && st.getRank() == 1 && !st.isDynamicDim(0))
        return Dims(std::max<int64_t>(st.getDimSize(0), in->size()), kDyn);
    }
    if (!in || !target)
      return std::nullopt;
    // Broadcast the input shape against the target shape.
    Dims out(std::max(in->size(), target->size()), 1);
    for (size_t i = 0; i < out.size(); ++i) {
      int64_t a = i + in->size() >= out.size() ? (*in)[i + in->size() - out.size()] : 1;
      int64_t b = i + target->size() >= out.size() ? (*target)[i + target->size() - out.size()] : 1;
      if (a == 1)
        out[i] = b;
      else if (b == 1 || a == b || b == kDyn)
        out[i] = a;
      else if (a == kDyn)
        out[i] = b;
      else
        return std::nullopt;
    }
    return out;
  }
  if (auto t = dyn_cast<TileOp>(op)) {
    auto in = shapeOf(t.getInput());
    if (!in)
      return std::nullopt;
    auto reps = constInts(t.getRepeats());
    Dims out = *in;
    for (size_t i = 0; i < out.size(); ++i)
      out[i] = reps && reps->size() == out.size() && out[i] != kDyn ? out[i] * (*reps)[i] : kDyn;
    return out;
  }
  if (auto r = dyn_cast<RangeOp>(op)) {
    // n = max(ceil((limit - start) / delta), 0) from constant operands.
    auto si = constInts(r.getStart()), li = constInts(r.getLimit()), di = constInts(r.getDelta());
    if (si && li && di && si->size() == 1 && li->size() == 1 && di->size() == 1 && (*di)[0] != 0) {
      int64_t num = (*li)[0] - (*si)[0], den = (*di)[0];
      int64_t q = num / den + ((num % den != 0) && ((num < 0) == (den < 0)) ? 1 : 0);
      return Dims{std::max<int64_t>(q, 0)};
    }
    auto sf = constFloats(r.getStart()), lf = constFloats(r.getLimit()), df = constFloats(r.getDelta());
    if (sf && lf && df && sf->size() == 1 && lf->size() == 1 && df->size() == 1 && (*df)[0] != 0)
      return Dims{std::max<int64_t>(
          static_cast<int64_t>(std::ceil(((*lf)[0] - (*sf)[0]) / (*df)[0])), 0)};
    return Dims{kDyn};
  }
  if (auto c = dyn_cast<ConstantOfShapeOp>(op)) {
    if (auto dims = partialInts(c.getInput()))
      return dims;
    auto s = shapeOf(c.getInput());
    if (s && s->size() == 1 && (*s)[0] != kDyn)
      return Dims((*s)[0], kDyn);
    return std::nullopt;
  }
  if (auto p = dyn_cast<PadOp>(op)) {
    auto in = shapeOf(p.getData());
    if (!in)
      return std::nullopt;
    auto pads = constInts(p.getPads());
    if (!pads || !isNone(p.getAxes()) || pads->size() != 2 * in->size())
      return Dims(in->size(), kDyn);
    Dims out;
    for (size_t i = 0; i < in->size(); ++i)
      out.push_back((*in)[i] == kDyn ? kDyn : (*in)[i] + (*pads)[i] + (*pads)[i + in->size()]);
    return out;
  }
  if (auto r = dyn_cast<ResizeOp>(op)) {
    auto in = shapeOf(r.getX());
    if (!in || r.getAxes())
      return std::nullopt;
    if (!isNone(r.getSizes())) {
      auto sizes = constInts(r.getSizes());
      if (sizes && sizes->size() == in->size() && r.getKeepAspectRatioPolicy() == "stretch")
        return sizes;
      return Dims(in->size(), kDyn);
    }
    auto scales = constFloats(r.getScales());
    if (!scales || scales->size() != in->size())
      return Dims(in->size(), kDyn);
    Dims out;
    for (size_t i = 0; i < in->size(); ++i)
      out.push_back((*in)[i] == kDyn ? kDyn
                                     : static_cast<int64_t>(std::floor((*in)[i] * (*scales)[i])));
    return out;
  }
  if (auto s = dyn_cast<SplitOp>(op)) {
    auto in = shapeOf(s.getInput());
    if (!in)
      return std::nullopt;
    int64_t axis = normAxis(static_cast<int64_t>(s.getAxis()), in->size());
    if (axis < 0 || axis >= static_cast<int64_t>(in->size()))
      return std::nullopt;
    Dims out = *in;
    int64_t n = op->getNumResults();
    if (!isNone(s.getSplit())) {
      auto sizes = constInts(s.getSplit());
      out[axis] = sizes && static_cast<int64_t>(sizes->size()) == n ? (*sizes)[idx] : kDyn;
    } else {
      int64_t d = (*in)[axis];
      if (d == kDyn)
        out[axis] = kDyn;
      else {
        int64_t chunk = (d + n - 1) / n;
        out[axis] = idx + 1 < static_cast<unsigned>(n) ? chunk : d - chunk * (n - 1);
      }
    }
    return out;
  }
  if (auto t = dyn_cast<TopKOp>(op)) {
    auto in = shapeOf(t.getX());
    if (!in)
      return std::nullopt;
    int64_t axis = normAxis(static_cast<int64_t>(t.getAxis()), in->size());
    if (axis < 0 || axis >= static_cast<int64_t>(in->size()))
      return std::nullopt;
    auto k = constInts(t.getK());
    (*in)[axis] = k && k->size() == 1 ? (*k)[0] : kDyn;
    return in;
  }
  return std::nullopt;
}

struct QCInferShapesPass : quantc::impl::QCInferShapesBase<QCInferShapesPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    bool failedAny = false;
    // Shape arithmetic is folded as the walk goes, so that a shape computed
    // from a refined type (Shape -> Slice -> Concat -> Reshape) reaches its
    // consumer in the same sweep.
    OperationFolder folder(func.getContext());
    func.walk([&](Operation *op) {
      if (!isa<QCDialect>(op->getDialect()))
        return;
      for (unsigned i = 0; i < op->getNumResults(); ++i) {
        Value result = op->getResult(i);
        auto current = dyn_cast<TensorType>(result.getType());
        if (!current)
          continue;
        std::optional<Dims> inferred = inferResultShape(op, i);
        if (!inferred)
          continue;
        Dims merged = *inferred;
        if (auto ranked = dyn_cast<RankedTensorType>(current)) {
          if (ranked.getRank() != static_cast<int64_t>(merged.size())) {
            op->emitOpError() << "result " << i << " has type " << current
                              << " but its operands give rank " << merged.size();
            failedAny = true;
            return;
          }
          for (auto [m, c] : llvm::zip(merged, ranked.getShape())) {
            if (c == kDyn)
              continue;
            if (m != kDyn && m != c) {
              op->emitOpError() << "result " << i << " has type " << current
                                << " but its operands give a dimension of " << m;
              failedAny = true;
              return;
            }
            m = c;
          }
        }
        auto refined = RankedTensorType::get(merged, current.getElementType());
        if (refined != current)
          result.setType(refined);
      }
      if (op->getNumResults() == 1 && !op->hasTrait<OpTrait::ConstantLike>()) {
        auto rt = dyn_cast<RankedTensorType>(op->getResult(0).getType());
        if (rt && rt.hasStaticShape() && isa<IntegerType>(rt.getElementType()) &&
            rt.getNumElements() <= 64)
          (void)folder.tryToFold(op);
      }
    });
    if (failedAny)
      return signalPassFailure();
    // Keep the signature in step with what the function returns.
    for (Block &block : func.getBody())
      if (auto ret = dyn_cast<func::ReturnOp>(block.getTerminator()))
        func.setFunctionType(FunctionType::get(
            func.getContext(), func.getArgumentTypes(), ret.getOperandTypes()));
  }
};
} // namespace
