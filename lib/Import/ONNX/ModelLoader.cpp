//===- ModelLoader.cpp - read ONNX files (binary or text) -----------------===//
#include "GraphImporter.h"
#include "TensorImporter.h"
#include "quantc/Dialect/QC/QCDialect.h"
#include "quantc/Import/ONNX/ONNXImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "onnx/defs/parser.h"
#include "onnx/shape_inference/implementation.h"

#include <google/protobuf/io/coded_stream.h>

using namespace mlir;

namespace quantc {

void registerONNXImportDialects(MLIRContext &context) {
  context.loadDialect<qc::QCDialect, func::FuncDialect, quant::QuantDialect>();
}

namespace {
bool looksLikeText(llvm::StringRef bytes) {
  llvm::StringRef head = bytes.take_front(4096).ltrim();
  if (head.empty())
    return false;
  for (char c : bytes.take_front(4096))
    if (c == 0 || (static_cast<unsigned char>(c) < 0x09))
      return false;
  return head.front() == '<' || head.front() == '#' ||
         isalpha(static_cast<unsigned char>(head.front()));
}

bool parseBinary(llvm::StringRef bytes, onnx::ModelProto &model) {
  google::protobuf::io::CodedInputStream stream(
      reinterpret_cast<const uint8_t *>(bytes.data()), static_cast<int>(bytes.size()));
  stream.SetTotalBytesLimit(INT_MAX);
  return model.ParseFromCodedStream(&stream) && stream.ConsumedEntireMessage();
}
} // namespace

OwningOpRef<ModuleOp> importONNXBuffer(MLIRContext &context, llvm::StringRef bytes,
                                       llvm::StringRef displayName,
                                       llvm::StringRef baseDir,
                                       const ONNXImportOptions &options) {
  registerONNXImportDialects(context);
  auto fail = [&](const llvm::Twine &msg) {
    emitError(UnknownLoc::get(&context)) << displayName << ": " << msg;
    return OwningOpRef<ModuleOp>();
  };
  if (bytes.empty())
    return fail("the file is empty");
  if (bytes.size() >= (size_t(2) << 30))
    return fail("models over 2 GiB must keep their weights in external data");

  onnx::ModelProto model;
  if (looksLikeText(bytes)) {
    std::string text = bytes.str();
    onnx::Status status;
    try {
      status = onnx::OnnxParser::Parse(model, text.c_str());
    } catch (const std::exception &e) {
      return fail(llvm::Twine("invalid ONNX text: ") + e.what());
    }
    if (!status.IsOK()) {
      model.Clear();
      if (!parseBinary(bytes, model))
        return fail("invalid ONNX text: " + status.ErrorMessage());
    }
  } else if (!parseBinary(bytes, model)) {
    return fail("not a valid ONNX model: the protobuf cannot be parsed "
                "(truncated or corrupt file?)");
  }
  if (!model.has_graph())
    return fail("the model has no graph");
  if (model.ir_version() <= 0)
    return fail("the model has no ir_version");

  if (options.shapeInference) {
    try {
      onnx::ShapeInferenceOptions siOptions(/*check_type=*/false,
                                            /*strict_mode=*/0,
                                            /*data_prop=*/true);
      onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(),
                                         siOptions);
    } catch (const std::exception &e) {
      // ONNX could not infer every shape (for example an opset newer than
      // libonnx knows); the importer then uses unranked types where needed.
      emitWarning(UnknownLoc::get(&context))
          << displayName << ": ONNX shape inference stopped: " << e.what();
    }
  }

  onnx_import::ExternalDataStore external(baseDir.str());
  onnx_import::TensorImporter tensors(context, external, options.denseElementLimit);
  onnx_import::GraphImporter importer(context, displayName.str(), tensors, options);
  return importer.importModel(model);
}

OwningOpRef<ModuleOp> importONNXFile(MLIRContext &context, llvm::StringRef path,
                                     const ONNXImportOptions &options) {
  registerONNXImportDialects(context);
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    emitError(UnknownLoc::get(&context))
        << path << ": cannot read the file: " << buffer.getError().message();
    return {};
  }
  llvm::StringRef dir = llvm::sys::path::parent_path(path);
  return importONNXBuffer(context, (*buffer)->getBuffer(), path,
                          dir.empty() ? "." : dir, options);
}

} // namespace quantc

llvm::Expected<mlir::DenseElementsAttr>
quantc::readTensorProtoFile(MLIRContext &context, llvm::StringRef path, std::string *name) {
  auto buf = llvm::MemoryBuffer::getFile(path);
  if (!buf)
    return llvm::createStringError(path.str() + ": cannot read: " + buf.getError().message());
  onnx::TensorProto t;
  if (!t.ParseFromArray((*buf)->getBufferStart(), static_cast<int>((*buf)->getBufferSize())))
    return llvm::createStringError(path.str() + ": not a serialized ONNX TensorProto");
  if (name)
    *name = t.name();
  onnx_import::ExternalDataStore external(llvm::sys::path::parent_path(path).str());
  onnx_import::TensorImporter importer(context, external, INT64_MAX);
  std::string why;
  auto attr = dyn_cast_or_null<DenseElementsAttr>(importer.import(t, why, /*forceDense=*/true));
  if (!attr)
    return llvm::createStringError(path.str() + ": " + (why.empty() ? "unsupported tensor" : why));
  return attr;
}

