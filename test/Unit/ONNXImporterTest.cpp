//===- ONNXImporterTest.cpp - importer behaviour on good and bad files ----===//
#include "quantc/Dialect/QC/QCOps.h"
#include "quantc/Import/ONNX/ONNXImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include "onnx/defs/parser.h"

#include <gtest/gtest.h>

#include <fstream>

using namespace mlir;

namespace {

/// Imports `bytes` and returns the module (or null) plus every diagnostic.
struct ImportResult {
  OwningOpRef<ModuleOp> module;
  std::string diagnostics;
};

ImportResult importBytes(MLIRContext &ctx, const std::string &bytes,
                         const std::string &baseDir = ".") {
  ImportResult r;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
    r.diagnostics += d.str() + "\n";
    return success();
  });
  r.module = quantc::importONNXBuffer(ctx, bytes, "test.onnx", baseDir);
  return r;
}

ImportResult importFile(MLIRContext &ctx, const std::string &path) {
  ImportResult r;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
    r.diagnostics += d.str() + "\n";
    return success();
  });
  r.module = quantc::importONNXFile(ctx, path);
  return r;
}

onnx::ModelProto parseText(const char *text) {
  onnx::ModelProto model;
  auto status = onnx::OnnxParser::Parse(model, text);
  EXPECT_TRUE(status.IsOK()) << status.ErrorMessage();
  return model;
}

const char *kSmallModel = R"(
<ir_version: 8, opset_import: ["" : 13]>
g (float[2, 3] X) => (float[2, 3] Y) {
  W = Constant <value = float[3] {1.0, 2.0, 3.0}> ()
  T = Mul(X, W)
  Y = Relu(T)
}
)";

std::string binary(const onnx::ModelProto &m) {
  std::string out;
  EXPECT_TRUE(m.SerializeToString(&out));
  return out;
}

class TempDir {
public:
  TempDir() {
    llvm::SmallString<128> p;
    EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("quantc-test", p));
    path = std::string(p);
  }
  ~TempDir() { llvm::sys::fs::remove_directories(path); }
  std::string file(const std::string &name) const { return path + "/" + name; }
  void write(const std::string &name, const std::string &bytes) const {
    std::ofstream f(file(name), std::ios::binary);
    f.write(bytes.data(), bytes.size());
  }
  std::string path;
};

TEST(ONNXImporter, ImportsBinaryAndTextAlike) {
  MLIRContext ctx;
  auto text = importBytes(ctx, kSmallModel);
  ASSERT_TRUE(text.module) << text.diagnostics;
  auto bin = importBytes(ctx, binary(parseText(kSmallModel)));
  ASSERT_TRUE(bin.module) << bin.diagnostics;
  int relus = 0;
  bin.module->walk([&](quantc::qc::ReluOp) { ++relus; });
  EXPECT_EQ(relus, 1);
}

TEST(ONNXImporter, TruncatedFileIsRejected) {
  MLIRContext ctx;
  std::string bytes = binary(parseText(kSmallModel));
  for (size_t keep : {bytes.size() / 2, bytes.size() - 3, size_t(5)}) {
    auto r = importBytes(ctx, bytes.substr(0, keep));
    EXPECT_FALSE(r.module) << "kept " << keep;
    EXPECT_NE(r.diagnostics.find("test.onnx"), std::string::npos) << r.diagnostics;
    EXPECT_NE(r.diagnostics.find("truncated or corrupt"), std::string::npos)
        << r.diagnostics;
  }
}

TEST(ONNXImporter, CorruptBytesAreRejected) {
  MLIRContext ctx;
  std::string junk("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x3a\x99\x01", 14);
  auto r = importBytes(ctx, junk);
  EXPECT_FALSE(r.module);
  EXPECT_NE(r.diagnostics.find("not a valid ONNX model"), std::string::npos)
      << r.diagnostics;
  auto empty = importBytes(ctx, "");
  EXPECT_FALSE(empty.module);
  EXPECT_NE(empty.diagnostics.find("empty"), std::string::npos);
}

TEST(ONNXImporter, CycleIsRejected) {
  MLIRContext ctx;
  auto r = importBytes(ctx, R"(
<ir_version: 8, opset_import: ["" : 13]>
g (float[2] X) => (float[2] Y) {
  A = Add(X, B)
  B = Relu(A)
  Y = Identity(B)
}
)");
  EXPECT_FALSE(r.module);
  EXPECT_NE(r.diagnostics.find("cycle"), std::string::npos) << r.diagnostics;
  EXPECT_NE(r.diagnostics.find("(Add)"), std::string::npos) << r.diagnostics;
}

TEST(ONNXImporter, MissingInitializerIsRejected) {
  MLIRContext ctx;
  auto r = importBytes(ctx, R"(
<ir_version: 8, opset_import: ["" : 13]>
g (float[2] X) => (float[2] Y) {
  Y = Add(X, Bias)
}
)");
  EXPECT_FALSE(r.module);
  EXPECT_NE(r.diagnostics.find("input 'Bias'"), std::string::npos) << r.diagnostics;
  EXPECT_NE(r.diagnostics.find("missing initializer"), std::string::npos);
}

