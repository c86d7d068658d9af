// lion_kernels addon entry point: binds every kernel of src/kernels/types.ts to JavaScript. Arguments come
// in the interface's order (outputs first, sizes last); each binding reads the sizes, then checks that every
// typed array is of the right type and long enough before any kernel touches memory, and throws a
// RangeError/TypeError naming the kernel and argument otherwise. Kernels run synchronously on the calling
// thread plus the pool (common.h).
#include <napi.h>

#include <string>

#include "common.h"
#include "lowp.h"
#include "ops.h"

namespace {

using lion::Gemm;

// Argument reader: the first failure throws into JavaScript and makes every later read a no-op.
struct Args {
  const Napi::CallbackInfo& info;
  const char* fn;
  bool ok = true;

  Args(const Napi::CallbackInfo& i, const char* name) : info(i), fn(name) {}

  void fail(const std::string& msg, bool type = false) {
    if (!ok) return;
    ok = false;
    const std::string m = std::string(fn) + ": " + msg;
    if (type) Napi::TypeError::New(info.Env(), m).ThrowAsJavaScriptException();
    else Napi::RangeError::New(info.Env(), m).ThrowAsJavaScriptException();
  }
  long dim(size_t i) {
    if (!ok) return 0;
    if (i >= info.Length() || !info[i].IsNumber()) { fail("argument " + std::to_string(i) + " must be a size", true); return 0; }
    const double d = info[i].As<Napi::Number>().DoubleValue();
    if (!(d >= 0) || d != static_cast<double>(static_cast<long>(d))) { fail("argument " + std::to_string(i) + " must be a non-negative integer"); return 0; }
    return static_cast<long>(d);
  }
  double num(size_t i) {
    if (!ok) return 0;
    if (i >= info.Length() || !info[i].IsNumber()) { fail("argument " + std::to_string(i) + " must be a number", true); return 0; }
    return info[i].As<Napi::Number>().DoubleValue();
  }
  bool flag(size_t i) {
    if (!ok) return false;
    if (i >= info.Length() || !info[i].IsBoolean()) { fail("argument " + std::to_string(i) + " must be a boolean", true); return false; }
    return info[i].As<Napi::Boolean>().Value();
  }
  template <class T>
  T* arr(size_t i, napi_typedarray_type type, const char* tname, double need, bool nullable) {
    if (!ok) return nullptr;
    if (nullable && (i >= info.Length() || info[i].IsNull() || info[i].IsUndefined())) return nullptr;
    if (i >= info.Length() || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != type) {
      fail("argument " + std::to_string(i) + " must be a " + tname, true);
      return nullptr;
    }
    Napi::TypedArrayOf<T> a = info[i].As<Napi::TypedArrayOf<T>>();
    if (static_cast<double>(a.ElementLength()) < need) {
      fail("argument " + std::to_string(i) + " has " + std::to_string(a.ElementLength()) + " elements, needs " +
           std::to_string(static_cast<long>(need)));
      return nullptr;
    }
    return a.Data();
  }
  float* f32(size_t i, double need, bool nullable = false) {
    return arr<float>(i, napi_float32_array, "Float32Array", need, nullable);
  }
  int32_t* i32(size_t i, double need) { return arr<int32_t>(i, napi_int32_array, "Int32Array", need, false); }
  uint8_t* u8(size_t i, double need, bool nullable) { return arr<uint8_t>(i, napi_uint8_array, "Uint8Array", need, nullable); }
  uint16_t* u16(size_t i, double need) { return arr<uint16_t>(i, napi_uint16_array, "Uint16Array (bf16 bits)", need, false); }
  int8_t* i8(size_t i, double need) { return arr<int8_t>(i, napi_int8_array, "Int8Array", need, false); }
  uint32_t* u32(size_t i, double need) { return arr<uint32_t>(i, napi_uint32_array, "Uint32Array", need, false); }
  // A Float32Array or a Uint16Array of bf16 bits; src says which.
  const void* f32_or_bf16(size_t i, double need, lion::Src& src, bool nullable = false) {
    src = lion::Src::F32;
    if (!ok) return nullptr;
    if (nullable && (i >= info.Length() || info[i].IsNull() || info[i].IsUndefined())) return nullptr;
    if (i < info.Length() && info[i].IsTypedArray() && info[i].As<Napi::TypedArray>().TypedArrayType() == napi_uint16_array) {
      src = lion::Src::BF16;
      return u16(i, need);
    }
    if (i >= info.Length() || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      fail("argument " + std::to_string(i) + " must be a Float32Array or a Uint16Array (bf16 bits)", true);
      return nullptr;
    }
    return f32(i, need);
  }
};

#define ARGS(name) Args a(info, name); Napi::Env env = info.Env()
#define DONE return env.Undefined()
#define CHECK if (!a.ok) return env.Undefined()

Napi::Value Threads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), lion::threads()); }
Napi::Value CpuLevel(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), lion::cpu_name(lion::cpu_level()));
}

