//===- QuantizeCommon.h - shared by the quantization lowerings --*- C++ -*-===//
//
// QuantizeOps.cpp (QuantizeLinear / DequantizeLinear), Fp8.cpp,
// MatMulInt4.cpp and IntegerOps.cpp share these helpers
// (QuantizeCommon.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_CONVERSION_QCTOLINALG_QUANTIZECOMMON_H
#define QUANTC_LIB_CONVERSION_QCTOLINALG_QUANTIZECOMMON_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

#include <optional>

namespace quantc::lowering::qdq {

/// The signless storage type of a quantized or integer element type, and
/// whether its values are unsigned (null for anything else).
mlir::IntegerType storageOf(mlir::Type elem, bool *isUnsigned = nullptr);
/// `v` as a signless integer tensor (unsigned values keep their bits).
mlir::Value asSignless(mlir::ConversionPatternRewriter &rw, mlir::Location l, mlir::Value v);
/// A 4-bit constant packed two per byte along its last dim (low nibble
/// first); null when `orig` is not such a constant.
mlir::Value packNibbles(mlir::OpBuilder &b, mlir::Location l, mlir::Value orig);
/// The 4-bit value at index `idx` (along the packed dim) of its byte, as i8.
mlir::Value nibbleAt(mlir::OpBuilder &b, mlir::Location l, mlir::Value byte, mlir::Value idx,
                     bool isSigned);
/// The fewest bits (2, 3 or 4) that hold every value of an unsigned 4-bit
/// constant [K, N]; 0 when `orig` is not one.
int lowBitWidth(mlir::Value orig);
/// An unsigned 4-bit constant [K, N] whose values fit in `bits` (2 or 3)
/// as bit planes (runtime Kernels.h, LowBitWeights): `low` [K, ceil(N/4)]
/// with bits 0-1 of element n at bit 2 (n % 4) of byte n / 4, and for 3
/// bits `high` [K, ceil(N/8)] with bit 2 at bit n % 8 of byte n / 8.
void packLowBitPlanes(mlir::OpBuilder &b, mlir::Location l, mlir::Value orig, int bits,
                      mlir::Value &low, mlir::Value &high);
/// The value of element `idx` from its plane bytes (`high` null at 2 bits),
/// as i8.
mlir::Value lowBitAt(mlir::OpBuilder &b, mlir::Location l, mlir::Value low, mlir::Value high,
                     mlir::Value idx);
/// Maps of a scale or zero-point operand (per tensor, per axis, blocked).
mlir::FailureOr<mlir::AffineMap> paramMap(mlir::Operation *op, mlir::Value param,
                                          mlir::RankedTensorType data, int64_t axis,
                                          llvm::StringRef what, int64_t blockSize = 0);
/// Appends the scale and (if present) zero point of a Quantize/Dequantize
/// as generic inputs with their maps.
mlir::LogicalResult addParams(mlir::Operation *op, mlir::ConversionPatternRewriter &rw,
                              mlir::Value scale, mlir::Value zp, mlir::RankedTensorType data,
                              int64_t axis, llvm::SmallVectorImpl<mlir::Value> &ins,
                              llvm::SmallVectorImpl<mlir::AffineMap> &maps, bool &hasZp,
                              int64_t blockSize = 0, mlir::Value originalZp = {});
/// A static ranked tensor type (an error on `op` otherwise: null).
mlir::RankedTensorType staticType(mlir::Operation *op, mlir::Value v, llvm::StringRef what);
/// Unsigned tensors that are not constants must only feed ops lowered here.
mlir::LogicalResult checkUnsignedUsers(mlir::Operation *op, mlir::Value v);
/// Whether the original (pre-conversion) value has unsigned elements.
bool isUnsignedElem(mlir::Value original);

/// An fp8 format: mantissa bits, exponent bias, largest finite value.
struct Fp8Format {
  int64_t mbits, bias;
  double maxFinite;
  bool hasInf; // e5m2
  int64_t maxCode() const { return hasInf ? 0x7B : 0x7E; }
};
std::optional<Fp8Format> fp8Format(mlir::Type t);

void populateFp8Patterns(mlir::RewritePatternSet &patterns);
void populateInt4Patterns(mlir::RewritePatternSet &patterns);
void populateIntegerOpPatterns(mlir::RewritePatternSet &patterns);

} // namespace quantc::lowering::qdq

#endif
