//===- FuseEpilogues.cpp - elementwise consumers run inside int8 kernels --===//
//
// quantc-cpu-fuse-epilogues and quantc-cpu-epilogue-dispatch (Passes.td):
// the elementwise loop that reads an int8 convolution's or an int8 matrix
// product's int32 result (dequantization, bias, batch norm, activation,
// the next layer's quantization) becomes a function the kernel calls on
// each block of the product while the block is in cache; the product is
// never stored whole.
//
//===----------------------------------------------------------------------===//
#include "quantc/Target/CPU/Passes.h"
#include "ContextStruct.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

#include <map>
#include <optional>

namespace quantc::cpu {
#define GEN_PASS_DEF_CPUFUSEEPILOGUES
#define GEN_PASS_DEF_CPUEPILOGUEDISPATCH
#include "quantc/Target/CPU/Passes.h.inc"
} // namespace quantc::cpu

using namespace mlir;

namespace {

constexpr const char *kEntryAttr = "qc.epilogue_entry";
constexpr const char *kBodyNameAttr = "qc.epilogue_body_name";
constexpr const char *kKernelArgsAttr = "qc.epilogue_kernel_args";
/// The kernels whose product an epilogue can take: the call that writes
/// Y, the runtime entry taking the epilogue instead, W's rank, whether it
/// is a matrix product (Y[M, N] = X[M, K] W[K, N]) or a convolution
/// (Y[1, M, OH, OW]).
struct Kernel {
  const char *callee, *entry;
  int64_t wRank;
  bool matmul;
};
constexpr Kernel kKernels[] = {
    {"qc_rt_conv2d_nchw_i8_i32_constw_set", "qc_rt_conv2d_nchw_i8_epilogue", 4, false},
    {"qc_rt_depthwise_conv2d_nchw_i8_i32_set", "qc_rt_depthwise_conv2d_nchw_i8_epilogue", 3,
     false},
    {"qc_rt_matmul_i8_i32_constb_set", "qc_rt_matmul_i8_epilogue", 2, true},
};

Value castSource(Value v) {
  if (auto c = v.getDefiningOp<memref::CastOp>())
    return c.getSource();
  return v;
}

/// The buffer a view was taken of (through subviews, casts and
/// reinterpretations).
Value rootOf(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (auto sv = dyn_cast<memref::SubViewOp>(def))
      v = sv.getSource();
    else if (auto c = dyn_cast<memref::CastOp>(def))
      v = c.getSource();
    else if (auto r = dyn_cast<memref::ReinterpretCastOp>(def))
      v = r.getSource();
    else if (auto e = dyn_cast<memref::ExpandShapeOp>(def))
      v = e.getSrc();
    else if (auto e = dyn_cast<memref::CollapseShapeOp>(def))
      v = e.getSrc();
    else
      break;
  }
  return v;
}

/// Each result a loop dimension or the constant 0 (a size-1 dimension):
/// a box of the loop space is a box of the operand.
bool sliceable(AffineMap map) {
  if (map.getNumSymbols() != 0)
    return false;
  for (AffineExpr e : map.getResults()) {
    if (isa<AffineDimExpr>(e))
      continue;
    auto c = dyn_cast<AffineConstantExpr>(e);
    if (!c || c.getValue() != 0)
      return false;
  }
  return true;
}

struct Candidate {
  const Kernel *kernel;
  func::CallOp call;
  linalg::GenericOp g;
  memref::AllocOp y;
  Value yView; // what G reads: Y, or a matmul's Y expanded to [B, S, N]
  Value x, w;
  SmallVector<Operation *> movedDeallocs; // between the call and G
};

