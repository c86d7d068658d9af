# lion_search: GCC 12's AVX-512 headers trip -W(maybe-)uninitialized inside _mm512_maskz_loadu_ps once inlined
# (GCC bug 105593, a false positive in the compiler's own header); silenced so `npm install` prints no warning.
{
  "targets": [
    {
      "target_name": "lion_kernels",
      "sources": ["native/kernels/addon.cc", "native/kernels/pool.cc", "native/kernels/gemm.cc",
                  "native/kernels/gemm_avx512.cc", "native/kernels/gemm_avx2.cc", "native/kernels/ops.cc",
                  "native/kernels/attention.cc", "native/kernels/heads.cc",
                  "native/kernels/lowp.cc", "native/kernels/lowp_avx512.cc", "native/kernels/lowp_avx2.cc",
                  "native/kernels/lowp_amx.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-math-errno", "-fopenmp-simd", "-fPIC", "-pthread"],
      "ldflags": ["-pthread"],
      "cflags_cc!": ["-fno-exceptions"]
    },
    {
      "target_name": "lion_search",
      "sources": ["native/search/addon.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-math-errno", "-ffp-contract=off", "-fPIC", "-pthread",
                    "-Wno-maybe-uninitialized", "-Wno-uninitialized"],
      "ldflags": ["-pthread"],
      "cflags_cc!": ["-fno-exceptions"]
    }
  ]
}
