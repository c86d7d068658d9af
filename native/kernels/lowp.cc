// Reduced-precision kernels: path selection (CPU flags, LION_ISA), conversions, int8 quantisation, the packed
// GEMM driver shared by every bf16/int8 path, the portable microkernels and the layer-level kernels (linear,
// embedding, the sparse head). The SIMD microkernels live in lowp_avx512.cc, lowp_avx2.cc and lowp_amx.cc.
//
// Driver (lp_gemm): the operand that every thread needs whole — B when the split is over rows of C, A when it
// is over columns — is packed once into shared scratch (in parallel); each thread then packs its own blocks of
// the other operand (per-thread scratch) and runs the microkernel over MR x NR tiles. So every element of A
// and B is converted and packed exactly once per call, which matters here: at 1 TFLOP/s-class microkernel
// speeds, repacking an operand per cache block would cost as much as the products.
#include "lowp.h"

#include <cpuid.h>

#include <algorithm>
#include <atomic>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common.h"
#include "ops.h"
#include "simd.h"

namespace lion {

// ------------------------------------------------------------------ CPU flags and LION_ISA
namespace {

struct Flags {
  bool avx2 = false, avx512 = false, avx512bf16 = false, avx512vnni = false, avxvnni = false, amx_bf16 = false,
       amx_int8 = false;
};

Flags detect() {
  Flags f;
  const Cpu lvl = cpu_level();  // AVX2+FMA / AVX-512 F,VL,DQ,BW with OS support (LION_CPU caps it)
  f.avx2 = lvl >= Cpu::Avx2;
  f.avx512 = lvl >= Cpu::Avx512;
  unsigned a, b, c, d;
  unsigned l7c = 0, l7d = 0, l71a = 0;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) { l7c = c; l7d = d; }
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) l71a = a;
  f.avx512vnni = f.avx512 && (l7c >> 11 & 1);
  f.avx512bf16 = f.avx512 && (l71a >> 5 & 1);
  f.avxvnni = f.avx2 && (l71a >> 4 & 1);
  const bool tile = (l7d >> 24 & 1) != 0;
  f.amx_bf16 = f.avx512 && tile && (l7d >> 22 & 1);
  f.amx_int8 = f.avx512 && tile && (l7d >> 25 & 1);
  return f;
}

struct Level {
  const char* name;
  Bf16Path bf16;
  I8Path i8;
};
// LION_ISA levels: each pins both families to what a CPU with exactly that feature set would run.
constexpr Level kLevels[] = {
    {"amx", Bf16Path::Amx, I8Path::Amx},
    {"avx512bf16", Bf16Path::Avx512Bf16, I8Path::Avx512Vnni},
    {"avx512vnni", Bf16Path::Avx512, I8Path::Avx512Vnni},
    {"avx512", Bf16Path::Avx512, I8Path::Avx2},
    {"avxvnni", Bf16Path::Avx2, I8Path::AvxVnni},
    {"avx2", Bf16Path::Avx2, I8Path::Avx2},
    {"portable", Bf16Path::Portable, I8Path::Portable},
};

bool can_bf16(const Flags& f, Bf16Path p) {
  switch (p) {
    case Bf16Path::Amx: return f.amx_bf16;
    case Bf16Path::Avx512Bf16: return f.avx512bf16;
    case Bf16Path::Avx512: return f.avx512;
    case Bf16Path::Avx2: return f.avx2;
    default: return true;
  }
}
bool can_i8(const Flags& f, I8Path p) {
  switch (p) {
    case I8Path::Amx: return f.amx_int8;
    case I8Path::Avx512Vnni: return f.avx512vnni;
    case I8Path::AvxVnni: return f.avxvnni;
    case I8Path::Avx2: return f.avx2;
    default: return true;
  }
}

bool parse_bf16(const std::string& s, Bf16Path& p) {
  for (Bf16Path q : {Bf16Path::Portable, Bf16Path::Avx2, Bf16Path::Avx512, Bf16Path::Avx512Bf16, Bf16Path::Amx})
    if (s == bf16_path_name(q)) { p = q; return true; }
  return false;
}
bool parse_i8(const std::string& s, I8Path& p) {
  for (I8Path q : {I8Path::Portable, I8Path::Avx2, I8Path::AvxVnni, I8Path::Avx512Vnni, I8Path::Amx})
    if (s == i8_path_name(q)) { p = q; return true; }
  return false;
}

}  // namespace

const char* bf16_path_name(Bf16Path p) {
  switch (p) {
    case Bf16Path::Amx: return "amx";
    case Bf16Path::Avx512Bf16: return "avx512bf16";
    case Bf16Path::Avx512: return "avx512";
    case Bf16Path::Avx2: return "avx2";
    default: return "portable";
  }
}
const char* i8_path_name(I8Path p) {
  switch (p) {
    case I8Path::Amx: return "amx-int8";
    case I8Path::Avx512Vnni: return "avx512vnni";
    case I8Path::AvxVnni: return "avxvnni";
    case I8Path::Avx2: return "avx2";
    default: return "portable";
  }
}

