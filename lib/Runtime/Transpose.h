//===- Transpose.h - planes to interleaved rows and back ---------*- C++ -*-===//
//
// The int8 convolutions with a constant weight read their image
// channels-last ([H][W][C]) while models hand it to them as planes
// ([C][H][W]): one byte gathered per element was 4% of a quantized
// PP-OCRv4 det run (more than its AMX products). transposeBytes moves
// 16 x 16 blocks with SSE2 unpacks (every x86-64 CPU has them); their
// int32 results (a row per pixel) go back to planes in 4 x 4 blocks
// (transposeInt32).
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_RUNTIME_TRANSPOSE_H
#define QUANTC_LIB_RUNTIME_TRANSPOSE_H

#include <cstdint>

namespace quantc::rt {

/// dst[j * ldd + i] = src[i * lds + j] for i < rows, j < cols: `rows`
/// rows of `cols` contiguous bytes, `lds` apart, become `cols` rows of
/// `rows` bytes, `ldd` apart.
void transposeBytes(const int8_t *src, int64_t lds, int64_t rows, int64_t cols, int8_t *dst,
                    int64_t ldd);

/// dst[j * ldd + i] = src[i * lds + j] (with `add`: +=) for i < rows,
/// j < cols, int32.
void transposeInt32(const int32_t *src, int64_t lds, int64_t rows, int64_t cols, int32_t *dst,
                    int64_t ldd, bool add);

} // namespace quantc::rt

#endif
