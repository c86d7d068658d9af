"""What a PyTorch anchor process actually runs with, checked from inside it (imported by scripts/bench_*.py).

`describe()` reads /proc/self/maps (the libraries really mapped, not the ones asked for): whether jemalloc is
loaded (LD_PRELOAD of a missing file silently does nothing), which BLAS library torch's float32 matmul calls
(Debian's torch links libblas.so.3, which is the reference BLAS unless OpenBLAS is installed or put first on
LD_LIBRARY_PATH), whether oneDNN (MKL-DNN) is compiled in and this CPU has the instructions its bf16 and int8
kernels use, and the thread counts. It also times one 1024^3 float32 and bfloat16 matmul as a probe.

`require(needs)` exits with status 3 and a one-line reason on stderr when the environment is not what the
benchmark's anchor needs ('jemalloc', 'openblas', 'onednn-bf16'); the Node drivers then refuse to write a result.
"""
import os
import sys
import time

import torch


def _mapped():
    libs = set()
    with open('/proc/self/maps') as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and parts[5].startswith('/'):
                libs.add(parts[5])
    return libs


def _cpu_flags():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('flags'):
                    return set(line.split(':', 1)[1].split())
    except OSError:
        pass
    return set()


def _probe(dtype, n=1024, reps=3):
    a = torch.randn(n, n).to(dtype)
    b = torch.randn(n, n).to(dtype)
    torch.matmul(a, b)
    best = float('inf')
    for _ in range(reps):
        t = time.perf_counter()
        torch.matmul(a, b)
        best = min(best, time.perf_counter() - t)
    return round(2 * n ** 3 / best / 1e9, 1)


def describe(probe=True):
    libs = _mapped()
    blas = sorted(p for p in libs if 'blas' in os.path.basename(p).lower())
    flags = _cpu_flags()
    out = {
        'torch': torch.__version__,
        'threads': torch.get_num_threads(),
        'jemalloc': any('jemalloc' in os.path.basename(p) for p in libs),
        'jemallocLibs': sorted(p for p in libs if 'jemalloc' in p),
        'blas': blas,
        'openblas': any('openblas' in p.lower() for p in blas),
        'onednn': bool(torch.backends.mkldnn.is_available()),
        'onednnVersion': next((l.strip() for l in torch.__config__.show().splitlines() if 'MKL-DNN' in l or 'oneDNN' in l), None),
        'cpuBf16': 'avx512_bf16' in flags or 'amx_bf16' in flags,
        'cpuAmx': 'amx_bf16' in flags,
        'cpuVnni': 'avx512_vnni' in flags or 'avx_vnni' in flags,
        'quantizedEngines': list(torch.backends.quantized.supported_engines),
        'env': {k: os.environ.get(k) for k in ('LD_PRELOAD', 'MALLOC_CONF', 'OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'LD_LIBRARY_PATH')},
    }
    if probe:
        out['probeGflops1024'] = {'fp32': _probe(torch.float32), 'bf16': _probe(torch.bfloat16)}
    return out


def require(info, needs):
    """Exit 3 with a reason unless `info` (from describe) satisfies every item of `needs`."""
    why = []
    if 'jemalloc' in needs and not info['jemalloc']:
        why.append('jemalloc is not loaded in the anchor process (install libjemalloc2; LD_PRELOAD=%s)' % info['env']['LD_PRELOAD'])
    if 'openblas' in needs and not info['openblas']:
        why.append("torch's BLAS is not OpenBLAS (mapped: %s); install libopenblas0-pthread" % (info['blas'] or 'none'))
    if 'onednn-bf16' in needs and not info['onednn']:
        why.append('torch is built without oneDNN (MKL-DNN), so its bf16 matmul is not the oneDNN one')
    if why:
        sys.stderr.write('anchor environment refused: ' + '; '.join(why) + '\n')
        sys.exit(3)