std::optional<Candidate> match(func::CallOp call) {
  const Kernel *kernel = nullptr;
  for (const Kernel &k : kKernels)
    if (call.getCallee() == k.callee)
      kernel = &k;
  if (!kernel || call.getNumOperands() != (kernel->matmul ? 3u : 7u))
    return std::nullopt;
  Candidate c;
  c.kernel = kernel;
  c.call = call;
  c.x = castSource(call.getOperand(0));
  c.w = castSource(call.getOperand(1));
  Value yv = castSource(call.getOperand(2));
  c.y = yv.getDefiningOp<memref::AllocOp>();
  if (!c.y)
    return std::nullopt;
  auto yt = c.y.getType();
  auto xt = dyn_cast<MemRefType>(c.x.getType());
  auto wt = dyn_cast<MemRefType>(c.w.getType());
  const int64_t rank = kernel->matmul ? 2 : 4;
  if (!yt.hasStaticShape() || yt.getRank() != rank || !yt.getLayout().isIdentity() || !xt ||
      xt.getRank() != rank || !xt.isStrided() || !wt || wt.getRank() != kernel->wRank ||
      !wt.hasStaticShape() || !wt.getLayout().isIdentity())
    return std::nullopt;
  if (!kernel->matmul && (yt.getDimSize(0) != 1 || xt.getDimSize(0) != 1))
    return std::nullopt;
  // Y: cast for the call, G (a matmul's through one expand_shape to
  // [B, S, N]), its deallocation; nothing else.
  Operation *yCast = call.getOperand(2).getDefiningOp();
  if (yCast && isa<memref::CastOp>(yCast) && !yCast->hasOneUse())
    return std::nullopt;
  c.yView = yv;
  for (Operation *u : yv.getUsers()) {
    if (u == yCast || isa<memref::DeallocOp>(u))
      continue;
    if (auto e = dyn_cast<memref::ExpandShapeOp>(u); e && kernel->matmul && c.yView == yv) {
      auto et = e.getResultType();
      auto groups = e.getReassociationIndices();
      if (et.getRank() != 3 || groups.size() != 2 || groups[1].size() != 1 ||
          !et.getLayout().isIdentity() || !e->hasOneUse())
        return std::nullopt;
      c.yView = e.getResult();
      u = *e->getUsers().begin();
    }
    auto g = dyn_cast<linalg::GenericOp>(u);
    if (!g || c.g)
      return std::nullopt;
    c.g = g;
  }
  linalg::GenericOp g = c.g;
  auto vt = cast<MemRefType>(c.yView.getType());
  if (!g || g->getBlock() != call->getBlock() || !call->isBeforeInBlock(g) ||
      !g.hasPureBufferSemantics() || g.hasIndexSemantics() || g.getNumLoops() != vt.getRank() ||
      g.getNumParallelLoops() != vt.getRank() ||
      g.getStaticLoopRanges() != SmallVector<int64_t>(vt.getShape()))
    return std::nullopt;
  int yUses = 0;
  for (OpOperand &o : g->getOpOperands()) {
    AffineMap map = g.getMatchingIndexingMap(&o);
    if (!sliceable(map) || !isa<MemRefType>(o.get().getType()))
      return std::nullopt;
    if (o.get() == c.yView) {
      if (g.isDpsInit(&o) || !map.isIdentity())
        return std::nullopt;
      ++yUses;
    }
    if (g.isDpsInit(&o) && !map.isIdentity())
      return std::nullopt;
  }
  if (yUses != 1)
    return std::nullopt;
  llvm::SetVector<Value> above;
  getUsedValuesDefinedAbove(g->getRegions(), above);
  for (Value v : above)
    if (!v.getDefiningOp() || !v.getDefiningOp()->hasTrait<OpTrait::ConstantLike>())
      return std::nullopt;
  // The convolution moves to G: what runs in between may allocate, and
  // write (linalg ops: pad fills, copies) buffers other than x and w; the
  // deallocations there, of buffers G does not use, move after it.
  Value xRoot = rootOf(c.x), wRoot = rootOf(c.w);
  // G writes a block while the kernel still reads x and w for the next
  // ones: none of its outputs may be (a view of) either.
  if (llvm::any_of(g.getDpsInits(), [&](Value v) {
        Value r = rootOf(v);
        return r == xRoot || r == wRoot;
      }))
    return std::nullopt;
  for (Operation *op = call->getNextNode(); op != g.getOperation(); op = op->getNextNode()) {
    if (isMemoryEffectFree(op) || isa<memref::AllocOp>(op))
      continue;
    if (auto d = dyn_cast<memref::DeallocOp>(op)) {
      if (!llvm::is_contained(g->getOperands(), d.getMemref())) {
        c.movedDeallocs.push_back(op);
        continue;
      }
    }
    if (auto l = dyn_cast<linalg::LinalgOp>(op))
      if (l.hasPureBufferSemantics() && llvm::none_of(l.getDpsInits(), [&](Value v) {
            Value r = rootOf(v);
            return r == xRoot || r == wRoot || r == yv;
          }))
        continue;
    return std::nullopt;
  }
  return c;
}

