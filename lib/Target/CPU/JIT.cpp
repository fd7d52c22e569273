//===- JIT.cpp - compile and run a qc model on the host -------------------===//
#include "quantc/Target/CPU/JIT.h"
#include "quantc/Target/CPU/ExternalWeights.h"
#include "quantc/Conversion/Passes.h"
#include "quantc/Target/CPU/CPUPipeline.h"
#include "quantc/Transforms/Passes.h"
#include "quantc/Target/CPU/Passes.h"
#include "quantc/Runtime/Kernels.h"
#include "quantc/Runtime/ThreadPool.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/TargetParser/SubtargetFeature.h"

#include <deque>
#include <mutex>

using namespace mlir;

namespace quantc::cpu {

void setNumThreads(int n) { quantc::rt::setNumThreads(n); }
int getNumThreads() { return quantc::rt::getNumThreads(); }

llvm::Expected<DType> dtypeOf(Type t) {
  // Quantized tensors cross the boundary as their storage integers.
  if (auto q = dyn_cast<quant::QuantizedType>(t)) {
    if (q.getStorageTypeIntegralWidth() == 8)
      return q.isSigned() ? DType::I8 : DType::U8;
    t = q.getStorageType();
  }
  if (t.isF32()) return DType::F32;
  if (t.isF64()) return DType::F64;
  if (t.isF16()) return DType::F16;
  if (t.isInteger(1)) return DType::Bool;
  if (t.isUnsignedInteger(8)) return DType::U8;
  if (t.isSignlessInteger(8)) return DType::I8;
  if (t.isSignlessInteger(16)) return DType::I16;
  if (t.isSignlessInteger(32)) return DType::I32;
  if (t.isSignlessInteger(64)) return DType::I64;
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return llvm::createStringError("element type " + s + " is not supported by the runtime");
}


JITModel::~JITModel() {
  // Its weights go away with it (the importer's buffers): packed copies
  // keyed by their addresses must not outlive them.
  quantc::rt::releasePackedWeights();
}

namespace {
std::string attrName(DictionaryAttr attrs, unsigned i, const char *prefix) {
  if (attrs)
    if (auto n = attrs.getAs<StringAttr>("qc.name"))
      return n.str();
  return prefix + std::to_string(i);
}

TensorSpec specOf(Type t, std::string name) {
  TensorSpec s;
  s.name = std::move(name);
  auto tt = cast<TensorType>(t);
  auto dt = dtypeOf(tt.getElementType());
  if (dt)
    s.dtype = *dt;
  else
    llvm::consumeError(dt.takeError());
  if (auto rt = dyn_cast<RankedTensorType>(tt))
    for (int64_t d : rt.getShape())
      s.shape.push_back(ShapedType::isDynamic(d) ? -1 : d);
  return s;
}

void registerOnce() {
  static std::once_flag flag;
  std::call_once(flag, [] {
    mlir::registerAllPasses();
    quantc::registerQuantCPasses();
    quantc::registerQuantCConversionPasses();
    quantc::cpu::registerQuantCCPUPasses();
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

/// Runs `pm` on `module`, collecting diagnostics into an llvm::Error.
llvm::Error runPasses(PassManager &pm, ModuleOp module, const char *stage) {
  // QUANTC_PASS_TIMING=1: MLIR's per-pass timing report on stderr.
  if (const char *env = getenv("QUANTC_PASS_TIMING"); env && *env == '1')
    pm.enableTiming();
  std::string diags;
  ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &d) {
    if (d.getSeverity() != DiagnosticSeverity::Error)
      return success();
    std::string loc;
    llvm::raw_string_ostream os(loc);
    if (auto nl = dyn_cast<NameLoc>(d.getLocation()))
      os << "node '" << nl.getName().str() << "': ";
    diags += "\n  " + loc + d.str();
    return success();
  });
  if (failed(pm.run(module)))
    return llvm::createStringError(std::string(stage) + " failed:" + diags);
  return llvm::Error::success();
}
} // namespace

std::vector<TensorSpec> JITModel::inputsOf(ModuleOp module) {
  std::vector<TensorSpec> out;
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main)
    return out;
  for (unsigned i = 0; i < main.getNumArguments(); ++i)
    out.push_back(specOf(main.getArgument(i).getType(),
                         attrName(main.getArgAttrDict(i), i, "input")));
  return out;
}

std::vector<TensorSpec> JITModel::outputsOf(ModuleOp module) {
  std::vector<TensorSpec> out;
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main)
    return out;
  for (unsigned i = 0; i < main.getNumResults(); ++i)
    out.push_back(specOf(main.getResultTypes()[i],
                         attrName(main.getResultAttrDict(i), i, "output")));
  return out;
}

