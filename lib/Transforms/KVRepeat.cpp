//===- KVRepeat.cpp - exporters' repeat of grouped K/V heads --------------===//
#include "KVRepeat.h"

using namespace mlir;
using namespace quantc::qc;

namespace quantc {
namespace {
/// The ranked type of v. Sequence lengths may be symbolic (compiled for
/// any length); batch, heads and head size are checked to be static where
/// the algebra needs them.
RankedTensorType staticType(Value v) { return dyn_cast<RankedTensorType>(v.getType()); }

constexpr int64_t kDyn = ShapedType::kDynamic;

/// Two dims that must agree: equal, or both symbolic (the same sequence
/// length by construction of the graph).
bool same(int64_t a, int64_t b) { return a == b; }

} // namespace

std::optional<KVRepeat> matchKVRepeat(ReshapeOp r) {
  auto rt = staticType(r.getReshaped());
  auto e = r.getData().getDefiningOp<ExpandOp>();
  if (!rt || rt.getRank() != 4 || !e)
    return std::nullopt;
  auto et = staticType(e.getOutput());
  auto u = e.getInput().getDefiningOp<UnsqueezeOp>();
  if (!et || et.getRank() != 5 || !u)
    return std::nullopt;
  auto ut = staticType(u.getExpanded());
  auto kt = staticType(u.getData());
  if (!ut || !kt || kt.getRank() != 4 || ut.getRank() != 5 || ut.getDimSize(2) != 1)
    return std::nullopt;
  // [b, G, 1, s, d] from [b, G, s, d]: the unsqueezed axis is 2.
  for (int i = 0; i < 2; ++i)
    if (ut.getDimSize(i) != kt.getDimSize(i))
      return std::nullopt;
  if (ut.getDimSize(3) != kt.getDimSize(2) || ut.getDimSize(4) != kt.getDimSize(3))
    return std::nullopt;
  int64_t b = kt.getDimSize(0), G = kt.getDimSize(1), s = kt.getDimSize(2), d = kt.getDimSize(3);
  int64_t R = et.getDimSize(2);
  if (b == kDyn || G == kDyn || d == kDyn || R == kDyn)
    return std::nullopt;
  if (!same(et.getDimSize(0), b) || !same(et.getDimSize(1), G) || !same(et.getDimSize(3), s) ||
      !same(et.getDimSize(4), d) || !same(rt.getDimSize(0), b) || rt.getDimSize(1) != G * R ||
      !same(rt.getDimSize(2), s) || !same(rt.getDimSize(3), d) || R < 2)
    return std::nullopt;
  return KVRepeat{u.getData(), G, R};
}


} // namespace quantc
