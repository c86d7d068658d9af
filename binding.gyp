{
  "targets": [
    {
      "target_name": "lion_kernels",
      "sources": ["native/kernels/addon.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-math-errno", "-fPIC"],
      "cflags_cc!": ["-fno-exceptions"]
    },
    {
      "target_name": "lion_search",
      "sources": ["native/search/addon.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-math-errno", "-fPIC"],
      "cflags_cc!": ["-fno-exceptions"]
    }
  ]
}