void initializeCPUCompilation(MLIRContext &context) {
  registerOnce();
  // Bufferization and LLVM conversion work through interfaces that the
  // dialects get from their extensions.
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  context.appendDialectRegistry(registry);
  registerBuiltinDialectTranslation(context);
  registerLLVMDialectTranslation(context);
}

llvm::Error specializeShapes(ModuleOp module, const std::vector<std::vector<int64_t>> &inputShapes) {
  MLIRContext *ctx = module.getContext();
  initializeCPUCompilation(*ctx);
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main)
    return llvm::createStringError("the module has no function @main");
  auto inputs = JITModel::inputsOf(module);
  if (inputShapes.size() != main.getNumArguments())
    return llvm::createStringError("the model has " + std::to_string(main.getNumArguments()) +
                                   " inputs but " + std::to_string(inputShapes.size()) +
                                   " were given");
  // Specialize the inputs to the given shapes.
  SmallVector<Type> argTypes;
  for (unsigned i = 0; i < main.getNumArguments(); ++i) {
    auto declared = cast<TensorType>(main.getArgument(i).getType());
    const auto &shape = inputShapes[i];
    if (auto rt = dyn_cast<RankedTensorType>(declared)) {
      bool ok = rt.getRank() == static_cast<int64_t>(shape.size());
      for (size_t d = 0; ok && d < shape.size(); ++d)
        ok = rt.isDynamicDim(d) || rt.getDimSize(d) == shape[d] || shape[d] == -1;
      if (!ok) {
        std::string want;
        llvm::raw_string_ostream os(want);
        os << rt;
        std::string got;
        for (int64_t d : shape)
          got += (got.empty() ? "" : "x") + std::to_string(d);
        return llvm::createStringError("input '" + inputs[i].name + "' has shape [" +
                                       got + "] but the model expects " + want);
      }
    }
    // -1 keeps a dimension symbolic (compiled for any size).
    SmallVector<int64_t> dims(shape.begin(), shape.end());
    for (int64_t &d : dims)
      if (d == -1)
        d = ShapedType::kDynamic;
    auto t = RankedTensorType::get(dims, declared.getElementType());
    main.getArgument(i).setType(t);
    argTypes.push_back(t);
  }
  main.setFunctionType(FunctionType::get(ctx, argTypes, main.getResultTypes()));

  PassManager shapes(ctx);
  if (failed(parsePassPipeline("func.func(qc-infer-shapes,canonicalize,"
                               "qc-infer-shapes,canonicalize,qc-infer-shapes)",
                               shapes)))
    return llvm::createStringError("internal: shape pipeline does not parse");
  if (auto err = runPasses(shapes, module, "shape specialization"))
    return std::move(err);
  return llvm::Error::success();
}

