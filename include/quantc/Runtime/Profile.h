//===- Profile.h - per-op timing of compiled models -------------*- C++ -*-===//
//
// Models compiled with quantc-cpu-profile-ops call qc_rt_prof_mark(i)
// before op i and qc_rt_prof_mark(-1) at the end; the time between two
// marks is charged to the op of the first.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_RUNTIME_PROFILE_H
#define QUANTC_RUNTIME_PROFILE_H

#include <cstdint>
#include <vector>

namespace quantc::rt {
/// Clears the accumulated times (for `numOps` ops).
void profileReset(int64_t numOps);
/// Seconds charged to each op since the last reset.
std::vector<double> profileTimes();
} // namespace quantc::rt

extern "C" void qc_rt_prof_mark(int64_t id);

#endif
