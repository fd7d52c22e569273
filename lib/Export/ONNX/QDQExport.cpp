//===- QDQExport.cpp - quantized layers back into an ONNX QDQ model -------===//
#include "quantc/Export/ONNX/QDQExport.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"

#include "onnx/onnx_pb.h"
#include "onnx/shape_inference/implementation.h"
#include "onnx/version_converter/convert.h"

#include <google/protobuf/io/coded_stream.h>

#include <climits>
#include <functional>
#include <map>
#include <set>

namespace quantc {
namespace {

struct Located {
  onnx::GraphProto *graph;
  int index;
};

/// Every node by the importer's name for it (name, or op_type_index).
void collect(onnx::GraphProto &g, std::map<std::string, std::vector<Located>> &out) {
  for (int i = 0; i < g.node_size(); ++i) {
    onnx::NodeProto &n = *g.mutable_node(i);
    std::string name = n.name().empty() ? n.op_type() + "_" + std::to_string(i) : n.name();
    out[name].push_back({&g, i});
    for (auto &a : *n.mutable_attribute())
      if (a.has_g())
        collect(*a.mutable_g(), out);
  }
}

std::string uniqueName(std::set<std::string> &used, const std::string &base) {
  std::string n = base;
  for (int k = 1; used.count(n); ++k)
    n = base + "_" + std::to_string(k);
  used.insert(n);
  return n;
}

void usedNames(const onnx::GraphProto &g, std::set<std::string> &used) {
  for (const auto &i : g.initializer())
    used.insert(i.name());
  for (const auto &i : g.input())
    used.insert(i.name());
  for (const auto &n : g.node()) {
    used.insert(n.name());
    for (const auto &o : n.output())
      used.insert(o);
    for (const auto &a : n.attribute())
      if (a.has_g())
        usedNames(a.g(), used);
  }
}

onnx::TensorProto scalarOrTensor(const std::string &name, int32_t type,
                                 const std::vector<int64_t> &dims) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(type);
  for (int64_t d : dims)
    t.add_dims(d);
  return t;
}
} // namespace