llvm::Expected<LoweredModel>
lowerToLLVMDialect(ModuleOp module, const std::vector<std::vector<int64_t>> &inputShapes,
                   const CompileOptions &compileOptions) {
  MLIRContext *ctx = module.getContext();
  initializeCPUCompilation(*ctx);
  LoweredModel model;
  model.module = module.clone();
  ModuleOp clone = *model.module;
  auto main = clone.lookupSymbol<func::FuncOp>("main");
  if (!main)
    return llvm::createStringError("the module has no function @main");
  model.inputs = JITModel::inputsOf(clone);
  auto checkTypes = [&](TypeRange types, const char *what) -> llvm::Error {
    for (Type t : types) {
      auto dt = dtypeOf(cast<TensorType>(t).getElementType());
      if (!dt)
        return llvm::createStringError(std::string("an ") + what + ": " +
                                       llvm::toString(dt.takeError()));
    }
    return llvm::Error::success();
  };
  if (auto err = checkTypes(main.getArgumentTypes(), "input"))
    return std::move(err);
  if (auto err = checkTypes(main.getResultTypes(), "output"))
    return std::move(err);
  {
    PhaseTimer timer(compileOptions.phases, "shapes");
    if (auto err = specializeShapes(clone, inputShapes))
      return std::move(err);
  }
  for (size_t i = 0; i < model.inputs.size(); ++i)
    model.inputs[i].shape.assign(inputShapes[i].begin(), inputShapes[i].end());
  if (getenv("QUANTC_DUMP_SPECIALIZED"))
    clone->print(llvm::errs());
  model.outputs = JITModel::outputsOf(clone);
  bool symbolic = llvm::any_of(inputShapes, [](const std::vector<int64_t> &s) {
    return llvm::is_contained(s, -1);
  });
  for (auto [o, t] : llvm::zip(model.outputs, main.getResultTypes())) {
    if (!isa<RankedTensorType>(t))
      return llvm::createStringError("output '" + o.name + "' has no known rank after specialization");
    if (llvm::is_contained(o.shape, -1)) {
      if (!symbolic)
        return llvm::createStringError("output '" + o.name +
                                       "' has no static shape after specialization");
      // Its buffer is allocated by the compiled code and returned.
      model.returnsResults = true;
    }
  }

  // Quantized inputs and outputs cross the boundary as their storage
  // integers: quant.scast at the edges.
  {
    OpBuilder b(ctx);
    Block &entry = main.getBody().front();
    b.setInsertionPointToStart(&entry);
    SmallVector<Type> ins, outs;
    for (BlockArgument arg : entry.getArguments()) {
      auto t = cast<RankedTensorType>(arg.getType());
      if (auto q = dyn_cast<quant::QuantizedType>(t.getElementType())) {
        auto storage = t.clone(q.getStorageType());
        arg.setType(storage);
        auto cast = quant::StorageCastOp::create(b, main.getLoc(), t, arg);
        arg.replaceAllUsesExcept(cast, cast);
      }
      ins.push_back(arg.getType());
    }
    auto ret = cast<func::ReturnOp>(entry.getTerminator());
    b.setInsertionPoint(ret);
    for (OpOperand &o : ret->getOpOperands()) {
      auto t = dyn_cast<RankedTensorType>(o.get().getType());
      if (t)
        if (auto q = dyn_cast<quant::QuantizedType>(t.getElementType()))
          o.set(quant::StorageCastOp::create(b, main.getLoc(), t.clone(q.getStorageType()), o.get()));
      outs.push_back(o.get().getType());
    }
    main.setFunctionType(FunctionType::get(ctx, ins, outs));
  }

  PassManager lower(ctx);
  if (compileOptions.profile) {
    for (Operation &op : main.getBody().front()) {
      if (!isProfiledOp(&op))
        continue;
      std::string node;
      if (auto nl = dyn_cast<NameLoc>(op.getLoc()))
        node = nl.getName().str();
      model.profiled.push_back({op.getName().getStringRef().str(), node});
    }
    lower.addNestedPass<func::FuncOp>(createCPUProfileOps());
  }
  // The C interface (_mlir_ciface_main) is what shared libraries call.
  main->setAttr("llvm.emit_c_interface", UnitAttr::get(ctx));
  buildCPULoweringPipeline(lower, symbolic);
  PhaseTimer timer(compileOptions.phases, "MLIR lowering");
  if (auto err = runPasses(lower, clone, "lowering"))
    return std::move(err);
  return std::move(model);
}

llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const CompileOptions &compileOptions, bool pic) {
  registerOnce();
  // The optimizer needs the target's description: without it the
  // vectorizer's cost model sees no vector registers and keeps loops scalar.
  auto tmBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!tmBuilder)
    return tmBuilder.takeError();
  // --cpu, else $QUANTC_TARGET_CPU (a whole test run for another CPU,
  // e.g. under qemu-x86_64 -cpu Haswell), else this machine's CPU.
  std::string cpu = compileOptions.cpu;
  if (const char *env = getenv("QUANTC_TARGET_CPU"); cpu.empty() && env && *env)
    cpu = env;
  if (!cpu.empty()) {
    tmBuilder->setCPU(cpu);
    // The CPU implies its features; detectHost's would add this machine's
    // (AVX-512 code for an AVX2 target).
    tmBuilder->getFeatures() = llvm::SubtargetFeatures();
  }
  if (!compileOptions.features.empty()) {
    llvm::SubtargetFeatures features(compileOptions.features);
    if (cpu.empty())
      tmBuilder->getFeatures() = features;
    else
      for (const std::string &f : features.getFeatures())
        tmBuilder->getFeatures().AddFeature(f);
  }
  tmBuilder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  if (pic)
    tmBuilder->setRelocationModel(llvm::Reloc::PIC_);
  auto tm = tmBuilder->createTargetMachine();
  if (!tm)
    return tm.takeError();
  if (!cpu.empty() && !(*tm)->getMCSubtargetInfo()->isCPUStringValid(cpu))
    return llvm::createStringError("--cpu '" + cpu +
                                   "' is not a CPU LLVM knows for " +
                                   (*tm)->getTargetTriple().str() +
                                   " (e.g. x86-64-v3, znver3, skylake-avx512)");
  return std::move(*tm);
}

std::function<llvm::Error(llvm::Module *)> makeModelOptimizer(llvm::TargetMachine *tm) {
  auto o3 = makeOptimizingTransformer(/*optLevel=*/3, /*sizeLevel=*/0, tm);
  const bool avx512 = tm->getMCSubtargetInfo()->checkFeatures("+avx512f");
  return [o3, avx512](llvm::Module *m) -> llvm::Error {
    if (avx512)
      for (llvm::Function &f : *m)
        if (!f.isDeclaration())
          f.addFnAttr("prefer-vector-width", "512");
    return o3(m);
  };
}

llvm::Expected<std::unique_ptr<JITModel>>
JITModel::compile(ModuleOp module, const std::vector<std::vector<int64_t>> &inputShapes,
                  const CompileOptions &compileOptions) {
  auto lowered = lowerToLLVMDialect(module, inputShapes, compileOptions);
  if (!lowered)
    return lowered.takeError();
  std::unique_ptr<JITModel> model(new JITModel());
  model->inputSpecs = lowered->inputs;
  model->outputSpecs = lowered->outputs;
  model->profiled = lowered->profiled;
  auto tm = createTargetMachine(compileOptions, /*pic=*/false);
  if (!tm)
    return tm.takeError();
  model->targetMachine = std::move(*tm);
  ExecutionEngineOptions options;
  // options.transformer is a function_ref: the function must outlive create().
  std::function<llvm::Error(llvm::Module *)> optimize =
      makeModelOptimizer(model->targetMachine.get());
  options.transformer = optimize;
  options.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  // The weights stay where the importer put them (owned by the context):
  // external symbols bound to their bytes below.
  std::vector<ExternalWeight> weights = externalizeWeights(*lowered->module, /*hidden=*/false);
  PhaseTimer timer(compileOptions.phases, "LLVM IR + optimizer");
  auto engine = ExecutionEngine::create(*lowered->module, options);
  if (!engine)
    return engine.takeError();
  timer.finish();
  model->engine = std::move(*engine);
  model->engine->registerSymbols([&weights](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap map;
    for (auto [name, address] : quantc::rt::kernelSymbols())
      map[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(address),
                             llvm::JITSymbolFlags::Exported};
    for (const ExternalWeight &w : weights)
      map[interner(w.symbol)] = {llvm::orc::ExecutorAddr::fromPtr(w.bytes.data()),
                                 llvm::JITSymbolFlags::Exported};
    return map;
  });
  return std::move(model);
}

namespace {
/// Above this many scalar argument fields, main's first run (its code
/// generation) goes without store merging (see run).
constexpr size_t kManyArgumentFields = 512;
} // namespace

