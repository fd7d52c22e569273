//===- Profile.cpp - per-op timing of compiled models ---------------------===//
#include "quantc/Runtime/Profile.h"

#include <chrono>
#include <mutex>

namespace {
std::mutex mu;
std::vector<double> times;
int64_t current = -1;
std::chrono::steady_clock::time_point last;
} // namespace

void quantc::rt::profileReset(int64_t numOps) {
  std::lock_guard<std::mutex> lock(mu);
  times.assign(numOps, 0.0);
  current = -1;
}

std::vector<double> quantc::rt::profileTimes() {
  std::lock_guard<std::mutex> lock(mu);
  return times;
}

extern "C" void qc_rt_prof_mark(int64_t id) {
  auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu);
  if (current >= 0 && current < static_cast<int64_t>(times.size()))
    times[current] += std::chrono::duration<double>(now - last).count();
  current = id;
  last = std::chrono::steady_clock::now();
}
