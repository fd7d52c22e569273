/* A C program using a model library through include/quantc/Runtime.h:
 *   run_model IN0.bin ... OUT0.bin ...
 * reads each input as raw bytes of the size the model reports, runs the
 * model and writes each output as raw bytes. Linked against the model's
 * .so by test/Runtime/check_aot.py (which also checks the header is C99). */
#include "quantc/Runtime.h"

#include <stdio.h>
#include <stdlib.h>

static int64_t bytesOf(qc_dtype d, int rank, const int64_t *shape) {
  int64_t n = qc_dtype_size(d);
  for (int i = 0; i < rank; ++i)
    n *= shape[i];
  return n;
}

int main(int argc, char **argv) {
  qc_model *m = qc_open();
  if (!m) {
    fprintf(stderr, "qc_open: %s\n", qc_last_error());
    return 1;
  }
  int ni = qc_num_inputs(m), no = qc_num_outputs(m);
  if (argc != 1 + ni + no) {
    fprintf(stderr, "usage: %s IN0.bin .. OUT0.bin .. (%d inputs, %d outputs)\n", argv[0], ni, no);
    return 2;
  }
  const void **in = calloc(ni ? ni : 1, sizeof(void *));
  void **out = calloc(no ? no : 1, sizeof(void *));
  for (int i = 0; i < ni; ++i) {
    int64_t n = bytesOf(qc_input_dtype(m, i), qc_input_rank(m, i), qc_input_shape(m, i));
    void *buf = malloc(n ? n : 1);
    FILE *f = fopen(argv[1 + i], "rb");
    if (!f || (int64_t)fread(buf, 1, n, f) != n) {
      fprintf(stderr, "cannot read %lld bytes of input '%s' from %s\n", (long long)n,
              qc_input_name(m, i), argv[1 + i]);
      return 1;
    }
    fclose(f);
    in[i] = buf;
    printf("input %s %s [", qc_input_name(m, i), qc_dtype_name(qc_input_dtype(m, i)));
    for (int d = 0; d < qc_input_rank(m, i); ++d)
      printf(d ? ",%lld" : "%lld", (long long)qc_input_shape(m, i)[d]);
    printf("]\n");
  }
  for (int i = 0; i < no; ++i)
    out[i] = malloc(bytesOf(qc_output_dtype(m, i), qc_output_rank(m, i), qc_output_shape(m, i)) + 1);
  if (qc_run(m, in, out) != 0) {
    fprintf(stderr, "qc_run: %s\n", qc_last_error());
    return 1;
  }
  for (int i = 0; i < no; ++i) {
    int64_t n = bytesOf(qc_output_dtype(m, i), qc_output_rank(m, i), qc_output_shape(m, i));
    FILE *f = fopen(argv[1 + ni + i], "wb");
    if (!f || (int64_t)fwrite(out[i], 1, n, f) != n) {
      fprintf(stderr, "cannot write %s\n", argv[1 + ni + i]);
      return 1;
    }
    fclose(f);
    printf("output %s %s\n", qc_output_name(m, i), qc_dtype_name(qc_output_dtype(m, i)));
  }
  /* Errors are reported, not crashed on. */
  if (qc_run(m, NULL, NULL) != -1 || qc_last_error()[0] == '\0') {
    fprintf(stderr, "qc_run(NULL) did not fail cleanly\n");
    return 1;
  }
  qc_close(m);
  return 0;
}
