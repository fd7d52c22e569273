//===- AOT.cpp - compile a qc model into a shared library -----------------===//
#include "quantc/Target/CPU/AOT.h"
#include "quantc/Target/CPU/ExternalWeights.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/PassManager.h"
#include "llvm/Linker/Linker.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Transforms/IPO/ConstantMerge.h"
#include "llvm/Transforms/IPO/GlobalDCE.h"
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

/// One block per variant: "variant <k>" then its inputs and outputs.
std::string signatureText(const LoweredModel &m, size_t variant) {
  std::string s = "variant\t" + std::to_string(variant) +
                  (m.returnsResults ? "\treturns" : "") + "\n";
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

/// quantc_model_run_packed(int64 v, void **d): variant v's entry point
/// (_mlir_ciface_main of that variant, renamed quantc_variant_<v>) called
/// with d[0], d[1], ...
llvm::Error addPackedEntry(llvm::Module &module, const std::vector<size_t> &numArgs) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptr = llvm::PointerType::get(ctx, 0);
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  auto *type = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {i64, ptr}, false);
  auto *entry = llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage,
                                       "quantc_model_run_packed", module);
  auto *start = llvm::BasicBlock::Create(ctx, "entry", entry);
  auto *done = llvm::BasicBlock::Create(ctx, "done", entry);
  llvm::IRBuilder<> b(start);
  auto *dispatch = b.CreateSwitch(entry->getArg(0), done, numArgs.size());
  for (size_t v = 0; v < numArgs.size(); ++v) {
    llvm::Function *main = module.getFunction("quantc_variant_" + std::to_string(v));
    if (!main || main->arg_size() != numArgs[v])
      return llvm::createStringError("internal: variant " + std::to_string(v) +
                                     " has no entry point with " + std::to_string(numArgs[v]) +
                                     " arguments");
    auto *bb = llvm::BasicBlock::Create(ctx, "variant" + std::to_string(v), entry, done);
    dispatch->addCase(llvm::ConstantInt::get(i64, v), bb);
    b.SetInsertPoint(bb);
    llvm::SmallVector<llvm::Value *> args;
    for (size_t i = 0; i < numArgs[v]; ++i) {
      llvm::Value *slot = b.CreateConstGEP1_64(ptr, entry->getArg(1), i);
      args.push_back(b.CreateLoad(ptr, slot));
    }
    b.CreateCall(main, args);
    b.CreateBr(done);
  }
  b.SetInsertPoint(done);
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

llvm::Error compileSharedLibrary(ModuleOp module, const std::vector<ShapeVariant> &variants,
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

  if (variants.empty())
    return llvm::createStringError("internal: no input shapes to compile for");
  auto tm = createTargetMachine(options.compile, /*pic=*/true);
  if (!tm)
    return tm.takeError();

  // Each variant is lowered and translated on its own, its entry points
  // renamed, and linked into one module. Their private symbols (outlined
  // functions, weights) are internal: the linker renames clashes, and the
  // weights, identical constants in every variant, are merged below.
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule;
  std::string signature;
  std::vector<size_t> numArgs;
  // The weights go into the library through an object of their own,
  // not through LLVM (ExternalWeights.h); variants share identical ones.
  std::vector<ExternalWeight> weights;
  llvm::StringSet<> weightNames;
  for (size_t v = 0; v < variants.size(); ++v) {
    auto lowered = lowerToLLVMDialect(module, variants[v], options.compile);
    if (!lowered) {
      if (variants.size() == 1)
        return lowered.takeError();
      return llvm::createStringError("shape variant " + std::to_string(v) + ": " +
                                     llvm::toString(lowered.takeError()));
    }
    for (ExternalWeight &w : externalizeWeights(*lowered->module, /*hidden=*/true))
      if (weightNames.insert(w.symbol).second)
        weights.push_back(std::move(w));
    std::unique_ptr<llvm::Module> part =
        translateModuleToLLVMIR(*lowered->module, llvmContext, "quantc_model");
    if (!part)
      return llvm::createStringError("translation to LLVM IR failed");
    llvm::Function *ciface = part->getFunction("_mlir_ciface_main");
    if (!ciface)
      return llvm::createStringError("internal: the lowered model has no _mlir_ciface_main");
    ciface->setName("quantc_variant_" + std::to_string(v));
    // Everything else the variant defines is its own: internal, so that
    // the variants' outlined functions and constants cannot clash.
    for (llvm::Function &f : *part)
      if (!f.isDeclaration() && &f != ciface)
        f.setLinkage(llvm::GlobalValue::InternalLinkage);
    for (llvm::GlobalVariable &g : part->globals())
      if (!g.isDeclaration())
        g.setLinkage(llvm::GlobalValue::InternalLinkage);
    for (llvm::GlobalVariable &g : part->globals())
      if (g.isConstant() && g.hasLocalLinkage())
        g.setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
    numArgs.push_back(lowered->inputs.size() +
                      (lowered->returnsResults ? 1 : lowered->outputs.size()));
    signature += signatureText(*lowered, v);
    if (!llvmModule) {
      llvmModule = std::move(part);
    } else if (llvm::Linker::linkModules(*llvmModule, std::move(part))) {
      return llvm::createStringError("internal: linking shape variant " + std::to_string(v) +
                                     " failed");
    }
  }
  llvmModule->setDataLayout((*tm)->createDataLayout());
  llvmModule->setTargetTriple((*tm)->getTargetTriple());
  if (auto err = addPackedEntry(*llvmModule, numArgs))
    return err;
  auto *sigInit = llvm::ConstantDataArray::getString(llvmContext, signature);
  new llvm::GlobalVariable(*llvmModule, sigInit->getType(), /*isConstant=*/true,
                           llvm::GlobalValue::ExternalLinkage, sigInit, "quantc_model_signature");
  auto optimize = makeModelOptimizer(tm->get());
  if (auto err = optimize(llvmModule.get()))
    return err;
  if (variants.size() > 1) {
    // One copy of each weight: identical unnamed_addr constants merge.
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder pb(tm->get());
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    llvm::ModulePassManager mpm;
    mpm.addPass(llvm::ConstantMergePass());
    mpm.addPass(llvm::GlobalDCEPass());
    mpm.run(*llvmModule, mam);
  }

  // The object, then the library, in temporary files beside the output.
  llvm::SmallString<256> objPath, soPath;
  std::string model = llvm::sys::path::filename(outputPath).str();
  if (auto ec = llvm::sys::fs::createTemporaryFile("quantc-" + model, "o", objPath))
    return llvm::createStringError("cannot create a temporary object file: " + ec.message());
  // Removed in every case: --keep-object copies it beside the output.
  auto removeObj = llvm::scope_exit([&] { llvm::sys::fs::remove(objPath); });
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
  llvm::SmallString<256> weightsDir;
  if (auto ec = llvm::sys::fs::createUniqueDirectory("quantc-weights", weightsDir))
    return llvm::createStringError("cannot create a temporary directory: " + ec.message());
  auto removeWeights = llvm::scope_exit([&] { llvm::sys::fs::remove_directories(weightsDir); });
  auto weightsObj = writeWeightsObject(weights, weightsDir, (*tm)->getTargetTriple());
  if (!weightsObj)
    return weightsObj.takeError();
  soPath = outputPath;
  soPath += ".tmp-link";
  std::vector<std::string> argv = {*linker, "-shared", "-o", std::string(soPath),
                                   std::string(objPath), *weightsObj, "-Wl,--whole-archive",
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
