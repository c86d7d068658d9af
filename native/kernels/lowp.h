// Reduced-precision kernels (bf16 and int8): path selection, the packed-panel GEMM driver they share, and
// the entry points addon.cc binds. Formulas and layouts are those of src/kernels/types.ts.
//
// Every path packs op(A) and op(B) into panels of 32-bit words: one word holds G consecutive k values of one
// row (G = 1: an fp32 value already rounded to bf16; 2: a bf16 pair or an int16 pair; 4: an int8 quad). The
// microkernels multiply an A panel (MR rows) by a B panel (NR columns) word by word, so vdpbf16ps / vpdpbusd /
// vpmaddwd / AMX tiles all consume the same layout family. Packing pads with zeros, and tiles always compute
// full MR x NR blocks; only the stored corner varies.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lion {

enum class Bf16Path { Portable, Avx2, Avx512, Avx512Bf16, Amx };
enum class I8Path { Portable, Avx2, AvxVnni, Avx512Vnni, Amx };

struct IsaChoice {
  Bf16Path bf16;
  I8Path i8;
  std::string error;                 // non-empty: LION_ISA asked for something this CPU cannot run
  std::vector<std::string> available;  // LION_ISA values this CPU can run
};
const IsaChoice& isa_choice();     // resolved once per process (CPU flags, LION_ISA, LION_CPU)
const char* bf16_path_name(Bf16Path p);
const char* i8_path_name(I8Path p);

// Source element types and packed word formats.
enum class Src : uint8_t { F32, BF16, I8 };
enum class Pk : uint8_t {
  F32,   // G = 1: fp32 value of the bf16-rounded element (times alpha)
  BF16,  // G = 2: bf16 bits of k (low half) and k+1 (high half)
  I8,    // G = 4: four int8 values
  U8,    // G = 4: four int8 values + 128 (vpdpbusd's unsigned operand)
  I16,   // G = 2: two int8 values widened to int16
};

// A matrix operand seen as "rows" r (output rows i for A, output columns j for B) by reduction index k:
// element (r, k) = kmajor ? p[k·ld + r] : p[r·ld + k].
struct Operand {
  const void* p;
  long ld;
  bool kmajor;
  Src src;
};

// Tile epilogue. Float paths: C = alpha·acc + beta·C (beta_zero: C = alpha·acc). Int8 paths (i8 = true):
// C = (acc − off·rs[i])·sx[i]·sw[j] + bias[j] with sw/bias/rs optional (null: 1, 0, 0). Row and column
// pointers point at the tile's first row and column.
struct Epi {
  float alpha = 1.f, beta = 0.f;
  bool beta_zero = true;
  bool i8 = false;
  int32_t off = 0;
  const float* sx = nullptr;
  const int32_t* rs = nullptr;
  const float* sw = nullptr;
  const float* bias = nullptr;
};

// kw: packed words per row of the K block (a multiple of the kernel's kw_align).
using LpMicro = void (*)(long kw, const uint32_t* a, const uint32_t* b, float* c, long ldc, int mr, int nr,
                         const Epi& e);
// Packs rows [r0, r0 + rows) x k [p0, p0 + kc) of an operand into ceil(rows/R) panels (zero padded).
using LpPack = void (*)(const Operand& op, long r0, long rows, int R, long p0, long kc, Pk pk, float alpha,
                        uint32_t* dst);

struct LpKernel {
  int MR, NR, G;
  Pk pa, pb;            // word formats of the A and B panels
  long KC, MC, NC;      // blocking (KC in k, a multiple of G·kw_align; 0 = never split K)
  int kw_align;         // packed words per row are padded to a multiple of this
  bool a_rowmajor;      // A panels row-major (AMX tiles): word (r, p) at r·kwp + p, else p·MR + r
  bool alpha_in_a;      // the float path folds alpha into packed A (its microkernel ignores e.alpha)
  LpMicro run;
  LpPack pack_kfast;    // packer for operands contiguous along k (the common case); others use pack_generic
};

long lp_words(const LpKernel& k, long kc);  // packed words per row for a K block of kc
void lp_pack(const LpKernel& k, bool is_a, const Operand& op, long r0, long rows, long p0, long kc, Pk pk,
             float alpha, uint32_t* dst);
void pack_generic(const Operand& op, long r0, long rows, int R, long p0, long kc, Pk pk, float alpha,
                  uint32_t* dst, long kwp, bool rowmajor);

const LpKernel& bf16_kernel();
const LpKernel& i8_kernel();

// Path kernels (defined per ISA file).
LpKernel lp_bf16_avx512bf16();
LpKernel lp_i8_avx512vnni();
LpKernel lp_i8_avxvnni();
LpKernel lp_i8_avx2();
LpKernel lp_bf16_amx();
LpKernel lp_i8_amx();
bool amx_request_permission();  // Linux arch_prctl(ARCH_REQ_XCOMP_PERM, XTILEDATA)
void pack_kfast_avx512(const Operand& op, long r0, long rows, int R, long p0, long kc, Pk pk, float alpha,
                       uint32_t* dst);

void pack_kfast_avx2(const Operand& op, long r0, long rows, int R, long p0, long kc, Pk pk, float alpha,
                     uint32_t* dst);
void pack_kmajor_bf16_avx512(const Operand& op, long r0, long rows, int R, long p0, long kc, Pk pk, float alpha,
                             uint32_t* dst);
// One row quantised as quantize_int8 does (s = max|x|/127, q = clamp(rint(x/s))); rs = Σ q; returns s (0 for
// a zero row, NaN with q = 0 for a row with a non-finite value).
float quantize_row_avx512(int8_t* q, int32_t* rs, const float* x, long K);
float dot_bf16_avx512(const float* a, const uint16_t* b, long n);
float dot_f32_avx512(const float* a, const float* b, long n);

// Shared int8 epilogue (scalar) of an int32 tile acc[MRxNR] (row stride NR).
void i8_epilogue(const int32_t* acc, int NR, float* c, long ldc, int mr, int nr, const Epi& e);

// ------------------------------------------------------------------ kernels (addon entry points)
void to_bf16(uint16_t* dst, const float* src, long n);
void from_bf16(float* dst, const uint16_t* src, long n);
long quantize_int8(int8_t* q, float* scale, const void* w, Src src, long N, long K);  // −1 or the bad row
void gemm_bf16(long M, long N, long K, Operand A, Operand B, float* C, long ldc, float alpha, float beta);
void linear_forward_bf16(float* y, const float* x, const void* w, Src wsrc, const float* bias, long M, long K, long N);
void linear_backward_bf16(float* dx, float* dw, float* db, const float* dy, const float* x, const void* w, Src wsrc,
                          long M, long K, long N);
void linear_forward_int8(float* y, const float* x, const int8_t* q, const float* wscale, const float* bias, long M,
                         long K, long N);
void embedding_forward_bf16(float* out, const uint16_t* table, const int32_t* ids, long M, long C);
void sparse_head_forward_lowp(float* rep, int32_t* argmax, const float* h, bool int8, const void* w, Src wsrc,
                              const float* qscale, const void* wexact, Src esrc, const uint8_t* mask, long B, long T,
                              long C, long V, float scale);
void sparse_head_backward_bf16(float* dh, const float* drep, const float* rep, const int32_t* argmax,
                               const uint16_t* w, long B, long T, long C, long V, float scale);

}  // namespace lion