llvm::Error exportQDQ(const std::string &sourcePath, const std::vector<calib::LayerReport> &layers,
                      const std::string &outputPath,
                      const std::vector<std::vector<int64_t>> &inputShapes, std::string *warning) {
  auto buf = llvm::MemoryBuffer::getFile(sourcePath);
  if (!buf)
    return llvm::createStringError("cannot read '" + sourcePath + "'");
  onnx::ModelProto model;
  google::protobuf::io::CodedInputStream stream(
      reinterpret_cast<const uint8_t *>((*buf)->getBufferStart()),
      static_cast<int>((*buf)->getBufferSize()));
  stream.SetTotalBytesLimit(INT_MAX);
  if (!model.ParseFromCodedStream(&stream))
    return llvm::createStringError("'" + sourcePath +
                                   "': ONNX export needs a binary ONNX model as the source");
  for (const auto &init : model.graph().initializer())
    if (init.data_location() == onnx::TensorProto::EXTERNAL)
      return llvm::createStringError("'" + sourcePath +
                                     "': models with external data cannot be exported yet");
  // Opset: per-axis DequantizeLinear needs 13. Blocked 4-bit weights
  // would need opset 21, which the ONNX library here cannot convert to:
  // a MatMul/Gemm with them becomes com.microsoft MatMulNBits (the same
  // uint4 groups along K with zero points), which ONNX Runtime runs at any
  // opset; 4-bit convolutions are refused.
  int64_t need = 13;
  int64_t opset = 0;
  for (const auto &o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx")
      opset = o.version();
  if (opset < need) {
    // The converter needs shapes (Softmax 12 -> 13, say). When symbolic
    // input dims leave them unknown, the inputs are fixed to the
    // calibration shapes and the caller is told.
    auto convert = [&](onnx::ModelProto m) {
      onnx::shape_inference::InferShapes(m);
      return onnx::version_conversion::ConvertVersion(m, static_cast<int>(need));
    };
    try {
      model = convert(model);
    } catch (const std::exception &first) {
      bool fixed = false;
      auto *inputs = model.mutable_graph()->mutable_input();
      size_t k = 0;
      for (auto &in : *inputs) {
        bool isInit = false;
        for (const auto &init : model.graph().initializer())
          isInit |= init.name() == in.name();
        if (isInit)
          continue;
        if (k < inputShapes.size()) {
          auto *dims = in.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim();
          for (int d = 0; d < dims->size() && d < static_cast<int>(inputShapes[k].size()); ++d)
            if (!(*dims)[d].has_dim_value()) {
              (*dims)[d].set_dim_value(inputShapes[k][d]);
              fixed = true;
            }
        }
        ++k;
      }
      model.mutable_graph()->clear_value_info();
      try {
        if (!fixed)
          throw std::runtime_error(first.what());
        model = convert(model);
        if (warning)
          *warning = "the exported model's inputs are fixed to the calibration shapes (opset " +
                     std::to_string(opset) + " -> " + std::to_string(need) +
                     " conversion needs them)";
      } catch (const std::exception &e) {
        return llvm::createStringError("'" + sourcePath + "': converting opset " +
                                       std::to_string(opset) + " to " + std::to_string(need) +
                                       " for the quantized DequantizeLinear failed: " + e.what());
      }
    }
  }

  std::map<std::string, std::vector<Located>> nodes;
  collect(*model.mutable_graph(), nodes);
  std::set<std::string> used;
  usedNames(model.graph(), used);
  // New nodes per graph, inserted before their consumer (kept sorted).
  std::map<onnx::GraphProto *, std::map<int, std::vector<onnx::NodeProto>>> before;
  bool needMicrosoft = false;
  for (const auto &l : layers)
    if (l.weightFp8)
      return llvm::createStringError(
          "node '" + l.name +
          "': fp8 layers cannot be exported (FLOAT8 tensors need ONNX opset 19, which this "
          "build's ONNX library does not have)");
  for (const auto &l : layers) {
    auto it = nodes.find(l.name);
    if (it == nodes.end())
      return llvm::createStringError("node '" + l.name + "' is not in '" + sourcePath + "'");
    if (it->second.size() != 1)
      return llvm::createStringError("node name '" + l.name + "' is ambiguous in '" +
                                     sourcePath + "'");
    onnx::GraphProto *g = it->second[0].graph;
    onnx::NodeProto &node = *g->mutable_node(it->second[0].index);
    if (static_cast<int>(l.weightOperand) >= node.input_size() ||
        static_cast<int>(l.activationOperand) >= node.input_size())
      return llvm::createStringError("node '" + l.name + "' has fewer inputs than expected");
    auto &pending = before[g][it->second[0].index];
    if (l.activationQuantized) {
      std::string x = node.input(l.activationOperand);
      std::string s = uniqueName(used, x + "_scale"), z = uniqueName(used, x + "_zero_point");
      std::string q = uniqueName(used, x + "_quantized"), dq = uniqueName(used, x + "_dequantized");
      auto st = scalarOrTensor(s, onnx::TensorProto::FLOAT, {});
      st.add_float_data(l.actScale);
      auto zt = scalarOrTensor(z, onnx::TensorProto::UINT8, {});
      zt.set_raw_data(std::string(1, static_cast<char>(l.actZeroPoint)));
      *g->add_initializer() = st;
      *g->add_initializer() = zt;
      onnx::NodeProto qn, dn;
      qn.set_op_type("QuantizeLinear");
      qn.set_name(uniqueName(used, l.name + "_input_QuantizeLinear"));
      qn.add_input(x), qn.add_input(s), qn.add_input(z), qn.add_output(q);
      dn.set_op_type("DequantizeLinear");
      dn.set_name(uniqueName(used, l.name + "_input_DequantizeLinear"));
      dn.add_input(q), dn.add_input(s), dn.add_input(z), dn.add_output(dq);
      pending.push_back(qn);
      pending.push_back(dn);
      node.set_input(l.activationOperand, dq);
    }
    if (l.weightUnsigned) {
      // 4-bit groups: MatMulNBits(A, B [N, blocks, block/2], scales
      // [N * blocks], zero points [N * ceil(blocks / 2)]) replacing the node.
      bool gemm = node.op_type() == "Gemm";
      if (node.op_type() != "MatMul" && !gemm)
        return llvm::createStringError("node '" + l.name + "' (" + node.op_type() +
                                       "): 4-bit weights export only for MatMul and Gemm");
      int64_t K = l.weightShape[l.weightQuantAxis], N = l.weightShape[1 - l.weightQuantAxis];
      int64_t bs = l.blockSize, kb = (K + bs - 1) / bs;
      bool kn = l.weightQuantAxis == 0; // weight stored [K, N]
      if (gemm)
        for (const auto &a : node.attribute())
          if ((a.name() == "alpha" && a.f() != 1.0f) || (a.name() == "beta" && a.f() != 1.0f) ||
              (a.name() == "transA" && a.i() != 0))
            return llvm::createStringError("node '" + l.name +
                                           "': Gemm with alpha/beta/transA exports only with "
                                           "8-bit weights");
      std::string blob(N * kb * (bs / 2), '\0'), zp((N * ((kb + 1) / 2)), '\0');
      std::vector<float> sc(N * kb);
      for (int64_t n = 0; n < N; ++n) {
        for (int64_t k = 0; k < K; ++k) {
          int64_t v = l.weightValues[kn ? k * N + n : n * K + k] & 0xF;
          int64_t pos = (n * kb + k / bs) * (bs / 2) + (k % bs) / 2;
          blob[pos] = static_cast<char>(static_cast<uint8_t>(blob[pos]) | (v << ((k % 2) * 4)));
        }
        for (int64_t b = 0; b < kb; ++b) {
          int64_t si = kn ? b * N + n : n * kb + b;
          sc[n * kb + b] = l.weightScales[si];
          int64_t zpos = n * ((kb + 1) / 2) + b / 2;
          zp[zpos] = static_cast<char>(static_cast<uint8_t>(zp[zpos]) |
                                       ((l.weightZeroPoints[si] & 0xF) << ((b % 2) * 4)));
        }
      }
      std::string w = node.input(l.weightOperand);
      std::string bn = uniqueName(used, w + "_nbits"), sn = uniqueName(used, w + "_nbits_scales");
      std::string zn = uniqueName(used, w + "_nbits_zero_points");
      auto bt = scalarOrTensor(bn, onnx::TensorProto::UINT8, {N, kb, bs / 2});
      bt.set_raw_data(blob);
      auto st = scalarOrTensor(sn, onnx::TensorProto::FLOAT, {N * kb});
      st.set_raw_data(std::string(reinterpret_cast<const char *>(sc.data()), sc.size() * 4));
      auto zt = scalarOrTensor(zn, onnx::TensorProto::UINT8, {static_cast<int64_t>(zp.size())});
      zt.set_raw_data(zp);
      *g->add_initializer() = bt;
      *g->add_initializer() = st;
      *g->add_initializer() = zt;
      onnx::NodeProto nb;
      nb.set_op_type("MatMulNBits");
      nb.set_domain("com.microsoft");
      nb.set_name(node.name().empty() ? uniqueName(used, l.name) : node.name());
      nb.add_input(node.input(l.activationOperand));
      nb.add_input(bn), nb.add_input(sn), nb.add_input(zn);
      if (gemm && node.input_size() > 2 && !node.input(2).empty())
        nb.add_input(""), nb.add_input(node.input(2)); // g_idx, bias
      for (auto [name, v] : {std::pair<const char *, int64_t>{"K", K}, {"N", N}, {"bits", 4},
                             {"block_size", bs}}) {
        auto *a = nb.add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::INT);
        a->set_i(v);
      }
      nb.add_output(node.output(0)); // (w4a8: input 0 is already the activation's QDQ)
      node = nb;
      needMicrosoft = true;
      continue;
    }
    std::string w = node.input(l.weightOperand);
    std::string wq = uniqueName(used, w + "_quantized"), ws = uniqueName(used, w + "_scale");
    std::string wz = uniqueName(used, w + "_zero_point"), wdq = uniqueName(used, w + "_dequantized");
    bool four = l.weightUnsigned;
    // UINT4 is data type 21 (newer than the onnx headers Debian ships).
    int32_t type = four ? 21 : onnx::TensorProto::INT8;
    auto qt = scalarOrTensor(wq, type, l.weightShape);
    std::string raw;
    if (four) {
      raw.assign((l.weightValues.size() + 1) / 2, '\0');
      for (size_t i = 0; i < l.weightValues.size(); ++i)
        raw[i / 2] = static_cast<char>(static_cast<uint8_t>(raw[i / 2]) |
                                       ((l.weightValues[i] & 0xF) << (i % 2 ? 4 : 0)));
    } else {
      raw.assign(reinterpret_cast<const char *>(l.weightValues.data()), l.weightValues.size());
    }
    qt.set_raw_data(raw);
    auto st = scalarOrTensor(ws, onnx::TensorProto::FLOAT, l.scaleShape);
    st.set_raw_data(std::string(reinterpret_cast<const char *>(l.weightScales.data()),
                                l.weightScales.size() * sizeof(float)));
    auto zt = scalarOrTensor(wz, type, l.scaleShape);
    std::string zraw;
    if (four) {
      zraw.assign((l.weightZeroPoints.size() + 1) / 2, '\0');
      for (size_t i = 0; i < l.weightZeroPoints.size(); ++i)
        zraw[i / 2] = static_cast<char>(static_cast<uint8_t>(zraw[i / 2]) |
                                        ((l.weightZeroPoints[i] & 0xF) << (i % 2 ? 4 : 0)));
    } else {
      for (int32_t z : l.weightZeroPoints)
        zraw.push_back(static_cast<char>(z));
    }
    zt.set_raw_data(zraw);
    *g->add_initializer() = qt;
    *g->add_initializer() = st;
    *g->add_initializer() = zt;
    onnx::NodeProto dn;
    dn.set_op_type("DequantizeLinear");
    dn.set_name(uniqueName(used, l.name + "_weight_DequantizeLinear"));
    dn.add_input(wq), dn.add_input(ws), dn.add_input(wz), dn.add_output(wdq);
    auto *axis = dn.add_attribute();
    axis->set_name("axis");
    axis->set_type(onnx::AttributeProto::INT);
    axis->set_i(l.weightQuantAxis);
    if (l.blockSize > 0) {
      auto *bs = dn.add_attribute();
      bs->set_name("block_size");
      bs->set_type(onnx::AttributeProto::INT);
      bs->set_i(l.blockSize);
    }
    pending.push_back(dn);
    node.set_input(l.weightOperand, wdq);
  }
  if (needMicrosoft) {
    bool has = false;
    for (const auto &o : model.opset_import())
      has |= o.domain() == "com.microsoft";
    if (!has) {
      auto *o = model.add_opset_import();
      o->set_domain("com.microsoft");
      o->set_version(1);
    }
  }
  // Splice the new nodes in before their consumers.
  for (auto &[g, inserts] : before) {
    google::protobuf::RepeatedPtrField<onnx::NodeProto> merged;
    for (int i = 0; i < g->node_size(); ++i) {
      if (auto it = inserts.find(i); it != inserts.end())
        for (auto &n : it->second)
          *merged.Add() = n;
      *merged.Add() = g->node(i);
    }
    g->mutable_node()->Swap(&merged);
  }
  // Float weights nothing reads any more go away.
  std::function<void(onnx::GraphProto &, std::set<std::string> &)> reads =
      [&](onnx::GraphProto &g, std::set<std::string> &r) {
        for (auto &n : *g.mutable_node()) {
          for (const auto &in : n.input())
            r.insert(in);
          for (auto &a : *n.mutable_attribute())
            if (a.has_g())
              reads(*a.mutable_g(), r);
        }
        for (const auto &o : g.output())
          r.insert(o.name());
      };
  std::set<std::string> read;
  reads(*model.mutable_graph(), read);
  auto *inits = model.mutable_graph()->mutable_initializer();
  for (int i = inits->size() - 1; i >= 0; --i)
    if (!read.count(inits->Get(i).name()))
      inits->DeleteSubrange(i, 1);

  std::error_code ec;
  llvm::ToolOutputFile out(outputPath, ec, llvm::sys::fs::OF_None);
  if (ec)
    return llvm::createStringError("cannot write '" + outputPath + "': " + ec.message());
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    return llvm::createStringError("the exported model does not serialize (over 2 GiB?)");
  out.os() << bytes;
  out.keep();
  return llvm::Error::success();
}

} // namespace quantc