// gemm(c, a, b, M, N, K, transA, transB, alpha, beta, lda, ldb, ldc)   (0 stride = dense)
Napi::Value GemmFn(const Napi::CallbackInfo& info) {
  ARGS("gemm");
  const long M = a.dim(3), N = a.dim(4), K = a.dim(5);
  const bool ta = a.flag(6), tb = a.flag(7);
  const float alpha = static_cast<float>(a.num(8)), beta = static_cast<float>(a.num(9));
  long lda = a.dim(10), ldb = a.dim(11), ldc = a.dim(12);
  if (!lda) lda = ta ? M : K;
  if (!ldb) ldb = tb ? K : N;
  if (!ldc) ldc = N;
  if (a.ok && (lda < (ta ? M : K) || ldb < (tb ? K : N) || ldc < N)) a.fail("a stride is smaller than its row");
  // Elements reached: (rows − 1)·stride + row length.
  auto span = [](long rows, long ld, long len) { return rows == 0 || len == 0 ? 0.0 : double(rows - 1) * ld + len; };
  float* c = a.f32(0, span(M, ldc, N));
  const float* A = a.f32(1, ta ? span(K, lda, M) : span(M, lda, K));
  const float* B = a.f32(2, tb ? span(N, ldb, K) : span(K, ldb, N));
  CHECK;
  lion::gemm(Gemm{M, N, K, A, lda, ta, B, ldb, tb, c, ldc, alpha, beta});
  DONE;
}

// linearForward(y, x, w, bias, M, K, N)
Napi::Value LinearForward(const Napi::CallbackInfo& info) {
  ARGS("linearForward");
  const long M = a.dim(4), K = a.dim(5), N = a.dim(6);
  float* y = a.f32(0, double(M) * N);
  const float* x = a.f32(1, double(M) * K);
  const float* w = a.f32(2, double(N) * K);
  const float* bias = a.f32(3, N, true);
  CHECK;
  if (bias) {
    for (long i = 0; i < M; i++) std::copy(bias, bias + N, y + i * N);
    lion::gemm(Gemm{M, N, K, x, K, false, w, K, true, y, N, 1.f, 1.f});
  } else {
    lion::gemm(Gemm{M, N, K, x, K, false, w, K, true, y, N, 1.f, 0.f});
  }
  DONE;
}

// linearBackward(dx, dw, db, dy, x, w, M, K, N)
Napi::Value LinearBackward(const Napi::CallbackInfo& info) {
  ARGS("linearBackward");
  const long M = a.dim(6), K = a.dim(7), N = a.dim(8);
  float* dx = a.f32(0, double(M) * K, true);
  float* dw = a.f32(1, double(N) * K, true);
  float* db = a.f32(2, N, true);
  const float* dy = a.f32(3, double(M) * N);
  const float* x = a.f32(4, double(M) * K);
  const float* w = a.f32(5, double(N) * K);
  CHECK;
  if (dx) lion::gemm(Gemm{M, K, N, dy, N, false, w, K, false, dx, K, 1.f, 1.f});
  if (dw) lion::gemm(Gemm{N, K, M, dy, N, true, x, K, false, dw, K, 1.f, 1.f});
  if (db) lion::column_sum(db, dy, M, N);
  DONE;
}

Napi::Value RmsnormForward(const Napi::CallbackInfo& info) {
  ARGS("rmsnormForward");
  const long M = a.dim(4), C = a.dim(5);
  const float eps = static_cast<float>(a.num(6));
  float* y = a.f32(0, double(M) * C);
  float* rstd = a.f32(1, M);
  const float* x = a.f32(2, double(M) * C);
  const float* w = a.f32(3, C);
  CHECK;
  lion::rmsnorm_forward(y, rstd, x, w, M, C, eps);
  DONE;
}

Napi::Value RmsnormBackward(const Napi::CallbackInfo& info) {
  ARGS("rmsnormBackward");
  const long M = a.dim(6), C = a.dim(7);
  float* dx = a.f32(0, double(M) * C);
  float* dw = a.f32(1, C, true);
  const float* dy = a.f32(2, double(M) * C);
  const float* x = a.f32(3, double(M) * C);
  const float* w = a.f32(4, C);
  const float* rstd = a.f32(5, M);
  CHECK;
  lion::rmsnorm_backward(dx, dw, dy, x, w, rstd, M, C);
  DONE;
}

