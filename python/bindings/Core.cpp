//===- Core.cpp - quantc._core: the driver library for Python -------------===//
//
// A thin nanobind layer over include/quantc/Driver/Plain.h: option dicts
// become the driver's option structs, numpy buffers (passed by address,
// kept alive by the caller) become tensors, and every call that compiles,
// calibrates or runs passes releases the GIL. Errors come back as the
// driver's Outcome (status, printed text, error text); python/quantc
// turns them into quantc.Error.
//
//===----------------------------------------------------------------------===//
#include "quantc/Driver/Plain.h"
#include "quantc/Quant/Hadamard.h"

#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <stdexcept>

namespace nb = nanobind;
using namespace quantc::driver;

namespace {

nb::tuple outcomeTuple(const plain::Outcome &o) { return nb::make_tuple(o.status, o.out, o.err); }

template <typename T> T as(nb::handle value, const char *key) {
  try {
    return nb::cast<T>(value);
  } catch (const nb::cast_error &) {
    throw nb::type_error((std::string("option '") + key + "' has the wrong type").c_str());
  }
}

std::vector<int64_t> dims(nb::handle value, const char *key) {
  std::vector<int64_t> out;
  for (nb::handle d : value)
    out.push_back(as<int64_t>(d, key));
  return out;
}

QuantizeOptions quantizeOptions(const nb::dict &d) {
  QuantizeOptions o;
  for (auto [k, v] : d) {
    std::string key = nb::cast<std::string>(k);
    const char *kc = key.c_str();
    if (key == "model") o.model = as<std::string>(v, kc);
    else if (key == "output") o.output = as<std::string>(v, kc);
    else if (key == "recipe") o.recipe = as<std::string>(v, kc);
    else if (key == "calib_dir") o.calibDir = as<std::string>(v, kc);
    else if (key == "calibrator") o.calibrator = as<std::string>(v, kc);
    else if (key == "percentile") o.percentile = as<double>(v, kc);
    else if (key == "report_path") o.reportPath = as<std::string>(v, kc);
    else if (key == "int4_convs") o.int4Convs = as<bool>(v, kc);
    else if (key == "min_layer_sqnr") o.minLayerSqnr = as<double>(v, kc);
    else if (key == "sensitivity_samples") o.sensitivitySamples = as<int>(v, kc);
    else if (key == "sensitivity_metric") o.sensitivityMetric = as<std::string>(v, kc);
    else if (key == "smooth_alpha") o.smoothAlpha = as<std::string>(v, kc);
    else if (key == "outlier_ratio") o.outlierRatio = as<std::string>(v, kc);
    else if (key == "offline_rotation_only") o.offlineRotationOnly = as<bool>(v, kc);
    else if (key == "weight_clip_search") o.weightClipSearch = as<bool>(v, kc);
    else if (key == "gptq_sequential") o.gptqSequential = as<bool>(v, kc);
    else if (key == "budget") o.budget = as<std::string>(v, kc);
    else if (key == "allocation_json") o.allocationJson = as<std::string>(v, kc);
    else if (key == "salient_percent") o.salientPercent = as<std::string>(v, kc);
    else if (key == "gptq_damp") o.gptqDamp = as<std::string>(v, kc);
    else if (key == "gptq_min_shrink") o.gptqMinShrink = as<std::string>(v, kc);
    else if (key == "gptq_no_act_order") o.gptqNoActOrder = as<bool>(v, kc);
    else if (key == "gptq_refit_scales") o.gptqRefit = as<bool>(v, kc);
    else if (key == "gptq_refit_rounds") o.gptqRefitRounds = as<std::string>(v, kc);
    else if (key == "activation_clip") o.activationClip = as<std::string>(v, kc);
    else if (key == "keep_float") o.keepFloat = as<std::string>(v, kc);
    else if (key == "rotation_matrix") o.rotationMatrix = as<std::string>(v, kc);
    else if (key == "prefix_rows") o.prefixRows = as<int>(v, kc);
    else if (key == "principal_components") o.principalComponents = as<int>(v, kc);
    else if (key == "cpu") o.cpu = as<std::string>(v, kc);
    else if (key == "features") o.features = as<std::string>(v, kc);
    else if (key == "ir_output") o.irOutput = as<std::string>(v, kc);
    else
      throw nb::value_error(("quantize() got an unknown option '" + key + "'").c_str());
  }
  return o;
}

CompileModelOptions compileOptions(const nb::dict &d) {
  CompileModelOptions o;
  for (auto [k, v] : d) {
    std::string key = nb::cast<std::string>(k);
    const char *kc = key.c_str();
    if (key == "model") o.model = as<std::string>(v, kc);
    else if (key == "output") o.output = as<std::string>(v, kc);
    else if (key == "cpu") o.cpu = as<std::string>(v, kc);
    else if (key == "features") o.features = as<std::string>(v, kc);
    else if (key == "keep_object") o.keepObject = as<bool>(v, kc);
    else if (key == "shapes") {
      for (nb::handle entry : v) {
        nb::tuple t = nb::cast<nb::tuple>(entry);
        o.shapes.emplace_back(as<std::string>(t[0], kc), dims(t[1], kc));
      }
    } else
      throw nb::value_error(("compile() got an unknown option '" + key + "'").c_str());
  }
  return o;
}

/// Samples as [[(name, dtype code, shape, address), ...], ...]: the
/// arrays behind the addresses are C-contiguous and kept alive by the
/// caller for the duration of the call.
std::vector<plain::Sample> samplesOf(nb::handle list) {
  std::vector<plain::Sample> out;
  for (nb::handle sample : list) {
    plain::Sample s;
    for (nb::handle entry : sample) {
      nb::tuple t = nb::cast<nb::tuple>(entry);
      plain::Tensor tensor;
      tensor.name = nb::cast<std::string>(t[0]);
      tensor.dtype = nb::cast<int>(t[1]);
      tensor.shape = dims(t[2], "calibration");
      tensor.data = reinterpret_cast<const void *>(nb::cast<uintptr_t>(t[3]));
      s.push_back(std::move(tensor));
    }
    out.push_back(std::move(s));
  }
  return out;
}

} // namespace