/// A body under construction: the function, its entry block and G's
/// constants cloned at the top of it.
struct Body {
  func::FuncOp fn;
  Block *entry;
  IRMapping constants;
};

/// A private function `name`(tile: memref<?xi32>, ld, m0, m1, n0, n1,
/// buffers...) marked as an epilogue body, with G's constants cloned at
/// the top of its entry block.
Body makeBodyFunction(ModuleOp module, linalg::GenericOp g, ArrayRef<Value> buffers,
                      const std::string &name) {
  MLIRContext *ctx = g->getContext();
  Location loc = g.getLoc();
  Type idx = IndexType::get(ctx);
  auto tileType = MemRefType::get({ShapedType::kDynamic}, IntegerType::get(ctx, 32));
  SmallVector<Type> argTypes = {tileType, idx, idx, idx, idx, idx};
  for (Value v : buffers)
    argTypes.push_back(v.getType());
  OpBuilder mb = OpBuilder::atBlockEnd(module.getBody());
  auto fn = func::FuncOp::create(mb, loc, name, FunctionType::get(ctx, argTypes, {}));
  fn.setPrivate();
  fn->setAttr(quantc::cpu::kEpilogueBodyAttr, UnitAttr::get(ctx));
  Block *entry = fn.addEntryBlock();
  OpBuilder b = OpBuilder::atBlockBegin(entry);
  Body body{fn, entry, {}};
  llvm::SetVector<Value> above;
  getUsedValuesDefinedAbove(g->getRegions(), above);
  for (Value v : above)
    body.constants.map(v, b.clone(*v.getDefiningOp())->getResult(0));
  return body;
}

/// A body's leading arguments: the tile, its row stride, the block.
struct BodyArgs {
  Value tile, ld, m0, m1, n0, n1;
  explicit BodyArgs(Block *entry)
      : tile(entry->getArgument(0)), ld(entry->getArgument(1)), m0(entry->getArgument(2)),
        m1(entry->getArgument(3)), n0(entry->getArgument(4)), n1(entry->getArgument(5)) {}
};

/// G on the box [boxOff, boxOff + boxSize) of its loop space, at b: Y (G's
/// operand `y`) read from `tileView` (the box's shape), every other
/// operand a subview of the body's argument for it.
void emitBox(OpBuilder &b, linalg::GenericOp g, Value y, Value tileView, ArrayRef<Value> buffers,
             Block *entry, ArrayRef<OpFoldResult> boxOff, ArrayRef<OpFoldResult> boxSize,
             const IRMapping &constants) {
  Location loc = g.getLoc();
  auto view = [&](OpOperand &o) -> Value {
    if (o.get() == y)
      return tileView;
    Value arg = entry->getArgument(6 + (llvm::find(buffers, o.get()) - buffers.begin()));
    AffineMap map = g.getMatchingIndexingMap(&o);
    SmallVector<OpFoldResult> offsets, sizes, strides;
    for (AffineExpr e : map.getResults()) {
      if (auto d = dyn_cast<AffineDimExpr>(e)) {
        offsets.push_back(boxOff[d.getPosition()]);
        sizes.push_back(boxSize[d.getPosition()]);
      } else {
        offsets.push_back(b.getIndexAttr(0));
        sizes.push_back(b.getIndexAttr(1));
      }
      strides.push_back(b.getIndexAttr(1));
    }
    return memref::SubViewOp::create(b, loc, arg, offsets, sizes, strides);
  };
  SmallVector<Value> ins, outs;
  for (OpOperand *o : g.getDpsInputOperands())
    ins.push_back(view(*o));
  for (OpOperand &o : g.getDpsInitsMutable())
    outs.push_back(view(o));
  auto ng = linalg::GenericOp::create(b, loc, TypeRange{}, ins, outs, g.getIndexingMapsArray(),
                                      g.getIteratorTypesArray());
  IRMapping mapping = constants;
  g.getRegion().cloneInto(&ng.getRegion(), mapping);
}

