#!/usr/bin/env python3
"""Reduced-precision GEMM anchor for bench/gemm.ts: PyTorch on a Linear layer's product y = x . W^T.

  fp32   torch.matmul(x, W.t()) on float32 tensors (OpenBLAS sgemm)
  bf16   torch.matmul(x, W.t()) on bfloat16 tensors (oneDNN; AVX512-BF16 or AMX where the CPU has them)
  int8   torch.ao.nn.quantized.dynamic.Linear (per-channel int8 weights, activations quantized per call, fp32 in
         and out; the 'onednn' quantized engine when torch has it, else 'fbgemm'); recorded as unavailable, with
         the reason, when it does not run

Usage: python3 scripts/bench_gemm_torch.py --threads N --reps R --shapes '[[M,K,N], ...]'
Prints one JSON object: {"anchorEnv": {...}, "int8Engine": ..., "results": [{M,K,N,dtype,seconds,cpuSeconds}]}.
Exits 3 (scripts/anchor_env.py) when jemalloc, OpenBLAS or oneDNN is missing from the process.
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import anchor_env  # noqa: E402


def timed(fn, reps):
    fn()  # warm-up: first touch, oneDNN primitive creation
    secs, cpu = [], []
    for _ in range(reps):
        t, u = time.perf_counter(), time.process_time()
        fn()
        secs.append(time.perf_counter() - t)
        cpu.append(time.process_time() - u)
    return secs, cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, required=True)
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--shapes', required=True)
    ap.add_argument('--dtypes', default='fp32,bf16,int8')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    env = anchor_env.describe()
    anchor_env.require(env, ['jemalloc', 'openblas', 'onednn-bf16'])
    dtypes = args.dtypes.split(',')
    engine, int8_error = None, None
    if 'int8' in dtypes:
        for e in ('onednn', 'fbgemm', 'x86'):
            if e in torch.backends.quantized.supported_engines:
                engine = e
                break
        if engine is None:
            int8_error = 'no onednn/fbgemm quantized engine in this torch (%s)' % torch.backends.quantized.supported_engines
        else:
            torch.backends.quantized.engine = engine
    g = torch.Generator().manual_seed(0)
    out = []
    for M, K, N in json.loads(args.shapes):
        x = torch.randn(M, K, generator=g) * 0.5
        w = torch.randn(N, K, generator=g) * K ** -0.5
        for dt in dtypes:
            if dt == 'fp32':
                y = torch.empty(M, N)
                fn = lambda: torch.matmul(x, w.t(), out=y)
            elif dt == 'bf16':
                xb, wb = x.to(torch.bfloat16), w.to(torch.bfloat16)
                fn = lambda: torch.matmul(xb, wb.t())
            else:
                if int8_error:
                    continue
                try:
                    import torch.ao.nn.quantized.dynamic as nnqd
                    lin = nnqd.Linear(K, N, bias_=False, dtype=torch.qint8)
                    scales = w.abs().amax(dim=1).clamp_min(1e-12) / 127.0
                    qw = torch.quantize_per_channel(w, scales.double(), torch.zeros(N, dtype=torch.long), 0, torch.qint8)
                    lin.set_weight_bias(qw, None)
                    lin(x)
                except Exception as e:  # recorded, not fatal: the int8 anchor is optional in torch 1.13
                    int8_error = '%s: %s' % (type(e).__name__, e)
                    continue
                fn = lambda: lin(x)
            secs, cpu = timed(fn, args.reps)
            out.append({'M': M, 'K': K, 'N': N, 'dtype': dt, 'seconds': secs, 'cpuSeconds': cpu})
    print(json.dumps({'anchorEnv': env, 'threads': args.threads, 'int8Engine': engine, 'int8Error': int8_error,
                      'int8What': 'torch.ao.nn.quantized.dynamic.Linear (per-channel qint8 weights, dynamic per-tensor activation quantization)',
                      'results': out}))


if __name__ == '__main__':
    main()