Napi::Value Rope(const Napi::CallbackInfo& info, bool backward) {
  ARGS(backward ? "ropeBackward" : "ropeForward");
  const long B = a.dim(3), T = a.dim(4), NH = a.dim(5), D = a.dim(6);
  if (a.ok && D % 2) a.fail("head dimension D must be even");
  float* x = a.f32(0, double(B) * T * NH * D);
  const float* cos = a.f32(1, double(T) * D);
  const float* sin = a.f32(2, double(T) * D);
  CHECK;
  lion::rope(x, cos, sin, B, T, NH, D, backward);
  DONE;
}
Napi::Value RopeForward(const Napi::CallbackInfo& info) { return Rope(info, false); }
Napi::Value RopeBackward(const Napi::CallbackInfo& info) { return Rope(info, true); }

// attentionForward(out, lse, q, k, v, mask, B, T, H, KVH, D, causal, scale)
Napi::Value AttentionForward(const Napi::CallbackInfo& info) {
  ARGS("attentionForward");
  const long B = a.dim(6), T = a.dim(7), H = a.dim(8), KVH = a.dim(9), D = a.dim(10);
  const bool causal = a.flag(11);
  const float sc = static_cast<float>(a.num(12));
  if (a.ok && (KVH == 0 || H % KVH)) a.fail("H must be a multiple of KVH");
  const double nq = double(B) * T * H * D, nk = double(B) * T * KVH * D;
  float* out = a.f32(0, nq);
  float* lse = a.f32(1, double(B) * H * T);
  const float* q = a.f32(2, nq);
  const float* k = a.f32(3, nk);
  const float* v = a.f32(4, nk);
  const uint8_t* mask = a.u8(5, double(B) * T, true);
  CHECK;
  lion::attention_forward(out, lse, q, k, v, mask, B, T, H, KVH, D, causal, sc);
  DONE;
}

// attentionBackward(dq, dk, dv, dout, out, lse, q, k, v, mask, B, T, H, KVH, D, causal, scale)
Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  ARGS("attentionBackward");
  const long B = a.dim(10), T = a.dim(11), H = a.dim(12), KVH = a.dim(13), D = a.dim(14);
  const bool causal = a.flag(15);
  const float sc = static_cast<float>(a.num(16));
  if (a.ok && (KVH == 0 || H % KVH)) a.fail("H must be a multiple of KVH");
  const double nq = double(B) * T * H * D, nk = double(B) * T * KVH * D;
  float* dq = a.f32(0, nq);
  float* dk = a.f32(1, nk);
  float* dv = a.f32(2, nk);
  const float* dout = a.f32(3, nq);
  const float* out = a.f32(4, nq);
  const float* lse = a.f32(5, double(B) * H * T);
  const float* q = a.f32(6, nq);
  const float* k = a.f32(7, nk);
  const float* v = a.f32(8, nk);
  const uint8_t* mask = a.u8(9, double(B) * T, true);
  CHECK;
  lion::attention_backward(dq, dk, dv, dout, out, lse, q, k, v, mask, B, T, H, KVH, D, causal, sc);
  DONE;
}

Napi::Value SwigluForward(const Napi::CallbackInfo& info) {
  ARGS("swigluForward");
  const long N = a.dim(3);
  float* out = a.f32(0, N);
  const float* g = a.f32(1, N);
  const float* u = a.f32(2, N);
  CHECK;
  lion::swiglu_forward(out, g, u, N);
  DONE;
}

Napi::Value SwigluBackward(const Napi::CallbackInfo& info) {
  ARGS("swigluBackward");
  const long N = a.dim(5);
  float* dg = a.f32(0, N);
  float* du = a.f32(1, N);
  const float* dout = a.f32(2, N);
  const float* g = a.f32(3, N);
  const float* u = a.f32(4, N);
  CHECK;
  lion::swiglu_backward(dg, du, dout, g, u, N);
  DONE;
}

Napi::Value Axpy(const Napi::CallbackInfo& info) {
  ARGS("axpy");
  const long N = a.dim(3);
  const float alpha = static_cast<float>(a.num(2));
  float* y = a.f32(0, N);
  const float* x = a.f32(1, N);
  CHECK;
  lion::axpy(y, x, alpha, N);
  DONE;
}

Napi::Value Scale(const Napi::CallbackInfo& info) {
  ARGS("scale");
  const long N = a.dim(2);
  const float alpha = static_cast<float>(a.num(1));
  float* x = a.f32(0, N);
  CHECK;
  lion::scale(x, alpha, N);
  DONE;
}

