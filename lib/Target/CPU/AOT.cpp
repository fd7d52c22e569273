//===- AOT.cpp - compile a qc model into a shared library -----------------===//
#include "quantc/Target/CPU/AOT.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"

using namespace mlir;

namespace quantc::cpu {
namespace {

/// The dtype numbering of include/quantc/Runtime.h.
int apiDType(DType t) {
  switch (t) {
  case DType::F32: return 1;
  case DType::F64: return 2;
  case DType::F16: return 3;
  case DType::I64: return 4;
  case DType::I32: return 5;
  case DType::I16: return 6;
  case DType::I8: return 7;
  case DType::U8: return 8;
  case DType::Bool: return 9;
  }
  return 0;
}

std::string signatureText(const LoweredModel &m) {
  std::string s;
  auto add = [&](const char *kind, const TensorSpec &t) {
    s += kind;
    s += "\t" + std::to_string(apiDType(t.dtype)) + "\t";
    for (size_t i = 0; i < t.shape.size(); ++i)
      s += (i ? "," : "") + std::to_string(t.shape[i]);
    std::string name = t.name;
    for (char &c : name)
      if (c == '\n')
        c = ' ';
    s += "\t" + name + "\n";
  };
  for (const TensorSpec &t : m.inputs)
    add("in", t);
  for (const TensorSpec &t : m.outputs)
    add("out", t);
  return s;
}

/// quantc_model_run_packed(void **d): _mlir_ciface_main(d[0], d[1], ...).
llvm::Error addPackedEntry(llvm::Module &module, size_t numArgs) {
  llvm::Function *main = module.getFunction("_mlir_ciface_main");
  if (!main || main->arg_size() != numArgs)
    return llvm::createStringError("internal: the lowered model has no _mlir_ciface_main with " +
                                   std::to_string(numArgs) + " arguments");
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptr = llvm::PointerType::get(ctx, 0);
  auto *type = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptr}, false);
  auto *entry = llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage,
                                       "quantc_model_run_packed", module);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", entry));
  llvm::SmallVector<llvm::Value *> args;
  for (size_t i = 0; i < numArgs; ++i) {
    llvm::Value *slot = b.CreateConstGEP1_64(ptr, entry->getArg(0), i);
    args.push_back(b.CreateLoad(ptr, slot));
  }
  b.CreateCall(main, args);
  b.CreateRetVoid();
  return llvm::Error::success();
}

llvm::Expected<std::string> findLinker(const std::string &requested) {
  std::vector<std::string> names;
  if (!requested.empty())
    names.push_back(requested);
  else
    names = {"clang++-22", "clang++", "g++", "c++"};
  for (const std::string &n : names)
    if (auto p = llvm::sys::findProgramByName(n))
      return *p;
  return llvm::createStringError("no C++ compiler driver to link with (tried " + names.front() +
                                 (names.size() > 1 ? " and others" : "") + ")");
}

} // namespace

std::string defaultRuntimeDir() {
  if (const char *env = getenv("QUANTC_RUNTIME_DIR"); env && *env)
    return env;
  std::string exe = llvm::sys::fs::getMainExecutable(nullptr, (void *)&defaultRuntimeDir);
  llvm::SmallString<256> dir(llvm::sys::path::parent_path(llvm::sys::path::parent_path(exe)));
  llvm::sys::path::append(dir, "lib");
  return std::string(dir);
}

