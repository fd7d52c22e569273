//===- QCOps.cpp - generated op definitions of the qc dialect -------------===//
#include "quantc/Dialect/QC/QCOps.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"

using namespace mlir;
using namespace quantc::qc;

#define GET_OP_CLASSES
#include "quantc/Dialect/QC/QCOps.cpp.inc"