// dropoutMask(mask, p, seed, N)
Napi::Value DropoutMask(const Napi::CallbackInfo& info) {
  ARGS("dropoutMask");
  const long N = a.dim(3);
  const double p = a.num(1);
  if (a.ok && !(p >= 0 && p <= 1)) a.fail("argument 1 (p) must be in [0, 1]");
  uint8_t* mask = a.u8(0, N, false);
  const uint32_t* seed = a.u32(2, 4);
  CHECK;
  lion::dropout_mask(mask, p, seed, N);
  DONE;
}

// dropoutForward(out, x, mask, scale, N) and dropoutBackward(dx, dy, mask, scale, N)
Napi::Value DropoutFwdBwd(const Napi::CallbackInfo& info, bool backward) {
  ARGS(backward ? "dropoutBackward" : "dropoutForward");
  const long N = a.dim(4);
  const double scale = a.num(3);
  float* out = a.f32(0, N);
  const float* x = a.f32(1, N);
  const uint8_t* mask = a.u8(2, N, false);
  CHECK;
  if (backward) lion::dropout_backward(out, x, mask, scale, N);
  else lion::dropout_forward(out, x, mask, scale, N);
  DONE;
}
Napi::Value DropoutForward(const Napi::CallbackInfo& info) { return DropoutFwdBwd(info, false); }
Napi::Value DropoutBackward(const Napi::CallbackInfo& info) { return DropoutFwdBwd(info, true); }

Napi::Value SumSquares(const Napi::CallbackInfo& info) {
  ARGS("sumSquares");
  const long N = a.dim(1);
  const float* x = a.f32(0, N);
  CHECK;
  return Napi::Number::New(env, lion::sum_squares(x, N));
}

Napi::Value SoftmaxFwd(const Napi::CallbackInfo& info, bool log) {
  ARGS(log ? "logSoftmaxForward" : "softmaxForward");
  const long M = a.dim(2), N = a.dim(3);
  float* y = a.f32(0, double(M) * N);
  const float* x = a.f32(1, double(M) * N);
  CHECK;
  lion::softmax_forward(y, x, M, N, log);
  DONE;
}
Napi::Value SoftmaxBwd(const Napi::CallbackInfo& info, bool log) {
  ARGS(log ? "logSoftmaxBackward" : "softmaxBackward");
  const long M = a.dim(3), N = a.dim(4);
  float* dx = a.f32(0, double(M) * N);
  const float* dy = a.f32(1, double(M) * N);
  const float* y = a.f32(2, double(M) * N);
  CHECK;
  lion::softmax_backward(dx, dy, y, M, N, log);
  DONE;
}
Napi::Value SoftmaxForward(const Napi::CallbackInfo& i) { return SoftmaxFwd(i, false); }
Napi::Value LogSoftmaxForward(const Napi::CallbackInfo& i) { return SoftmaxFwd(i, true); }
Napi::Value SoftmaxBackward(const Napi::CallbackInfo& i) { return SoftmaxBwd(i, false); }
Napi::Value LogSoftmaxBackward(const Napi::CallbackInfo& i) { return SoftmaxBwd(i, true); }

// Every target must be the ignore index or a valid class.
bool check_targets(Args& a, const int32_t* t, long M, long V, int32_t ignore) {
  if (!a.ok) return false;
  for (long i = 0; i < M; i++)
    if (t[i] != ignore && (t[i] < 0 || t[i] >= V)) {
      a.fail("target " + std::to_string(t[i]) + " at row " + std::to_string(i) + " is outside [0, " + std::to_string(V) + ")");
      return false;
    }
  return true;
}

// crossEntropyForward(losses, lse, logits, targets, M, V, ignoreIndex) → count
Napi::Value CrossEntropyForward(const Napi::CallbackInfo& info) {
  ARGS("crossEntropyForward");
  const long M = a.dim(4), V = a.dim(5);
  const int32_t ignore = static_cast<int32_t>(a.num(6));
  float* losses = a.f32(0, M);
  float* lse = a.f32(1, M);
  const float* logits = a.f32(2, double(M) * V);
  const int32_t* t = a.i32(3, M);
  if (!check_targets(a, t, M, V, ignore)) return env.Undefined();
  return Napi::Number::New(env, static_cast<double>(lion::cross_entropy_forward(losses, lse, logits, t, M, V, ignore)));
}

