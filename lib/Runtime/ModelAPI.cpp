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
//                            variant k's entry point
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
  const std::vector<Tensor> &inputs() const { return variants[current].inputs; }
  const std::vector<Tensor> &outputs() const { return variants[current].outputs; }
};

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
  for (size_t v = 0; v < m->variants.size(); ++v) {
    bool match = true;
    const auto &ins = m->variants[v].inputs;
    for (size_t i = 0; match && i < ins.size(); ++i) {
      if (!shapes[i])
        return fail("qc_set_input_shapes: the shape of input '" + ins[i].name + "' is NULL");
      for (size_t d = 0; match && d < ins[i].shape.size(); ++d)
        match = shapes[i][d] == ins[i].shape[d];
    }
    if (match) {
      m->current = v;
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

int qc_run(qc_model *m, const void *const *inputs, void *const *outputs) {
  if (!m)
    return fail("qc_run: the model is NULL");
  const auto &ins = m->inputs();
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
    size_t r = t.shape.size();
    std::vector<int64_t> &b = blocks[k];
    b.assign(3 + 2 * r, 0);
    std::memcpy(&b[0], &data, sizeof(void *));
    std::memcpy(&b[1], &data, sizeof(void *));
    int64_t stride = 1;
    for (size_t d = r; d-- > 0;) {
      b[3 + d] = t.shape[d];
      b[3 + r + d] = stride;
      stride *= t.shape[d];
    }
    descriptors[k] = b.data();
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
                                   " depthwise=" + quantc::rt::depthwiseKernelName() +
                                   " igemm-skinny=" + quantc::rt::skinnyIgemmKernelName();
  return paths.c_str();
}

const char *qc_last_error(void) { return lastError.c_str(); }

} // extern "C"
