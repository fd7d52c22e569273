//===- Samples.cpp - calibration samples from files -----------------------===//
#include "quantc/Driver/Samples.h"
#include "quantc/Support/NpyFile.h"
#include "quantc/Import/ONNX/ONNXImporter.h"
#include "quantc/Target/CPU/JIT.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <cstring>
#include <optional>

namespace quantc::driver {

std::string fileNameFor(const std::string &name) {
  std::string out;
  for (char c : name)
    out.push_back(isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ? c : '_');
  return out.empty() ? "output" : out;
}

namespace {
bool hasTensorProtos(const std::string &dir) {
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec; it.increment(ec))
    if (llvm::StringRef(it->path()).ends_with(".pb"))
      return true;
  return false;
}

/// A TensorProto file as a host tensor (its bytes, row-major).
llvm::Expected<cpu::HostTensor> tensorFromProto(mlir::MLIRContext &ctx, const std::string &path) {
  std::string name;
  auto attr = readTensorProtoFile(ctx, path, &name);
  if (!attr)
    return attr.takeError();
  auto type = mlir::cast<mlir::ShapedType>(attr->getType());
  auto dt = cpu::dtypeOf(type.getElementType());
  if (!dt)
    return llvm::createStringError(path + ": " + llvm::toString(dt.takeError()));
  if (type.getElementType().isInteger(1))
    return llvm::createStringError(path + ": boolean tensors are not read from .pb yet");
  cpu::HostTensor t;
  t.name = name;
  t.dtype = *dt;
  t.shape.assign(type.getShape().begin(), type.getShape().end());
  llvm::ArrayRef<char> raw = attr->getRawData();
  size_t bytes = t.numElements() * cpu::dtypeSize(t.dtype);
  if (attr->isSplat()) {
    t.data.resize(bytes);
    for (size_t o = 0; o + raw.size() <= bytes; o += raw.size())
      std::memcpy(t.data.data() + o, raw.data(), raw.size());
  } else {
    t.data.assign(raw.begin(), raw.end());
  }
  return t;
}

} // namespace

namespace {
/// The sample in directory entry `e` (see loadSamples); nullopt for an
/// entry that is not a sample (another kind of file).
llvm::Expected<std::optional<calib::Sample>>
readSample(mlir::MLIRContext &context, const std::string &e,
           const std::vector<cpu::TensorSpec> &specs) {
    calib::Sample sample;
    if (llvm::sys::fs::is_directory(e) && hasTensorProtos(e)) {
      // ONNX test-data layout: input_<i>.pb TensorProtos, in input order
      // (or named after the inputs).
      for (size_t i = 0; i < specs.size(); ++i) {
        llvm::SmallString<256> f(e);
        llvm::sys::path::append(f, "input_" + std::to_string(i) + ".pb");
        if (!llvm::sys::fs::exists(f)) {
          f = e;
          llvm::sys::path::append(f, fileNameFor(specs[i].name) + ".pb");
        }
        auto t = tensorFromProto(context, std::string(f));
        if (!t)
          return llvm::createStringError("calibration sample '" + e + "': input '" +
                                         specs[i].name + "': " + llvm::toString(t.takeError()));
        sample.push_back(std::move(*t));
      }
    } else if (llvm::sys::fs::is_directory(e)) {
      for (const auto &spec : specs) {
        llvm::SmallString<256> f(e);
        llvm::sys::path::append(f, fileNameFor(spec.name) + ".npy");
        auto t = readNpy(std::string(f));
        if (!t)
          return llvm::createStringError("calibration sample '" + e + "': input '" + spec.name +
                                         "': " + llvm::toString(t.takeError()));
        sample.push_back(std::move(*t));
      }
    } else if (llvm::StringRef(e).ends_with(".npz")) {
      // One sample per .npz: an array per input, by input name.
      auto arrays = readNpz(e);
      if (!arrays)
        return llvm::createStringError("calibration sample: " + llvm::toString(arrays.takeError()));
      for (const auto &spec : specs) {
        auto it = std::find_if(arrays->begin(), arrays->end(), [&](const auto &a) {
          return a.first == spec.name || a.first == fileNameFor(spec.name);
        });
        if (it == arrays->end())
          return llvm::createStringError("calibration sample '" + e + "' has no array '" +
                                         spec.name + "'");
        sample.push_back(std::move(it->second));
      }
    } else if (llvm::StringRef(e).ends_with(".npy")) {
      if (specs.size() != 1)
        return llvm::createStringError("calibration file '" + e + "': the model has " +
                                       std::to_string(specs.size()) +
                                       " inputs; give each sample as a directory of <input>.npy");
      auto t = readNpy(e);
      if (!t)
        return llvm::createStringError(llvm::toString(t.takeError()));
      sample.push_back(std::move(*t));
    } else {
      return std::nullopt;
    }
    for (size_t i = 0; i < specs.size(); ++i) {
      sample[i].name = specs[i].name;
      if (sample[i].dtype != specs[i].dtype)
        return llvm::createStringError("calibration sample '" + e + "': input '" + specs[i].name +
                                       "' must be " + cpu::dtypeName(specs[i].dtype) +
                                       ", the file holds " +
                                       cpu::dtypeName(sample[i].dtype));
    }
    return sample;
}
} // namespace