// crossEntropyBackward(dlogits, logits, lse, targets, dloss, M, V, ignoreIndex)
Napi::Value CrossEntropyBackward(const Napi::CallbackInfo& info) {
  ARGS("crossEntropyBackward");
  const long M = a.dim(5), V = a.dim(6);
  const float dloss = static_cast<float>(a.num(4));
  const int32_t ignore = static_cast<int32_t>(a.num(7));
  float* d = a.f32(0, double(M) * V);
  const float* logits = a.f32(1, double(M) * V);
  const float* lse = a.f32(2, M);
  const int32_t* t = a.i32(3, M);
  if (!check_targets(a, t, M, V, ignore)) return env.Undefined();
  lion::cross_entropy_backward(d, logits, lse, t, dloss, M, V, ignore);
  DONE;
}

bool check_ids(Args& a, const int32_t* ids, long M, long V) {
  if (!a.ok) return false;
  for (long i = 0; i < M; i++)
    if (ids[i] < 0 || ids[i] >= V) {
      a.fail("token id " + std::to_string(ids[i]) + " at row " + std::to_string(i) + " is outside [0, " + std::to_string(V) + ")");
      return false;
    }
  return true;
}

Napi::Value EmbeddingFwdBwd(const Napi::CallbackInfo& info, bool backward) {
  ARGS(backward ? "embeddingBackward" : "embeddingForward");
  const long M = a.dim(3), C = a.dim(4);
  if (a.ok && C == 0) a.fail("C must be positive");
  // forward(out, table, ids, M, C); backward(dtable, dout, ids, M, C)
  float* first = a.f32(0, backward ? 0 : double(M) * C);
  float* second = a.f32(1, backward ? double(M) * C : 0);
  const int32_t* ids = a.i32(2, M);
  CHECK;
  const size_t table_len = info[backward ? 0 : 1].As<Napi::Float32Array>().ElementLength();
  if (!check_ids(a, ids, M, static_cast<long>(table_len / C))) return env.Undefined();
  if (backward) lion::embedding_backward(first, second, ids, M, C);
  else lion::embedding_forward(first, second, ids, M, C);
  DONE;
}
Napi::Value EmbeddingForward(const Napi::CallbackInfo& i) { return EmbeddingFwdBwd(i, false); }
Napi::Value EmbeddingBackward(const Napi::CallbackInfo& i) { return EmbeddingFwdBwd(i, true); }

// sparseHeadForward(rep, argmax, h, w, mask, B, T, C, V, scale)
Napi::Value SparseHeadForward(const Napi::CallbackInfo& info) {
  ARGS("sparseHeadForward");
  const long B = a.dim(5), T = a.dim(6), C = a.dim(7), V = a.dim(8);
  const float sc = static_cast<float>(a.num(9));
  float* rep = a.f32(0, double(B) * V);
  int32_t* am = a.i32(1, double(B) * V);
  const float* h = a.f32(2, double(B) * T * C);
  const float* w = a.f32(3, double(V) * C);
  const uint8_t* mask = a.u8(4, double(B) * T, true);
  CHECK;
  lion::sparse_head_forward(rep, am, h, w, mask, B, T, C, V, sc);
  DONE;
}

// sparseHeadBackward(dh, dw, drep, rep, argmax, h, w, B, T, C, V, scale)
Napi::Value SparseHeadBackward(const Napi::CallbackInfo& info) {
  ARGS("sparseHeadBackward");
  const long B = a.dim(7), T = a.dim(8), C = a.dim(9), V = a.dim(10);
  const float sc = static_cast<float>(a.num(11));
  float* dh = a.f32(0, double(B) * T * C);
  float* dw = a.f32(1, double(V) * C, true);
  const float* drep = a.f32(2, double(B) * V);
  const float* rep = a.f32(3, double(B) * V);
  const int32_t* am = a.i32(4, double(B) * V);
  const float* h = a.f32(5, double(B) * T * C);
  const float* w = a.f32(6, double(V) * C);
  CHECK;
  for (long i = 0; i < B * V; i++)
    if (am[i] >= T) { a.fail("argmax " + std::to_string(am[i]) + " is outside [-1, T)"); return env.Undefined(); }
  lion::sparse_head_backward(dh, dw, drep, rep, am, h, w, B, T, C, V, sc);
  DONE;
}

// meanPoolForward(out, norms, h, mask, B, T, C)
Napi::Value MeanPoolForward(const Napi::CallbackInfo& info) {
  ARGS("meanPoolForward");
  const long B = a.dim(4), T = a.dim(5), C = a.dim(6);
  float* out = a.f32(0, double(B) * C);
  float* norms = a.f32(1, double(B) * T);
  const float* h = a.f32(2, double(B) * T * C);
  const uint8_t* mask = a.u8(3, double(B) * T, true);
  CHECK;
  lion::mean_pool_forward(out, norms, h, mask, B, T, C);
  DONE;
}

