//===- LoweringUtils.h - shared pieces of qc-to-linalg ----------*- C++ -*-===//
#ifndef QUANTC_LIB_CONVERSION_QCTOLINALG_LOWERINGUTILS_H
#define QUANTC_LIB_CONVERSION_QCTOLINALG_LOWERINGUTILS_H

#include "quantc/Dialect/QC/QCOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

#include <functional>

namespace quantc::lowering {

/// The static ranked type of `v`, or null after reporting on `op` why the
/// lowering needs one.
mlir::RankedTensorType requireStatic(mlir::Operation *op, mlir::Value v,
                                     llvm::StringRef what);

/// The ranked type of `v`, whose dims may be dynamic (the lowerings that
/// call this size their results with tensor.dim), or null after reporting.
mlir::RankedTensorType requireRanked(mlir::Operation *op, mlir::Value v,
                                     llvm::StringRef what);

bool isNoneValue(mlir::Value v);

/// The sizes of a ranked tensor value: constants, or tensor.dim for the
/// dynamic ones.
llvm::SmallVector<mlir::OpFoldResult> mixedSizes(mlir::OpBuilder &b, mlir::Location l,
                                                 mlir::Value v);

/// The sizes of `type`, its dynamic dims read from `inputs`: result dim r
/// is dim j of input i where input i's map has result j == d_r and that
/// dim of the input is dynamic too (a dynamic dim is assumed to match the
/// other operands' at run time, never to broadcast). nullopt when some
/// dynamic dim is found in no input.
std::optional<llvm::SmallVector<mlir::OpFoldResult>>
sizesFromInputs(mlir::OpBuilder &b, mlir::Location l, mlir::RankedTensorType type,
                mlir::ValueRange inputs, mlir::ArrayRef<mlir::AffineMap> maps);

/// tensor.empty of `type` with `sizes` (the dynamic ones used).
mlir::Value emptyTensor(mlir::OpBuilder &b, mlir::Location l, mlir::RankedTensorType type,
                        mlir::ArrayRef<mlir::OpFoldResult> sizes);

/// The product of sizes as an index value.
mlir::Value productOf(mlir::OpBuilder &b, mlir::Location l,
                      mlir::ArrayRef<mlir::OpFoldResult> sizes);

/// Indexing map reading an operand of `operandType` at the result's index
/// under numpy broadcasting (right-aligned; size-1 dims read index 0).
mlir::AffineMap broadcastMap(mlir::RankedTensorType operandType,
                             mlir::ArrayRef<int64_t> resultShape,
                             mlir::MLIRContext *ctx);

/// Computes one result element from the operands' elements.
using ScalarFn = std::function<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                           mlir::ValueRange, mlir::Type)>;

/// A parallel linalg.generic over `resultType` reading `inputs` with
/// broadcasting, computing each element with `fn`. Dynamic result dims are
/// sized from the inputs (sizesFromInputs); null if they cannot be.
mlir::Value buildElementwise(mlir::OpBuilder &b, mlir::Location loc,
                             mlir::RankedTensorType resultType,
                             mlir::ValueRange inputs, const ScalarFn &fn);
/// The same with explicit indexing maps for the inputs.
mlir::Value buildElementwiseWithMaps(mlir::OpBuilder &b, mlir::Location loc,
                                     mlir::RankedTensorType resultType,
                                     mlir::ValueRange inputs,
                                     mlir::ArrayRef<mlir::AffineMap> inputMaps,
                                     const ScalarFn &fn);

/// tensor.pad with static low/high pads and a scalar padding value.
mlir::Value buildPad(mlir::OpBuilder &b, mlir::Location loc,
                     mlir::RankedTensorType resultType, mlir::Value source,
                     mlir::ArrayRef<int64_t> low, mlir::ArrayRef<int64_t> high,
                     mlir::Value padValue);

/// A tensor filled with `value` (`type` static, or its dynamic dims given
/// by `sizes`).
mlir::Value buildFilled(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::RankedTensorType type, mlir::TypedAttr value,
                        mlir::ArrayRef<mlir::OpFoldResult> sizes = {});

/// Scalar constants of an element type.
mlir::Value scalarConst(mlir::OpBuilder &b, mlir::Location loc, mlir::Type type,
                        double value);

/// The values of a constant operand (through arith.constant or qc.constant).
std::optional<llvm::SmallVector<int64_t>> constIntOperand(mlir::Value v);

/// The most negative finite value (or -inf) of a float type; the minimum of
/// an integer type.
mlir::TypedAttr lowestValue(mlir::Type type);

/// Collapses dims [0, n) of a static tensor into one (n >= 1), and the
/// inverse: dim 0 of `v` expanded into the leading dims of `type`.
mlir::Value collapseLeading(mlir::OpBuilder &b, mlir::Location l, mlir::Value v, int64_t n);
mlir::Value expandLeading(mlir::OpBuilder &b, mlir::Location l, mlir::Value v,
                          mlir::RankedTensorType type, mlir::Value like = {});

/// numpy matmul as linalg.matmul / linalg.batch_matmul (f32 into f32, or
/// i8 into i32) when the shapes allow (no vector operand, no batch
/// broadcasting); null otherwise.
mlir::Value buildNamedMatMul(mlir::OpBuilder &b, mlir::Location l, mlir::Value A,
                             mlir::Value B, mlir::RankedTensorType rt);

/// A 2-D, one-group convolution of i8 `x` (NCHW) and `w` (MCKhKw) into
/// `accType` (i32) as linalg.conv_2d_nchw_fchw, the window resolved from
/// the ONNX attributes and `x` padded with the scalar `padValue`. With
/// `windowSums`, also the sum of x over each window (all channels), of
/// shape N x 1 x OH x OW. With `group` = C = M (w of one input channel,
/// M x 1 x Kh x Kw), a depthwise one as linalg.depthwise_conv_2d_nchw_chw
/// (no window sums). Null after an error reported on `op`.
mlir::Value buildConv2DS8(mlir::Operation *op, mlir::OpBuilder &b, mlir::Value x,
                          mlir::Value w, mlir::Value padValue,
                          mlir::RankedTensorType accType,
                          std::optional<llvm::ArrayRef<int64_t>> strides,
                          std::optional<llvm::ArrayRef<int64_t>> dilations,
                          std::optional<llvm::ArrayRef<int64_t>> pads,
                          llvm::StringRef autoPad, mlir::Value *windowSums,
                          int64_t group = 1);

/// A 1:1 builtin.unrealized_conversion_cast from an unsigned integer
/// tensor to its signless twin.
bool isUnsignedToSignlessCast(mlir::UnrealizedConversionCastOp op);

void populateElementwisePatterns(mlir::RewritePatternSet &patterns);
void populateContractionPatterns(mlir::RewritePatternSet &patterns);
void populateReductionPatterns(mlir::RewritePatternSet &patterns);
void populateDataMovementPatterns(mlir::RewritePatternSet &patterns);
void populateResizePatterns(mlir::RewritePatternSet &patterns);
void populateControlFlowPatterns(mlir::RewritePatternSet &patterns);
void populateQuantizePatterns(mlir::RewritePatternSet &patterns);
void populateAttentionPatterns(mlir::RewritePatternSet &patterns);
void populateHadamardPatterns(mlir::RewritePatternSet &patterns);

} // namespace quantc::lowering

#endif
