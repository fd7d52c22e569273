//===- QCDialectTest.cpp - qc ops built from C++ ---------------------------===//
#include "quantc/Dialect/QC/QCOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace quantc;

namespace {
TEST(QCDialect, ShapeOfStaticTensorFolds) {
  MLIRContext ctx;
  ctx.loadDialect<qc::QCDialect>();
  OpBuilder b(&ctx);
  auto loc = b.getUnknownLoc();
  auto module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module.getBody());
  auto type = RankedTensorType::get({2, 5, 7}, b.getF32Type());
  auto value = DenseElementsAttr::get(type, b.getF32FloatAttr(1.0f));
  auto c = qc::ConstantOp::create(b, loc, type, value);
  auto shapeType = RankedTensorType::get({3}, b.getI64Type());
  auto shape = qc::ShapeOp::create(b, loc, shapeType, c, b.getI64IntegerAttr(0),
                                   IntegerAttr());
  SmallVector<OpFoldResult> folded;
  ASSERT_TRUE(succeeded(shape->fold(folded)));
  ASSERT_EQ(folded.size(), 1u);
  auto attr = dyn_cast<DenseIntElementsAttr>(cast<Attribute>(folded[0]));
  ASSERT_TRUE(attr);
  SmallVector<int64_t> dims;
  for (const APInt &v : attr.getValues<APInt>())
    dims.push_back(v.getSExtValue());
  EXPECT_EQ(dims, (SmallVector<int64_t>{2, 5, 7}));
  module->erase();
}

TEST(QCDialect, TransposeVerifierRejectsNonPermutation) {
  MLIRContext ctx;
  ctx.loadDialect<qc::QCDialect>();
  ctx.getDiagEngine().registerHandler([](Diagnostic &) { return success(); });
  OpBuilder b(&ctx);
  auto loc = b.getUnknownLoc();
  auto module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module.getBody());
  auto type = RankedTensorType::get({2, 3}, b.getF32Type());
  auto c = qc::ConstantOp::create(b, loc, type,
                                  DenseElementsAttr::get(type, b.getF32FloatAttr(0)));
  qc::TransposeOp::create(b, loc, type, c, b.getDenseI64ArrayAttr({0, 0}));
  EXPECT_TRUE(failed(verify(module)));
  module->erase();
}
} // namespace
