//===- ContextStruct.h - arguments passed to a callback through a struct -*- C++ -*-===//
//
// quantc-cpu-parallel-dispatch and quantc-cpu-epilogue-dispatch hand a
// function to the runtime as a trampoline plus a context pointer: the
// call's trailing arguments stored in a struct in the caller's frame,
// loaded back by the trampoline.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_TARGET_CPU_CONTEXTSTRUCT_H
#define QUANTC_LIB_TARGET_CPU_CONTEXTSTRUCT_H

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"

namespace quantc::cpu {

/// `values` stored, before `call`, into a struct of their types allocated
/// in the entry block of the function holding `call` (the call may sit in
/// a loop); returns its address.
inline mlir::Value storeContext(mlir::LLVM::CallOp call, mlir::ValueRange values) {
  using namespace mlir;
  MLIRContext *ctx = call.getContext();
  Location loc = call.getLoc();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  SmallVector<Type> fields(values.getTypes());
  auto structTy = LLVM::LLVMStructType::getLiteral(ctx, fields);
  auto caller = call->getParentOfType<LLVM::LLVMFuncOp>();
  OpBuilder eb = OpBuilder::atBlockBegin(&caller.getBody().front());
  Value one = LLVM::ConstantOp::create(eb, loc, eb.getI64Type(), eb.getI64IntegerAttr(1));
  Value ctxPtr = LLVM::AllocaOp::create(eb, loc, ptr, structTy, one);
  OpBuilder b(call);
  for (unsigned i = 0; i < values.size(); ++i) {
    Value p = LLVM::GEPOp::create(b, loc, ptr, structTy, ctxPtr,
                                  ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(i)});
    LLVM::StoreOp::create(b, loc, values[i], p);
  }
  return ctxPtr;
}

/// The fields of types `fields` loaded from the struct at `ctxPtr`,
/// appended to `out`.
inline void loadContext(mlir::OpBuilder &b, mlir::Location loc, mlir::Value ctxPtr,
                        mlir::TypeRange fields, llvm::SmallVectorImpl<mlir::Value> &out) {
  using namespace mlir;
  auto ptr = LLVM::LLVMPointerType::get(b.getContext());
  auto structTy = LLVM::LLVMStructType::getLiteral(b.getContext(), SmallVector<Type>(fields));
  for (unsigned i = 0; i < fields.size(); ++i) {
    Value p = LLVM::GEPOp::create(b, loc, ptr, structTy, ctxPtr,
                                  ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(i)});
    out.push_back(LLVM::LoadOp::create(b, loc, fields[i], p));
  }
}

} // namespace quantc::cpu

#endif
