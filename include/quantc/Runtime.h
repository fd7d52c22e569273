/*===- Runtime.h - the C API of models compiled by `quantc compile` -------===*
 *
 * `quantc compile model.onnx -o model.so` writes a self-contained shared
 * library: the compiled code, the weights, the kernels and this API. Link
 * against it or dlopen it; every function below is exported by it.
 *
 *   qc_model *m = qc_open();
 *   for (int i = 0; i < qc_num_inputs(m); ++i)
 *     printf("%s %s rank %d\n", qc_input_name(m, i),
 *            qc_dtype_name(qc_input_dtype(m, i)), qc_input_rank(m, i));
 *   if (qc_run(m, inputs, outputs) != 0)
 *     fprintf(stderr, "%s\n", qc_last_error());
 *   qc_close(m);
 *
 * Buffers are dense, row-major, of the dtype and shape the model reports.
 * Shapes are fixed when the library is compiled: `--shape` gives them for
 * inputs with symbolic dimensions, and repeating `--shape` for an input
 * compiles one variant per shape (batch 1 and 8, say); qc_set_input_shapes
 * picks the variant, after which the shape queries describe it. A '?'
 * in --shape (input_ids=1x?) compiles one body for any size of that
 * dimension: the library reports it as -1, qc_set_input_shapes gives the
 * sizes of a run, and outputs whose shapes depend on them are allocated by
 * the library: pass `outputs` NULL to qc_run and read them with
 * qc_output_data / qc_output_shape, valid until the next run. Otherwise
 * the caller owns every buffer and qc_run writes the outputs in place. A qc_model may be run from one thread at a
 * time; the kernels themselves use qc_set_num_threads() threads.
 *
 *===----------------------------------------------------------------------===*/
#ifndef QUANTC_RUNTIME_H
#define QUANTC_RUNTIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QC_API_VERSION 3

typedef struct qc_model qc_model;

typedef enum qc_dtype {
  QC_FLOAT32 = 1,
  QC_FLOAT64 = 2,
  QC_FLOAT16 = 3,
  QC_INT64 = 4,
  QC_INT32 = 5,
  QC_INT16 = 6,
  QC_INT8 = 7,
  QC_UINT8 = 8,
  QC_BOOL = 9
} qc_dtype;

/* The API version the library implements (QC_API_VERSION). */
int qc_api_version(void);

/* Opens the model compiled into this library; NULL on failure (see
 * qc_last_error). */
qc_model *qc_open(void);
void qc_close(qc_model *model);

int qc_num_inputs(const qc_model *model);
int qc_num_outputs(const qc_model *model);
/* Name, dtype, rank and shape (rank entries) of input/output i; NULL or -1
 * when i is out of range. */
const char *qc_input_name(const qc_model *model, int i);
qc_dtype qc_input_dtype(const qc_model *model, int i);
int qc_input_rank(const qc_model *model, int i);
const int64_t *qc_input_shape(const qc_model *model, int i);
const char *qc_output_name(const qc_model *model, int i);
qc_dtype qc_output_dtype(const qc_model *model, int i);
int qc_output_rank(const qc_model *model, int i);
const int64_t *qc_output_shape(const qc_model *model, int i);
/* Shape variants the library holds (>= 1); the first is selected at open. */
int qc_num_variants(const qc_model *model);
/* Selects the variant compiled for these input shapes (shapes[i] points at
 * qc_input_rank(model, i) dims). Returns 0, or -1 naming the shapes the
 * library was compiled for. */
int qc_set_input_shapes(qc_model *model, const int64_t *const *shapes);

/* Size in bytes of one element of `dtype`; 0 if unknown. */
int64_t qc_dtype_size(qc_dtype dtype);
const char *qc_dtype_name(qc_dtype dtype);

/* Runs the model: inputs[i] and outputs[i] point at dense buffers of the
 * reported shapes. Returns 0, or -1 with qc_last_error() set. For a library
 * with symbolic dimensions, set the input shapes first; outputs may be NULL
 * (then read qc_output_data), and non-NULL output buffers receive a copy,
 * so they must hold the output's elements. */
int qc_run(qc_model *model, const void *const *inputs, void *const *outputs);
/* Output i of the last run where the library allocated it (symbolic
 * dimensions; its shape is qc_output_shape); NULL otherwise. Valid until
 * the next qc_run, qc_set_input_shapes or qc_close. */
const void *qc_output_data(const qc_model *model, int i);

/* Threads the kernels use (0: all hardware threads); process-wide. */
void qc_set_num_threads(int n);
int qc_get_num_threads(void);

/* The kernels this CPU runs, e.g. "sgemm=avx512 igemm=avx2
 * depthwise=avx512" (chosen at run time from CPUID; QUANTC_CPU_KERNELS=
 * generic|avx2 caps the choice). */
const char *qc_kernel_paths(void);

/* The last error of this thread, or "" if none. */
const char *qc_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* QUANTC_RUNTIME_H */
