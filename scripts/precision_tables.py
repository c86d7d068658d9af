#!/usr/bin/env python3
"""Markdown tables of the reduced-precision benchmarks, from bench/results/*.json (for docs/benchmarks.md).

Run: python3 scripts/precision_tables.py [gemm|encode-real|train-step|precision-quality ...]
Prints each table with the run's date, host, load and ISA paths, so the page quotes the files as they are.
"""
import json
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')


def load(name):
    p = os.path.join(ROOT, 'bench', 'results', name + '.json')
    return json.load(open(p)) if os.path.exists(p) else None


def f(x, d=2):
    return '–' if x is None else f'{x:.{d}f}'


def gemm():
    g = load('gemm')
    lp = g and g.get('lowPrecision')
    if not lp:
        print('(no low-precision gemm results)')
        return
    print(f"bench:gemm reduced precision — {lp.get('date', g.get('date'))}, Lion ISA {lp['lionIsa']}, torch int8: {lp['torchInt8']['engine'] or lp['torchInt8']['error']}, "
          f"anchor jemalloc {lp['anchorEnv'].get('jemalloc')}, BLAS {lp['anchorEnv'].get('blas')}, oneDNN {lp['anchorEnv'].get('onednnVersion')}\n")
    for metric, label in (('gflops', 'wall-clock GFLOP/s'), ('gflopsPerCpuSecond', 'GFLOP per CPU-second')):
        print(f'{label}:\n')
        print('| (M, K, N) | threads | Lion fp32 | Lion bf16 | Lion int8 | PyTorch fp32 | PyTorch bf16 | PyTorch int8 | bf16 ÷ PyTorch bf16 | bf16 ÷ Lion fp32 | int8 ÷ PyTorch int8 | int8 ÷ PyTorch bf16 | int8 ÷ Lion bf16 |')
        print('|---|---|---|---|---|---|---|---|---|---|---|---|---|')
        for r in lp['results']:
            x = r[metric]
            q = lambda a, b: None if x[a] is None or x[b] is None or not x[b] else x[a] / x[b]
            print(f"| ({r['M']}, {r['K']}, {r['N']}) | {r['threads']} | {f(x['lionFp32'], 0)} | {f(x['lionBf16'], 0)} | {f(x['lionInt8'], 0)} | "
                  f"{f(x['torchFp32'], 0)} | {f(x['torchBf16'], 0)} | {f(x['torchInt8'], 0)} | {f(q('lionBf16', 'torchBf16'))} | {f(q('lionBf16', 'lionFp32'))} | "
                  f"{f(q('lionInt8', 'torchInt8'))} | {f(q('lionInt8', 'torchBf16'))} | {f(q('lionInt8', 'lionBf16'))} |")
        print()


def encode_real():
    e = load('encode-real')
    if not e:
        print('(no encode-real results)')
        return
    print(f"bench:encode-real — {e['started']} … {e['finished']}, host {e['host']['cpu']} ×{e['host']['cores']}, load at start {e['loadavgAtStart']}, "
          f"ISA {e['isa']}, anchor jemalloc {e['anchorEnv'] and e['anchorEnv'].get('jemalloc')}, BLAS {e['anchorEnv'] and e['anchorEnv'].get('blas')}, "
          f"docs {e['configuration']['docs']}, batch {e['configuration']['batch']}\n")
    keys = ['lion-fp32', 'lion-bf16', 'lion-int8', 'torch-fp32', 'torch-bf16']
    for metric, label in (('docsPerSec', 'documents per second (wall)'), ('docsPerCpuSecond', 'documents per CPU-second')):
        print(f'{label}:\n')
        print('| threads | head | tokens | Lion fp32 | Lion bf16 | Lion int8 | PyTorch fp32 | PyTorch bf16 | bf16 ÷ PyTorch bf16 | int8 ÷ PyTorch bf16 | Lion fp32 ÷ PyTorch fp32 |')
        print('|---|---|---|---|---|---|---|---|---|---|---|')
        for r in e['results']:
            d = r.get(metric, {})
            q = lambda a, b: None if d.get(a) is None or not d.get(b) else d[a] / d[b]
            print(f"| {r['threads']} | {r['head']} | {r['tokens']} | " + ' | '.join(f(d.get(k), 3) for k in keys) +
                  f" | {f(q('lion-bf16', 'torch-bf16'))} | {f(q('lion-int8', 'torch-bf16'))} | {f(q('lion-fp32', 'torch-fp32'))} |")
        print()
    print('peak RSS (GiB, weights + that phase\'s activations):\n')
    print('| threads | head | tokens | Lion fp32 | Lion bf16 | Lion int8 | PyTorch fp32 | PyTorch bf16 |')
    print('|---|---|---|---|---|---|---|---|')
    for r in e['results']:
        print(f"| {r['threads']} | {r['head']} | {r['tokens']} | " + ' | '.join(f(r['peakRssGiB'].get(k)) for k in keys) + ' |')
    print()
    loads = {}
    for k, c in e['children'].items():
        if c.get('ok'):
            loads[k] = (c['data']['load']['seconds'], c['data']['load']['peakRssBytes'] / 2 ** 30)
    print('load (s, peak GiB): ' + '; '.join(f'{k} {v[0]:.1f} s {v[1]:.2f}' for k, v in sorted(loads.items())))
    print()
    if e.get('eightB'):
        print('8B: ' + json.dumps(e['eightB'].get('summary') or e['eightB'].get('skipped') or e['eightB'].get('run', {}).get('error')))
        print()


