#!/usr/bin/env python3
"""PyTorch anchor of bench/encode-real.ts: encode random documents with a real-shape checkpoint from disk.

The model is scripts/bench_torch_step.py's minimal bidirectional Llama (grouped-query attention, llama3 rope
scaling, tied head, transformers' float32 RMSNorm and softmax casts) loaded from the bf16 model.safetensors that
scripts/gen_llama_checkpoint.py writes, tensor by tensor straight into the parameters (no second copy):

  --dtype fp32   parameters float32 (bf16 widened), no_grad: what a user gets with the default torch_dtype
  --dtype bf16   model.to(torch.bfloat16), no_grad: a bf16 checkpoint run as bf16 (oneDNN matmuls)
  --autocast     float32 parameters under torch.autocast('cpu', dtype=torch.bfloat16)

Heads: sparse = the 'frugal' head of bench_torch_step.py (log1p(relu(max_t logits·d^-1/4)) over 4096 vocabulary
rows at a time, so the (B, T, V) logits never exist at once: the strongest PyTorch sparse encoder we know);
dense = masked mean of F.normalize(h).

For each --lengths entry: one warm-up batch of --warmup-docs documents, then --docs-<len> documents in batches
of --batch-<len>; the peak RSS of each phase is VmHWM, reset between phases (/proc/self/clear_refs 5), so a
phase's peak is the weights plus that phase's activations. Prints one JSON line.
"""
import argparse
import json
import os
import struct
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import anchor_env  # noqa: E402
from bench_torch_step import BiLlama, dense_head, sparse_frugal  # noqa: E402


def status_kb(field):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) * 1024
    return None


def reset_peak():
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def load_into(model, path, dtype):
    """Reads each bf16 tensor of `path` into the matching parameter (HF names), with no whole-model copy."""
    params = dict(model.named_parameters())
    names = {'model.norm.weight': 'norm.weight', 'lm_head.weight': 'lm_head.weight'}
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        for key, info in header.items():
            if key == '__metadata__':
                continue
            name = names.get(key, key[len('model.'):] if key.startswith('model.') else key).replace('self_attn.', '').replace('mlp.', '')
            p = params[name]
            assert info['dtype'] == 'BF16' and list(p.shape) == info['shape'], (key, info, p.shape)
            f.seek(base + info['data_offsets'][0])
            if p.dtype == torch.bfloat16:
                f.readinto(memoryview(p.data.view(torch.int16).numpy()).cast('B'))
            else:  # widen in row blocks of <= 16M values
                rows = p.shape[0]
                cols = p.numel() // rows
                step = max(1, (16 << 20) // cols)
                buf = torch.empty(step * cols, dtype=torch.int16)
                for r0 in range(0, rows, step):
                    r = min(step, rows - r0)
                    b = buf[:r * cols]
                    f.readinto(memoryview(b.numpy()).cast('B'))
                    p.data.view(rows, cols)[r0:r0 + r].copy_(b.view(torch.bfloat16).view(r, cols))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', required=True)
    ap.add_argument('--head', choices=['sparse', 'dense'], required=True)
    ap.add_argument('--dtype', choices=['fp32', 'bf16'], default='fp32')
    ap.add_argument('--autocast', action='store_true')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--lengths', default='128,512')
    ap.add_argument('--docs', default='16,8', help='documents measured per length')
    ap.add_argument('--batch', default='8,4', help='documents per forward per length')
    ap.add_argument('--warmup-docs', type=int, default=2)
    ap.add_argument('--seed', type=int, default=7)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    env = anchor_env.describe(probe=False)
    anchor_env.require(env, ['jemalloc', 'openblas'] + (['onednn-bf16'] if a.dtype == 'bf16' or a.autocast else []))
    cfg = json.load(open(os.path.join(a.model, 'config.json')))
    t0, c0 = time.perf_counter(), time.process_time()
    # no random initialisation (it would write every float32 page): parameters are filled from the file
    saved = torch.nn.Linear.reset_parameters, torch.nn.Embedding.reset_parameters
    torch.nn.Linear.reset_parameters = torch.nn.Embedding.reset_parameters = lambda self: None
    with torch.no_grad():
        model = BiLlama(cfg['vocab_size'], cfg['hidden_size'], cfg['num_hidden_layers'], cfg['num_attention_heads'],
                        cfg['intermediate_size'], theta=cfg['rope_theta'], eps=cfg['rms_norm_eps'],
                        kv_heads=cfg['num_key_value_heads'], head_dim=cfg.get('head_dim'),
                        tie=cfg['tie_word_embeddings'], rope_scaling=cfg.get('rope_scaling'), init=False)
        if a.dtype == 'bf16':
            model = model.to(torch.bfloat16)  # before any parameter page is touched: the fp32 storage never becomes resident
        load_into(model, os.path.join(a.model, 'model.safetensors'), a.dtype)
    torch.nn.Linear.reset_parameters, torch.nn.Embedding.reset_parameters = saved
    model.eval()
    load = {'seconds': time.perf_counter() - t0, 'cpuSeconds': time.process_time() - c0,
            'peakRssBytes': status_kb('VmHWM'), 'rssBytes': status_kb('VmRSS')}
    weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    head = sparse_frugal if a.head == 'sparse' else dense_head
    V = cfg['vocab_size']
    g = torch.Generator().manual_seed(a.seed)
    autocast = torch.autocast('cpu', dtype=torch.bfloat16) if a.autocast else torch.autocast('cpu', enabled=False)
    phases = []
    with torch.no_grad(), autocast:
        for T, ndocs, bs in zip(map(int, a.lengths.split(',')), map(int, a.docs.split(',')), map(int, a.batch.split(','))):
            ids = torch.randint(0, V, (ndocs, T), generator=g)
            mask = torch.ones(ndocs, T, dtype=torch.long)
            reset = reset_peak()
            w = ids[:a.warmup_docs]
            wm = mask[:a.warmup_docs]
            tw = time.perf_counter()
            head(model, model(w, wm), wm)
            warm = time.perf_counter() - tw
            t1, c1 = time.perf_counter(), time.process_time()
            la0 = os.getloadavg()
            batches = []
            for b0 in range(0, ndocs, bs):
                tb = time.perf_counter()
                rep = head(model, model(ids[b0:b0 + bs], mask[b0:b0 + bs]), mask[b0:b0 + bs])
                batches.append(time.perf_counter() - tb)
            dt, dc = time.perf_counter() - t1, time.process_time() - c1
            phases.append({'tokens': T, 'docs': ndocs, 'batch': bs, 'warmupDocs': a.warmup_docs, 'warmupSeconds': warm,
                           'seconds': dt, 'cpuSeconds': dc, 'batchSeconds': batches, 'docsPerSec': ndocs / dt,
                           'peakRssBytes': status_kb('VmHWM'), 'peakReset': reset, 'loadavg': [la0, list(os.getloadavg())],
                           'repDtype': str(rep.dtype)})
    out = {'impl': 'torch', 'dtype': a.dtype, 'autocast': a.autocast, 'head': a.head, 'threads': a.threads,
           'torch': torch.__version__, 'anchorEnv': env, 'weightBytes': weight_bytes, 'load': load, 'phases': phases,
           'sparseHead': 'frugal (4096 vocabulary rows at a time)' if a.head == 'sparse' else None}
    json.dump(out, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