llvm::Error JITModel::run(const std::vector<HostTensor> &inputs, std::vector<HostTensor> &outputs) {
  if (inputs.size() != inputSpecs.size())
    return llvm::createStringError("expected " + std::to_string(inputSpecs.size()) +
                                   " inputs, got " + std::to_string(inputs.size()));
  // Outputs of the previous run are reused when they still fit (a caller
  // running the model in a loop): the compiled code writes every element,
  // and a fresh 50 MB of logits per run cost SmolLM2's prefill page faults
  // and a memset each time.
  bool reuse = outputs.size() == outputSpecs.size();
  for (size_t i = 0; reuse && i < outputs.size(); ++i)
    reuse = outputs[i].name == outputSpecs[i].name && outputs[i].dtype == outputSpecs[i].dtype &&
            outputs[i].shape == outputSpecs[i].shape &&
            outputs[i].data.size() == outputs[i].numElements() * dtypeSize(outputs[i].dtype);
  if (!reuse) {
    outputs.clear();
    for (const TensorSpec &s : outputSpecs) {
      HostTensor t;
      t.name = s.name;
      t.dtype = s.dtype;
      t.shape = s.shape;
      t.data.assign(t.numElements() * dtypeSize(t.dtype), 0);
      outputs.push_back(std::move(t));
    }
  }
  // Each memref argument expands to (allocated, aligned, offset, sizes...,
  // strides...); packed arguments point at those fields.
  std::deque<int64_t> fields;
  std::deque<void *> pointers;
  SmallVector<void *> packed;
  auto addMemref = [&](const void *data, const std::vector<int64_t> &shape) {
    pointers.push_back(const_cast<void *>(data));
    packed.push_back(&pointers.back());
    pointers.push_back(const_cast<void *>(data));
    packed.push_back(&pointers.back());
    fields.push_back(0);
    packed.push_back(&fields.back());
    for (int64_t d : shape) {
      fields.push_back(d);
      packed.push_back(&fields.back());
    }
    int64_t stride = 1;
    std::vector<int64_t> strides(shape.size());
    for (int64_t i = static_cast<int64_t>(shape.size()) - 1; i >= 0; --i) {
      strides[i] = stride;
      stride *= shape[i];
    }
    for (int64_t s : strides) {
      fields.push_back(s);
      packed.push_back(&fields.back());
    }
  };
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorSpec &s = inputSpecs[i];
    const HostTensor &t = inputs[i];
    if (t.dtype != s.dtype)
      return llvm::createStringError("input '" + s.name + "' must be " + dtypeName(s.dtype) +
                                     ", got " + dtypeName(t.dtype));
    if (t.shape != s.shape)
      return llvm::createStringError("input '" + s.name + "' has another shape than compiled for");
    addMemref(t.data.data(), t.shape);
  }
  for (HostTensor &o : outputs)
    addMemref(o.data.data(), o.shape);
  if (!materialized) {
    // This call generates the code. Main takes every memref's descriptor
    // fields as scalars, so a model with many inputs and outputs (a
    // calibration run returns each observed value: SmolLM2's has 272
    // memrefs, about 2500 scalars) calls it with thousands of arguments
    // passed on the stack, and the DAG combiner's store merging is
    // quadratic in those stores: 4.4 of the observed SmolLM2's 7.3 s first
    // run. Merging is off while such a model's code is generated (the
    // steady-state run time did not change: 369-381 ms both ways).
    materialized = true;
    static std::mutex optionLock;
    std::unique_lock<std::mutex> lock(optionLock, std::defer_lock);
    llvm::cl::Option *merging = nullptr;
    if (packed.size() > kManyArgumentFields) {
      auto &options = llvm::cl::getRegisteredOptions();
      if (auto it = options.find("combiner-store-merging"); it != options.end()) {
        lock.lock();
        merging = it->second;
        merging->addOccurrence(0, "combiner-store-merging", "false");
      }
    }
    llvm::Error err = engine->invokePacked("main", packed);
    if (merging)
      merging->addOccurrence(0, "combiner-store-merging", "true");
    return err;
  }
  if (auto err = engine->invokePacked("main", packed))
    return err;
  return llvm::Error::success();
}

} // namespace quantc::cpu
