//===- ModelSummary.cpp - human summary of an imported module -------------===//
#include "quantc/Driver/ModelSummary.h"
#include "quantc/Dialect/QC/QCOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/Format.h"

#include <map>

using namespace mlir;

namespace quantc {

void printModelSummary(ModuleOp module, llvm::raw_ostream &os) {
  for (auto func : module.getOps<func::FuncOp>()) {
    os << "function @" << func.getName() << "\n";
    auto name = [&](DictionaryAttr attrs) -> std::string {
      if (attrs)
        if (auto n = attrs.getAs<StringAttr>("qc.name"))
          return n.str();
      return "?";
    };
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      os << "  input  " << name(func.getArgAttrDict(i)) << " : "
         << func.getArgument(i).getType() << "\n";
    for (unsigned i = 0; i < func.getNumResults(); ++i)
      os << "  output " << name(func.getResultAttrDict(i)) << " : "
         << func.getResultTypes()[i] << "\n";
    std::map<std::string, int64_t> counts;
    int64_t numOps = 0, numConstants = 0, params = 0, bytes = 0, unranked = 0;
    func.walk([&](Operation *op) {
      if (isa<func::FuncOp, func::ReturnOp, qc::NoneOp>(op))
        return;
      if (auto c = dyn_cast<qc::ConstantOp>(op)) {
        ++numConstants;
        auto t = cast<ShapedType>(c.getType());
        params += t.getNumElements();
        unsigned bits = t.getElementType().getIntOrFloatBitWidth();
        bytes += (t.getNumElements() * bits + 7) / 8;
        return;
      }
      ++numOps;
      ++counts[op->getName().getStringRef().str()];
      for (Type t : op->getResultTypes())
        if (isa<UnrankedTensorType>(t))
          ++unranked;
    });
    os << "  " << numOps << " ops, " << numConstants << " constants holding "
       << params << " elements (" << llvm::format("%.2f", bytes / 1048576.0)
       << " MiB)";
    os << ", " << unranked << " unranked results\n";
    std::vector<std::pair<std::string, int64_t>> sorted(counts.begin(), counts.end());
    std::sort(sorted.begin(), sorted.end(),
                     [](auto &a, auto &b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
    for (auto &[op, n] : sorted)
      os << llvm::format("  %6lld  ", static_cast<long long>(n)) << op << "\n";
  }
}

} // namespace quantc