// meanPoolBackward(dh, dout, h, norms, mask, B, T, C)
Napi::Value MeanPoolBackward(const Napi::CallbackInfo& info) {
  ARGS("meanPoolBackward");
  const long B = a.dim(5), T = a.dim(6), C = a.dim(7);
  float* dh = a.f32(0, double(B) * T * C);
  const float* dout = a.f32(1, double(B) * C);
  const float* h = a.f32(2, double(B) * T * C);
  const float* norms = a.f32(3, double(B) * T);
  const uint8_t* mask = a.u8(4, double(B) * T, true);
  CHECK;
  lion::mean_pool_backward(dh, dout, h, norms, mask, B, T, C);
  DONE;
}

// adamw(param, grad, m, v, N, lr, beta1, beta2, eps, weightDecay, step)
Napi::Value AdamW(const Napi::CallbackInfo& info) {
  ARGS("adamw");
  const long N = a.dim(4);
  const double lr = a.num(5), b1 = a.num(6), b2 = a.num(7), eps = a.num(8), wd = a.num(9), step = a.num(10);
  if (a.ok && !(step >= 1)) a.fail("step counts from 1");
  float* p = a.f32(0, N);
  const float* g = a.f32(1, N);
  float* m = a.f32(2, N);
  float* v = a.f32(3, N);
  CHECK;
  lion::adamw(p, g, m, v, N, lr, b1, b2, eps, wd, step);
  DONE;
}

// ------------------------------------------------------------------ reduced precision (lowp.cc)

// toBf16(dst, src, n) / fromBf16(dst, src, n)
Napi::Value ToBf16(const Napi::CallbackInfo& info) {
  ARGS("toBf16");
  const long n = a.dim(2);
  uint16_t* dst = a.u16(0, n);
  const float* src = a.f32(1, n);
  CHECK;
  lion::to_bf16(dst, src, n);
  DONE;
}
Napi::Value FromBf16(const Napi::CallbackInfo& info) {
  ARGS("fromBf16");
  const long n = a.dim(2);
  float* dst = a.f32(0, n);
  const uint16_t* src = a.u16(1, n);
  CHECK;
  lion::from_bf16(dst, src, n);
  DONE;
}

// quantizeInt8(q, scale, w, N, K)
Napi::Value QuantizeInt8(const Napi::CallbackInfo& info) {
  ARGS("quantizeInt8");
  const long N = a.dim(3), K = a.dim(4);
  int8_t* q = a.i8(0, double(N) * K);
  float* scale = a.f32(1, N);
  lion::Src src;
  const void* w = a.f32_or_bf16(2, double(N) * K, src);
  CHECK;
  const long bad = lion::quantize_int8(q, scale, w, src, N, K);
  if (bad >= 0) a.fail("row " + std::to_string(bad) + " of w has a non-finite value");
  DONE;
}

// gemmBf16(c, a, b, M, N, K, transA, transB, alpha, beta, lda, ldb, ldc)   (0 stride = dense)
Napi::Value GemmBf16(const Napi::CallbackInfo& info) {
  ARGS("gemmBf16");
  const long M = a.dim(3), N = a.dim(4), K = a.dim(5);
  const bool ta = a.flag(6), tb = a.flag(7);
  const float alpha = static_cast<float>(a.num(8)), beta = static_cast<float>(a.num(9));
  long lda = a.dim(10), ldb = a.dim(11), ldc = a.dim(12);
  if (!lda) lda = ta ? M : K;
  if (!ldb) ldb = tb ? K : N;
  if (!ldc) ldc = N;
  if (a.ok && (lda < (ta ? M : K) || ldb < (tb ? K : N) || ldc < N)) a.fail("a stride is smaller than its row");
  auto span = [](long rows, long ld, long len) { return rows == 0 || len == 0 ? 0.0 : double(rows - 1) * ld + len; };
  float* c = a.f32(0, span(M, ldc, N));
  lion::Src sa, sb;
  const void* A = a.f32_or_bf16(1, ta ? span(K, lda, M) : span(M, lda, K), sa);
  const void* B = a.f32_or_bf16(2, tb ? span(N, ldb, K) : span(K, ldb, N), sb);
  CHECK;
  lion::gemm_bf16(M, N, K, lion::Operand{A, lda, ta, sa}, lion::Operand{B, ldb, !tb, sb}, c, ldc, alpha, beta);
  DONE;
}