const IsaChoice& isa_choice() {
  static const IsaChoice choice = [] {
    const Flags f = detect();
    IsaChoice c;
    // Default: the fastest tested path (AMX is opt-in, see docs/kernels.md).
    c.bf16 = f.avx512bf16 ? Bf16Path::Avx512Bf16 : f.avx512 ? Bf16Path::Avx512 : f.avx2 ? Bf16Path::Avx2
                                                                                      : Bf16Path::Portable;
    c.i8 = f.avx512vnni ? I8Path::Avx512Vnni : f.avxvnni ? I8Path::AvxVnni : f.avx2 ? I8Path::Avx2 : I8Path::Portable;
    for (const Level& l : kLevels)
      if (can_bf16(f, l.bf16) && can_i8(f, l.i8)) c.available.push_back(l.name);
    const char* env = std::getenv("LION_ISA");
    if (!env || !*env) return c;
    const std::string want(env);
    std::string err;
    if (want.find('=') == std::string::npos) {
      const Level* lv = nullptr;
      for (const Level& l : kLevels)
        if (want == l.name) lv = &l;
      if (!lv) {
        err = "is not a path (expected one of amx, avx512bf16, avx512vnni, avx512, avxvnni, avx2, portable, or "
              "bf16=<path>,int8=<path>)";
      } else if (!can_bf16(f, lv->bf16) || !can_i8(f, lv->i8)) {
        err = "needs CPU features this machine lacks (it can run: ";
        for (size_t i = 0; i < c.available.size(); i++) err += (i ? ", " : "") + c.available[i];
        err += ")";
      } else {
        c.bf16 = lv->bf16;
        c.i8 = lv->i8;
      }
    } else {  // bf16=<path>,int8=<path> (either part may be left out)
      size_t at = 0;
      while (err.empty() && at <= want.size()) {
        size_t end = want.find(',', at);
        if (end == std::string::npos) end = want.size();
        const std::string part = want.substr(at, end - at);
        const size_t eq = part.find('=');
        const std::string key = part.substr(0, eq), val = eq == std::string::npos ? "" : part.substr(eq + 1);
        if (key == "bf16") {
          Bf16Path p;
          if (!parse_bf16(val, p)) err = "bf16=" + val + " is not a bf16 path (amx, avx512bf16, avx512, avx2, portable)";
          else if (!can_bf16(f, p)) err = "bf16=" + val + " needs CPU features this machine lacks";
          else c.bf16 = p;
        } else if (key == "int8") {
          I8Path p;
          if (!parse_i8(val, p)) err = "int8=" + val + " is not an int8 path (amx-int8, avx512vnni, avxvnni, avx2, portable)";
          else if (!can_i8(f, p)) err = "int8=" + val + " needs CPU features this machine lacks";
          else c.i8 = p;
        } else {
          err = "has an unknown part '" + part + "' (expected bf16=<path> or int8=<path>)";
        }
        at = end + 1;
      }
    }
    if (err.empty() && (c.bf16 == Bf16Path::Amx || c.i8 == I8Path::Amx) && !amx_request_permission())
      err = "asks for AMX but Linux refused the tile-data permission (arch_prctl ARCH_REQ_XCOMP_PERM)";
    if (!err.empty()) c.error = "LION_ISA=" + want + " " + err;
    return c;
  }();
  return choice;
}

