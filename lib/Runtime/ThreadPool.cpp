//===- ThreadPool.cpp - the runtime's worker threads ----------------------===//
//
// Workers sleep on a condition variable between jobs and spin briefly
// after one, since a model runs many short kernels back to back. A job is
// an index range handed out through an atomic counter; the caller takes
// indices too and then waits only for the workers that joined the job
// while it was open (a worker the OS has not scheduled would otherwise
// cost every kernel a time slice when another process shares the cores).
//
//===----------------------------------------------------------------------===//
#include "quantc/Runtime/ThreadPool.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace quantc::rt {
namespace {

class Pool {
public:
  ~Pool() { resize(0); }

  void resize(int workers) {
    {
      std::lock_guard<std::mutex> lock(mu);
      stopping = true;
      ++generation;
    }
    cv.notify_all();
    for (auto &t : threads)
      t.join();
    threads.clear();
    stopping = false;
    // Workers start from the current generation so that a job posted
    // before a new thread first looks is not missed.
    uint64_t start = generation.load();
    for (int i = 0; i < workers; ++i)
      threads.emplace_back([this, start] { workerLoop(start); });
  }

  int workers() const { return static_cast<int>(threads.size()); }

  /// A new generation with no open job: sleeping workers wake, find
  /// nothing to join and spin again.
  void wake() {
    {
      std::lock_guard<std::mutex> lock(mu);
      ++generation;
    }
    cv.notify_all();
  }

  void run(int64_t n, const std::function<void(int64_t)> &fn) {
    std::lock_guard<std::mutex> jobLock(jobMu); // one job at a time
    job = &fn;
    count = n;
    next.store(0, std::memory_order_relaxed);
    open.store(true, std::memory_order_release); // publishes job and count
    {
      std::lock_guard<std::mutex> lock(mu);
      ++generation;
    }
    cv.notify_all();
    work();
    // Wait only for the workers that joined: one the OS has not scheduled
    // (another process on the core) must not hold up every kernel for a
    // time slice. Those arriving later find the job closed.
    open.store(false, std::memory_order_seq_cst);
    while (inside.load(std::memory_order_seq_cst) != 0)
      std::this_thread::yield();
    job = nullptr;
  }

private:
  void work() {
    for (int64_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < count;)
      (*job)(i);
  }

  void workerLoop(uint64_t seen) {
    for (;;) {
      // Spin a little: the next kernel usually follows at once.
      bool got = false;
      for (int spin = 0; spin < 20000 && !got; ++spin) {
        if (generation.load(std::memory_order_acquire) != seen)
          got = true;
        else
          std::this_thread::yield();
      }
      if (!got) {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return generation.load() != seen; });
      }
      seen = generation.load();
      if (stopping)
        return;
      // Join the job only while it is open; the caller waits for those
      // inside before it returns (and before it sets up the next job).
      inside.fetch_add(1, std::memory_order_seq_cst);
      if (open.load(std::memory_order_seq_cst))
        work();
      inside.fetch_sub(1, std::memory_order_release);
    }
  }

  std::vector<std::thread> threads;
  std::mutex mu, jobMu;
  std::condition_variable cv;
  std::atomic<uint64_t> generation{0};
  std::atomic<bool> stopping{false};
  const std::function<void(int64_t)> *job = nullptr;
  int64_t count = 0;
  std::atomic<int64_t> next{0};
  std::atomic<bool> open{false};
  std::atomic<int> inside{0};
};

int hardwareThreads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

std::mutex configMu;
int requested = 0; // 0: hardware threads
thread_local bool insideJob = false;

Pool &pool() {
  static Pool p;
  return p;
}
} // namespace

void setNumThreads(int n) {
  std::lock_guard<std::mutex> lock(configMu);
  requested = n < 0 ? 0 : n;
}

int getNumThreads() {
  std::lock_guard<std::mutex> lock(configMu);
  return requested == 0 ? hardwareThreads() : requested;
}

void wakeWorkers() {
  const int threads = getNumThreads();
  if (threads <= 1 || insideJob)
    return;
  Pool &p = pool();
  {
    std::lock_guard<std::mutex> lock(configMu);
    if (p.workers() != threads - 1)
      return; // resized by the next parallelFor, whose workers start awake
  }
  p.wake();
}

void parallelFor(int64_t n, const std::function<void(int64_t)> &fn) {
  int threads = getNumThreads();
  if (n <= 1 || threads <= 1 || insideJob) {
    for (int64_t i = 0; i < n; ++i)
      fn(i);
    return;
  }
  Pool &p = pool();
  {
    std::lock_guard<std::mutex> lock(configMu);
    if (p.workers() != threads - 1)
      p.resize(threads - 1);
  }
  insideJob = true;
  p.run(n, [&](int64_t i) {
    bool outer = insideJob;
    insideJob = true;
    fn(i);
    insideJob = outer;
  });
  insideJob = false;
}

} // namespace quantc::rt