llvm::Error compileSharedLibrary(ModuleOp module,
                                 const std::vector<std::vector<int64_t>> &inputShapes,
                                 const std::string &outputPath, const AOTOptions &options) {
  llvm::SmallString<256> apiLib(options.runtimeDir), rtLib(options.runtimeDir);
  llvm::sys::path::append(apiLib, "libquantc_model_api.a");
  llvm::sys::path::append(rtLib, "libquantc_runtime.a");
  for (const auto &lib : {apiLib, rtLib})
    if (!llvm::sys::fs::exists(lib))
      return llvm::createStringError("the runtime library '" + std::string(lib) +
                                     "' does not exist (set QUANTC_RUNTIME_DIR)");
  llvm::StringRef outDir = llvm::sys::path::parent_path(outputPath);
  if (!outDir.empty() && !llvm::sys::fs::is_directory(outDir))
    return llvm::createStringError("cannot write '" + outputPath + "': the directory '" +
                                   outDir.str() + "' does not exist");
  auto linker = findLinker(options.linker);
  if (!linker)
    return linker.takeError();

  auto lowered = lowerToLLVMDialect(module, inputShapes, options.compile);
  if (!lowered)
    return lowered.takeError();
  auto tm = createTargetMachine(options.compile, /*pic=*/true);
  if (!tm)
    return tm.takeError();

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(*lowered->module, llvmContext, "quantc_model");
  if (!llvmModule)
    return llvm::createStringError("translation to LLVM IR failed");
  llvmModule->setDataLayout((*tm)->createDataLayout());
  llvmModule->setTargetTriple((*tm)->getTargetTriple());
  if (auto err = addPackedEntry(*llvmModule, lowered->inputs.size() + lowered->outputs.size()))
    return err;
  auto *sigInit = llvm::ConstantDataArray::getString(llvmContext, signatureText(*lowered));
  new llvm::GlobalVariable(*llvmModule, sigInit->getType(), /*isConstant=*/true,
                           llvm::GlobalValue::ExternalLinkage, sigInit, "quantc_model_signature");
  auto optimize = makeOptimizingTransformer(/*optLevel=*/3, /*sizeLevel=*/0, tm->get());
  if (auto err = optimize(llvmModule.get()))
    return err;

  // The object, then the library, in temporary files beside the output.
  llvm::SmallString<256> objPath, soPath;
  std::string model = llvm::sys::path::filename(outputPath).str();
  if (auto ec = llvm::sys::fs::createTemporaryFile("quantc-" + model, "o", objPath))
    return llvm::createStringError("cannot create a temporary object file: " + ec.message());
  auto removeObj = llvm::scope_exit([&] {
    if (!options.keepObject)
      llvm::sys::fs::remove(objPath);
  });
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(objPath, ec, llvm::sys::fs::OF_None);
    if (ec)
      return llvm::createStringError("cannot write '" + std::string(objPath) + "': " + ec.message());
    llvm::legacy::PassManager pm;
    if ((*tm)->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile))
      return llvm::createStringError("the target cannot emit object files");
    pm.run(*llvmModule);
    os.flush();
    if (os.has_error())
      return llvm::createStringError("writing '" + std::string(objPath) + "' failed");
  }
  soPath = outputPath;
  soPath += ".tmp-link";
  std::vector<std::string> argv = {*linker, "-shared", "-o", std::string(soPath),
                                   std::string(objPath), "-Wl,--whole-archive",
                                   std::string(apiLib), "-Wl,--no-whole-archive",
                                   std::string(rtLib), "-Wl,-Bsymbolic", "-lpthread", "-lm"};
  std::vector<llvm::StringRef> refs(argv.begin(), argv.end());
  llvm::SmallString<256> logPath;
  llvm::sys::fs::createTemporaryFile("quantc-link", "log", logPath);
  auto removeLog = llvm::scope_exit([&] { llvm::sys::fs::remove(logPath); });
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, llvm::StringRef(logPath),
                                                llvm::StringRef(logPath)};
  std::string errMsg;
  int rc = llvm::sys::ExecuteAndWait(*linker, refs, std::nullopt, redirects, 0, 0, &errMsg);
  if (rc != 0) {
    llvm::sys::fs::remove(soPath);
    std::string log;
    if (auto buf = llvm::MemoryBuffer::getFile(logPath))
      log = (*buf)->getBuffer().take_front(2000).str();
    return llvm::createStringError("linking with " + *linker + " failed (exit " +
                                   std::to_string(rc) + ") " + errMsg + "\n" + log);
  }
  if (options.keepObject) {
    std::string keptObj = outputPath + ".o";
    if (auto ec = llvm::sys::fs::copy_file(objPath, keptObj))
      return llvm::createStringError("cannot write '" + keptObj + "': " + ec.message());
  }
  if (auto ec = llvm::sys::fs::rename(soPath, outputPath)) {
    llvm::sys::fs::remove(soPath);
    return llvm::createStringError("cannot write '" + outputPath + "': " + ec.message());
  }
  return llvm::Error::success();
}

} // namespace quantc::cpu
