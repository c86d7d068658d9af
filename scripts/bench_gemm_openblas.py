#!/usr/bin/env python3
"""GEMM speed anchor for bench/gemm.ts: fp32 C = A @ B (and A @ B.T) through numpy's BLAS (OpenBLAS).

Usage: python3 scripts/bench_gemm_openblas.py --threads N --reps R --shapes '[[M,K,N], ...]'
Prints one JSON object: {"blas": <loaded BLAS library>, "results": [{M,K,N,layout,seconds,cpuSeconds}]}
(wall-clock and process CPU seconds of each timed call).
Thread count comes from OPENBLAS_NUM_THREADS, which the caller sets (with OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE unset, so OpenBLAS detects this CPU itself); --threads is only recorded.
"""
import argparse
import json
import time

import numpy as np


def loaded_blas():
    libs = set()
    with open('/proc/self/maps') as f:
        for line in f:
            path = line.split()[-1] if len(line.split()) >= 6 else ''
            if 'blas' in path.lower():
                libs.add(path)
    return sorted(libs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, required=True)
    ap.add_argument('--reps', type=int, default=7)
    ap.add_argument('--shapes', required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    out = []
    for M, K, N in json.loads(args.shapes):
        a = rng.standard_normal((M, K), dtype=np.float32)
        for layout in ('nn', 'nt'):
            b = rng.standard_normal((K, N), dtype=np.float32) if layout == 'nn' else \
                rng.standard_normal((N, K), dtype=np.float32)
            bb = b if layout == 'nn' else b.T
            c = np.empty((M, N), dtype=np.float32)
            np.matmul(a, bb, out=c)  # warm-up (first touch of c, BLAS buffers)
            secs, cpu = [], []
            for _ in range(args.reps):
                t, u = time.perf_counter(), time.process_time()
                np.matmul(a, bb, out=c)
                secs.append(time.perf_counter() - t)
                cpu.append(time.process_time() - u)
            out.append({'M': M, 'K': K, 'N': N, 'layout': layout, 'seconds': secs, 'cpuSeconds': cpu})
    print(json.dumps({'blas': loaded_blas(), 'numpy': np.__version__, 'threads': args.threads, 'results': out}))


if __name__ == '__main__':
    main()
