//===- CompareOrt.cpp - ONNX Runtime's latency on the same inputs ---------===//
//
// `quantc bench --compare-ort`: ONNX Runtime (a Python package here) runs
// in a child process (python/quantc/ort_bench.py) on the inputs quantc
// was timed with, written as .npy files, with the same thread count.
//
//===----------------------------------------------------------------------===//
#include "quantc/Driver/Run.h"
#include "quantc/Driver/NpyFile.h"
#include "quantc/Driver/Samples.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

#include <cstdlib>

namespace quantc::driver {

std::string pythonDir() {
  if (const char *env = getenv("QUANTC_PYTHONPATH"); env && *env)
    return env;
  return QUANTC_PYTHON_DIR;
}

std::optional<std::string> findPython(const std::string &what, llvm::raw_ostream &err) {
  const char *py = getenv("QUANTC_PYTHON");
  std::string python = py && *py ? py : "python3";
  auto found = llvm::sys::findProgramByName(python);
  if (!found) {
    err << "quantc: error: cannot find the Python interpreter '" << python << "' for " << what
        << " (set QUANTC_PYTHON)\n";
    return std::nullopt;
  }
  return *found;
}

int compareWithOrt(const std::string &model, const std::string &ortModelArg,
                   const BenchOptions &options, const BenchResult &result,
                   llvm::raw_ostream &out, llvm::raw_ostream &err) {
  std::string ortModel = ortModelArg.empty() ? model : ortModelArg;
  if (!llvm::StringRef(ortModel).ends_with(".onnx")) {
    err << "quantc: error: --compare-ort needs an .onnx model (or --ort-model FILE.onnx)\n";
    return 1;
  }
  if (!llvm::sys::fs::exists(ortModel)) {
    err << "quantc: error: --ort-model '" << ortModel << "' does not exist\n";
    return 1;
  }
  auto python = findPython("--compare-ort", err);
  if (!python)
    return 1;
  llvm::SmallString<128> dir;
  if (auto ec = llvm::sys::fs::createUniqueDirectory("quantc-bench", dir)) {
    err << "quantc: error: cannot create a temporary directory: " << ec.message() << "\n";
    return 1;
  }
  std::vector<std::string> argv = {*python,
                                   pythonDir() + "/quantc/ort_bench.py",
                                   ortModel,
                                   std::to_string(result.threads),
                                   std::to_string(options.runs),
                                   std::to_string(options.warmup)};
  for (const auto &t : result.inputs) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, fileNameFor(t.name) + ".npy");
    if (auto e = writeNpy(std::string(path), t)) {
      llvm::sys::fs::remove_directories(dir);
      err << "quantc: error: " << llvm::toString(std::move(e)) << "\n";
      return 1;
    }
    argv.push_back(t.name + "=" + std::string(path));
  }
  llvm::SmallString<256> outFile(dir);
  llvm::sys::path::append(outFile, "ort.txt");
  std::vector<llvm::StringRef> refs(argv.begin(), argv.end());
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, llvm::StringRef(outFile),
                                                std::nullopt};
  std::string errMsg;
  int rc = llvm::sys::ExecuteAndWait(*python, refs, std::nullopt, redirects, 0, 0, &errMsg);
  auto text = llvm::MemoryBuffer::getFile(outFile);
  llvm::sys::fs::remove_directories(dir);
  if (rc != 0 || !text) {
    err << "quantc: error: ONNX Runtime failed (exit " << rc << ") " << errMsg << "\n";
    return 1;
  }
  double ortMedian = 0;
  std::string version;
  llvm::SmallVector<llvm::StringRef> fields;
  (*text)->getBuffer().trim().split(fields, ' ');
  for (llvm::StringRef f : fields) {
    auto [k, v] = f.split('=');
    if (k == "ort_median_ms")
      v.getAsDouble(ortMedian);
    if (k == "ort_version")
      version = v.str();
  }
  bool other = ortModel != model;
  out << llvm::format("onnxruntime:  median %.3f ms (onnxruntime %s, %d threads%s%s)\n",
                      ortMedian, version.c_str(), result.threads, other ? ", " : "",
                      other ? ortModel.c_str() : "");
  out << llvm::format("ratio:        quantc / onnxruntime = %.2f\n",
                      ortMedian > 0 ? result.medianMs / ortMedian : 0.0);
  return 0;
}

} // namespace quantc::driver