// linearForwardBf16(y, x, w, bias, M, K, N)
Napi::Value LinearForwardBf16(const Napi::CallbackInfo& info) {
  ARGS("linearForwardBf16");
  const long M = a.dim(4), K = a.dim(5), N = a.dim(6);
  float* y = a.f32(0, double(M) * N);
  const float* x = a.f32(1, double(M) * K);
  lion::Src ws;
  const void* w = a.f32_or_bf16(2, double(N) * K, ws);
  const float* bias = a.f32(3, N, true);
  CHECK;
  lion::linear_forward_bf16(y, x, w, ws, bias, M, K, N);
  DONE;
}

// linearBackwardBf16(dx, dw, db, dy, x, w, M, K, N)
Napi::Value LinearBackwardBf16(const Napi::CallbackInfo& info) {
  ARGS("linearBackwardBf16");
  const long M = a.dim(6), K = a.dim(7), N = a.dim(8);
  float* dx = a.f32(0, double(M) * K, true);
  float* dw = a.f32(1, double(N) * K, true);
  float* db = a.f32(2, N, true);
  const float* dy = a.f32(3, double(M) * N);
  const float* x = a.f32(4, double(M) * K);
  lion::Src ws;
  const void* w = a.f32_or_bf16(5, double(N) * K, ws);
  CHECK;
  lion::linear_backward_bf16(dx, dw, db, dy, x, w, ws, M, K, N);
  DONE;
}

// linearForwardInt8(y, x, q, wScale, bias, M, K, N)
Napi::Value LinearForwardInt8(const Napi::CallbackInfo& info) {
  ARGS("linearForwardInt8");
  const long M = a.dim(5), K = a.dim(6), N = a.dim(7);
  if (a.ok && K > 65536) a.fail("K = " + std::to_string(K) + " exceeds 65536 (int32 accumulation)");
  float* y = a.f32(0, double(M) * N);
  const float* x = a.f32(1, double(M) * K);
  const int8_t* q = a.i8(2, double(N) * K);
  const float* ws = a.f32(3, N);
  const float* bias = a.f32(4, N, true);
  CHECK;
  lion::linear_forward_int8(y, x, q, ws, bias, M, K, N);
  DONE;
}

// embeddingForwardBf16(out, table, ids, M, C)
Napi::Value EmbeddingForwardBf16(const Napi::CallbackInfo& info) {
  ARGS("embeddingForwardBf16");
  const long M = a.dim(3), C = a.dim(4);
  if (a.ok && C == 0) a.fail("C must be positive");
  float* out = a.f32(0, double(M) * C);
  const uint16_t* table = a.u16(1, 0);
  const int32_t* ids = a.i32(2, M);
  CHECK;
  const size_t table_len = info[1].As<Napi::Uint16Array>().ElementLength();
  if (!check_ids(a, ids, M, static_cast<long>(table_len / C))) return env.Undefined();
  lion::embedding_forward_bf16(out, table, ids, M, C);
  DONE;
}

// sparseHeadForwardBf16(rep, argmax, h, w, mask, B, T, C, V, scale)
// sparseHeadForwardInt8(rep, argmax, h, q, qScale, wExact, mask, B, T, C, V, scale)
Napi::Value SparseHeadLowp(const Napi::CallbackInfo& info, bool int8) {
  ARGS(int8 ? "sparseHeadForwardInt8" : "sparseHeadForwardBf16");
  const size_t o = int8 ? 2 : 0;  // the int8 variant has two more arguments before mask
  const long B = a.dim(5 + o), T = a.dim(6 + o), C = a.dim(7 + o), V = a.dim(8 + o);
  const float sc = static_cast<float>(a.num(9 + o));
  if (a.ok && !(sc > 0.f)) a.fail("scale must be positive");
  if (a.ok && int8 && C > 65536) a.fail("C = " + std::to_string(C) + " exceeds 65536 (int32 accumulation)");
  float* rep = a.f32(0, double(B) * V);
  int32_t* am = a.i32(1, double(B) * V);
  const float* h = a.f32(2, double(B) * T * C);
  lion::Src ws = lion::Src::I8, es = lion::Src::F32;
  const void* w = nullptr;
  const float* qs = nullptr;
  const void* we = nullptr;
  if (int8) {
    w = a.i8(3, double(V) * C);
    qs = a.f32(4, V);
    we = a.f32_or_bf16(5, double(V) * C, es);
  } else {
    w = a.f32_or_bf16(3, double(V) * C, ws);
    we = w;
    es = ws;
  }
  const uint8_t* mask = a.u8(4 + o, double(B) * T, true);
  CHECK;
  lion::sparse_head_forward_lowp(rep, am, h, int8, w, ws, qs, we, es, mask, B, T, C, V, sc);
  DONE;
}
Napi::Value SparseHeadForwardBf16(const Napi::CallbackInfo& i) { return SparseHeadLowp(i, false); }
Napi::Value SparseHeadForwardInt8(const Napi::CallbackInfo& i) { return SparseHeadLowp(i, true); }