NB_MODULE(_core, m) {
  m.doc() = "quantc's driver library (use the quantc package, not this module)";

  nb::class_<plain::Module>(m, "Module")
      .def_static(
          "open",
          [](const std::string &path, bool shapeInference) {
            plain::Outcome o;
            std::unique_ptr<plain::Module> mod;
            {
              nb::gil_scoped_release release;
              mod = plain::Module::open(path, shapeInference, o);
            }
            return nb::make_tuple(std::move(mod), o.status, o.out, o.err);
          },
          nb::arg("path"), nb::arg("shape_inference") = true)
      .def("text", &plain::Module::text, nb::arg("elide_weights") = false,
           nb::call_guard<nb::gil_scoped_release>())
      .def("summary", &plain::Module::summary, nb::call_guard<nb::gil_scoped_release>())
      .def("inputs",
           [](const plain::Module &mod) {
             nb::list out;
             for (const plain::TensorInfo &t : mod.inputs())
               out.append(nb::make_tuple(t.name, t.dtype, t.rank, t.shape));
             return out;
           })
      .def("run_passes",
           [](plain::Module &mod, const std::string &pipeline) {
             plain::Outcome o;
             {
               nb::gil_scoped_release release;
               o = mod.runPasses(pipeline);
             }
             return outcomeTuple(o);
           })
      .def("save", [](const plain::Module &mod, const std::string &path) {
        plain::Outcome o;
        {
          nb::gil_scoped_release release;
          o = mod.save(path);
        }
        return outcomeTuple(o);
      });

  // A finished quantization: what QDQ export of it needs (the layers as
  // rounded, the source model), held by QuantizedModel.
  nb::class_<QuantizeResult>(m, "Quantization")
      .def("export_qdq", [](const QuantizeResult &r, const std::string &path) {
        plain::Outcome o;
        {
          nb::gil_scoped_release release;
          o = plain::exportQDQ(r, path);
        }
        return outcomeTuple(o);
      });

  m.def(
      "quantize",
      [](const nb::dict &options, nb::object samples, nb::object progress) {
        QuantizeOptions o = quantizeOptions(options);
        if (!progress.is_none()) {
          // Called with the GIL released: taken for the call; a Python
          // error in it must not unwind through the driver (built without
          // exceptions), so it is reported and dropped.
          // A borrowed handle: copies of the std::function (made with the
          // GIL released) must not touch the reference count; `progress`
          // outlives the call.
          nb::handle callback = progress;
          o.progress = [callback](const std::string &stage, size_t done, size_t total) {
            nb::gil_scoped_acquire gil;
            try {
              callback(stage, done, total);
            } catch (nb::python_error &e) {
              e.discard_as_unraisable("quantc progress callback");
            }
          };
        }
        std::vector<plain::Sample> s;
        bool given = !samples.is_none();
        if (given)
          s = samplesOf(samples);
        plain::Outcome outcome;
        QuantizeResult result;
        {
          nb::gil_scoped_release release;
          outcome = plain::quantize(o, given ? &s : nullptr, &result);
        }
        std::string report = result.reportJson;
        return nb::make_tuple(outcome.status, outcome.out, outcome.err, report,
                              std::move(result));
      },
      nb::arg("options"), nb::arg("samples").none() = nb::none(),
      nb::arg("progress").none() = nb::none());

  // The rotations qc-fold-rotations folds, for scripts that learn from
  // them (quantc.transformers.spinquant): row-major float64 bytes.
  m.def(
      "rotation",
      [](int64_t n, uint64_t seed) {
        if (n <= 0)
          throw nb::value_error("rotation: n must be positive");
        std::vector<double> q = quantc::quant::rotation(n, seed);
        return nb::bytes(reinterpret_cast<const char *>(q.data()), q.size() * sizeof(double));
      },
      nb::arg("n"), nb::arg("seed") = 0);
  m.def(
      "online_hadamard",
      [](int64_t n) {
        if (n <= 0)
          throw nb::value_error("online_hadamard: n must be positive");
        std::vector<float> dense;
        quantc::quant::onlineHadamardFactor(n, &dense);
        std::vector<double> h(dense.begin(), dense.end());
        return nb::bytes(reinterpret_cast<const char *>(h.data()), h.size() * sizeof(double));
      },
      nb::arg("n"));

  m.def(
      "compile",
      [](const nb::dict &options) {
        CompileModelOptions o = compileOptions(options);
        plain::Outcome outcome;
        {
          nb::gil_scoped_release release;
          outcome = plain::compile(o);
        }
        return outcomeTuple(outcome);
      },
      nb::arg("options"));
}
