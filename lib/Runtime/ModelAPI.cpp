//===- ModelAPI.cpp - the C API of compiled shared libraries --------------===//
//
// Linked into every library `quantc compile` writes, next to the model's
// object file, which defines:
//
//   quantc_model_signature   text: per shape variant a line
//                            "variant <TAB> k", then a line per input and
//                            output: "in|out <TAB> dtype <TAB> d0,d1,..
//                            <TAB> name"
//   quantc_model_run_packed  void(int64 k, void **): descriptor pointers
//                            of the inputs then the outputs, passed on to
//                            variant k's entry point; for a variant marked
//                            "returns" (outputs with symbolic dims), a
//                            pointer to a block the entry point fills with
//                            the outputs' descriptors, then the inputs'
//
// A dimension -1 in the signature is symbolic: any size is accepted and
// the shapes come from qc_set_input_shapes; outputs of such a variant are
// allocated by the compiled code (the runtime's pool) and freed here.
//
// A memref descriptor of rank r is {allocated, aligned, offset, sizes[r],
// strides[r]}: two pointers and 1 + 2r int64s, all 8-byte fields.
//
//===----------------------------------------------------------------------===//
#include "quantc/Runtime.h"
#include "quantc/Runtime/Kernels.h"
#include "quantc/Runtime/ThreadPool.h"

#include <cstring>
#include <new>
#include <string>
#include <vector>

extern "C" {
extern const char quantc_model_signature[];
void quantc_model_run_packed(int64_t variant, void **descriptors);
void _mlir_memref_to_llvm_free(void *ptr); // BufferPool.cpp
}

namespace {
thread_local std::string lastError;

struct Tensor {
  std::string name;
  qc_dtype dtype;
  std::vector<int64_t> shape;
};

int fail(const std::string &message) {
  lastError = message;
  return -1;
}

struct Variant {
  std::vector<Tensor> inputs, outputs;
  bool returns = false; // outputs come back allocated by the compiled code
  bool symbolic() const {
    for (const Tensor &t : inputs)
      for (int64_t d : t.shape)
        if (d < 0)
          return true;
    return false;
  }
};

bool parseSignature(const char *text, std::vector<Variant> &variants) {
  std::string all(text);
  size_t pos = 0;
  while (pos < all.size()) {
    size_t eol = all.find('\n', pos);
    if (eol == std::string::npos)
      eol = all.size();
    std::string line = all.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.rfind("variant\t", 0) == 0) {
      variants.emplace_back();
      variants.back().returns = line.find("\treturns") != std::string::npos;
      continue;
    }
    if (variants.empty())
      return false;
    size_t t1 = line.find('\t'), t2 = line.find('\t', t1 + 1), t3 = line.find('\t', t2 + 1);
    if (t1 == std::string::npos || t2 == std::string::npos || t3 == std::string::npos)
      return false;
    Tensor t;
    t.dtype = static_cast<qc_dtype>(std::atoi(line.substr(t1 + 1, t2 - t1 - 1).c_str()));
    std::string dims = line.substr(t2 + 1, t3 - t2 - 1);
    for (size_t p = 0; p < dims.size();) {
      size_t comma = dims.find(',', p);
      if (comma == std::string::npos)
        comma = dims.size();
      t.shape.push_back(std::atoll(dims.substr(p, comma - p).c_str()));
      p = comma + 1;
    }
    t.name = line.substr(t3 + 1);
    std::string kind = line.substr(0, t1);
    if (kind == "in")
      variants.back().inputs.push_back(std::move(t));
    else if (kind == "out")
      variants.back().outputs.push_back(std::move(t));
    else
      return false;
  }
  return !variants.empty();
}

/// A dense row-major descriptor block for `data` of `shape`.
void fillDescriptor(std::vector<int64_t> &b, const void *data, const std::vector<int64_t> &shape) {
  size_t r = shape.size();
  b.assign(3 + 2 * r, 0);
  std::memcpy(&b[0], &data, sizeof(void *));
  std::memcpy(&b[1], &data, sizeof(void *));
  int64_t stride = 1;
  for (size_t d = r; d-- > 0;) {
    b[3 + d] = shape[d];
    b[3 + r + d] = stride;
    stride *= shape[d];
  }
}

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}
} // namespace

struct qc_model {
  std::vector<Variant> variants;
  size_t current = 0;
  // The selected variant's tensors with their symbolic dims resolved: the
  // inputs by qc_set_input_shapes, the outputs by the last run.
  std::vector<Tensor> ins, outs;
  // Outputs the compiled code allocated in the last run (returning variants).
  std::vector<void *> owned;
  std::vector<void *> outData;
  const std::vector<Tensor> &inputs() const { return ins; }
  const std::vector<Tensor> &outputs() const { return outs; }
  void releaseOutputs() {
    for (void *p : owned)
      _mlir_memref_to_llvm_free(p);
    owned.clear();
    outData.clear();
  }
  void select(size_t v) {
    releaseOutputs();
    current = v;
    ins = variants[v].inputs;
    outs = variants[v].outputs;
  }
  ~qc_model() { releaseOutputs(); }
};

