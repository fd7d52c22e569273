//===- ThreadPool.h - the runtime's worker threads --------------*- C++ -*-===//
//
// One process-wide pool. Kernels split their work into `n` tasks and call
// parallelFor; the calling thread takes part, so a pool of T threads runs
// T - 1 workers.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_RUNTIME_THREADPOOL_H
#define QUANTC_RUNTIME_THREADPOOL_H

#include <cstdint>
#include <functional>

namespace quantc::rt {

/// Sets the number of threads kernels use (>= 1; 0 means the number of
/// hardware threads). Takes effect for the next parallelFor.
void setNumThreads(int n);
int getNumThreads();

/// Runs fn(i) for i in [0, n), spread over the pool; returns when all are
/// done. Nested calls run serially on the caller.
void parallelFor(int64_t n, const std::function<void(int64_t)> &fn);

/// Wakes the pool's workers that went to sleep (idle for a few ms) without
/// giving them work, so that they are spinning again by the time the next
/// parallelFor comes: a model run calls it first, and the wake-up (up to
/// milliseconds where a virtual CPU was idle) overlaps its first ops.
void wakeWorkers();

} // namespace quantc::rt

#endif