llvm::Expected<calib::SampleSet>
loadSamples(mlir::MLIRContext &context, const std::string &dir,
            const std::vector<cpu::TensorSpec> &specs) {
  std::vector<std::string> entries;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec; it.increment(ec))
    entries.push_back(it->path());
  if (ec)
    return llvm::createStringError("cannot read the calibration directory '" + dir +
                                   "': " + ec.message());
  std::sort(entries.begin(), entries.end());
  // Each sample is read once here (so that a bad file is an error now,
  // before anything runs) and dropped: the set reads it again when a pass
  // asks for it, so memory does not grow with the number of samples.
  std::vector<calib::SampleSet::Loader> loaders;
  for (const std::string &e : entries) {
    auto sample = readSample(context, e, specs);
    if (!sample)
      return sample.takeError();
    if (!*sample)
      continue;
    sample->reset();
    calib::releaseFreeMemory();
    loaders.push_back([&context, e, specs]() -> llvm::Expected<calib::Sample> {
      auto again = readSample(context, e, specs);
      if (!again)
        return again.takeError();
      if (!*again)
        return llvm::createStringError("calibration sample '" + e + "' is gone");
      return std::move(**again);
    });
  }
  return calib::SampleSet::onDemand(std::move(loaders));
}

llvm::Error checkSamples(std::vector<calib::Sample> &samples,
                         const std::vector<cpu::TensorSpec> &specs) {
  for (size_t s = 0; s < samples.size(); ++s) {
    calib::Sample &sample = samples[s];
    if (sample.size() != specs.size())
      return llvm::createStringError("calibration sample " + std::to_string(s) + " has " +
                                     std::to_string(sample.size()) + " tensors; the model has " +
                                     std::to_string(specs.size()) + " inputs");
    for (size_t i = 0; i < specs.size(); ++i) {
      cpu::HostTensor &t = sample[i];
      std::string where = "calibration sample " + std::to_string(s) + ": input '" +
                          specs[i].name + "'";
      if (t.dtype != specs[i].dtype)
        return llvm::createStringError(where + " must be " + cpu::dtypeName(specs[i].dtype) +
                                       ", got " + cpu::dtypeName(t.dtype));
      if (!specs[i].shape.empty() && t.shape.size() != specs[i].shape.size())
        return llvm::createStringError(where + " must have rank " +
                                       std::to_string(specs[i].shape.size()) + ", got rank " +
                                       std::to_string(t.shape.size()));
      for (size_t d = 0; d < t.shape.size() && d < specs[i].shape.size(); ++d)
        if (specs[i].shape[d] >= 0 && specs[i].shape[d] != t.shape[d])
          return llvm::createStringError(where + ": dimension " + std::to_string(d) + " is " +
                                         std::to_string(t.shape[d]) + ", the model declares " +
                                         std::to_string(specs[i].shape[d]));
      if (t.data.size() != size_t(t.numElements()) * cpu::dtypeSize(t.dtype))
        return llvm::createStringError(where + ": " + std::to_string(t.data.size()) +
                                       " bytes for " + std::to_string(t.numElements()) +
                                       " elements");
      t.name = specs[i].name;
    }
  }
  return llvm::Error::success();
}

} // namespace quantc::driver