namespace {
/// qc_run of a variant whose entry point returns its outputs: their
/// descriptors come back in one block; the buffers stay with the model
/// (qc_output_data) until the next run, or are copied into `outputs`
/// where the caller gives buffers.
int runReturning(qc_model *m, const void *const *inputs, void *const *outputs) {
  const auto &ins = m->inputs();
  if (!inputs && !ins.empty())
    return fail("qc_run: the input array is NULL");
  std::vector<std::vector<int64_t>> blocks(ins.size());
  std::vector<void *> descriptors(1 + ins.size());
  for (size_t k = 0; k < ins.size(); ++k) {
    if (!inputs[k])
      return fail("qc_run: the buffer of input '" + ins[k].name + "' is NULL");
    fillDescriptor(blocks[k], inputs[k], ins[k].shape);
    descriptors[1 + k] = blocks[k].data();
  }
  m->releaseOutputs();
  std::vector<Tensor> &outs = m->outs;
  size_t words = 0;
  for (const Tensor &t : outs)
    words += 3 + 2 * t.shape.size();
  std::vector<int64_t> results(words, 0);
  descriptors[0] = results.data();
  quantc_model_run_packed(static_cast<int64_t>(m->current), descriptors.data());
  size_t at = 0;
  for (size_t i = 0; i < outs.size(); ++i) {
    size_t r = outs[i].shape.size();
    const int64_t *d = &results[at];
    void *allocated, *aligned;
    std::memcpy(&allocated, &d[0], sizeof(void *));
    std::memcpy(&aligned, &d[1], sizeof(void *));
    int64_t elements = 1;
    for (size_t k = 0; k < r; ++k) {
      outs[i].shape[k] = d[3 + k];
      elements *= d[3 + k];
    }
    // Identity layouts at the boundary: dense, row-major, offset 0.
    m->owned.push_back(allocated);
    m->outData.push_back(static_cast<char *>(aligned) + d[2] * qc_dtype_size(outs[i].dtype));
    if (outputs && outputs[i])
      std::memcpy(outputs[i], m->outData.back(),
                  static_cast<size_t>(elements * qc_dtype_size(outs[i].dtype)));
    at += 3 + 2 * r;
  }
  lastError.clear();
  return 0;
}
} // namespace

extern "C" {

int qc_api_version(void) { return QC_API_VERSION; }

qc_model *qc_open(void) {
  auto *m = new (std::nothrow) qc_model();
  if (!m) {
    fail("out of memory");
    return nullptr;
  }
  if (!parseSignature(quantc_model_signature, m->variants)) {
    delete m;
    fail("the library's model signature is malformed");
    return nullptr;
  }
  m->select(0);
  lastError.clear();
  return m;
}

void qc_close(qc_model *model) { delete model; }

int qc_num_inputs(const qc_model *m) { return m ? static_cast<int>(m->inputs().size()) : -1; }
int qc_num_outputs(const qc_model *m) { return m ? static_cast<int>(m->outputs().size()) : -1; }
int qc_num_variants(const qc_model *m) { return m ? static_cast<int>(m->variants.size()) : -1; }

int qc_set_input_shapes(qc_model *m, const int64_t *const *shapes) {
  if (!m || !shapes)
    return fail("qc_set_input_shapes: the model or the shape array is NULL");
  // An exact variant first, then one with symbolic dims that fits.
  for (int pass = 0; pass < 2; ++pass)
    for (size_t v = 0; v < m->variants.size(); ++v) {
      bool match = true;
      const auto &ins = m->variants[v].inputs;
      if ((pass == 0) == m->variants[v].symbolic())
        continue;
      for (size_t i = 0; match && i < ins.size(); ++i) {
        if (!shapes[i])
          return fail("qc_set_input_shapes: the shape of input '" + ins[i].name + "' is NULL");
        for (size_t d = 0; match && d < ins[i].shape.size(); ++d)
          match = shapes[i][d] == ins[i].shape[d] || (ins[i].shape[d] < 0 && shapes[i][d] >= 0);
      }
      if (match) {
        m->select(v);
        for (size_t i = 0; i < m->ins.size(); ++i)
          m->ins[i].shape.assign(shapes[i], shapes[i] + m->ins[i].shape.size());
        lastError.clear();
        return 0;
      }
    }
  std::string msg = "qc_set_input_shapes: the library was not compiled for these shapes (";
  const auto &ins0 = m->variants[0].inputs;
  for (size_t i = 0; i < ins0.size(); ++i) {
    std::vector<int64_t> given(shapes[i], shapes[i] + ins0[i].shape.size());
    msg += (i ? ", " : "") + ins0[i].name + " " + shapeText(given);
  }
  msg += "); it was compiled for:";
  for (const Variant &v : m->variants) {
    msg += " (";
    for (size_t i = 0; i < v.inputs.size(); ++i)
      msg += (i ? ", " : "") + v.inputs[i].name + " " + shapeText(v.inputs[i].shape);
    msg += ")";
  }
  return fail(msg + " -- compile with one --shape per variant");
}

static const Tensor *at(const std::vector<Tensor> *v, int i) {
  return v && i >= 0 && static_cast<size_t>(i) < v->size() ? &(*v)[i] : nullptr;
}

#define QC_ACCESSORS(kind, list)                                                              \
  const char *qc_##kind##_name(const qc_model *m, int i) {                                    \
    const Tensor *t = at(m ? &m->list() : nullptr, i);                                           \
    return t ? t->name.c_str() : nullptr;                                                      \
  }                                                                                            \
  qc_dtype qc_##kind##_dtype(const qc_model *m, int i) {                                      \
    const Tensor *t = at(m ? &m->list() : nullptr, i);                                           \
    return t ? t->dtype : static_cast<qc_dtype>(-1);                                           \
  }                                                                                            \
  int qc_##kind##_rank(const qc_model *m, int i) {                                            \
    const Tensor *t = at(m ? &m->list() : nullptr, i);                                           \
    return t ? static_cast<int>(t->shape.size()) : -1;                                         \
  }                                                                                            \
  const int64_t *qc_##kind##_shape(const qc_model *m, int i) {                                \
    const Tensor *t = at(m ? &m->list() : nullptr, i);                                           \
    return t ? t->shape.data() : nullptr;                                                      \
  }
