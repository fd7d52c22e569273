//===- KernelCalls.cpp - contractions on buffers to runtime kernels -------===//
#include "quantc/Target/CPU/Passes.h"
#include "quantc/Dialect/QC/QCOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

namespace quantc::cpu {
#define GEN_PASS_DEF_CPUKERNELCALLS
#include "quantc/Target/CPU/Passes.h.inc"
} // namespace quantc::cpu

using namespace mlir;

namespace {

/// memref<?x..xf32, strided<[?, ..], offset: ?>>: what the kernels take.
MemRefType fullyDynamic(MemRefType t) {
  SmallVector<int64_t> shape(t.getRank(), ShapedType::kDynamic);
  SmallVector<int64_t> strides(t.getRank(), ShapedType::kDynamic);
  auto layout = StridedLayoutAttr::get(t.getContext(), ShapedType::kDynamic, strides);
  return MemRefType::get(shape, t.getElementType(), layout, t.getMemorySpace());
}

bool isStridedOf(Value v, function_ref<bool(Type)> elem) {
  auto t = dyn_cast<MemRefType>(v.getType());
  return t && elem(t.getElementType()) && t.isStrided();
}

/// f32 operands into f32, or (for the int8 kernels) i8 ones into i32.
enum class Kind { None, F32, S8 };
Kind kindOf(linalg::LinalgOp op) {
  auto ops = op->getOperands();
  if (llvm::all_of(ops, [](Value v) { return isStridedOf(v, [](Type t) { return t.isF32(); }); }))
    return Kind::F32;
  if (ops.size() == 3 &&
      isStridedOf(ops[0], [](Type t) { return t.isInteger(8); }) &&
      isStridedOf(ops[1], [](Type t) { return t.isInteger(8); }) &&
      isStridedOf(ops[2], [](Type t) { return t.isInteger(32); }))
    return Kind::S8;
  return Kind::None;
}

struct KernelCallsPass : quantc::cpu::impl::CPUKernelCallsBase<KernelCallsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<linalg::LinalgOp> targets;
    module.walk([&](linalg::LinalgOp op) {
      Kind kind = op.hasPureBufferSemantics() ? kindOf(op) : Kind::None;
      if (kind == Kind::None)
        return;
      // The int8 kernels read their operands signed.
      if (kind == Kind::S8)
        if (auto attr = op->getAttrOfType<linalg::TypeFnAttr>("cast"))
          if (attr.getValue() != linalg::TypeFn::cast_signed)
            return;
      if (auto mm = dyn_cast<linalg::MatmulOp>(op.getOperation())) {
        if (!mm.hasUserDefinedMaps())
          targets.push_back(op);
      } else if (auto bm = dyn_cast<linalg::BatchMatmulOp>(op.getOperation())) {
        if (!bm.hasUserDefinedMaps())
          targets.push_back(op);
      } else if (isa<linalg::Conv2DNchwFchwOp>(op.getOperation())) {
        targets.push_back(op);
      } else if (isa<linalg::DepthwiseConv2DNchwChwOp>(op.getOperation())) {
        targets.push_back(op);
      }
    });
    // Products whose kernels have an overwriting (_set) entry: matmuls
    // and convolutions (int8 ones with a weight); f32 convolutions whose
    // output was just set to a per-channel bias take it as an operand.
    for (linalg::LinalgOp op : targets) {
      Value bias = biasFilledOutput(op);
      std::optional<ImplicitPad> pad = implicitZeroPad(op);
      replace(module, op,
              bias || (isa<linalg::MatmulOp, linalg::BatchMatmulOp, linalg::Conv2DNchwFchwOp,
                           linalg::DepthwiseConv2DNchwChwOp>(op.getOperation()) &&
                       zeroFilledOutput(op)),
              bias, pad ? &*pad : nullptr);
    }
    // Contractions the lowering marked for a kernel (qc.kernel).
    SmallVector<linalg::GenericOp> marked;
    module.walk([&](linalg::GenericOp op) {
      auto k = op->getAttrOfType<StringAttr>("qc.kernel");
      if (k && k.getValue() == "matmul_f32_w4" && op.hasPureBufferSemantics() &&
          op->getNumOperands() == 5)
        marked.push_back(op);
      auto bits = op->getAttrOfType<IntegerAttr>("qc.bits");
      if (k && k.getValue() == "matmul_f32_wlow" && bits && op.hasPureBufferSemantics() &&
          op->getNumOperands() == (bits.getInt() == 3 ? 6u : 5u))
        marked.push_back(op);
    });
    for (linalg::GenericOp op : marked)
      replaceMarked(module, op);
    // qc.hadamard's contraction: the runtime's fast transform, which
    // overwrites Y (the zero fill before it is dropped).
    SmallVector<linalg::GenericOp> hadamards;
    module.walk([&](linalg::GenericOp op) {
      auto k = op->getAttrOfType<StringAttr>("qc.kernel");
      if (k && k.getValue() == "hadamard" && op.hasPureBufferSemantics() &&
          op->getNumOperands() == 3 && kindOf(op) == Kind::F32)
        hadamards.push_back(op);
    });
    for (linalg::GenericOp op : hadamards) {
      zeroFilledOutput(op);
      OpBuilder b(op);
      SmallVector<Value> args;
      SmallVector<Type> types;
      dynamicOperands(b, op, args, types);
      func::CallOp::create(b, op.getLoc(), declare(module, "qc_rt_hadamard_f32", types), args);
      op->erase();
    }
    // Fused attention on buffers.
    SmallVector<quantc::qc::AttentionKernelOp> attention;
    module.walk([&](quantc::qc::AttentionKernelOp op) {
      if (op->getNumResults() == 0 &&
          llvm::all_of(op->getOperands(), [](Value v) {
            return isStridedOf(v, [](Type t) { return t.isF32(); });
          }))
        attention.push_back(op);
    });
    for (quantc::qc::AttentionKernelOp op : attention) {
      OpBuilder b(op);
      SmallVector<Value> args;
      SmallVector<Type> types;
      dynamicOperands(b, op, args, types);
      args.push_back(arith::ConstantOp::create(b, op.getLoc(), op.getScaleAttr()));
      types.push_back(b.getF32Type());
      func::FuncOp callee = declare(
          module, op.getMask() ? "qc_rt_attention_masked_f32" : "qc_rt_attention_f32", types);
      func::CallOp::create(b, op.getLoc(), callee, args);
      op->erase();
    }
    // Strided copies (tensor.pad, concat, slices) become loops that LLVM
    // vectorizes instead of calls to the element-wise memrefCopy.
    SmallVector<memref::CopyOp> copies;
    module.walk([&](memref::CopyOp c) {
      auto st = dyn_cast<MemRefType>(c.getSource().getType());
      auto tt = dyn_cast<MemRefType>(c.getTarget().getType());
      if (st && tt)
        copies.push_back(c);
    });
    for (memref::CopyOp c : copies) {
      OpBuilder b(c);
      if (cast<MemRefType>(c.getSource().getType()).getRank() == 0) {
        // A scalar: one load and store (no call into MLIR's runner utils,
        // which shared libraries do not link).
        Value v = memref::LoadOp::create(b, c.getLoc(), c.getSource(), ValueRange{});
        memref::StoreOp::create(b, c.getLoc(), v, c.getTarget(), ValueRange{});
      } else {
        linalg::CopyOp::create(b, c.getLoc(), c.getSource(), c.getTarget());
      }
      c.erase();
    }
  }

  func::FuncOp declare(ModuleOp module, StringRef name, TypeRange argTypes) {
    if (auto f = module.lookupSymbol<func::FuncOp>(name))
      return f;
    OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
    auto f = func::FuncOp::create(b, module.getLoc(), name,
                                  b.getFunctionType(argTypes, {}));
    f.setPrivate();
    f->setAttr("llvm.emit_c_interface", b.getUnitAttr());
    return f;
  }

  /// The op's memref operands cast to fully dynamic strided types (the
  /// kernels' descriptors), appended to `args` with their types.
  void dynamicOperands(OpBuilder &b, Operation *op, SmallVectorImpl<Value> &args,
                       SmallVectorImpl<Type> &types) {
    for (Value v : op->getOperands()) {
      auto t = fullyDynamic(cast<MemRefType>(v.getType()));
      args.push_back(v.getType() == t ? v
                                      : memref::CastOp::create(b, op->getLoc(), t, v).getResult());
      types.push_back(t);
    }
  }

  /// qc.kernel = "matmul_f32_w4": C[M,N] += A[M,K] * dequant(P, S, Z)
  /// -> qc_rt_matmul_f32_w4(A, P, S, Z, C, group, signed); "matmul_f32_wlow"
  /// with qc.bits = 2 or 3 -> qc_rt_matmul_f32_w2(A, L, S, Z, C, group) or
  /// qc_rt_matmul_f32_w3(A, L, H, S, Z, C, group).
  void replaceMarked(ModuleOp module, linalg::GenericOp op) {
    OpBuilder b(op);
    Location l = op.getLoc();
    SmallVector<Value> args;
    SmallVector<Type> types;
    dynamicOperands(b, op, args, types);
    int64_t group = op->getAttrOfType<IntegerAttr>("qc.group").getInt();
    SmallVector<int64_t> ints{group};
    std::string name = "qc_rt_matmul_f32_w4";
    if (auto bits = op->getAttrOfType<IntegerAttr>("qc.bits"))
      name = "qc_rt_matmul_f32_w" + std::to_string(bits.getInt());
    else
      ints.push_back(op->getAttrOfType<BoolAttr>("qc.signed").getValue());
    for (int64_t v : ints) {
      args.push_back(arith::ConstantIntOp::create(b, l, v, 64));
      types.push_back(b.getI64Type());
    }
    func::FuncOp callee = declare(module, name, types);
    func::CallOp::create(b, l, callee, args);
    op->erase();
  }

  /// An f32 depthwise convolution's input buffer that is only a
  /// zero-padded copy of another: X = alloc, filled with +0.0 (linalg.fill
  /// or linalg.map), a memref.copy of `src` into its interior subview at
  /// [0, 0, top, left], then the convolution, all in one block and nothing
  /// else touching X or writing src in between. quantc-cpu-pad-in-place
  /// leaves small f32 pads in this form (session 26).
  struct ImplicitPad {
    Value src;
    int64_t top, left;
    SmallVector<Operation *> dead; // the copy, the subview, the fill
    Operation *alloc;
  };
  /// A constant integer 0 or float +0.0.
  static bool isZeroConstant(Value v) {
    auto cst = v.getDefiningOp<arith::ConstantOp>();
    if (auto i = cst ? dyn_cast<IntegerAttr>(cst.getValue()) : IntegerAttr())
      return i.getValue().isZero();
    auto f = cst ? dyn_cast<FloatAttr>(cst.getValue()) : FloatAttr();
    return f && f.getValue().isZero() && !f.getValue().isNegative();
  }
  /// Whether `w` sets all of `out` to zero: a linalg.fill, or a
  /// linalg.map without inputs yielding a constant.
  static bool writesZero(Operation *w, Value out) {
    Value v;
    if (auto f = dyn_cast<linalg::FillOp>(w)) {
      if (f.getOutputs()[0] != out)
        return false;
      v = f.getInputs()[0];
    } else if (auto m = dyn_cast<linalg::MapOp>(w)) {
      if (!m.getInputs().empty() || m.getInit() != out)
        return false;
      v = cast<linalg::YieldOp>(m.getMapper().front().getTerminator()).getOperand(0);
    } else {
      return false;
    }
    return isZeroConstant(v);
  }
  std::optional<ImplicitPad> implicitZeroPad(linalg::LinalgOp op) {
    if (kindOf(op) != Kind::F32 || !isa<linalg::DepthwiseConv2DNchwChwOp>(op.getOperation()))
      return std::nullopt;
    Value x = op->getOperand(0);
    Operation *alloc = x.getDefiningOp<memref::AllocOp>();
    if (!alloc)
      return std::nullopt;
    Operation *fill = nullptr;
    memref::SubViewOp sub;
    for (Operation *u : x.getUsers()) {
      if (u == op.getOperation() || isa<memref::DeallocOp>(u))
        continue;
      if (u->getBlock() != op->getBlock())
        return std::nullopt;
      if (auto sv = dyn_cast<memref::SubViewOp>(u); sv && !sub) {
        sub = sv;
        continue;
      }
      if (!fill && writesZero(u, x)) {
        fill = u;
        continue;
      }
      return std::nullopt;
    }
    if (!fill || !sub || !sub->hasOneUse())
      return std::nullopt;
    auto cp = dyn_cast<memref::CopyOp>(*sub->getUsers().begin());
    if (!cp || cp.getTarget() != sub.getResult() || cp->getBlock() != op->getBlock() ||
        !fill->isBeforeInBlock(cp) || !cp->isBeforeInBlock(op))
      return std::nullopt;
    Value src = cp.getSource();
    auto st = dyn_cast<MemRefType>(src.getType());
    auto xt = cast<MemRefType>(x.getType());
    auto offsets = sub.getStaticOffsets(), sizes = sub.getStaticSizes(),
         strides = sub.getStaticStrides();
    if (!st || !st.hasStaticShape() || !xt.hasStaticShape() || st.getRank() != 4 ||
        offsets[0] != 0 || offsets[1] != 0 || offsets[2] < 0 || offsets[3] < 0 ||
        llvm::any_of(offsets, ShapedType::isDynamic) ||
        llvm::any_of(strides, [](int64_t v) { return v != 1; }) ||
        ArrayRef<int64_t>(sizes) != st.getShape() || st.getDimSize(0) != xt.getDimSize(0) ||
        st.getDimSize(1) != xt.getDimSize(1))
      return std::nullopt;
    // src read by the convolution as the copy read it: no other use of
    // src between the copy and the convolution.
    for (Operation *u : src.getUsers())
      if (u != cp.getOperation() && u->getBlock() == op->getBlock() && cp->isBeforeInBlock(u) &&
          u->isBeforeInBlock(op))
        return std::nullopt;
    return ImplicitPad{src, offsets[2], offsets[3], {cp, sub, fill}, alloc};
  }

  /// The one op writing `c` before `op` in op's block (null if none, if
  /// c is used in another block, or if more than one writes it first).
  static Operation *soleWriterBefore(Operation *op, Value c, bool &ok) {
    Operation *writer = nullptr;
    ok = true;
    for (Operation *u : c.getUsers()) {
      if (u == op)
        continue;
      if (u->getBlock() != op->getBlock()) {
        ok = false;
        return nullptr;
      }
      if (u->isBeforeInBlock(op)) {
        if (writer) {
          ok = false; // more than one use before op
          return nullptr;
        }
        writer = u;
      }
    }
    return writer;
  }

  /// For an f32 NCHW (or depthwise) convolution whose output's only writer before it is
  /// a broadcast of a constant 1-D bias along the channels (Y[n, m, y, x]
  /// = bias[m], what a Conv with a B input lowers to): the broadcast is
  /// erased and the bias returned (the kernel then writes Y = bias +
  /// the product without reading Y); null otherwise.
  Value biasFilledOutput(linalg::LinalgOp op) {
    if (kindOf(op) != Kind::F32 ||
        !isa<linalg::Conv2DNchwFchwOp, linalg::DepthwiseConv2DNchwChwOp>(op.getOperation()))
      return {};
    Value c = op.getDpsInits()[0];
    bool ok;
    auto g = dyn_cast_or_null<linalg::GenericOp>(soleWriterBefore(op, c, ok));
    if (!ok || !g || g.getNumDpsInputs() != 1 || g.getNumDpsInits() != 1 ||
        g.getDpsInits()[0] != c || g.getNumLoops() != 4 ||
        g.getNumParallelLoops() != 4)
      return {};
    Value bias = g.getDpsInputs()[0];
    auto bt = dyn_cast<MemRefType>(bias.getType());
    if (!bt || bt.getRank() != 1 || !bias.getDefiningOp<memref::GetGlobalOp>())
      return {};
    auto maps = g.getIndexingMapsArray();
    MLIRContext *ctx = g.getContext();
    if (maps[0] != AffineMap::get(4, 0, getAffineDimExpr(1, ctx)) || !maps[1].isIdentity())
      return {};
    auto yield = cast<linalg::YieldOp>(g.getBody()->getTerminator());
    if (g.getBody()->getOperations().size() != 1 ||
        yield.getOperand(0) != g.getBody()->getArgument(0))
      return {};
    g->erase();
    return bias;
  }

  /// Whether op is an f32 (batch) matmul, convolution or hadamard, an int8
  /// matmul or convolution with a weight, or an int8 depthwise convolution,
  /// whose output buffer was just
  /// zero-filled for it: the fill (or the copy of a zero-filled buffer CSE
  /// left) is erased and the kernel writes C = A * B without reading C (a
  /// pass over the output saved; SmolLM2's logits are 50 MB). The output
  /// must have no other user before the matmul.
  bool zeroFilledOutput(linalg::LinalgOp op) {
    if (op.getNumDpsInits() != 1)
      return false;
    // int8 matmuls and convolutions only for a weight B / W (the
    // _constb_set and _constw_set entries).
    const Kind kind = kindOf(op);
    const bool s8Set =
        kind == Kind::S8 &&
        (isa<linalg::DepthwiseConv2DNchwChwOp>(op.getOperation()) ||
         (isa<linalg::MatmulOp, linalg::Conv2DNchwFchwOp>(op.getOperation()) &&
          op->getOperand(1).getDefiningOp<memref::GetGlobalOp>()));
    if (kind != Kind::F32 && !s8Set)
      return false;
    Value c = op.getDpsInits()[0];
    bool ok;
    Operation *writer = soleWriterBefore(op, c, ok);
    if (!ok)
      return false;
    auto isZeroFill = [](Operation *w, Value out) {
      auto f = dyn_cast_or_null<linalg::FillOp>(w);
      return f && f.getOutputs()[0] == out && isZeroConstant(f.getInputs()[0]);
    };
    if (isZeroFill(writer, c)) {
      writer->erase();
      return true;
    }
    // linalg.copy (or memref.copy) from a buffer whose only writer before
    // it is a zero fill.
    Value src;
    if (auto cp = dyn_cast_or_null<linalg::CopyOp>(writer); cp && cp.getOutputs()[0] == c)
      src = cp.getInputs()[0];
    else if (auto mc = dyn_cast_or_null<memref::CopyOp>(writer); mc && mc.getTarget() == c)
      src = mc.getSource();
    if (!src)
      return false;
    Operation *fill = nullptr;
    for (Operation *u : src.getUsers())
      if (u != writer && u->getBlock() == writer->getBlock() && u->isBeforeInBlock(writer)) {
        if (fill)
          return false;
        fill = u;
      }
    if (!isZeroFill(fill, src))
      return false;
    writer->erase();
    return true;
  }

  void replace(ModuleOp module, linalg::LinalgOp op, bool overwrite = false, Value bias = {},
               const ImplicitPad *pad = nullptr) {
    OpBuilder b(op);
    Location l = op.getLoc();
    SmallVector<Value> args;
    SmallVector<Type> types;
    if (pad)
      op->setOperand(0, pad->src);
    dynamicOperands(b, op, args, types);
    if (bias) {
      // Bias before Y: (X, W, Bias, Y, window).
      auto t = fullyDynamic(cast<MemRefType>(bias.getType()));
      args.insert(args.begin() + 2, memref::CastOp::create(b, l, t, bias).getResult());
      types.insert(types.begin() + 2, t);
    }
    bool s8 = kindOf(op) == Kind::S8;
    StringRef name;
    auto addWindow = [&](DenseIntElementsAttr strides, DenseIntElementsAttr dilations) {
      auto s = llvm::to_vector(strides.getValues<int64_t>());
      auto d = llvm::to_vector(dilations.getValues<int64_t>());
      for (int64_t v : {s[0], s[1], d[0], d[1]}) {
        args.push_back(arith::ConstantIntOp::create(b, l, v, 64));
        types.push_back(b.getI64Type());
      }
    };
    if (isa<linalg::MatmulOp>(op.getOperation())) {
      // A constant B (a weight) is packed once by the runtime and kept.
      bool constB = op->getOperand(1).getDefiningOp<memref::GetGlobalOp>() != nullptr;
      name = s8          ? (!constB      ? "qc_rt_matmul_i8_i32"
                            : overwrite ? "qc_rt_matmul_i8_i32_constb_set"
                                        : "qc_rt_matmul_i8_i32_constb")
             : overwrite ? (constB ? "qc_rt_matmul_f32_constb_set" : "qc_rt_matmul_f32_set")
             : constB    ? "qc_rt_matmul_f32_constb"
                         : "qc_rt_matmul_f32";
    } else if (isa<linalg::BatchMatmulOp>(op.getOperation())) {
      name = s8          ? "qc_rt_batch_matmul_i8_i32"
             : overwrite ? "qc_rt_batch_matmul_f32_set"
                         : "qc_rt_batch_matmul_f32";
    } else if (auto c = dyn_cast<linalg::Conv2DNchwFchwOp>(op.getOperation())) {
      // A constant int8 weight is packed once by the runtime and kept.
      bool constW = op->getOperand(1).getDefiningOp<memref::GetGlobalOp>() != nullptr;
      name = !s8        ? (bias        ? "qc_rt_conv2d_nchw_f32_bias"
                           : overwrite ? "qc_rt_conv2d_nchw_f32_set"
                                       : "qc_rt_conv2d_nchw_f32")
             : !constW   ? "qc_rt_conv2d_nchw_i8_i32"
             : overwrite ? "qc_rt_conv2d_nchw_i8_i32_constw_set"
                         : "qc_rt_conv2d_nchw_i8_i32_constw";
      addWindow(c.getStrides(), c.getDilations());
    } else if (auto c = dyn_cast<linalg::DepthwiseConv2DNchwChwOp>(op.getOperation())) {
      name = s8          ? (overwrite ? "qc_rt_depthwise_conv2d_nchw_i8_i32_set"
                                      : "qc_rt_depthwise_conv2d_nchw_i8_i32")
             : bias      ? "qc_rt_depthwise_conv2d_nchw_f32_bias"
             : overwrite ? "qc_rt_depthwise_conv2d_nchw_f32_set"
                         : "qc_rt_depthwise_conv2d_nchw_f32";
      addWindow(c.getStrides(), c.getDilations());
    }
    std::string full = name.str();
    if (pad) {
      // The unpadded input and where it sits in the padded one.
      full += "_pad";
      for (int64_t v : {pad->top, pad->left}) {
        args.push_back(arith::ConstantIntOp::create(b, l, v, 64));
        types.push_back(b.getI64Type());
      }
    }
    func::FuncOp callee = declare(module, full, types);
    func::CallOp::create(b, l, callee, args);
    op->erase();
    if (pad) {
      for (Operation *d : pad->dead)
        d->erase();
      // The padded buffer, now unused but for its deallocation.
      Operation *alloc = pad->alloc;
      if (llvm::all_of(alloc->getUsers(), [](Operation *u) { return isa<memref::DeallocOp>(u); })) {
        for (Operation *u : llvm::make_early_inc_range(alloc->getUsers()))
          u->erase();
        alloc->erase();
      }
    }
  }
};

} // namespace