// sparseHeadBackwardBf16(dh, drep, rep, argmax, h, w, B, T, C, V, scale)
Napi::Value SparseHeadBackwardBf16(const Napi::CallbackInfo& info) {
  ARGS("sparseHeadBackwardBf16");
  const long B = a.dim(6), T = a.dim(7), C = a.dim(8), V = a.dim(9);
  const float sc = static_cast<float>(a.num(10));
  float* dh = a.f32(0, double(B) * T * C);
  const float* drep = a.f32(1, double(B) * V);
  const float* rep = a.f32(2, double(B) * V);
  const int32_t* am = a.i32(3, double(B) * V);
  a.f32(4, double(B) * T * C);
  const uint16_t* w = a.u16(5, double(V) * C);
  CHECK;
  for (long i = 0; i < B * V; i++)
    if (am[i] >= T) { a.fail("argmax " + std::to_string(am[i]) + " is outside [-1, T)"); return env.Undefined(); }
  lion::sparse_head_backward_bf16(dh, drep, rep, am, w, B, T, C, V, sc);
  DONE;
}

Napi::Value Isa(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const lion::IsaChoice& c = lion::isa_choice();
  Napi::Object o = Napi::Object::New(env);
  o.Set("bf16", lion::bf16_path_name(c.bf16));
  o.Set("int8", lion::i8_path_name(c.i8));
  Napi::Array av = Napi::Array::New(env, c.available.size());
  for (size_t i = 0; i < c.available.size(); i++) av.Set(static_cast<uint32_t>(i), c.available[i]);
  o.Set("available", av);
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  if (!lion::isa_choice().error.empty()) {  // a LION_ISA this CPU cannot run: refuse to load
    Napi::Error::New(env, lion::isa_choice().error).ThrowAsJavaScriptException();
    return exports;
  }
  const struct { const char* name; Napi::Value (*fn)(const Napi::CallbackInfo&); } fns[] = {
      {"threads", Threads}, {"cpuLevel", CpuLevel}, {"gemm", GemmFn},
      {"linearForward", LinearForward}, {"linearBackward", LinearBackward},
      {"rmsnormForward", RmsnormForward}, {"rmsnormBackward", RmsnormBackward},
      {"ropeForward", RopeForward}, {"ropeBackward", RopeBackward},
      {"attentionForward", AttentionForward}, {"attentionBackward", AttentionBackward},
      {"swigluForward", SwigluForward}, {"swigluBackward", SwigluBackward},
      {"axpy", Axpy}, {"scale", Scale}, {"sumSquares", SumSquares},
      {"dropoutMask", DropoutMask}, {"dropoutForward", DropoutForward}, {"dropoutBackward", DropoutBackward},
      {"softmaxForward", SoftmaxForward}, {"softmaxBackward", SoftmaxBackward},
      {"logSoftmaxForward", LogSoftmaxForward}, {"logSoftmaxBackward", LogSoftmaxBackward},
      {"crossEntropyForward", CrossEntropyForward}, {"crossEntropyBackward", CrossEntropyBackward},
      {"embeddingForward", EmbeddingForward}, {"embeddingBackward", EmbeddingBackward},
      {"sparseHeadForward", SparseHeadForward}, {"sparseHeadBackward", SparseHeadBackward},
      {"meanPoolForward", MeanPoolForward}, {"meanPoolBackward", MeanPoolBackward},
      {"adamw", AdamW},
      {"toBf16", ToBf16}, {"fromBf16", FromBf16}, {"quantizeInt8", QuantizeInt8}, {"gemmBf16", GemmBf16},
      {"linearForwardBf16", LinearForwardBf16}, {"linearBackwardBf16", LinearBackwardBf16},
      {"linearForwardInt8", LinearForwardInt8}, {"embeddingForwardBf16", EmbeddingForwardBf16},
      {"sparseHeadForwardBf16", SparseHeadForwardBf16}, {"sparseHeadForwardInt8", SparseHeadForwardInt8},
      {"sparseHeadBackwardBf16", SparseHeadBackwardBf16}, {"isa", Isa},
  };
  for (const auto& f : fns) exports.Set(f.name, Napi::Function::New(env, f.fn, f.name));
  return exports;
}

}  // namespace

NODE_API_MODULE(lion_kernels, Init)