// ------------------------------------------------------------------ scalar conversions
namespace {

inline uint16_t bf16_bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
inline float bf16_value(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

}  // namespace

LION_CLONES void to_bf16(uint16_t* dst, const float* src, long n) {
  const uint32_t* s = reinterpret_cast<const uint32_t*>(src);
#pragma omp simd
  for (long i = 0; i < n; i++) {
    const uint32_t u = s[i];
    const uint32_t r = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    const uint32_t q = (u >> 16) | 0x40u;
    dst[i] = static_cast<uint16_t>((u & 0x7fffffffu) > 0x7f800000u ? q : r);
  }
}

LION_CLONES void from_bf16(float* dst, const uint16_t* src, long n) {
  uint32_t* d = reinterpret_cast<uint32_t*>(dst);
#pragma omp simd
  for (long i = 0; i < n; i++) d[i] = static_cast<uint32_t>(src[i]) << 16;
}

namespace {

// Quantises one row of K values: q = clamp(rint(x / s), ±127) with s = max|x| / 127 (both rounded to float).
// Returns s (0 for a zero row, NaN — and q = 0 — for a row with a non-finite value); rs = Σ q.
LION_CLONES float quantize_row_generic(int8_t* q, int32_t* rs, const float* x, long K) {
  float mx = 0.f;
  int bad = 0;
#pragma omp simd reduction(max : mx) reduction(| : bad)
  for (long k = 0; k < K; k++) {
    const float a = std::fabs(x[k]);
    mx = a > mx ? a : mx;
    bad |= !(a <= FLT_MAX);
  }
  if (bad || mx == 0.f) {
    std::memset(q, 0, static_cast<size_t>(K));
    if (rs) *rs = 0;
    return bad ? NAN : 0.f;
  }
  const float s = mx / 127.f;
  int32_t sum = 0;
#pragma omp simd reduction(+ : sum)
  for (long k = 0; k < K; k++) {
    float v = std::rint(x[k] / s);
    v = v > 127.f ? 127.f : (v < -127.f ? -127.f : v);
    q[k] = static_cast<int8_t>(v);
    sum += static_cast<int32_t>(v);
  }
  if (rs) *rs = sum;
  return s;
}

// The AVX-512 twin (same results bit for bit) wherever the int8 path is an AVX-512 one: the compiler's own
// vectorisation of the loop above stays at 128 bits.
float quantize_row(int8_t* q, int32_t* rs, const float* x, long K) {
  static const bool wide = isa_choice().i8 == I8Path::Avx512Vnni || isa_choice().i8 == I8Path::Amx;
  return wide ? quantize_row_avx512(q, rs, x, K) : quantize_row_generic(q, rs, x, K);
}

}  // namespace

long quantize_int8(int8_t* q, float* scale, const void* w, Src src, long N, long K) {
  std::atomic<long> bad{-1};
  parallel_tasks(N, [&](long r, int tid) {
    const float* row;
    if (src == Src::BF16) {
      float* tmp = scratch(tid, 2, static_cast<size_t>(K));
      from_bf16(tmp, static_cast<const uint16_t*>(w) + r * K, K);
      row = tmp;
    } else {
      row = static_cast<const float*>(w) + r * K;
    }
    const float s = quantize_row(q + r * K, nullptr, row, K);
    scale[r] = s;
    if (std::isnan(s)) {
      long cur = bad.load();
      while ((cur < 0 || r < cur) && !bad.compare_exchange_weak(cur, r)) {}
    }
  });
  return bad.load();
}

// ------------------------------------------------------------------ packing
namespace {

inline int group_of(Pk pk) { return pk == Pk::F32 ? 1 : (pk == Pk::BF16 || pk == Pk::I16) ? 2 : 4; }

template <Src S>
inline uint16_t elem_bits(const void* p, long idx) {
  if constexpr (S == Src::F32) return bf16_bits(static_cast<const float*>(p)[idx]);
  else return static_cast<const uint16_t*>(p)[idx];
}

// One packed word from row r, k = k0 .. k0+G−1 (clipped to kend), read through `at(k)` = element index.
template <Src S, Pk P, class At>
inline uint32_t make_word(const void* p, long k0, long kend, float alpha, At at) {
  if constexpr (P == Pk::F32) {
    const float v = bf16_value(elem_bits<S>(p, at(k0))) * alpha;
    uint32_t u;
    std::memcpy(&u, &v, 4);
    return u;
  } else if constexpr (P == Pk::BF16) {
    uint32_t w = elem_bits<S>(p, at(k0));
    if (k0 + 1 < kend) w |= static_cast<uint32_t>(elem_bits<S>(p, at(k0 + 1))) << 16;
    return w;
  } else {
    const int8_t* q = static_cast<const int8_t*>(p);
    constexpr int G = P == Pk::I16 ? 2 : 4;
    uint32_t w = 0;
    for (int g = 0; g < G && k0 + g < kend; g++) {
      const int8_t v = q[at(k0 + g)];
      if constexpr (P == Pk::I16) w |= (static_cast<uint32_t>(static_cast<uint16_t>(static_cast<int16_t>(v)))) << (16 * g);
      else if constexpr (P == Pk::U8) w |= static_cast<uint32_t>(static_cast<uint8_t>(v) ^ 0x80u) << (8 * g);
      else w |= static_cast<uint32_t>(static_cast<uint8_t>(v)) << (8 * g);
    }
    return w;
  }
}

template <Src S, Pk P>
void pack_impl(const Operand& op, long r0, long rows, int R, long p0, long kc, float alpha, uint32_t* dst, long kwp,
               bool rowmajor) {
  constexpr int G = P == Pk::F32 ? 1 : (P == Pk::BF16 || P == Pk::I16) ? 2 : 4;
  const long kw = (kc + G - 1) / G;
  const long ld = op.ld;
  for (long pr = 0; pr < rows; pr += R, dst += kwp * R) {
    const int live = static_cast<int>(std::min<long>(R, rows - pr));
    auto put = [&](int r, long w, uint32_t v) { dst[rowmajor ? r * kwp + w : w * R + r] = v; };
    if (op.kmajor) {  // contiguous along r: walk w outside, r inside
      for (long w = 0; w < kwp; w++)
        for (int r = 0; r < R; r++) {
          uint32_t v = 0;
          if (r < live && w < kw) {
            const long rr = r0 + pr + r;
            v = make_word<S, P>(op.p, w * G, kc, alpha, [&](long k) { return (p0 + k) * ld + rr; });
          }
          put(r, w, v);
        }
    } else {
      for (int r = 0; r < R; r++) {
        const long base = (r0 + pr + r) * ld + p0;
        for (long w = 0; w < kwp; w++) {
          uint32_t v = 0;
          if (r < live && w < kw) v = make_word<S, P>(op.p, w * G, kc, alpha, [&](long k) { return base + k; });
          put(r, w, v);
        }
      }
    }
  }
}

}  // namespace

void pack_generic(const Operand& op, long r0, long rows, int R, long p0, long kc, Pk pk, float alpha, uint32_t* dst,
                  long kwp, bool rowmajor) {
  switch (op.src) {
    case Src::F32:
      if (pk == Pk::F32) pack_impl<Src::F32, Pk::F32>(op, r0, rows, R, p0, kc, alpha, dst, kwp, rowmajor);
      else pack_impl<Src::F32, Pk::BF16>(op, r0, rows, R, p0, kc, alpha, dst, kwp, rowmajor);
      break;
    case Src::BF16:
      if (pk == Pk::F32) pack_impl<Src::BF16, Pk::F32>(op, r0, rows, R, p0, kc, alpha, dst, kwp, rowmajor);
      else pack_impl<Src::BF16, Pk::BF16>(op, r0, rows, R, p0, kc, alpha, dst, kwp, rowmajor);
      break;
    case Src::I8:
      if (pk == Pk::I16) pack_impl<Src::I8, Pk::I16>(op, r0, rows, R, p0, kc, alpha, dst, kwp, rowmajor);
      else if (pk == Pk::U8) pack_impl<Src::I8, Pk::U8>(op, r0, rows, R, p0, kc, alpha, dst, kwp, rowmajor);
      else pack_impl<Src::I8, Pk::I8>(op, r0, rows, R, p0, kc, alpha, dst, kwp, rowmajor);
      break;
  }
}

long lp_words(const LpKernel& k, long kc) {
  const long kw = (kc + k.G - 1) / k.G;
  return (kw + k.kw_align - 1) / k.kw_align * k.kw_align;
}

void lp_pack(const LpKernel& k, bool is_a, const Operand& op, long r0, long rows, long p0, long kc, Pk pk, float alpha,
             uint32_t* dst) {
  const int R = is_a ? k.MR : k.NR;
  const bool rowmajor = is_a && k.a_rowmajor;
  if (op.kmajor && !rowmajor && (pk == Pk::BF16 || pk == Pk::F32) && op.src != Src::I8 &&
      k.pack_kfast == pack_kfast_avx512 && k.kw_align == 1) {
    pack_kmajor_bf16_avx512(op, r0, rows, R, p0, kc, pk, alpha, dst);
    return;
  }
  if (!op.kmajor && !rowmajor && k.pack_kfast && k.kw_align == 1) {
    k.pack_kfast(op, r0, rows, R, p0, kc, pk, alpha, dst);
    return;
  }
  pack_generic(op, r0, rows, R, p0, kc, pk, alpha, dst, lp_words(k, kc), rowmajor);
}

// ------------------------------------------------------------------ portable and fp32-widening kernels
void i8_epilogue(const int32_t* acc, int NR, float* c, long ldc, int mr, int nr, const Epi& e) {
  for (int i = 0; i < mr; i++) {
    const float sx = e.sx[i];
    const int32_t off = e.rs ? e.off * e.rs[i] : 0;
    for (int j = 0; j < nr; j++) {
      const float v = static_cast<float>(acc[i * NR + j] - off) * (e.sw ? sx * e.sw[j] : sx);
      c[i * ldc + j] = e.bias ? v + e.bias[j] : v;
    }
  }
}

namespace {

template <Micro (*F)()>
void float_micro(long kw, const uint32_t* a, const uint32_t* b, float* c, long ldc, int mr, int nr, const Epi& e) {
  static const Micro m = F();
  m.run(kw, reinterpret_cast<const float*>(a), reinterpret_cast<const float*>(b), c, ldc, mr, nr, e.beta,
        e.beta_zero);
}

template <Micro (*F)()>
LpKernel float_kernel(long KC, long MC, long NC, LpPack fast = nullptr) {
  const Micro m = F();
  return LpKernel{m.MR, m.NR, 1, Pk::F32, Pk::F32, KC, MC, NC, 1, false, true, float_micro<F>, fast};
}

constexpr int PMR = 4, PNR = 16;
LION_CLONES void micro_i16_portable(long kw, const uint32_t* a, const uint32_t* b, float* c, long ldc, int mr, int nr,
                                    const Epi& e) {
  int32_t acc[PMR * PNR] = {};
  for (long p = 0; p < kw; p++, a += PMR, b += PNR)
    for (int i = 0; i < PMR; i++) {
      const int32_t a0 = static_cast<int16_t>(a[i] & 0xffff), a1 = static_cast<int16_t>(a[i] >> 16);
      for (int j = 0; j < PNR; j++)
        acc[i * PNR + j] += a0 * static_cast<int16_t>(b[j] & 0xffff) + a1 * static_cast<int16_t>(b[j] >> 16);
    }
  i8_epilogue(acc, PNR, c, ldc, mr, nr, e);
}

const LpKernel& bf16_kernel_for(Bf16Path p) {
  static const LpKernel portable = float_kernel<micro_portable>(256, 4 * 32, 16 * 64);
  static const LpKernel avx2 = float_kernel<micro_avx2>(256, 6 * 24, 16 * 128, pack_kfast_avx2);
  static const LpKernel avx512 = float_kernel<micro_avx512>(1024, 14 * 8, 32 * 32, pack_kfast_avx512);
  switch (p) {
    case Bf16Path::Amx: { static const LpKernel k = lp_bf16_amx(); return k; }
    case Bf16Path::Avx512Bf16: { static const LpKernel k = lp_bf16_avx512bf16(); return k; }
    case Bf16Path::Avx512: return avx512;
    case Bf16Path::Avx2: return avx2;
    default: return portable;
  }
}

const LpKernel& i8_kernel_for(I8Path p) {
  static const LpKernel portable{PMR, PNR, 2, Pk::I16, Pk::I16, 0, 4 * 32, 16 * 64, 1, false, false,
                                 micro_i16_portable, nullptr};
  switch (p) {
    case I8Path::Amx: { static const LpKernel k = lp_i8_amx(); return k; }
    case I8Path::Avx512Vnni: { static const LpKernel k = lp_i8_avx512vnni(); return k; }
    case I8Path::AvxVnni: { static const LpKernel k = lp_i8_avxvnni(); return k; }
    case I8Path::Avx2: { static const LpKernel k = lp_i8_avx2(); return k; }
    default: return portable;
  }
}

}  // namespace

// LION_LP_BLOCKS=KC,MC,NC overrides the bf16 blocking (KC in k, rounded to whole words; MC, NC rounded up to
// whole tiles), for tuning on other CPUs.
const LpKernel& bf16_kernel() {
  static const LpKernel k = [] {
    LpKernel q = bf16_kernel_for(isa_choice().bf16);
    if (const char* e = std::getenv("LION_LP_BLOCKS")) {
      long kc = 0, mc = 0, nc = 0;
      if (std::sscanf(e, "%ld,%ld,%ld", &kc, &mc, &nc) == 3 && kc > 0 && mc > 0 && nc > 0) {
        const long step = static_cast<long>(q.G) * q.kw_align;
        q.KC = (kc + step - 1) / step * step;
        q.MC = (mc + q.MR - 1) / q.MR * q.MR;
        q.NC = (nc + q.NR - 1) / q.NR * q.NR;
      }
    }
    return q;
  }();
  return k;
}
const LpKernel& i8_kernel() { return i8_kernel_for(isa_choice().i8); }

// ------------------------------------------------------------------ the driver
namespace {

struct LpProblem {
  long M, N, K;
  Operand A, B;  // A rows = rows of C, B rows = columns of C (see Operand)
  float* C;
  long ldc;
  Epi epi;       // float paths: alpha, beta; int8: sx/rs indexed by row of C, sw/bias by column
};

// Geometry of a fully packed operand: K blocks one after another, block pc at offset (pc / KC)·rowsPad·kwpKC.
struct Blocks {
  long KC, nblk, kwp_full;  // K block, block count, words per row of a full block
};
Blocks blocks_of(const LpKernel& k, long K) {
  const long KC = k.KC > 0 ? k.KC : std::max<long>(K, 1);
  return Blocks{KC, (K + KC - 1) / KC, lp_words(k, KC)};
}

inline Epi tile_epi(const LpProblem& pr, bool first, long i, long j) {
  Epi e = pr.epi;
  if (!first) { e.beta = 1.f; e.beta_zero = false; }
  if (e.i8) {
    e.sx += i;
    if (e.rs) e.rs += i;
    if (e.sw) e.sw += j;
    if (e.bias) e.bias += j;
  }
  return e;
}

// Rows [m0, m1) of C, B fully packed in `bp_all` (panel layout per K block over all N columns).
void run_rows(const LpKernel& k, const LpProblem& pr, long m0, long m1, const uint32_t* bp_all, int tid) {
  const Blocks bl = blocks_of(k, pr.K);
  const long npad = (pr.N + k.NR - 1) / k.NR * k.NR;
  uint32_t* ap = reinterpret_cast<uint32_t*>(scratch(tid, 0, static_cast<size_t>(
      (k.MC + k.MR - 1) / k.MR * k.MR * bl.kwp_full)));
  const float alpha_a = k.alpha_in_a ? pr.epi.alpha : 1.f;
  for (long ic = m0; ic < m1; ic += k.MC) {
    const long mc = std::min(k.MC, m1 - ic);
    for (long b = 0; b < bl.nblk; b++) {
      const long pc = b * bl.KC, kc = std::min(bl.KC, pr.K - pc), kwp = lp_words(k, kc);
      lp_pack(k, true, pr.A, ic, mc, pc, kc, k.pa, alpha_a, ap);
      const uint32_t* bblk = bp_all + b * npad * bl.kwp_full;
      for (long jr = 0; jr < pr.N; jr += k.NR) {
        const int nr = static_cast<int>(std::min<long>(k.NR, pr.N - jr));
        const uint32_t* bpanel = bblk + (jr / k.NR) * kwp * k.NR;
        for (long ir = 0; ir < mc; ir += k.MR) {
          const int mr = static_cast<int>(std::min<long>(k.MR, mc - ir));
          const Epi e = tile_epi(pr, b == 0, ic + ir, jr);
          k.run(kwp, ap + (ir / k.MR) * kwp * k.MR, bpanel, pr.C + (ic + ir) * pr.ldc + jr, pr.ldc, mr, nr, e);
        }
      }
    }
  }
}

// Columns [n0, n1) of C, A fully packed in `ap_all`.
void run_cols(const LpKernel& k, const LpProblem& pr, long n0, long n1, const uint32_t* ap_all, int tid) {
  const Blocks bl = blocks_of(k, pr.K);
  const long mpad = (pr.M + k.MR - 1) / k.MR * k.MR;
  uint32_t* bp = reinterpret_cast<uint32_t*>(scratch(tid, 1, static_cast<size_t>(
      (k.NC + k.NR - 1) / k.NR * k.NR * bl.kwp_full)));
  for (long jc = n0; jc < n1; jc += k.NC) {
    const long nc = std::min(k.NC, n1 - jc);
    for (long b = 0; b < bl.nblk; b++) {
      const long pc = b * bl.KC, kc = std::min(bl.KC, pr.K - pc), kwp = lp_words(k, kc);
      lp_pack(k, false, pr.B, jc, nc, pc, kc, k.pb, 1.f, bp);
      const uint32_t* ablk = ap_all + b * mpad * bl.kwp_full;
      for (long ic = 0; ic < pr.M; ic += k.MC) {
        const long mc = std::min(k.MC, pr.M - ic);
        for (long jr = 0; jr < nc; jr += k.NR) {
          const int nr = static_cast<int>(std::min<long>(k.NR, nc - jr));
          const uint32_t* bpanel = bp + (jr / k.NR) * kwp * k.NR;
          for (long ir = 0; ir < mc; ir += k.MR) {
            const int mr = static_cast<int>(std::min<long>(k.MR, mc - ir));
            const Epi e = tile_epi(pr, b == 0, ic + ir, jc + jr);
            k.run(kwp, ablk + ((ic + ir) / k.MR) * kwp * k.MR, bpanel, pr.C + (ic + ir) * pr.ldc + jc + jr, pr.ldc,
                  mr, nr, e);
          }
        }
      }
    }
  }
}

// Packs a whole operand (all rows, all K blocks) into dst, in parallel over groups of panels.
void pack_all(const LpKernel& k, bool is_a, const Operand& op, long rows, long K, Pk pk, float alpha, uint32_t* dst) {
  const Blocks bl = blocks_of(k, K);
  const int R = is_a ? k.MR : k.NR;
  const long rpad = (rows + R - 1) / R * R;
  const long group = 8L * R;  // rows per task
  const long ngroups = (rows + group - 1) / group;
  parallel_tasks(ngroups * bl.nblk, [&](long task, int) {
    const long b = task / ngroups, g = task % ngroups;
    const long pc = b * bl.KC, kc = std::min(bl.KC, K - pc), kwp = lp_words(k, kc);
    const long r0 = g * group, nrows = std::min(group, rows - r0);
    lp_pack(k, is_a, op, r0, nrows, pc, kc, pk, alpha, dst + b * rpad * bl.kwp_full + (r0 / R) * kwp * R);
  });
}

void scale_rows(float* C, long ldc, long M, long N, float beta) {
  for (long i = 0; i < M; i++)
    for (long j = 0; j < N; j++) C[i * ldc + j] = beta == 0.f ? 0.f : beta * C[i * ldc + j];
}

void lp_gemm(const LpKernel& k, const LpProblem& pr) {
  if (pr.M <= 0 || pr.N <= 0) return;
  const Blocks bl = blocks_of(k, pr.K);
  const int nt = threads();
  const bool by_rows = pr.M >= pr.N;
  // The shared operand: packed once into the caller's slot 4.
  const long srows = by_rows ? pr.N : pr.M;
  const int SR = by_rows ? k.NR : k.MR;
  const size_t swords = static_cast<size_t>((srows + SR - 1) / SR * SR * bl.kwp_full * bl.nblk);
  uint32_t* shared = reinterpret_cast<uint32_t*>(scratch(current_tid(), 4, swords));
  if (by_rows) pack_all(k, false, pr.B, pr.N, pr.K, k.pb, 1.f, shared);
  else pack_all(k, true, pr.A, pr.M, pr.K, k.pa, k.alpha_in_a ? pr.epi.alpha : 1.f, shared);
  const double flops = 2.0 * pr.M * pr.N * pr.K;
  const long extent = by_rows ? pr.M : pr.N;
  const long unit = by_rows ? k.MR : k.NR;
  const long units = (extent + unit - 1) / unit;
  const long chunks = (nt == 1 || flops < 2e6) ? 1 : std::min<long>(units, 3L * nt);
  auto work = [&](long ch, int tid) {
    long lo, hi;
    split_range(units, static_cast<int>(ch), static_cast<int>(chunks), lo, hi);
    lo *= unit;
    hi = std::min(hi * unit, extent);
    if (lo >= hi) return;
    if (by_rows) run_rows(k, pr, lo, hi, shared, tid);
    else run_cols(k, pr, lo, hi, shared, tid);
  };
  if (chunks == 1) work(0, current_tid());
  else parallel_tasks(chunks, work);
}

}  // namespace

void gemm_bf16(long M, long N, long K, Operand A, Operand B, float* C, long ldc, float alpha, float beta) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.f) { scale_rows(C, ldc, M, N, beta); return; }
  LpProblem pr{M, N, K, A, B, C, ldc, Epi{}};
  pr.epi.alpha = alpha;
  pr.epi.beta = beta;
  pr.epi.beta_zero = beta == 0.f;
  lp_gemm(bf16_kernel(), pr);
}

