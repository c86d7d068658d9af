// The persistent thread pool and per-thread scratch buffers.
// Invariants: one job at a time (the JavaScript thread is the only submitter); workers block on a condition
// variable between jobs and the submitter blocks on another until all have finished, so no thread ever
// spin-waits (a spinning thread starves a busy neighbour on a 2-core machine). LION_THREADS=n sets the size
// (default: all online cores).
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>
#include <unistd.h>

#include "common.h"

namespace lion {
namespace {

thread_local int tl_tid = 0;
thread_local bool tl_in_job = false;

struct Pool {
  int n = 1;
  std::vector<std::thread> workers;
  std::mutex mu;
  std::condition_variable start_cv, done_cv;
  void (*fn)(void*, int, int) = nullptr;
  void* ctx = nullptr;
  unsigned long generation = 0;
  int remaining = 0;

  explicit Pool(int threads) : n(threads) {
    for (int t = 1; t < n; t++) workers.emplace_back([this, t] { loop(t); });
  }
  ~Pool() {
    // Workers are detached at process exit: joining from a static destructor can deadlock in Node.
    for (auto& w : workers) w.detach();
  }
  void loop(int tid) {
    tl_tid = tid;
    unsigned long seen = 0;
    for (;;) {
      void (*f)(void*, int, int);
      void* c;
      {
        std::unique_lock<std::mutex> lk(mu);
        start_cv.wait(lk, [&] { return generation != seen; });
        seen = generation;
        f = fn;
        c = ctx;
      }
      tl_in_job = true;
      f(c, tid, n);
      tl_in_job = false;
      std::lock_guard<std::mutex> lk(mu);
      if (--remaining == 0) done_cv.notify_one();
    }
  }
  void run(void (*f)(void*, int, int), void* c) {
    {
      std::lock_guard<std::mutex> lk(mu);
      fn = f;
      ctx = c;
      remaining = n - 1;
      generation++;
    }
    start_cv.notify_all();
    tl_in_job = true;
    f(c, 0, n);
    tl_in_job = false;
    std::unique_lock<std::mutex> lk(mu);
    done_cv.wait(lk, [&] { return remaining == 0; });
  }
};

int configured_threads() {
  const char* e = std::getenv("LION_THREADS");
  if (e && *e) {
    int v = std::atoi(e);
    if (v >= 1 && v <= 256) return v;
  }
  long c = sysconf(_SC_NPROCESSORS_ONLN);
  return c >= 1 ? static_cast<int>(c) : 1;
}

Pool& pool() {
  static Pool* p = new Pool(configured_threads());  // never destroyed (see ~Pool)
  return *p;
}

struct Scratch {
  float* ptr[kScratchSlots] = {};
  size_t size[kScratchSlots] = {};
};
thread_local Scratch tl_scratch;

}  // namespace

int threads() { return pool().n; }
int current_tid() { return tl_tid; }

void parallel_run(void (*fn)(void*, int, int), void* ctx) {
  Pool& p = pool();
  if (p.n == 1 || tl_in_job) {
    fn(ctx, 0, 1);
    return;
  }
  // One submitter at a time (worker_threads could call in concurrently): a second one runs serially.
  static std::mutex submit;
  std::unique_lock<std::mutex> lk(submit, std::try_to_lock);
  if (!lk.owns_lock()) {
    fn(ctx, 0, 1);
    return;
  }
  p.run(fn, ctx);
}

float* scratch(int /*tid*/, int slot, size_t floats) {
  // Thread-local, so a buffer is first touched (and kept) by the thread that uses it.
  Scratch& s = tl_scratch;
  if (s.size[slot] < floats) {
    std::free(s.ptr[slot]);
    size_t bytes = ((floats * sizeof(float)) + 63) / 64 * 64;
    s.ptr[slot] = static_cast<float*>(std::aligned_alloc(64, bytes));
    s.size[slot] = floats;
  }
  return s.ptr[slot];
}

}  // namespace lion