QC_ACCESSORS(input, inputs)
QC_ACCESSORS(output, outputs)
#undef QC_ACCESSORS

int64_t qc_dtype_size(qc_dtype d) {
  switch (d) {
  case QC_FLOAT64: case QC_INT64: return 8;
  case QC_FLOAT32: case QC_INT32: return 4;
  case QC_FLOAT16: case QC_INT16: return 2;
  case QC_INT8: case QC_UINT8: case QC_BOOL: return 1;
  }
  return 0;
}

const char *qc_dtype_name(qc_dtype d) {
  switch (d) {
  case QC_FLOAT32: return "float32";
  case QC_FLOAT64: return "float64";
  case QC_FLOAT16: return "float16";
  case QC_INT64: return "int64";
  case QC_INT32: return "int32";
  case QC_INT16: return "int16";
  case QC_INT8: return "int8";
  case QC_UINT8: return "uint8";
  case QC_BOOL: return "bool";
  }
  return "unknown";
}

const void *qc_output_data(const qc_model *m, int i) {
  if (!m || i < 0 || static_cast<size_t>(i) >= m->outData.size())
    return nullptr;
  return m->outData[i];
}

int qc_run(qc_model *m, const void *const *inputs, void *const *outputs) {
  if (!m)
    return fail("qc_run: the model is NULL");
  const Variant &var = m->variants[m->current];
  const auto &ins = m->inputs();
  for (const Tensor &t : ins)
    for (int64_t d : t.shape)
      if (d < 0)
        return fail("qc_run: input '" + t.name +
                    "' has symbolic dimensions: give its shape with qc_set_input_shapes first");
  quantc::rt::wakeWorkers(); // while the descriptors are set up and the first ops run
  if (var.returns)
    return runReturning(m, inputs, outputs);
  const auto &outs = m->outputs();
  size_t n = ins.size() + outs.size();
  if ((!inputs && !ins.empty()) || (!outputs && !outs.empty()))
    return fail("qc_run: the input or output array is NULL");
  // One int64 block per descriptor: [allocated, aligned, offset, sizes, strides].
  std::vector<std::vector<int64_t>> blocks(n);
  std::vector<void *> descriptors(n);
  for (size_t k = 0; k < n; ++k) {
    bool isInput = k < ins.size();
    const Tensor &t = isInput ? ins[k] : outs[k - ins.size()];
    const void *data = isInput ? inputs[k] : outputs[k - ins.size()];
    if (!data)
      return fail(std::string("qc_run: the buffer of ") + (isInput ? "input" : "output") +
                  " '" + t.name + "' is NULL");
    fillDescriptor(blocks[k], data, t.shape);
    descriptors[k] = blocks[k].data();
  }
  quantc_model_run_packed(static_cast<int64_t>(m->current), descriptors.data());
  lastError.clear();
  return 0;
}

void qc_set_num_threads(int n) { quantc::rt::setNumThreads(n); }
int qc_get_num_threads(void) { return quantc::rt::getNumThreads(); }

const char *qc_kernel_paths(void) {
  static const std::string paths = std::string("sgemm=") + quantc::rt::sgemmKernelName() +
                                   " igemm=" + quantc::rt::igemmKernelName() +
                                   " igemm-weight=" + quantc::rt::igemmConstBKernelName() +
                                   " depthwise=" + quantc::rt::depthwiseKernelName() +
                                   " conv-few-channels=" + quantc::rt::denseConvKernelName() +
                                   " igemm-skinny=" + quantc::rt::skinnyIgemmKernelName() +
                                   " softmax=" + quantc::rt::softmaxKernelName() +
                                   " hadamard=" + quantc::rt::hadamardKernelName();
  return paths.c_str();
}

const char *qc_last_error(void) { return lastError.c_str(); }

} // extern "C"
