//===- Samples.cpp - calibration samples, in memory or on disk ------------===//
#include "quantc/Calibration/Samples.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <string>

namespace quantc::calib {

SampleSet::SampleSet(std::vector<Sample> samples)
    : held(std::make_shared<const std::vector<Sample>>(std::move(samples))),
      count(held->size()) {}

SampleSet SampleSet::onDemand(std::vector<Loader> loaders) {
  SampleSet s;
  s.count = loaders.size();
  s.loaders = std::make_shared<const std::vector<Loader>>(std::move(loaders));
  return s;
}

llvm::Expected<Sample> SampleSet::get(size_t i) const {
  if (i >= count)
    return llvm::createStringError("calibration sample " + std::to_string(i) +
                                   " asked of a set of " + std::to_string(count));
  if (loaders)
    return (*loaders)[i]();
  return (*held)[i];
}

SampleSet SampleSet::prefix(size_t n) const {
  SampleSet s = *this;
  s.count = std::min(n, count);
  return s;
}

void releaseFreeMemory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

} // namespace quantc::calib