onnx::ModelProto externalModel(const std::string &location, int64_t offset,
                               int64_t length) {
  onnx::ModelProto m = parseText(R"(
<ir_version: 8, opset_import: ["" : 13]>
g (float[128] X) => (float[128] Y) {
  Y = Add(X, W)
}
)");
  auto *w = m.mutable_graph()->add_initializer();
  w->set_name("W");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(128);
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto add = [&](const char *k, const std::string &v) {
    auto *e = w->add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  add("location", location);
  add("offset", std::to_string(offset));
  add("length", std::to_string(length));
  return m;
}

std::string floatBytes(int n, float scale) {
  std::string s(n * sizeof(float), '\0');
  for (int i = 0; i < n; ++i) {
    float v = i * scale;
    memcpy(&s[i * sizeof(float)], &v, sizeof(float));
  }
  return s;
}

TEST(ONNXImporter, ExternalDataIsMappedAsResource) {
  TempDir dir;
  dir.write("weights.bin", std::string(64, 'x') + floatBytes(128, 0.5f));
  dir.write("model.onnx", binary(externalModel("weights.bin", 64, 512)));
  MLIRContext ctx;
  auto r = importFile(ctx, dir.file("model.onnx"));
  ASSERT_TRUE(r.module) << r.diagnostics;
  bool found = false;
  r.module->walk([&](quantc::qc::ConstantOp c) {
    auto res = dyn_cast<DenseResourceElementsAttr>(c.getValue());
    ASSERT_TRUE(res) << "large weight should be a dense_resource blob";
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    ASSERT_TRUE(blob);
    ArrayRef<float> data(reinterpret_cast<const float *>(blob->getData().data()), 128);
    EXPECT_FLOAT_EQ(data[0], 0.0f);
    EXPECT_FLOAT_EQ(data[127], 63.5f);
    found = true;
  });
  EXPECT_TRUE(found);
}

TEST(ONNXImporter, ExternalDataEscapingTheDirectoryIsRejected) {
  TempDir dir;
  dir.write("model.onnx", binary(externalModel("../secret.bin", 0, 512)));
  MLIRContext ctx;
  auto r = importFile(ctx, dir.file("model.onnx"));
  EXPECT_FALSE(r.module);
  EXPECT_NE(r.diagnostics.find("initializer 'W'"), std::string::npos) << r.diagnostics;
  EXPECT_NE(r.diagnostics.find("escapes the model's directory"), std::string::npos)
      << r.diagnostics;

  dir.write("abs.onnx", binary(externalModel("/etc/passwd", 0, 512)));
  auto a = importFile(ctx, dir.file("abs.onnx"));
  EXPECT_FALSE(a.module);
  EXPECT_NE(a.diagnostics.find("absolute path"), std::string::npos) << a.diagnostics;
}

TEST(ONNXImporter, ExternalDataThroughSymlinkOutsideIsRejected) {
  TempDir outside, dir;
  outside.write("w.bin", floatBytes(128, 1.0f));
  ASSERT_FALSE(llvm::sys::fs::create_link(outside.file("w.bin"), dir.file("link.bin")));
  dir.write("model.onnx", binary(externalModel("link.bin", 0, 512)));
  MLIRContext ctx;
  auto r = importFile(ctx, dir.file("model.onnx"));
  EXPECT_FALSE(r.module);
  EXPECT_NE(r.diagnostics.find("outside the model's directory"), std::string::npos)
      << r.diagnostics;
}

TEST(ONNXImporter, ExternalDataOutOfRangeIsRejected) {
  TempDir dir;
  dir.write("w.bin", floatBytes(16, 1.0f));
  dir.write("model.onnx", binary(externalModel("w.bin", 0, 512)));
  MLIRContext ctx;
  auto r = importFile(ctx, dir.file("model.onnx"));
  EXPECT_FALSE(r.module);
  EXPECT_NE(r.diagnostics.find("lies outside 'w.bin'"), std::string::npos)
      << r.diagnostics;
}

TEST(ONNXImporter, RawDataSizeMismatchIsRejected) {
  onnx::ModelProto m = parseText(R"(
<ir_version: 8, opset_import: ["" : 13]>
g (float[4] X) => (float[4] Y) {
  Y = Add(X, W)
}
)");
  auto *w = m.mutable_graph()->add_initializer();
  w->set_name("W");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(4);
  w->set_raw_data(std::string(12, '\0'));
  MLIRContext ctx;
  auto r = importBytes(ctx, binary(m));
  EXPECT_FALSE(r.module);
  EXPECT_NE(r.diagnostics.find("holds 12 bytes"), std::string::npos) << r.diagnostics;
}

TEST(ONNXImporter, LargeRawInitializerBecomesResourceWithoutCopy) {
  onnx::ModelProto m = parseText(R"(
<ir_version: 8, opset_import: ["" : 13]>
g (float[256] X) => (float[256] Y) {
  Y = Mul(X, W)
}
)");
  auto *w = m.mutable_graph()->add_initializer();
  w->set_name("W");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(256);
  w->set_raw_data(floatBytes(256, 2.0f));
  MLIRContext ctx;
  auto r = importBytes(ctx, binary(m));
  ASSERT_TRUE(r.module) << r.diagnostics;
  int resources = 0;
  r.module->walk([&](quantc::qc::ConstantOp c) {
    if (auto res = dyn_cast<DenseResourceElementsAttr>(c.getValue())) {
      ++resources;
      auto *blob = res.getRawHandle().getBlob();
      ASSERT_TRUE(blob);
      const float *f = reinterpret_cast<const float *>(blob->getData().data());
      EXPECT_FLOAT_EQ(f[255], 510.0f);
    }
  });
  EXPECT_EQ(resources, 1);
}

TEST(ONNXImporter, UnsupportedOpNamesNodeOpAndOpset) {
  MLIRContext ctx;
  auto r = importBytes(ctx, R"(
<ir_version: 8, opset_import: ["" : 13]>
g (float[2] X) => (float[2] Y) {
  Y = Celu_not_an_op(X)
}
)");
  EXPECT_FALSE(r.module);
  EXPECT_NE(r.diagnostics.find("node #0 (Celu_not_an_op, opset 13)"), std::string::npos)
      << r.diagnostics;
}

} // namespace