/// @qc_epi_<n> for a convolution: G on channels [m0, m1) and flattened
/// positions [n0, n1), one row segment at a time.
func::FuncOp makeConvBody(ModuleOp module, linalg::GenericOp g, Value y, ArrayRef<Value> buffers,
                          int64_t OW, const std::string &name) {
  MLIRContext *ctx = g->getContext();
  Location loc = g.getLoc();
  auto [fn, entry, constants] = makeBodyFunction(module, g, buffers, name);
  OpBuilder b = OpBuilder::atBlockEnd(entry);
  auto [tile, ld, m0, m1, n0, n1] = BodyArgs(entry);
  Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
  Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
  Value cOW = arith::ConstantIndexOp::create(b, loc, OW);
  Value mr = arith::SubIOp::create(b, loc, m1, m0);
  Value hFirst = arith::DivUIOp::create(b, loc, n0, cOW);
  Value last = arith::SubIOp::create(b, loc, n1, c1);
  Value hEnd =
      arith::AddIOp::create(b, loc, arith::DivUIOp::create(b, loc, last, cOW), c1);
  auto loop = scf::ForOp::create(b, loc, hFirst, hEnd, c1);
  b.setInsertionPointToStart(loop.getBody());
  Value h = loop.getInductionVar();
  Value rowStart = arith::MulIOp::create(b, loc, h, cOW);
  Value wlo = arith::MaxSIOp::create(b, loc, arith::SubIOp::create(b, loc, n0, rowStart), c0);
  Value whi = arith::MinSIOp::create(b, loc, arith::SubIOp::create(b, loc, n1, rowStart), cOW);
  Value wr = arith::SubIOp::create(b, loc, whi, wlo);
  Value toff = arith::SubIOp::create(b, loc, arith::AddIOp::create(b, loc, rowStart, wlo), n0);
  // The tile as Y's block: [1, mr, 1, wr] with rows ld apart.
  auto tileType = cast<MemRefType>(tile.getType());
  auto viewType = MemRefType::get(
      {1, ShapedType::kDynamic, 1, ShapedType::kDynamic}, tileType.getElementType(),
      StridedLayoutAttr::get(ctx, ShapedType::kDynamic, {1, ShapedType::kDynamic, 1, 1}));
  Value tileView = memref::ReinterpretCastOp::create(
      b, loc, viewType, tile, OpFoldResult(toff),
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), mr, b.getIndexAttr(1), wr},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), ld, b.getIndexAttr(1), b.getIndexAttr(1)});
  SmallVector<OpFoldResult> boxOff = {b.getIndexAttr(0), m0, h, wlo};
  SmallVector<OpFoldResult> boxSize = {b.getIndexAttr(1), mr, b.getIndexAttr(1), wr};
  emitBox(b, g, y, tileView, buffers, entry, boxOff, boxSize, constants);
  b.setInsertionPointToEnd(entry);
  func::ReturnOp::create(b, loc);
  return fn;
}