void linear_forward_bf16(float* y, const float* x, const void* w, Src wsrc, const float* bias, long M, long K, long N) {
  if (bias)
    for (long i = 0; i < M; i++) std::copy(bias, bias + N, y + i * N);
  gemm_bf16(M, N, K, Operand{x, K, false, Src::F32}, Operand{w, K, false, wsrc}, y, N, 1.f, bias ? 1.f : 0.f);
}

void linear_backward_bf16(float* dx, float* dw, float* db, const float* dy, const float* x, const void* w, Src wsrc,
                          long M, long K, long N) {
  // dx (M, K) += dy (M, N) · W (N, K): B rows are columns k of W, contiguous along N only by stride → k-major.
  if (dx) gemm_bf16(M, K, N, Operand{dy, N, false, Src::F32}, Operand{w, K, true, wsrc}, dx, K, 1.f, 1.f);
  // dw (N, K) += dyᵀ (N, M) · x (M, K).
  if (dw) gemm_bf16(N, K, M, Operand{dy, N, true, Src::F32}, Operand{x, K, true, Src::F32}, dw, K, 1.f, 1.f);
  if (db) column_sum(db, dy, M, N);
}

void linear_forward_int8(float* y, const float* x, const int8_t* q, const float* wscale, const float* bias, long M,
                         long K, long N) {
  if (M <= 0 || N <= 0) return;
  if (K == 0) {
    for (long i = 0; i < M; i++)
      for (long j = 0; j < N; j++) y[i * N + j] = bias ? bias[j] : 0.f;
    return;
  }
  const LpKernel& k = i8_kernel();
  // Caller's slot 5: sx (M floats), rs (M ints), then the quantised rows (M·K bytes).
  float* s5 = scratch(current_tid(), 5, static_cast<size_t>(2 * M + (M * K + 3) / 4));
  float* sx = s5;
  int32_t* rs = reinterpret_cast<int32_t*>(s5 + M);
  int8_t* xq = reinterpret_cast<int8_t*>(s5 + 2 * M);
  parallel_tasks((M + 15) / 16, [&](long t, int) {
    for (long i = t * 16; i < std::min(M, t * 16 + 16); i++) sx[i] = quantize_row(xq + i * K, rs + i, x + i * K, K);
  });
  LpProblem pr{M, N, K, Operand{xq, K, false, Src::I8}, Operand{q, K, false, Src::I8}, y, N, Epi{}};
  pr.epi.i8 = true;
  pr.epi.off = k.pb == Pk::U8 ? 128 : 0;
  pr.epi.sx = sx;
  pr.epi.rs = rs;
  pr.epi.sw = wscale;
  pr.epi.bias = bias;
  lp_gemm(k, pr);
}