def train_step():
    t = load('train-step')
    if not t:
        print('(no train-step results)')
        return
    print(f"bench:train-step — {t['started']} … {t['finished']}, load {t['host']['loadavg']}\n")
    print('| threads | run | s per step | CPU s per step | peak GiB |')
    print('|---|---|---|---|---|')
    for r in t['results']:
        th = r['threads']
        items = []
        if 'lion' in r:
            items += [('Lion fp32', r['lion']), ('PyTorch fp32 frugal', r['anchorFrugal']), ('PyTorch fp32 literal', r['anchorLiteral'])]
        b = r.get('bf16') or {}
        items += [('Lion bf16', b.get('lion')), ('Lion bf16 + recompute', b.get('lionRecompute')),
                  ('PyTorch autocast frugal', b.get('anchorAutocastFrugal')), ('PyTorch autocast literal', b.get('anchorAutocastLiteral'))]
        for name, d in items:
            if not d or 'error' in d:
                print(f"| {th} | {name} | {d and d.get('error')} | | |")
                continue
            print(f"| {th} | {name} | {f(d['median'])} | {f(d['cpuMedian'])} | {f(d['peakRssBytes'] / 2 ** 30)} |")
        if b:
            print(f"| {th} | ratios | ×{f(b['speedupVsAutocastFrugal'])} frugal, ×{f(b['speedupVsAutocastLiteral'])} literal (recompute ×{f(b['recomputeSpeedupVsAutocastFrugal'])}) | "
                  f"CPU ×{f(b['cpuTimeRatioVsAutocastFrugal'])} (×{f(b['recomputeCpuTimeRatioVsAutocastFrugal'])}) | memory {f(b['memoryVsAutocastFrugal'])} ({f(b['recomputeMemoryVsAutocastFrugal'])}) of frugal |")
    print()


def quality():
    q = load('precision-quality')
    if not q:
        print('(no precision-quality results)')
        return
    print(f"bench:precision-quality — {q['started']} … {q['finished']}, ISA {q['isa']}, threads {q['threads']}\n")
    print('| collection | model | nDCG@10 fp32 | bf16 (loss) | int8 (loss) | cosine min / mean bf16 | int8 | top-10 overlap bf16 / int8 | argmax differs bf16 / int8 (kept entries) |')
    print('|---|---|---|---|---|---|---|---|---|')
    for c in q['collections']:
        if 'skipped' in c:
            print(f"| {c['collection']} | skipped: {c['skipped']} |")
            continue
        for p in ('sparse', 'dense'):
            r = c[p]
            a = r['agreementDocs']
            n = r['ndcg10']
            ov = f"{f(a['bf16'].get('top10OverlapMean'), 4)} / {f(a['int8'].get('top10OverlapMean'), 4)}" if p == 'sparse' else '–'
            am = f"{f(a['bf16'].get('argmaxDiffersKept'), 4)} / {f(a['int8'].get('argmaxDiffersKept'), 4)}" if p == 'sparse' else '–'
            print(f"| {c['collection']} ({c['docs']} docs, {c['queries']} q) | {r['model']} | {n['fp32']:.4f} | {n['bf16']:.4f} ({r['ndcg10LossVsFp32']['bf16']:+.4f}) | "
                  f"{n['int8']:.4f} ({r['ndcg10LossVsFp32']['int8']:+.4f}) | {f(a['bf16']['cosineMin'], 6)} / {f(a['bf16']['cosineMean'], 6)} | "
                  f"{f(a['int8']['cosineMin'], 6)} / {f(a['int8']['cosineMean'], 6)} | {ov} | {am} |")
    print()
    one = q.get('randomCheckpoint1b') or {}
    for d in ('bf16', 'int8'):
        if d in one:
            print(f"1B-shaped {d}: sparse {json.dumps(one[d]['sparse'])}; dense {json.dumps(one[d]['dense'])}")
    print()


if __name__ == '__main__':
    which = sys.argv[1:] or ['gemm', 'encode-real', 'train-step', 'precision-quality']
    for w in which:
        {'gemm': gemm, 'encode-real': encode_real, 'train-step': train_step, 'precision-quality': quality}[w]()
