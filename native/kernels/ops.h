// Entry points of the non-GEMM kernels (definitions in ops.cc, attention.cc, heads.cc). Argument order and
// meaning follow src/kernels/types.ts exactly; null gradient pointers skip that gradient.
#pragma once
#include <cstdint>

namespace lion {

void rmsnorm_forward(float* y, float* rstd, const float* x, const float* w, long M, long C, float eps);
void rmsnorm_backward(float* dx, float* dw, const float* dy, const float* x, const float* w, const float* rstd,
                      long M, long C);
void rope(float* x, const float* cos, const float* sin, long B, long T, long NH, long D, bool backward);
void swiglu_forward(float* out, const float* gate, const float* up, long N);
void swiglu_backward(float* dgate, float* dup, const float* dout, const float* gate, const float* up, long N);
void axpy(float* y, const float* x, float a, long N);
void scale(float* x, float a, long N);
void column_sum(float* out, const float* x, long M, long N);  // out (N) += Σ_rows x (M, N)
double sum_squares(const float* x, long N);
void dropout_mask(uint8_t* mask, double p, const uint32_t* seed, long N);
void dropout_forward(float* out, const float* x, const uint8_t* mask, double scale, long N);
void dropout_backward(float* dx, const float* dy, const uint8_t* mask, double scale, long N);
void softmax_forward(float* y, const float* x, long M, long N, bool log);
void softmax_backward(float* dx, const float* dy, const float* y, long M, long N, bool log);
long cross_entropy_forward(float* losses, float* lse, const float* logits, const int32_t* targets, long M, long V,
                           int32_t ignore);
void cross_entropy_backward(float* dlogits, const float* logits, const float* lse, const int32_t* targets,
                            float dloss, long M, long V, int32_t ignore);
void embedding_forward(float* out, const float* table, const int32_t* ids, long M, long C);
void embedding_backward(float* dtable, const float* dout, const int32_t* ids, long M, long C);
void adamw(float* p, const float* g, float* m, float* v, long N, double lr, double b1, double b2, double eps,
           double wd, double step);

void attention_forward(float* out, float* lse, const float* q, const float* k, const float* v, const uint8_t* mask,
                       long B, long T, long H, long KVH, long D, bool causal, float scale);
void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* out, const float* lse,
                        const float* q, const float* k, const float* v, const uint8_t* mask, long B, long T, long H,
                        long KVH, long D, bool causal, float scale);

void sparse_head_forward(float* rep, int32_t* argmax, const float* h, const float* w, const uint8_t* mask, long B,
                         long T, long C, long V, float scale);
void sparse_head_backward(float* dh, float* dw, const float* drep, const float* rep, const int32_t* argmax,
                          const float* h, const float* w, long B, long T, long C, long V, float scale);
void mean_pool_forward(float* out, float* norms, const float* h, const uint8_t* mask, long B, long T, long C);
void mean_pool_backward(float* dh, const float* dout, const float* h, const float* norms, const uint8_t* mask, long B,
                        long T, long C);

}  // namespace lion
