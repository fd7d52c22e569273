//===- QCDialect.td - the qc dialect ----------------------*- tablegen -*-===//
#ifndef QUANTC_DIALECT_QC_QCDIALECT_TD
#define QUANTC_DIALECT_QC_QCDIALECT_TD

include "mlir/IR/OpBase.td"

def QC_Dialect : Dialect {
  let name = "qc";
  let cppNamespace = "::quantc::qc";
  let summary = "Graph ops with ONNX semantics, plus quantization ops.";
  let description = [{
    The `qc` dialect holds a model imported from ONNX. Every op has the
    semantics of the ONNX operator of the same name at the newest opset
    quantc knows (21); the importer rewrites older opsets into that form
    (for example attributes that later became inputs are materialized as
    `qc.constant` operands). Omitted optional inputs are the value of a
    `qc.none` op. Quantized tensors use the upstream `!quant.uniform` types.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::quant::QuantDialect"];
  let hasConstantMaterializer = 1;
  let useDefaultAttributePrinterParser = 0;
}

#endif
