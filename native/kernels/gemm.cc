// The GEMM driver: CPU-level detection, packing, cache blocking and the split over the thread pool.
// Layout (Goto/BLIS): for each NC-wide column block of op(B) and KC-deep slice of K, op(B) is packed into
// KC x NR micro-panels (stays in L3/L2); for each MC-tall row block, alpha·op(A) is packed into KC x MR
// micro-panels (stays in L2); the microkernel then sweeps MR x NR tiles of C (one B micro-panel in L1).
// Packing pads with zeros, so microkernels always compute full tiles and only the stored corner varies.
// Packing buffers are per-thread scratch slots 0 (A) and 1 (B), allocated once at their largest size.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common.h"

namespace lion {

// ------------------------------------------------------------------ CPU level
Cpu cpu_level() {
  static const Cpu level = [] {
    __builtin_cpu_init();
    Cpu c = Cpu::Portable;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) c = Cpu::Avx2;
    if (c == Cpu::Avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw"))
      c = Cpu::Avx512;
    const char* e = std::getenv("LION_CPU");  // caps the level (tests exercise every path)
    if (e && !std::strcmp(e, "portable")) c = Cpu::Portable;
    if (e && !std::strcmp(e, "avx2") && c == Cpu::Avx512) c = Cpu::Avx2;
    return c;
  }();
  return level;
}

const char* cpu_name(Cpu c) {
  return c == Cpu::Avx512 ? "avx512" : c == Cpu::Avx2 ? "avx2" : "portable";
}

// ------------------------------------------------------------------ portable microkernel (4 x 16)
namespace {
constexpr int PMR = 4, PNR = 16;
void micro_4x16(long kc, const float* __restrict a, const float* __restrict b, float* __restrict c, long ldc,
                int mr, int nr, float beta, bool beta_zero) {
  float acc[PMR][PNR] = {};
  for (long k = 0; k < kc; k++) {
    for (int i = 0; i < PMR; i++)
      for (int j = 0; j < PNR; j++) acc[i][j] += a[i] * b[j];
    a += PMR;
    b += PNR;
  }
  for (int i = 0; i < mr; i++)
    for (int j = 0; j < nr; j++) c[i * ldc + j] = beta_zero ? acc[i][j] : beta * c[i * ldc + j] + acc[i][j];
}
}  // namespace

Micro micro_portable() { return Micro{PMR, PNR, micro_4x16}; }

// ------------------------------------------------------------------ blocking
namespace {

struct Plan {
  Micro mk;
  long KC, MC, NC;
};

const Plan& plan() {
  static const Plan p = [] {
    Plan q;
    switch (cpu_level()) {
      case Cpu::Avx512: q = Plan{micro_avx512(), 1024, 14 * 8, 32 * 32}; break;
      case Cpu::Avx2: q = Plan{micro_avx2(), 256, 6 * 24, 16 * 128}; break;
      default: q = Plan{micro_portable(), 256, 4 * 32, 16 * 64}; break;
    }
    // LION_GEMM_BLOCKS=KC,MC,NC overrides the cache blocking (for tuning on other CPUs); MC and NC are
    // rounded up to whole micro-tiles.
    if (const char* e = std::getenv("LION_GEMM_BLOCKS")) {
      long kc = 0, mc = 0, nc = 0;
      if (std::sscanf(e, "%ld,%ld,%ld", &kc, &mc, &nc) == 3 && kc > 0 && mc > 0 && nc > 0) {
        q.KC = kc;
        q.MC = (mc + q.mk.MR - 1) / q.mk.MR * q.mk.MR;
        q.NC = (nc + q.mk.NR - 1) / q.mk.NR * q.mk.NR;
      }
    }
    return q;
  }();
  return p;
}

// alpha·op(A)[i0 .. i0+mc, p0 .. p0+kc] into ceil(mc/MR) panels of kc x MR.
void pack_a(const Gemm& g, const Micro& mk, long i0, long mc, long p0, long kc, float* dst) {
  const int MR = mk.MR;
  for (long ir = 0; ir < mc; ir += MR, dst += kc * MR) {
    const int mr = static_cast<int>(std::min<long>(MR, mc - ir));
    if (!g.ta && mr == MR && mk.pack_an) {
      mk.pack_an(g.A + (i0 + ir) * g.lda + p0, g.lda, kc, g.alpha, dst);
    } else if (!g.ta) {
      // A transpose, in k chunks of 64 so the destination chunk stays in L1 (as in pack_b).
      for (long k0 = 0; k0 < kc; k0 += 64) {
        const long k1 = std::min(kc, k0 + 64);
        for (int i = 0; i < mr; i++) {
          const float* src = g.A + (i0 + ir + i) * g.lda + p0;
          for (long k = k0; k < k1; k++) dst[k * MR + i] = g.alpha * src[k];
        }
        for (int i = mr; i < MR; i++)
          for (long k = k0; k < k1; k++) dst[k * MR + i] = 0.f;
      }
    } else {
      for (long k = 0; k < kc; k++) {
        const float* src = g.A + (p0 + k) * g.lda + i0 + ir;
        float* d = dst + k * MR;
        for (int i = 0; i < mr; i++) d[i] = g.alpha * src[i];
        for (int i = mr; i < MR; i++) d[i] = 0.f;
      }
    }
  }
}

// op(B)[p0 .. p0+kc, j0 .. j0+nc] into ceil(nc/NR) panels of kc x NR.
void pack_b(const Gemm& g, const Micro& mk, long p0, long kc, long j0, long nc, float* dst) {
  const int NR = mk.NR;
  if (!g.tb) {
    // Row k of the block is contiguous in B: stream it once, dealing NR-wide pieces to the panels.
    for (long k = 0; k < kc; k++) {
      const float* src = g.B + (p0 + k) * g.ldb + j0;
      if (k + 4 < kc) {  // each row starts on a fresh page, where the hardware prefetcher starts cold
        const char* ahead = reinterpret_cast<const char*>(src + 4 * g.ldb);
        for (long off = 0; off < nc * 4; off += 64) __builtin_prefetch(ahead + off, 0, 3);
      }
      for (long jr = 0; jr < nc; jr += NR) {
        const int nr = static_cast<int>(std::min<long>(NR, nc - jr));
        float* d = dst + (jr / NR) * kc * NR + k * NR;
        for (int j = 0; j < nr; j++) d[j] = src[jr + j];
        for (int j = nr; j < NR; j++) d[j] = 0.f;
      }
    }
    return;
  }
  for (long jr = 0; jr < nc; jr += NR, dst += kc * NR) {
    const int nr = static_cast<int>(std::min<long>(NR, nc - jr));
    if (nr == NR && mk.pack_bt) {
      mk.pack_bt(g.B + (j0 + jr) * g.ldb + p0, g.ldb, kc, dst);
    } else {
      // A transpose: walk k in chunks of 64 so the destination chunk (64 x NR floats) stays in L1 while
      // the nr source rows fill it column by column.
      for (long k0 = 0; k0 < kc; k0 += 64) {
        const long k1 = std::min(kc, k0 + 64);
        for (int j = 0; j < nr; j++) {
          const float* src = g.B + (j0 + jr + j) * g.ldb + p0;
          for (long k = k0; k < k1; k++) dst[k * NR + j] = src[k];
        }
      }
      for (int j = nr; j < NR; j++)
        for (long k = 0; k < kc; k++) dst[k * NR + j] = 0.f;
    }
  }
}

void scale_c(const Gemm& g) {
  for (long i = 0; i < g.M; i++) {
    float* c = g.C + i * g.ldc;
    for (long j = 0; j < g.N; j++) c[j] = g.beta == 0.f ? 0.f : g.beta * c[j];
  }
}

}  // namespace

namespace {

// One KC-deep slice [pc, pc+kc) of C[:, jc .. jc+nc) += alpha·op(A)·(packed B block), over all rows of C.
void macro(const Gemm& g, const Plan& p, long pc, long kc, long jc, long nc, const float* bblock, float* ap) {
  const int MR = p.mk.MR, NR = p.mk.NR;
  const bool first = pc == 0;
  const bool beta_zero = first && g.beta == 0.f;
  const float beta = first ? g.beta : 1.f;
  for (long ic = 0; ic < g.M; ic += p.MC) {
    const long mc = std::min(p.MC, g.M - ic);
    pack_a(g, p.mk, ic, mc, pc, kc, ap);
    for (long jr = 0; jr < nc; jr += NR) {
      const int nr = static_cast<int>(std::min<long>(NR, nc - jr));
      const float* bpanel = bblock + (jr / NR) * kc * NR;
      for (long ir = 0; ir < mc; ir += MR) {
        const int mr = static_cast<int>(std::min<long>(MR, mc - ir));
        p.mk.run(kc, ap + (ir / MR) * kc * MR, bpanel, g.C + (ic + ir) * g.ldc + jc + jr, g.ldc, mr, nr, beta,
                 beta_zero);
      }
    }
  }
}

}  // namespace

const Micro& gemm_micro() { return plan().mk; }
long gemm_kc() { return plan().KC; }
void pack_a_panels(const Gemm& g, long i0, long mc, long p0, long kc, float* dst) {
  pack_a(g, plan().mk, i0, mc, p0, kc, dst);
}

void gemm_serial(const Gemm& g, int tid) {
  if (g.M <= 0 || g.N <= 0) return;
  if (g.K <= 0 || g.alpha == 0.f) { scale_c(g); return; }
  const Plan& p = plan();
  float* ap = scratch(tid, 0, static_cast<size_t>(p.MC * p.KC));
  float* bp = scratch(tid, 1, static_cast<size_t>(p.KC * p.NC));
  for (long jc = 0; jc < g.N; jc += p.NC) {
    const long nc = std::min(p.NC, g.N - jc);
    for (long pc = 0; pc < g.K; pc += p.KC) {
      const long kc = std::min(p.KC, g.K - pc);
      pack_b(g, p.mk, pc, kc, jc, nc, bp);
      macro(g, p, pc, kc, jc, nc, bp, ap);
    }
  }
}

// Packed layout of a whole op(B): KC-deep slices one after another, slice pc at offset pc·Npad.
size_t packed_b_floats(long K, long N) {
  const long NR = plan().mk.NR;
  return static_cast<size_t>(K * ((N + NR - 1) / NR * NR));
}

void pack_b_once(const Gemm& g, float* dst) {
  const Plan& p = plan();
  const long npad = (g.N + p.mk.NR - 1) / p.mk.NR * p.mk.NR;
  for (long pc = 0; pc < g.K; pc += p.KC) pack_b(g, p.mk, pc, std::min(p.KC, g.K - pc), 0, g.N, dst + pc * npad);
}

void gemm_serial_packed(const Gemm& g, const float* bp, int tid) {
  if (g.M <= 0 || g.N <= 0) return;
  if (g.K <= 0 || g.alpha == 0.f) { scale_c(g); return; }
  const Plan& p = plan();
  const long npad = (g.N + p.mk.NR - 1) / p.mk.NR * p.mk.NR;
  float* ap = scratch(tid, 0, static_cast<size_t>(p.MC * p.KC));
  for (long pc = 0; pc < g.K; pc += p.KC) macro(g, p, pc, std::min(p.KC, g.K - pc), 0, g.N, bp + pc * npad, ap);
}

void gemm(const Gemm& g) {
  const int nt = threads();
  const double flops = 2.0 * g.M * g.N * g.K;
  if (nt == 1 || flops < 2e6) { gemm_serial(g, current_tid()); return; }
  const Plan& p = plan();
  // Split the larger of M and N into a few contiguous chunks per thread: each chunk packs its own operands,
  // and the redundant packing (the other operand, once per chunk) is the smaller one. Threads take chunks
  // from a shared counter, so a thread that the OS descheduled (a busy neighbour on a shared core) simply
  // does fewer chunks instead of holding everyone up.
  const bool by_rows = g.M >= g.N;
  const long extent = by_rows ? g.M : g.N;
  const long unit = by_rows ? p.mk.MR : p.mk.NR;
  const long units = (extent + unit - 1) / unit;
  const long chunks = std::min<long>(units, 3L * nt);
  std::atomic<long> next{0};
  parallel([&](int tid, int) {
    for (long ch = next.fetch_add(1); ch < chunks; ch = next.fetch_add(1)) {
      long lo, hi;
      split_range(units, static_cast<int>(ch), static_cast<int>(chunks), lo, hi);
      lo *= unit;
      hi = std::min(hi * unit, extent);
      if (lo >= hi) continue;
      Gemm s = g;
      if (by_rows) {
        s.M = hi - lo;
        s.A = g.ta ? g.A + lo : g.A + lo * g.lda;
        s.C = g.C + lo * g.ldc;
      } else {
        s.N = hi - lo;
        s.B = g.tb ? g.B + lo * g.ldb : g.B + lo;
        s.C = g.C + lo;
      }
      gemm_serial(s, tid);
    }
  });
}

}  // namespace lion
