// Shared declarations of the lion_kernels addon: CPU level, the thread pool, the GEMM and the kernel entry
// points that addon.cc binds to JavaScript. Layouts and formulas are those of src/kernels/types.ts; every
// pointer is a caller-owned buffer (no kernel allocates on its hot path).
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace lion {

// ------------------------------------------------------------------ CPU dispatch
enum class Cpu { Portable = 0, Avx2 = 1, Avx512 = 2 };
Cpu cpu_level();                 // detected once (LION_CPU=portable|avx2|avx512 caps it, for tests)
const char* cpu_name(Cpu c);

// ------------------------------------------------------------------ thread pool
// A persistent pool of (threads() - 1) workers plus the calling thread. Workers sleep on a condition
// variable between jobs (never spin). A job is fn(ctx, tid, nthreads) run once per thread; calls made from
// inside a job run serially on the caller (tid 0 of 1).
int threads();
void parallel_run(void (*fn)(void* ctx, int tid, int nt), void* ctx);
int current_tid();               // 0 outside a job

template <class F>
void parallel(F&& f) {
  parallel_run([](void* c, int tid, int nt) { (*static_cast<F*>(c))(tid, nt); }, &f);
}
// Splits [0, n) into nt contiguous parts; part tid is [lo, hi).
inline void split_range(long n, int tid, int nt, long& lo, long& hi) {
  long q = n / nt, r = n % nt;
  lo = tid * q + (tid < r ? tid : r);
  hi = lo + q + (tid < r ? 1 : 0);
}

// Runs f(i, tid) for every i in [0, n), threads taking the next index from a shared counter: when the OS
// deschedules one thread (a busy neighbour on a shared core) the others take over its share of the work.
template <class F>
void parallel_tasks(long n, F&& f) {
  std::atomic<long> next{0};
  parallel([&](int tid, int) {
    for (long i = next.fetch_add(1, std::memory_order_relaxed); i < n; i = next.fetch_add(1, std::memory_order_relaxed))
      f(i, tid);
  });
}

// Per-thread scratch that grows but never shrinks (allocated at first use by the owning thread).
// Slots: 0, 1 GEMM packing; 2, 3 kernel temporaries (attention scores, head tiles); 4, 5 buffers a kernel
// fills on the calling thread before a parallel region and shares with the workers (the sparse head).
constexpr int kScratchSlots = 6;
float* scratch(int tid, int slot, size_t floats);

// ------------------------------------------------------------------ GEMM
struct Gemm {
  long M, N, K;
  const float* A; long lda; bool ta;   // op(A) (M, K)
  const float* B; long ldb; bool tb;   // op(B) (K, N)
  float* C; long ldc;                  // (M, N)
  float alpha, beta;
};
void gemm_serial(const Gemm& g, int tid);   // on the calling thread, with thread tid's packing buffers
void gemm(const Gemm& g);                   // split over the pool
// Reuse of one packed op(B) across many products (g.B/ldb/tb/K/N describe it; alpha is applied to A):
size_t packed_b_floats(long K, long N);
void pack_b_once(const Gemm& g, float* dst);
void gemm_serial_packed(const Gemm& g, const float* bp, int tid);  // g.B is ignored; bp from pack_b_once

// Microkernels: C[mr x nr] (= or beta·C +) A_panel(kc x MR) · B_panel(kc x NR); full tiles computed, the
// mr x nr corner stored. `beta_zero` ignores C's old contents.
struct Micro {
  int MR, NR;
  void (*run)(long kc, const float* a, const float* b, float* c, long ldc, int mr, int nr, float beta, bool beta_zero);
  // Optional vector packers for full panels of the two transposing layouts (null: generic code):
  // A row-major → dst[k·MR + i] = alpha·A[i·ld + k];  B transposed → dst[k·NR + j] = B[j·ld + k].
  void (*pack_an)(const float* src, long ld, long kc, float alpha, float* dst) = nullptr;
  void (*pack_bt)(const float* src, long ld, long kc, float* dst) = nullptr;
};
// The active microkernel and K blocking, and its A packer (rows i0 .. i0+mc, depth p0 .. p0+kc, times alpha,
// into ceil(mc/MR) panels of kc x MR), for kernels that drive the microkernel themselves (the sparse head).
const Micro& gemm_micro();
long gemm_kc();
void pack_a_panels(const Gemm& g, long i0, long mc, long p0, long kc, float* dst);

Micro micro_avx512();
Micro micro_avx2();
Micro micro_portable();

}  // namespace lion