/// @qc_epi_<n> for a matrix product: G on rows [m0, m1) and columns
/// [n0, n1) of Y[M, N]; G's loop space is Y's shape, or [B, S, N] with
/// row m = b S + s, taken one segment of rows within one b at a time.
func::FuncOp makeMatmulBody(ModuleOp module, linalg::GenericOp g, Value y, ArrayRef<Value> buffers,
                            const std::string &name) {
  MLIRContext *ctx = g->getContext();
  Location loc = g.getLoc();
  auto [fn, entry, constants] = makeBodyFunction(module, g, buffers, name);
  OpBuilder b = OpBuilder::atBlockEnd(entry);
  auto [tile, ld, m0, m1, n0, n1] = BodyArgs(entry);
  auto vt = cast<MemRefType>(y.getType());
  const bool batched = vt.getRank() == 3;
  const int64_t S = vt.getDimSize(vt.getRank() - 2);
  Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
  Value cS = arith::ConstantIndexOp::create(b, loc, S);
  Value nr = arith::SubIOp::create(b, loc, n1, n0);
  // Segments: b from m0 / S to (m1 - 1) / S; rows [max(m0, b S),
  // min(m1, (b + 1) S)).
  Value bFirst = arith::DivUIOp::create(b, loc, m0, cS);
  Value bEnd = arith::AddIOp::create(
      b, loc, arith::DivUIOp::create(b, loc, arith::SubIOp::create(b, loc, m1, c1), cS), c1);
  auto loop = scf::ForOp::create(b, loc, bFirst, bEnd, c1);
  b.setInsertionPointToStart(loop.getBody());
  Value bi = loop.getInductionVar();
  Value segStart = arith::MulIOp::create(b, loc, bi, cS);
  Value lo = arith::MaxSIOp::create(b, loc, m0, segStart);
  Value hi = arith::MinSIOp::create(b, loc, m1, arith::AddIOp::create(b, loc, segStart, cS));
  Value rows = arith::SubIOp::create(b, loc, hi, lo);
  Value sLo = arith::SubIOp::create(b, loc, lo, segStart);
  Value toff = arith::MulIOp::create(b, loc, arith::SubIOp::create(b, loc, lo, m0), ld);
  // The tile as Y's block: [(1,) rows, nr] with rows ld apart.
  auto tileType = cast<MemRefType>(tile.getType());
  SmallVector<int64_t> shape, strides;
  SmallVector<OpFoldResult> sizes, strideVals, boxOff, boxSize;
  if (batched) {
    shape.push_back(1);
    strides.push_back(1);
    sizes.push_back(b.getIndexAttr(1));
    strideVals.push_back(b.getIndexAttr(1));
    boxOff.push_back(bi);
    boxSize.push_back(b.getIndexAttr(1));
  }
  shape.append({ShapedType::kDynamic, ShapedType::kDynamic});
  strides.append({ShapedType::kDynamic, 1});
  sizes.append({rows, nr});
  strideVals.append({ld, b.getIndexAttr(1)});
  boxOff.append({batched ? OpFoldResult(sLo) : OpFoldResult(lo), n0});
  boxSize.append({rows, nr});
  auto viewType = MemRefType::get(shape, tileType.getElementType(),
                                  StridedLayoutAttr::get(ctx, ShapedType::kDynamic, strides));
  Value tileView = memref::ReinterpretCastOp::create(b, loc, viewType, tile, OpFoldResult(toff),
                                                     sizes, strideVals);
  emitBox(b, g, y, tileView, buffers, entry, boxOff, boxSize, constants);
  b.setInsertionPointToEnd(entry);
  func::ReturnOp::create(b, loc);
  return fn;
}