void embedding_forward_bf16(float* out, const uint16_t* table, const int32_t* ids, long M, long C) {
  parallel_tasks((M + 7) / 8, [&](long t, int) {
    for (long i = t * 8; i < std::min(M, t * 8 + 8); i++) from_bf16(out + i * C, table + static_cast<long>(ids[i]) * C, C);
  });
}

// ------------------------------------------------------------------ the sparse head in low precision
void real_range(const uint8_t* mask, long b, long T, long& t0, long& t1);  // heads.cc

namespace {

constexpr long VT = 256;  // vocabulary rows per tile

LION_CLONES float dot_f32_any(const float* a, const float* b, long n) {
  float s = 0.f;
#pragma omp simd reduction(+ : s)
  for (long i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}
LION_CLONES float dot_bf16_any(const float* a, const uint16_t* b, long n) {
  float s = 0.f;
#pragma omp simd reduction(+ : s)
  for (long i = 0; i < n; i++) {
    s += a[i] * __builtin_bit_cast(float, static_cast<uint32_t>(b[i]) << 16);
  }
  return s;
}
float dot_f32(const float* a, const float* b, long n) {
  return cpu_level() >= Cpu::Avx512 ? dot_f32_avx512(a, b, n) : dot_f32_any(a, b, n);
}
float dot_bf16(const float* a, const uint16_t* b, long n) {
  return cpu_level() >= Cpu::Avx512 ? dot_bf16_avx512(a, b, n) : dot_bf16_any(a, b, n);
}

LION_CLONES float norm_f32(const float* a, long n) {
  float s = 0.f;
#pragma omp simd reduction(+ : s)
  for (long i = 0; i < n; i++) s += a[i] * a[i];
  return std::sqrt(s);
}
LION_CLONES float norm_bf16(const uint16_t* a, long n) {
  float s = 0.f;
#pragma omp simd reduction(+ : s)
  for (long i = 0; i < n; i++) {
    const float v = __builtin_bit_cast(float, static_cast<uint32_t>(a[i]) << 16);
    s += v * v;
  }
  return std::sqrt(s);
}

LION_CLONES void axpy_bf16(float* y, const uint16_t* x, float a, long n) {
#pragma omp simd
  for (long i = 0; i < n; i++) {
    y[i] += a * __builtin_bit_cast(float, static_cast<uint32_t>(x[i]) << 16);
  }
}

// Running max/argmax over the real rows of a (rows, vt) block L (row stride vt).
LION_CLONES void block_max(float* best, int32_t* at, const float* L, const uint8_t* mrow, long rows, long vt) {
  for (long j = 0; j < vt; j++) { best[j] = -INFINITY; at[j] = -1; }
  for (long t = 0; t < rows; t++) {
    if (mrow && !mrow[t]) continue;
    const float* row = L + t * vt;
    for (long j = 0; j < vt; j++) {
      const bool take = row[j] > best[j] || at[j] < 0;
      best[j] = take ? row[j] : best[j];
      at[j] = take ? static_cast<int32_t>(t) : at[j];
    }
  }
}

}  // namespace

void sparse_head_forward_lowp(float* rep, int32_t* argmax, const float* h, bool int8, const void* w, Src wsrc,
                              const float* qscale, const void* wexact, Src esrc, const uint8_t* mask, long B, long T,
                              long C, long V, float scale) {
  (void)qscale;  // positive per-row weight scales do not move a maximum over tokens
  const LpKernel& k = int8 ? i8_kernel() : bf16_kernel();
  const long kwp = lp_words(k, C);
  // Caller's slot 5: panel offsets (B + 1 longs), then for int8 sx, rs (B·T each) and quantised h (B·T·C bytes).
  const long BT = B * T;
  // For bf16: the norms of the h rows (B·T), for the skip test below.
  float* s5 = scratch(current_tid(), 5, static_cast<size_t>(2 * (B + 1) + (int8 ? 2 * BT + (BT * C + 3) / 4 : BT)));
  long* offs = reinterpret_cast<long*>(s5);
  float* sx = s5 + 2 * (B + 1);
  int32_t* rs = reinterpret_cast<int32_t*>(sx + BT);
  int8_t* hq = reinterpret_cast<int8_t*>(sx + 2 * BT);
  float* hn = sx;
  offs[0] = 0;
  for (long b = 0; b < B; b++) {
    long t0, t1;
    real_range(mask, b, T, t0, t1);
    offs[b + 1] = offs[b] + (t1 - t0 + k.MR - 1) / k.MR * k.MR * kwp;
  }
  uint32_t* hp = reinterpret_cast<uint32_t*>(scratch(current_tid(), 4, static_cast<size_t>(std::max(offs[B], 1L))));
  parallel_tasks(B, [&](long b, int) {
    long t0, t1;
    real_range(mask, b, T, t0, t1);
    if (t1 <= t0) return;
    if (int8) {
      for (long t = t0; t < t1; t++) {
        const long r = b * T + t;
        sx[r] = quantize_row(hq + r * C, rs + r, h + r * C, C);
      }
      lp_pack(k, true, Operand{hq + (b * T + t0) * C, C, false, Src::I8}, 0, t1 - t0, 0, C, k.pa, 1.f, hp + offs[b]);
    } else {
      for (long t = t0; t < t1; t++) hn[b * T + t] = norm_f32(h + (b * T + t) * C, C);
      lp_pack(k, true, Operand{h + (b * T + t0) * C, C, false, Src::F32}, 0, t1 - t0, 0, C, k.pa, 1.f, hp + offs[b]);
    }
  });
  const int32_t off = int8 && k.pb == Pk::U8 ? 128 : 0;
  parallel_tasks((V + VT - 1) / VT, [&](long tile, int tid) {
    float* L = scratch(tid, 2, static_cast<size_t>(T * VT));
    uint32_t* wp = reinterpret_cast<uint32_t*>(scratch(tid, 3, static_cast<size_t>((VT + k.NR) * kwp)));
    const long v0 = tile * VT, vt = std::min(VT, V - v0);
    const size_t esz = wsrc == Src::F32 ? 4 : wsrc == Src::BF16 ? 2 : 1;
    lp_pack(k, false, Operand{static_cast<const char*>(w) + v0 * C * esz, C, false, wsrc}, 0, vt, 0, C, k.pb, 1.f, wp);
    float best[VT];
    int32_t at[VT];
    // bf16: a maximum score below −2⁻⁶·‖h_t‖·‖W_v‖ proves the exact logit negative (rounding both operands to
    // bf16 moves each product by at most (2·2⁻⁸ + 2⁻¹⁶)·|h_j·W_vj|, fp32 accumulation by far less, and
    // Σ|h_j·W_vj| ≤ ‖h_t‖·‖W_v‖), so its rep is exactly 0 and the recompute is skipped.
    float wn[VT];
    if (!int8)
      for (long j = 0; j < vt; j++)
        wn[j] = wsrc == Src::BF16 ? norm_bf16(static_cast<const uint16_t*>(w) + (v0 + j) * C, C)
                                  : norm_f32(static_cast<const float*>(w) + (v0 + j) * C, C);
    for (long b = 0; b < B; b++) {
      long t0, t1;
      real_range(mask, b, T, t0, t1);
      float* rb = rep + b * V + v0;
      int32_t* ab = argmax + b * V + v0;
      if (t1 <= t0) {
        for (long j = 0; j < vt; j++) { rb[j] = 0.f; ab[j] = -1; }
        continue;
      }
      for (long jr = 0; jr < vt; jr += k.NR) {
        const int nr = static_cast<int>(std::min<long>(k.NR, vt - jr));
        for (long ir = 0; ir < t1 - t0; ir += k.MR) {
          const int mr = static_cast<int>(std::min<long>(k.MR, t1 - t0 - ir));
          Epi e;
          if (int8) {
            e.i8 = true;
            e.off = off;
            e.sx = sx + b * T + t0 + ir;
            e.rs = rs + b * T + t0 + ir;
          }
          k.run(kwp, hp + offs[b] + (ir / k.MR) * kwp * k.MR, wp + (jr / k.NR) * kwp * k.NR, L + ir * vt + jr, vt, mr,
                nr, e);
        }
      }
      block_max(best, at, L, mask ? mask + b * T + t0 : nullptr, t1 - t0, vt);
      for (long j = 0; j < vt; j++) {
        if (at[j] < 0) { rb[j] = 0.f; ab[j] = -1; continue; }
        const long t = t0 + at[j], v = v0 + j;
        ab[j] = static_cast<int32_t>(t);
        if (!int8 && best[j] < -0.015625f * hn[b * T + t] * wn[j] - 1e-30f) { rb[j] = 0.f; continue; }
        const float* hr = h + (b * T + t) * C;
        const float d = esrc == Src::BF16 ? dot_bf16(hr, static_cast<const uint16_t*>(wexact) + v * C, C)
                                          : dot_f32(hr, static_cast<const float*>(wexact) + v * C, C);
        const float z = scale * d;
        rb[j] = vlog1p(z > 0.f ? z : 0.f);
      }
    }
  });
}

void sparse_head_backward_bf16(float* dh, const float* drep, const float* rep, const int32_t* argmax,
                               const uint16_t* w, long B, long T, long C, long V, float scale) {
  // dh rows are split by sequence (one writer per row); the W rows a sequence needs are read in vocabulary
  // order, so a chunk of W stays in cache for every sequence of the thread's range.
  const long VB = std::max<long>(16, (2048L * 1024) / (2 * std::max<long>(C, 1)));
  parallel([&](int tid, int nt) {
    long lo, hi;
    split_range(B, tid, nt, lo, hi);
    for (long v0 = 0; v0 < V; v0 += VB)
      for (long b = lo; b < hi; b++)
        for (long v = v0; v < std::min(V, v0 + VB); v++) {
          const float r = rep[b * V + v];
          const int32_t t = argmax[b * V + v];
          if (!(r > 0.f) || t < 0) continue;
          axpy_bf16(dh + (b * T + t) * C, w + v * C, drep[b * V + v] * scale * vexp(-r), C);
        }
  });
}

}  // namespace lion
