//===- Passes.td - CPU code generation passes -------------*- tablegen -*-===//
#ifndef QUANTC_TARGET_CPU_PASSES_TD
#define QUANTC_TARGET_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def CPUKernelCalls : Pass<"quantc-cpu-kernel-calls", "::mlir::ModuleOp"> {
  let summary = "Replace f32 and int8 contractions on buffers with calls to the runtime's kernels";
  let description = [{
    Runs after bufferization. Each linalg op below, on f32 memrefs with its
    default indexing maps, becomes a call to a kernel of the quantc runtime
    (lib/Runtime) with the same semantics, out += contraction:

    * linalg.matmul        C[m,n] += sum_k A[m,k] B[k,n]    -> qc_rt_matmul_f32
    * linalg.batch_matmul  C[b,m,n] += sum_k A[b,m,k] B[b,k,n]
                                                          -> qc_rt_batch_matmul_f32
    * linalg.conv_2d_nchw_fchw
        Y[n,f,y,x] += sum_{c,i,j} X[n,c,y*sh+i*dh,x*sw+j*dw] W[f,c,i,j]
                                                          -> qc_rt_conv2d_nchw_f32
    * linalg.depthwise_conv_2d_nchw_chw
        Y[n,c,y,x] += sum_{i,j} X[n,c,y*sh+i*dh,x*sw+j*dw] W[c,i,j]
                                                          -> qc_rt_depthwise_conv2d_nchw_f32

    The kernels are blocked, packed and vectorized (AVX-512 where the CPU
    has it) and spread over the runtime's threads. Operands are passed as
    strided memref descriptors (llvm.emit_c_interface), so views need no
    copies. All four on i8 operands into i32 (signed casts) call
    qc_rt_matmul_i8_i32, qc_rt_batch_matmul_i8_i32, qc_rt_conv2d_nchw_i8_i32
    and qc_rt_depthwise_conv2d_nchw_i8_i32 (exact int32 results; the
    depthwise kernel sums the integer products in f32, exact while the
    taps times 2^14 stay under 2^24, and in int32 beyond); a matmul whose B
    is a constant (memref.get_global: a weight) calls the `_constb` entry
    (qc_rt_matmul_f32_constb, qc_rt_matmul_i8_i32_constb), which packs B
    once and keeps it. Ops on other element types are left to the generic
    lowering.

    A matmul or batch_matmul whose output buffer was zero-filled just for
    it (linalg.fill of +0.0 as the buffer's only use before the product,
    or a copy of such a buffer, which CSE leaves when two products share
    one fill) drops the fill and calls the `_set` entry instead
    (qc_rt_matmul_f32_set, qc_rt_matmul_f32_constb_set,
    qc_rt_batch_matmul_f32_set): C = A B, C never read. So do int8
    depthwise convolutions (qc_rt_depthwise_conv2d_nchw_i8_i32_set), and int8
    matmuls and 2-D convolutions whose B / W is a weight
    (qc_rt_matmul_i8_i32_constb_set, qc_rt_conv2d_nchw_i8_i32_constw_set:
    Y = the convolution; the fill was a pass over Y and the kernel's
    accumulation another read of it), and f32 2-D and depthwise
    convolutions (qc_rt_conv2d_nchw_f32_set,
    qc_rt_depthwise_conv2d_nchw_f32_set). An f32 2-D or depthwise
    convolution whose output's only writer before it is the broadcast of
    a constant 1-D bias along the channels (linalg.generic Y[n,f,y,x] =
    B[f], B a memref.get_global: a Conv with a bias input) drops the
    broadcast and calls qc_rt_conv2d_nchw_f32_bias(X, W, B, Y, ...) or
    qc_rt_depthwise_conv2d_nchw_f32_bias: Y = B[f] + the convolution,
    each GEMM tile of Y set to its bias just before the micro-kernel adds
    into it (in L1), the depthwise accumulators started at it, instead of
    a pass over all of Y before the product. Any other writer (an int8
    bias fill, a second use in between) keeps the accumulating call.

    An f32 depthwise convolution whose input buffer is only a zero-padded
    copy of another (memref.alloc, a fill of +0.0, a memref.copy of src
    into its interior subview at [0, 0, top, left], nothing else using it:
    the form quantc-cpu-pad-in-place leaves for small f32 pads) reads src
    instead: the fill, the copy and the buffer go, and the `_pad` entry
    (qc_rt_depthwise_conv2d_nchw_f32[_set|_bias]_pad(..., top, left)) pads
    implicitly, one channel at a time into a small per-thread plane.

    qc.attention_kernel on buffers (qc-fuse-attention's op after
    bufferization) becomes qc_rt_attention_f32 / _masked_f32 with the
    scale as an f32 argument:

      O[b,h] = softmax(scale * Q[b,h] K[b,h/R]^T + mask[b,h]) V[b,h/R]

    memref.copy ops of ranked buffers become linalg.copy, so that strided
    copies are lowered to loops that LLVM vectorizes rather than calls to
    the element-by-element memrefCopy; rank-0 copies become a load and a
    store. Compiled code then needs nothing from MLIR's runner utils.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect"];
}

def CPUUnsignedBoundary : Pass<"quantc-cpu-unsigned-boundary", "::mlir::ModuleOp"> {
  let summary = "Pass unsigned integer tensors across @main's boundary as signless bits";
  let description = [{
    Compiled code holds uint8 tensors as their signless i8 bits; only the
    ops that know (DequantizeLinear, the integer contractions) read them
    unsigned. This pass makes @main's uint8 (any unsigned integer)
    arguments and results signless, with builtin.unrealized_conversion_cast
    between the signless value and the unsigned one that the qc ops see;
    the lowering reads through these casts and reconcile-unrealized-casts
    removes them. The bytes are the same, so callers still pass and get
    uint8 data (the JIT and the AOT API take their dtypes from the
    unlowered signature).
  }];
}

def CPUOutlineOps : Pass<"quantc-cpu-outline-ops", "::mlir::ModuleOp"> {
  let summary = "Split @main into private functions of a bounded number of ops";
  let description = [{
    Runs of consecutive qc ops of @main (at most `ops-per-function` each;
    constants do not count and are cloned into every function that uses
    them) become calls to new private functions `@ops_<i>_<first op>`. The
    values a run uses from outside are its arguments, the values used
    after it its results.

    LLVM's optimizer is superlinear in function size (dominator-tree and
    SCEV updates over hundreds of loop nests), so bounded functions keep
    compile time proportional to the model, while ops within a run still
    share buffers. The functions are marked noinline so that the optimizer
    does not merge them back, and their arguments read-only.

    With `content-defined`, where a run ends depends on its ops, not on a
    count from the start of @main: a run ends after a float contraction
    (MatMul, Gemm, Conv, QLinearMatMul, QLinearConv: its kernel writes the
    result to memory anyway) once it holds a quarter of `ops-per-function`
    ops, and always at twice `ops-per-function`. Not after an integer
    contraction (MatMulInteger, ConvInteger): its lowering ends in an
    elementwise zero-point correction that fuses into the epilogue after
    it only within one function. Instead, such a run ends (from the same
    quarter) just before an integer contraction that reads its int8 input
    as it is: a MatMulInteger, or a ConvInteger with a 1x1 kernel and no
    padding; the loop quantizing that input loses no fusion at the
    boundary, whereas a padded ConvInteger's pad is written in place by
    its producer (quantc-cpu-pad-in-place) only within one function.
    Repeated blocks (a transformer's identical
    layers) are then cut at the same ops in every repetition, so their
    functions come out identical and quantc-cpu-dedup-functions compiles
    one of them (content-defined chunking, as deduplicating storage cuts
    files at content-defined boundaries).

    First, a Transpose whose users are all MatMuls (or qc.attention) moves down to just
    before the first of them (qc ops are pure), so that it is outlined
    with its consumer: quantc-cpu-fold-transposes can then read it as a
    strided view instead of copying it into a buffer returned across a
    call.
  }];
  let options = [
    Option<"opsPerFunction", "ops-per-function", "int64_t", /*default=*/"16",
           "The most qc ops a function gets (the mean with content-defined)">,
    Option<"contentDefined", "content-defined", "bool", /*default=*/"false",
           "End runs at ops chosen by their signature's hash">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect", "::mlir::quant::QuantDialect"];
}

def CPUForwardResults : Pass<"quantc-cpu-forward-results", "::mlir::ModuleOp"> {
  let summary = "Drop results of outlined functions that repeat a result or an argument";
  let description = [{
    Runs after the lowering to linalg and its folding, before
    bufferization. Folding can make two results of a function created by
    quantc-cpu-outline-ops the same value (x * 1 folds to x, so `return %x,
    %y` becomes `return %x, %x`) or make a result one of its arguments.
    Such a result is removed and its uses at the call take the repeated
    result or the call's operand instead, so that every result of an
    outlined function is a buffer of its own, as
    buffer-results-to-out-params requires.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

def CPUApproximateMath : Pass<"quantc-cpu-approximate-math", "::mlir::func::FuncOp"> {
  let summary = "f32 exp, expm1, tanh and erf as vectorizable polynomials";
  let description = [{
    Rewrites f32 (and, through f32, f16/bf16) `math.exp`, `math.expm1`,
    `math.tanh` and `math.erf` into MLIR's polynomial approximations: exp
    by range reduction (x = k ln2 + r, |r| <= ln2/2, 2^k built in the
    exponent bits) and a minimax polynomial in r evaluated with FMAs; tanh
    and erf by rational approximations with their saturation for large
    |x|. Subnormal results may flush to zero.
    Only arith ops remain, so LLVM vectorizes the loops around them; left
    as libm calls or LLVM intrinsics (no vector math library), they cost
    one scalar call per element (softmax, sigmoid, GELU). At most 4 ULP
    from float64 (test/Numerics/check_numerics.py; measured 1.0, 1.9 and
    1.7 for exp, tanh, erf). log keeps libm: its approximation is off by
    2e4 ULP on subnormal inputs; so do sin, cos and the inverse
    trigonometric functions.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def CPUCanonicalGlobals : Pass<"quantc-cpu-canonical-globals", "::mlir::ModuleOp"> {
  let summary = "Name and order constant memref.globals by their contents";
  let description = [{
    One-shot bufferization turns each constant tensor into a private
    constant `memref.global` named after its type (`__constant_64xf32`,
    `__constant_64xf32_0`, ...) in the order it meets them, and it meets
    the functions of a module in an order that depends on pointer values
    (its call-graph worklist is a DenseMap): the same model then compiled
    to libraries whose constants were laid out differently from run to
    run. This pass renames every private constant global with an
    initial value to `__constant_<type>_<h>`, h the 64-bit xxh3 hash of
    its type and contents (a second global with the same name, i.e. the
    same contents, is merged into the first: its `memref.get_global`s
    read the first), and moves them to the start of the module sorted by
    name. The output no longer depends on the order the globals were
    created in. Other globals and every other op stay as they are.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def CPUDedupFunctions : Pass<"quantc-cpu-dedup-functions", "::mlir::ModuleOp"> {
  let summary = "Merge outlined LLVM functions that differ only in the constants they read";
  let description = [{
    After the lowering to the LLVM dialect, two outlined functions (attribute
    `qc.outlined`) of a transformer's identical layers differ only in the
    constant globals they take the address of (their weights). Functions
    whose bodies are identical once every `llvm.mlir.addressof` of a
    constant global is replaced by a placeholder form a class; the first
    of a class gets one pointer argument per such `addressof` (in walk
    order, replacing it; the argument is `noalias` and `readonly`, with no
    alignment promised: the JIT may bind a weight to bytes less aligned
    than its global declared), every call to a member
    becomes a call to it that passes the member's addresses, and the other
    members are erased (identical functions that read no constant merge
    the same way, with no argument added). LLVM then optimizes and
    generates code for one function per class instead of one per layer.
    A class of one is left as it is.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def CPUNoAliasArgs : Pass<"quantc-cpu-noalias-args", "::mlir::ModuleOp"> {
  let summary = "Mark the pointer arguments of outlined op functions noalias";
  let description = [{
    Runs after the conversion to the LLVM dialect, on the functions
    quantc-cpu-outline-ops created (those carrying the `qc.outlined`
    attribute). Their operands are read-only (bufferization.writable =
    false) and their results are fresh buffers the caller allocates, so no
    write through one pointer argument can be observed through another.
    Telling LLVM so lets the loop vectorizer drop runtime alias checks and
    vectorize loop nests it would otherwise leave scalar.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def CPUFuseEpilogues : Pass<"quantc-cpu-fuse-epilogues", "::mlir::ModuleOp"> {
  let summary = "Apply the elementwise consumer of an int8 convolution or matmul inside its kernel";
  let description = [{
    Runs on buffers after quantc-cpu-kernel-calls, before
    quantc-cpu-parallel-outline. An int8 convolution with a constant weight
    or an int8 depthwise one writes its int32 product Y[1, M, OH, OW] (a
    call to qc_rt_conv2d_nchw_i8_i32_constw_set or
    qc_rt_depthwise_conv2d_nchw_i8_i32_set, Y = the product); an int8
    matrix product with a constant B writes Y[M, N] = X[M, K] B[K, N]
    (qc_rt_matmul_i8_i32_constb_set). Its one reader is an elementwise
    linalg.generic G that takes Y (a matmul's Y may be read through one
    memref.expand_shape to [B, S, N], M = B S) at the identity map over
    exactly that shape, writes its outputs at the identity map and reads
    its other operands at projections of its loop dimensions (a dimension
    or the constant 0 per result: per-channel vectors, same-shape
    tensors). Then each element of G(Y) needs only the same element of Y,
    so G can run on each block of the product while the kernel has it in
    cache:

      G is moved into `@qc_epi_<n>(tile, ld, m0, m1, n0, n1, buffers...)`
      (attribute qc.epilogue_body) that applies G to the block of rows
      (convolution: channels) [m0, m1) and columns (convolution: flattened
      positions n = y OW + x) [n0, n1), with Y's element (m, n) read from
      tile[(m - m0) ld + n - n0]: a convolution's block row segment by row
      segment, a matmul's one segment of rows within one b of [B, S, N] at
      a time. The call and G become one call of `@qc_epilaunch_<n>` (the
      kernel's scalars - convolution: x's address, C, H, W and strides,
      w's address, M, KH, KW, OH, OW, strides, dilations; matmul: x's
      address, M, K, x's row and column strides, B's address, N - then
      G's buffers); Y's allocation and deallocation are erased.

    Only when the kernel can move to G's place: the ops in between
    allocate, take views, or write (linalg ops: pad fills) buffers other
    than x, w and Y; deallocations there of buffers G does not use move
    after the launch. quantc-cpu-epilogue-dispatch later makes the launch
    a call of qc_rt_conv2d_nchw_i8_epilogue (blocks of up to 256 pixels
    for the 1x1 AMX path, 96 for im2col, the whole product for K < 64),
    qc_rt_depthwise_conv2d_nchw_i8_epilogue (one channel's plane per
    call) or qc_rt_matmul_i8_epilogue (each task's strip of up to 256
    columns, all rows, on AMX; 32-row blocks of the whole product
    elsewhere) with a trampoline and a context struct, as
    quantc-cpu-parallel-dispatch does for loops. The int32 product (4
    bytes per output, written and read back through DRAM for large
    layers) is never stored whole.
  }];
}

def CPUEpilogueDispatch : Pass<"quantc-cpu-epilogue-dispatch", "::mlir::ModuleOp"> {
  let summary = "Calls of @qc_epilaunch_* become kernel calls with an epilogue trampoline";
  let description = [{
    Runs on the LLVM dialect. For each `@qc_epi_<n>` body a trampoline
    `@qc_epi_<n>_tramp(ctx, tile, ld, m0, m1, n0, n1)` loads the body's
    buffer arguments from the struct at ctx and calls it with `tile` as a
    memref<?xi32>; each call of a launch declaration (attributes
    qc.epilogue_entry, qc.epilogue_body, qc.epilogue_kernel_args) becomes a
    call of the runtime entry with the leading kernel arguments, the
    trampoline's address and a context struct (in the caller's entry
    block) holding the rest.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def CPUParallelOutline : Pass<"quantc-cpu-parallel-outline", "::mlir::ModuleOp"> {
  let summary = "Outline large elementwise and row-wise loops for the thread pool";
  let description = [{
    Runs on buffers, before the linalg ops become loops. A linalg op of at
    least `min-iterations` iterations (static), without linalg.index,
    gets a loop dimension p to split: the first parallel one of extent at
    least 4 that every output indexes as a plain dimension (and no operand
    in any other way). The op moves into a private function
    `@qc_par_<n>(lo, hi, buffers...)` that runs it on the subviews
    [lo, hi) along p of the operands that index p (the others, broadcast
    along p, are passed whole), and is replaced by a call with lo = 0 and
    hi = the extent. Rows [lo, hi) of every output are written only from
    rows [lo, hi) of the inputs (p is parallel and indexes every output),
    so disjoint ranges can run at the same time. Identical functions are
    created once (the same op in every layer calls the same function).

    Ops with dynamic loop ranges (symbolic dimensions) qualify whatever
    their size: the extent comes from memref.dim, and the call site tests
    the product of the ranges against `min-iterations` at run time,
    calling `@qc_par_<n>_serial` (attribute `qc.serial_wrapper`, a plain
    call of the body on [0, n) that the dispatch leaves alone) for small
    instances, such as one decode token.
    quantc-cpu-parallel-dispatch later hands the calls to the runtime's
    threads.
  }];
  let options = [
    Option<"minIterations", "min-iterations", "int64_t", /*default=*/"16384",
           "Ops with fewer iterations stay on the calling thread">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect", "::mlir::scf::SCFDialect"];
}

def CPUParallelDispatch : Pass<"quantc-cpu-parallel-dispatch", "::mlir::ModuleOp"> {
  let summary = "Calls to @qc_par_* functions become qc_rt_parallel_for";
  let description = [{
    Runs on the LLVM dialect. For each function quantc-cpu-parallel-outline
    made, a trampoline `@<name>_tramp(ctx, lo, hi)` loads the function's
    other arguments from the struct at ctx and calls it on [lo, hi). Each
    call `@qc_par_<n>(0, n, args...)` becomes: the args stored in a struct
    allocated in the caller's entry block, then
    `qc_rt_parallel_for(@<name>_tramp, ctx, n)`, which splits [0, n) into
    one contiguous range per thread of the runtime's pool (nested calls,
    from inside a pool task, run the whole range on their thread).
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def CPUProfileOps : Pass<"quantc-cpu-profile-ops", "::mlir::func::FuncOp"> {
  let summary = "Time each qc op: a call to the runtime's profiler before every op";
  let description = [{
    Before the i-th qc op of the function (constants excluded, in order) a
    call `qc_rt_prof_mark(i)` is inserted, and `qc_rt_prof_mark(-1)` before
    the return. The runtime charges the time between two marks to the op of
    the first one, so after lowering the loops and kernel calls of each op
    are timed without perturbing the code in between. Used by
    `quantc bench --profile`.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect", "::mlir::arith::ArithDialect"];
}

def CPUFuseElementwise : Pass<"quantc-cpu-fuse-elementwise", "::mlir::func::FuncOp"> {
  let summary = "Fuse chains of elementwise linalg.generic ops into one loop nest";
  let description = [{
    A producer linalg.generic whose iterators are all parallel is fused into
    the elementwise generic that consumes it, when the consumer is its only
    user: out = f(g(x)) is computed in one pass over memory instead of two,
    and no intermediate buffer is written. A producer with other users is
    left alone (fusing it would compute it twice).

    Unlike upstream's linalg-fuse-elementwise-ops this does not propagate
    tensor.expand_shape/collapse_shape through the ops, which would turn the
    named contractions (linalg.matmul, ...) that quantc-cpu-kernel-calls
    hands to the runtime into generic ops.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect", "::mlir::arith::ArithDialect"];
}


def CPUPadInPlace : Pass<"quantc-cpu-pad-in-place", "::mlir::func::FuncOp"> {
  let summary = "Elementwise producers write straight into the padded buffer a pad makes of their result";
  let description = [{
    `y = tensor.pad(f(x))`, with f an all-parallel linalg.generic whose only
    user is the pad (a convolution's input: the quantize loop before an int8
    convolution, the fused epilogue before a depthwise one), becomes

        t = tensor.empty(shape(y))
        f(x) computed into extract_slice(t)[low .. low + shape(x))
        y = t with each border slab (per dimension d, the low[d] planes
            before the interior and the high[d] after it) filled with the
            pad value

    One-shot bufferization then places f's output in the interior of the
    padded buffer. Before, a padded input cost f's own buffer, a fill of the
    whole padded buffer, and a copy of the interior. The values are the
    same: every element of y is either f's (interior) or the pad value
    (border). Producers that read their output operand, write it through a
    permuted map, or have dynamic shapes are left alone, and so are padded
    buffers of elements wider than a byte under 2 MiB: there the producer
    writing misaligned padded rows cost more than the copy it saves
    (PP-OCRv4 rec w8a8, docs/performance-log.md session 26).
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def CPUReassociateSums : Pass<"quantc-cpu-reassociate-sums", "::mlir::func::FuncOp"> {
  let summary = "Float sum reductions get the reassoc flag, so that LLVM vectorizes them";
  let description = [{
    In every linalg op with a reduction loop, the `arith.addf` that adds to
    the accumulator (`acc + x` or `x + acc`, the value yielded for an
    output) gets the `reassoc` fast-math flag. A float sum s = x_0 + x_1 +
    ... + x_{n-1} evaluated in order is one dependent scalar add per
    element: LLVM's loop vectorizer keeps that order (it is not
    associative in floating point) unless the add allows reassociation.
    With it the sum runs as V partial sums over vector lanes, added at the
    end: s = sum_l (sum_{i = l mod V} x_i). The result differs from the
    in-order sum only by rounding (as any vectorized runtime's does: ONNX
    Runtime's reductions are vectorized too); GlobalAveragePool,
    ReduceMean/ReduceSum and the norms' means reduce along the innermost
    loop and were scalar (PP-OCRv4 det: a global pool over 96x160x160 was
    2.9% of its w8a8 run).
    Products, maxima and adds not on the accumulator are left alone.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def CPUResultsToOutParams : Pass<"quantc-cpu-results-to-out-params", "::mlir::ModuleOp"> {
  let summary = "Statically shaped function results become out-parameters";
  let description = [{
    Upstream's buffer-results-to-out-params (hoisting static allocations,
    public functions included) applied to the functions whose memref
    results all have static shapes. A caller cannot allocate a buffer whose
    size only the callee computes, so a function with a dynamically shaped
    result (a model compiled with symbolic dimensions, `--shape
    NAME=1x?`) keeps returning its buffers: the ownership-based
    deallocation makes the caller own them, and @main's results reach the
    C API, which frees them (qc_run keeps them until the next run). For a
    statically shaped model this is exactly buffer-results-to-out-params,
    plus one clean-up: a result computed into an allocation (a callee's
    hoisted result, or an expand/collapse view of one) and copied into
    its out-parameter at the end is computed in the out-parameter (through
    the inverse view) and the copy goes, when the out-parameter has no
    other use and the copy is the allocation's last use (SmolLM2's 50 MB
    of logits were copied once per run).
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}


def CPUFoldTransposes : Pass<"quantc-cpu-fold-transposes", "::mlir::ModuleOp"> {
  let summary = "Transposes that only feed matmuls become strided views";
  let description = [{
    Runs on buffers after bufferization and before deallocation. A
    linalg.transpose whose output is a fresh buffer (memref.alloc) used
    only as input operands of linalg.matmul / linalg.batch_matmul (directly
    or through memref.collapse_shape / expand_shape) is replaced by
    memref.transpose of its input, a view with permuted strides:

      out[i_p(0), .., i_p(n-1)] = in[i_0, .., i_n-1]   (the same element)

    and the views between it and the matmuls are rebuilt on that layout
    (skipped when a collapse is not possible on it). The runtime's GEMMs
    read A and B with any row and column strides (quantc-cpu-kernel-calls
    passes their descriptors), so the copy is never made: attention's Q,
    K and V head transposes. As B the view must keep a unit column
    stride: the decode-shaped kernels stream B's rows and take no other,
    and a folded Kᵀ made SmolLM2's decode step 17% slower (27.3 -> 32.1
    ms) than copying it. The deallocation
    pipeline after it sees the view alias the input, so the input lives
    until the matmul.

    Fused attention (qc.attention_kernel) reads its inputs through any
    strides, so a transpose feeding only its query, key or value folds the
    same way. And a transpose of its output (the heads merged back,
    y = transpose(x, p) with x the kernel's fresh output buffer read by
    nothing else) is folded the other way: the kernel writes x through
    memref.transpose(y, p^-1), the same elements of y, and the copy goes.
    y must have no use before the transpose (bufferization may have handed
    the transpose a buffer the kernel still reads: MiniLM at m = H = 12
    gave it the query's), and its allocation moves before the kernel.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

#endif