struct FuseEpiloguesPass : quantc::cpu::impl::CPUFuseEpiloguesBase<FuseEpiloguesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<Candidate> todo;
    module.walk([&](func::CallOp call) {
      if (auto c = match(call))
        todo.push_back(*c);
    });
    int counter = 0;
    for (Candidate &c : todo) {
      MLIRContext *ctx = module.getContext();
      linalg::GenericOp g = c.g;
      Location loc = c.call.getLoc();
      Value yv = c.y.getResult();
      SmallVector<Value> buffers;
      for (Value v : g->getOperands())
        if (v != c.yView && !llvm::is_contained(buffers, v))
          buffers.push_back(v);
      auto yt = c.y.getType();
      auto wt = cast<MemRefType>(c.w.getType());
      std::string n = std::to_string(counter++);
      func::FuncOp body =
          c.kernel->matmul
              ? makeMatmulBody(module, g, c.yView, buffers, "qc_epi_" + n)
              : makeConvBody(module, g, c.yView, buffers, yt.getDimSize(3), "qc_epi_" + n);

      // The kernel's scalars, at G's place.
      OpBuilder b(g);
      Type i64 = b.getI64Type();
      auto asI64 = [&](Value v) -> Value {
        return arith::IndexCastOp::create(b, loc, i64, v);
      };
      auto cst = [&](int64_t v) -> Value { return arith::ConstantIntOp::create(b, loc, i64, v); };
      auto address = [&](Value m, memref::ExtractStridedMetadataOp meta) -> Value {
        Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, m);
        return asI64(arith::AddIOp::create(b, loc, base, meta.getOffset()));
      };
      auto xm = memref::ExtractStridedMetadataOp::create(b, loc, c.x);
      auto wm = memref::ExtractStridedMetadataOp::create(b, loc, c.w);
      SmallVector<Value> args;
      if (c.kernel->matmul) {
        // x's address, M, K, row and column strides; w's address, N.
        args = {address(c.x, xm),       asI64(xm.getSizes()[0]),   asI64(xm.getSizes()[1]),
                asI64(xm.getStrides()[0]), asI64(xm.getStrides()[1]), address(c.w, wm),
                cst(wt.getDimSize(1))};
      } else {
        args = {address(c.x, xm),
                asI64(xm.getSizes()[1]),
                asI64(xm.getSizes()[2]),
                asI64(xm.getSizes()[3]),
                asI64(xm.getStrides()[1]),
                asI64(xm.getStrides()[2]),
                asI64(xm.getStrides()[3]),
                address(c.w, wm),
                cst(wt.getDimSize(0)),
                cst(wt.getDimSize(wt.getRank() - 2)),
                cst(wt.getDimSize(wt.getRank() - 1)),
                cst(yt.getDimSize(2)),
                cst(yt.getDimSize(3))};
        for (unsigned i = 3; i < 7; ++i)
          args.push_back(c.call.getOperand(i));
      }
      const int64_t kernelArgs = args.size();
      args.append(buffers.begin(), buffers.end());
      SmallVector<Type> types;
      for (Value v : args)
        types.push_back(v.getType());
      OpBuilder mb = OpBuilder::atBlockEnd(module.getBody());
      auto launch = func::FuncOp::create(mb, loc, "qc_epilaunch_" + n,
                                         FunctionType::get(ctx, types, {}));
      launch.setPrivate();
      launch->setAttr(kEntryAttr, StringAttr::get(ctx, c.kernel->entry));
      launch->setAttr(kBodyNameAttr, StringAttr::get(ctx, body.getSymName()));
      launch->setAttr(kKernelArgsAttr, b.getI64IntegerAttr(kernelArgs));
      func::CallOp::create(b, loc, launch, args);
      for (Operation *d : c.movedDeallocs)
        d->moveBefore(g);

      // The product's buffer, the call, G and what only they used.
      SmallVector<Operation *> casts;
      for (unsigned i = 0; i < 3; ++i)
        if (auto cast = c.call.getOperand(i).getDefiningOp<memref::CastOp>())
          casts.push_back(cast);
      c.call.erase();
      g.erase();
      for (Operation *cast : casts)
        if (cast->use_empty())
          cast->erase();
      for (Operation *u : llvm::make_early_inc_range(yv.getUsers()))
        u->erase();
      c.y.erase();
    }
  }
};

