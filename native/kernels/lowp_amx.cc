// AMX microkernels (Sapphire Rapids and later): a 32 x 32 tile of C as four 16 x 16 accumulator tiles,
// A as two 16-row tiles of 16 words (32 bf16 or 64 int8 along k) read from row-major A panels, B as two
// 16-column tiles read from the k-major B panels (16 words x 16 columns, row stride 128 bytes).
// bf16: tdpbf16ps (fp32 accumulators); int8: tdpbssd (signed x signed, int32 accumulators, no offset).
// Linux grants the tile-data state only on request (arch_prctl ARCH_REQ_XCOMP_PERM, XTILEDATA); lowp.cc asks
// when LION_ISA selects AMX. Every thread loads the tile configuration once before its first tile.
// These paths are opt-in (LION_ISA=amx): see docs/kernels.md for where they have been run.
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "lowp.h"

namespace lion {
namespace {

constexpr int MR = 32, NR = 32;

struct alignas(64) TileConfig {
  uint8_t palette;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

thread_local bool tl_configured = false;

__attribute__((target("amx-tile"))) void configure() {
  if (tl_configured) return;
  TileConfig cfg;
  std::memset(&cfg, 0, sizeof cfg);
  cfg.palette = 1;
  for (int t = 0; t < 8; t++) {
    cfg.rows[t] = 16;
    cfg.colsb[t] = 64;
  }
  _tile_loadconfig(&cfg);
  tl_configured = true;
}

// Tiles: 0..3 C (row half r, column half c → 2r + c), 4, 5 A (rows 0–15, 16–31), 6, 7 B (columns 0–15, 16–31).
__attribute__((target("amx-tile,amx-bf16"), noinline)) void amx_bf16_block(long kw, const uint32_t* a,
    const uint32_t* b, float* acc) {
  configure();
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  const long sa = kw * 4;  // A panel row stride (bytes)
  for (long p = 0; p < kw; p += 16) {
    _tile_loadd(4, a + p, sa);
    _tile_loadd(5, a + 16 * kw + p, sa);
    _tile_loadd(6, b + p * NR, NR * 4);
    _tile_loadd(7, b + p * NR + 16, NR * 4);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  _tile_stored(0, acc, NR * 4);
  _tile_stored(1, acc + 16, NR * 4);
  _tile_stored(2, acc + 16 * NR, NR * 4);
  _tile_stored(3, acc + 16 * NR + 16, NR * 4);
}

__attribute__((target("amx-tile,amx-int8"), noinline)) void amx_i8_block(long kw, const uint32_t* a,
    const uint32_t* b, int32_t* acc) {
  configure();
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  const long sa = kw * 4;
  for (long p = 0; p < kw; p += 16) {
    _tile_loadd(4, a + p, sa);
    _tile_loadd(5, a + 16 * kw + p, sa);
    _tile_loadd(6, b + p * NR, NR * 4);
    _tile_loadd(7, b + p * NR + 16, NR * 4);
    _tile_dpbssd(0, 4, 6);
    _tile_dpbssd(1, 4, 7);
    _tile_dpbssd(2, 5, 6);
    _tile_dpbssd(3, 5, 7);
  }
  _tile_stored(0, acc, NR * 4);
  _tile_stored(1, acc + 16, NR * 4);
  _tile_stored(2, acc + 16 * NR, NR * 4);
  _tile_stored(3, acc + 16 * NR + 16, NR * 4);
}

void micro_amx_bf16(long kw, const uint32_t* a, const uint32_t* b, float* c, long ldc, int mr, int nr, const Epi& e) {
  alignas(64) float acc[MR * NR];
  amx_bf16_block(kw, a, b, acc);
  for (int i = 0; i < mr; i++)
    for (int j = 0; j < nr; j++) {
      float* ci = c + i * ldc + j;
      *ci = e.beta_zero ? e.alpha * acc[i * NR + j] : e.alpha * acc[i * NR + j] + e.beta * *ci;
    }
}

void micro_amx_i8(long kw, const uint32_t* a, const uint32_t* b, float* c, long ldc, int mr, int nr, const Epi& e) {
  alignas(64) int32_t acc[MR * NR];
  amx_i8_block(kw, a, b, acc);
  i8_epilogue(acc, NR, c, ldc, mr, nr, e);
}

}  // namespace

bool amx_request_permission() {
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

// K words padded to whole tiles (16 words); KC 4096 bf16 (2048 words: a 32-row A panel of 256 KB) keeps one A
// panel and one B panel in L2. Int8 never splits K.
LpKernel lp_bf16_amx() {
  return LpKernel{MR, NR, 2, Pk::BF16, Pk::BF16, 4096, 32 * 4, 32 * 32, 16, true, false, micro_amx_bf16, nullptr};
}
LpKernel lp_i8_amx() {
  return LpKernel{MR, NR, 4, Pk::I8, Pk::I8, 0, 32 * 4, 32 * 16, 16, true, false, micro_amx_i8, nullptr};
}

}  // namespace lion
