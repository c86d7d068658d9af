// lion_search addon entry point: registers the exported functions.
#include <napi.h>

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  return exports;
}

NODE_API_MODULE(lion_search, Init)