struct EpilogueDispatchPass
    : quantc::cpu::impl::CPUEpilogueDispatchBase<EpilogueDispatchPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto i64 = IntegerType::get(ctx, 64);
    auto voidTy = LLVM::LLVMVoidType::get(ctx);
    SymbolTable symbols(module);
    SmallVector<LLVM::CallOp> calls;
    module.walk([&](LLVM::CallOp call) {
      if (auto callee = call.getCallee())
        if (auto fn = symbols.lookup<LLVM::LLVMFuncOp>(*callee))
          if (fn->hasAttr(kEntryAttr))
            calls.push_back(call);
    });
    OpBuilder mb = OpBuilder::atBlockEnd(module.getBody());
    std::map<std::string, LLVM::LLVMFuncOp> trampolines;
    SmallVector<LLVM::LLVMFuncOp> launches;
    for (LLVM::CallOp call : calls) {
      Location loc = call.getLoc();
      auto launch = symbols.lookup<LLVM::LLVMFuncOp>(*call.getCallee());
      if (!llvm::is_contained(launches, launch))
        launches.push_back(launch);
      auto bodyName = launch->getAttrOfType<StringAttr>(kBodyNameAttr);
      auto entryName = launch->getAttrOfType<StringAttr>(kEntryAttr);
      auto kAttr = launch->getAttrOfType<IntegerAttr>(kKernelArgsAttr);
      auto body = bodyName ? symbols.lookup<LLVM::LLVMFuncOp>(bodyName) : nullptr;
      const int64_t k = kAttr ? kAttr.getInt() : -1;
      auto operands = call.getArgOperands();
      // The body: tile (5 descriptor fields), ld, m0, m1, n0, n1, fields.
      if (!body || !entryName || k < 0 || k > static_cast<int64_t>(operands.size()) ||
          body.getNumArguments() != 10 + (operands.size() - k)) {
        call.emitError("quantc-cpu-epilogue-dispatch: malformed epilogue launch");
        return signalPassFailure();
      }
      SmallVector<Type> fields;
      for (Value v : operands.drop_front(k))
        fields.push_back(v.getType());
      std::string trampName = bodyName.str() + "_tramp";
      LLVM::LLVMFuncOp tramp = trampolines[trampName];
      if (!tramp) {
        tramp = LLVM::LLVMFuncOp::create(
            mb, loc, trampName,
            LLVM::LLVMFunctionType::get(voidTy, {ptr, ptr, i64, i64, i64, i64, i64}));
        tramp.setLinkage(LLVM::Linkage::Internal);
        Block *entry = tramp.addEntryBlock(mb);
        OpBuilder tb = OpBuilder::atBlockBegin(entry);
        auto c = [&](int64_t v) -> Value {
          return LLVM::ConstantOp::create(tb, loc, i64, tb.getI64IntegerAttr(v));
        };
        // memref<?xi32> over the tile: allocated, aligned, offset, size, stride.
        SmallVector<Value> args = {entry->getArgument(1), entry->getArgument(1), c(0),
                                   c(int64_t(1) << 40), c(1)};
        for (unsigned i = 2; i < 7; ++i)
          args.push_back(entry->getArgument(i));
        quantc::cpu::loadContext(tb, loc, entry->getArgument(0), fields, args);
        LLVM::CallOp::create(tb, loc, body, args);
        LLVM::ReturnOp::create(tb, loc, ValueRange{});
        trampolines[trampName] = tramp;
      }
      SmallVector<Type> entryParams;
      for (Value v : operands.take_front(k))
        entryParams.push_back(v.getType());
      entryParams.append({ptr, ptr});
      auto entryType = LLVM::LLVMFunctionType::get(voidTy, entryParams);
      auto runtime = symbols.lookup<LLVM::LLVMFuncOp>(entryName);
      if (!runtime) {
        runtime = LLVM::LLVMFuncOp::create(mb, loc, entryName, entryType);
        symbols.insert(runtime);
      }
      Value ctxPtr = quantc::cpu::storeContext(call, operands.drop_front(k));
      OpBuilder b(call);
      Value fnPtr = LLVM::AddressOfOp::create(b, loc, ptr, tramp.getSymName());
      SmallVector<Value> args(operands.take_front(k));
      args.append({fnPtr, ctxPtr});
      LLVM::CallOp::create(b, loc, runtime, args);
      call.erase();
    }
    for (LLVM::LLVMFuncOp launch : launches)
      if (launch.isExternal() && SymbolTable::symbolKnownUseEmpty(launch, module))
        launch.erase();
  }
};

} // namespace
