//===- Statistics.h - calibration statistics and clip search ----*- C++ -*-===//
//
// Reducers that see a tensor batch by batch (memory independent of the
// number of samples) and the clipping thresholds chosen from them:
//
//   MinMax       per tensor or per channel (any axis); optionally a moving
//                average of per-batch extrema: m <- m + c (batch_m - m)
//   Histogram    of |x| over [0, range) in fixed bins; when a batch exceeds
//                the range, the range doubles (neighbouring bins merge)
//   percentile   the smallest bin edge t with P(|x| <= t) >= p
//   entropy      TensorRT's KL-divergence search: the t minimizing
//                KL(P_t || Q_t), P_t the histogram clipped at t (outliers
//                added to the last bin), Q_t P_t merged to 2^(bits-1) bins
//                and expanded back over its nonzero bins
//   mse          the t minimizing the expected squared error of
//                quantizing |x| (bin centres, weighted by counts) with
//                scale t / qmax, rounding and clipping included
//
// Non-finite values (NaN, +-Inf) are not counted: they are reported by
// nonFinite() so that the caller can refuse or warn.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_CALIBRATION_STATISTICS_H
#define QUANTC_CALIBRATION_STATISTICS_H

#include <cstdint>
#include <optional>
#include <vector>

namespace quantc::calib {

class MinMax {
public:
  /// `channels` > 0: per-channel along `axis` of tensors of that extent.
  /// `momentum` in (0, 1]: moving average of batch extrema (1 = plain
  /// running min/max).
  explicit MinMax(int64_t channels = 0, double momentum = 1.0);

  /// Adds a batch: a dense row-major tensor of `shape`.
  void add(const float *x, const std::vector<int64_t> &shape, int64_t axis = 0);

  bool empty() const { return batches == 0; }
  int64_t nonFinite() const { return skipped; }
  /// Per channel (or one value for a per-tensor reducer). A channel that
  /// only saw non-finite values reports 0.
  const std::vector<double> &min() const { return lo; }
  const std::vector<double> &max() const { return hi; }
  int64_t batchCount() const { return batches; }
  /// A per-tensor reducer in the state given (statistics read back from IR).
  static MinMax restore(double min, double max, int64_t batches, int64_t nonFinite);
  /// A per-channel reducer in the state given.
  static MinMax restore(std::vector<double> min, std::vector<double> max, int64_t batches,
                        int64_t nonFinite);
  int64_t channelCount() const { return channels; }

private:
  int64_t channels;
  double momentum;
  int64_t batches = 0, skipped = 0;
  std::vector<double> lo, hi;
};

class Histogram {
public:
  explicit Histogram(int64_t bins = 2048);
  void add(const float *x, int64_t n);
  bool empty() const { return total == 0; }
  int64_t nonFinite() const { return skipped; }
  double range() const { return width * static_cast<double>(counts.size()); }
  double binWidth() const { return width; }
  const std::vector<double> &binCounts() const { return counts; }
  double count() const { return total; }
  /// A histogram in the state given (statistics read back from IR).
  static Histogram restore(std::vector<double> counts, double binWidth, double total,
                           int64_t nonFinite);

private:
  std::vector<double> counts;
  double width = 0, total = 0;
  int64_t skipped = 0;
};

/// Per column c of a [rows, width] row-major matrix: sum over rows of
/// |x[r, c]| (NaN poisons only its column), threaded over blocks of rows.
std::vector<double> channelAbsSum(const float *x, int64_t rows, int64_t width);

/// Clip thresholds on |x| from a histogram; nullopt for an empty one.
/// entropyClip: the threshold (a bin edge from 2^(bits-1) bins up) whose
/// clipped distribution P and its quantization to 2^(bits-1) levels Q
/// have the least KL divergence (TensorRT's search), with the first bin
/// (the exact zeros) counted like the second and ties going to the larger
/// threshold.
std::optional<double> percentileClip(const Histogram &h, double percent);
std::optional<double> entropyClip(const Histogram &h, int bits = 8);
/// Symmetric quantization to signed `bits` (qmax = 2^(bits-1) - 1).
std::optional<double> mseClip(const Histogram &h, int bits = 8);

/// Expected squared error of quantizing the histogram's values with clip
/// t (the quantity mseClip minimizes), for tests and reports.
double quantizationMSE(const Histogram &h, double t, int bits);

} // namespace quantc::calib

#endif
