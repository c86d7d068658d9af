#!/usr/bin/env python3
"""PyTorch speed anchors for bench/train-step.ts, bench/encode.ts and bench/train-losses.ts.

A minimal bidirectional Llama written directly in torch (no transformers): embedding, per layer RMSNorm,
q/k/v/o projections without bias, rotary embeddings in the rotate-half layout, softmax attention with a
key-padding mask and no causal triangle, SwiGLU MLP, final RMSNorm, untied LM head. Heads:

- sparse "literal" (spec section 2.4, as the authors' code writes it): logits = LMHead(h) * d^-1/4, the
  full (B, T, V) tensor materialised, -1e6 added at padded positions, max over tokens, ReLU, log1p;
- sparse "frugal": the same maths chunked over the vocabulary (VCHUNK rows of the head at a time), the max
  over tokens taken per chunk before log1p(ReLU), so only (B, T, VCHUNK) logits exist at once;
- dense: masked mean of L2-normalised final states (F.normalize), not re-normalised.

Tasks (one configuration per process, so ru_maxrss is that configuration's peak):
  train-step    one full fine-tuning step: encode queries and documents, InfoNCE over every document of the
                batch (query i's positive is document i), backward, clip to 1.0, AdamW.
  train-losses  the same step with CL+KD (InfoNCE + KL(teacher || student) over each query's own 1+n
                documents, / 2) and, for the sparse head, the FLOPS regulariser on queries and documents.
  encode        no-grad inference over --docs documents in batches of --batch.

Prints one JSON object on stdout: per-step (or per-pass) seconds, their median, peak RSS in bytes.
--autocast runs forward and loss under torch.autocast('cpu', dtype=torch.bfloat16) (bf16 matmuls on oneDNN,
float32 weights, optimiser and loss); --dtype bf16 (encode) runs model.to(torch.bfloat16) under no_grad, as a
user running a bf16 checkpoint does. The process checks its own environment (scripts/anchor_env.py) and exits
with status 3 when jemalloc or OpenBLAS is not loaded (or oneDNN is missing for bf16).

Run it as bench/*.ts do: jemalloc through LD_PRELOAD told to keep freed memory, OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE unset, OpenBLAS (not the reference BLAS) first on LD_LIBRARY_PATH, OPENBLAS_NUM_THREADS and
OMP_NUM_THREADS equal to --threads.
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import anchor_env  # noqa: E402

VCHUNK = 4096


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):  # transformers' LlamaRMSNorm: statistics in float32, cast back, then the weight
        dt = x.dtype
        x = x.float()
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)).to(dt)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Layer(nn.Module):
    def __init__(self, d, heads, ffn, eps, kv_heads=None, head_dim=None):
        super().__init__()
        self.h, self.dh = heads, head_dim or d // heads
        self.kvh = kv_heads or heads
        self.input_layernorm = RMSNorm(d, eps)
        self.q_proj = nn.Linear(d, self.h * self.dh, bias=False)
        self.k_proj = nn.Linear(d, self.kvh * self.dh, bias=False)
        self.v_proj = nn.Linear(d, self.kvh * self.dh, bias=False)
        self.o_proj = nn.Linear(self.h * self.dh, d, bias=False)
        self.post_attention_layernorm = RMSNorm(d, eps)
        self.gate_proj = nn.Linear(d, ffn, bias=False)
        self.up_proj = nn.Linear(d, ffn, bias=False)
        self.down_proj = nn.Linear(ffn, d, bias=False)

    def forward(self, x, cos, sin, bias):
        B, T, C = x.shape
        h = self.input_layernorm(x)
        q = self.q_proj(h).view(B, T, self.h, self.dh).transpose(1, 2)  # (B, H, T, D)
        k = self.k_proj(h).view(B, T, self.kvh, self.dh).transpose(1, 2)
        v = self.v_proj(h).view(B, T, self.kvh, self.dh).transpose(1, 2)
        cos, sin = cos.to(v.dtype), sin.to(v.dtype)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if self.kvh != self.h:  # grouped-query attention: transformers' repeat_kv
            k = k.repeat_interleave(self.h // self.kvh, dim=1)
            v = v.repeat_interleave(self.h // self.kvh, dim=1)
        s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.dh) + bias  # (B, H, T, T)
        a = torch.softmax(s, dim=-1, dtype=torch.float32).to(q.dtype)  # transformers: softmax in float32
        a = torch.matmul(a, v).transpose(1, 2).reshape(B, T, self.h * self.dh)
        x = x + self.o_proj(a)
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


def llama3_inv_freq(inv, rs):
    """transformers 4.43 _compute_llama3_parameters."""
    factor, lo, hi, old = rs['factor'], rs['low_freq_factor'], rs['high_freq_factor'], rs['original_max_position_embeddings']
    out = []
    for f in inv.tolist():
        wl = 2 * math.pi / f
        if wl < old / hi:
            out.append(f)
        elif wl > old / lo:
            out.append(f / factor)
        else:
            s = (old / wl - lo) / (hi - lo)
            out.append((1 - s) * f / factor + s * f)
    return torch.tensor(out, dtype=torch.float32)


class BiLlama(nn.Module):
    def __init__(self, vocab, d, layers, heads, ffn, theta=10000.0, eps=1e-6, kv_heads=None, head_dim=None,
                 tie=False, rope_scaling=None, init=True):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList([Layer(d, heads, ffn, eps, kv_heads, head_dim) for _ in range(layers)])
        self.norm = RMSNorm(d, eps)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        if tie:
            self.lm_head.weight = self.embed_tokens.weight
        dh = head_dim or d // heads
        self.inv_freq = 1.0 / (theta ** (torch.arange(0, dh, 2).float() / dh))
        if rope_scaling and rope_scaling.get('rope_type', rope_scaling.get('type')) == 'llama3':
            self.inv_freq = llama3_inv_freq(self.inv_freq, rope_scaling)
        self.d = d
        if init:
            for m in self.modules():  # transformers' LlamaPreTrainedModel._init_weights
                if isinstance(m, (nn.Linear, nn.Embedding)):
                    nn.init.normal_(m.weight, std=0.02)

    def forward(self, ids, mask):
        B, T = ids.shape
        pos = torch.arange(T, dtype=torch.float32)
        f = torch.outer(pos, self.inv_freq)
        emb = torch.cat((f, f), dim=-1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]  # (1, 1, T, D)
        x = self.embed_tokens(ids)
        bias = (1.0 - mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min  # key padding only
        for layer in self.layers:
            x = layer(x, cos, sin, bias)
        return self.norm(x)  # (B, T, C)


def sparse_literal(model, h, mask):
    logits = model.lm_head(h) * model.d ** -0.25  # (B, T, V), materialised
    logits = logits + (1.0 - mask.unsqueeze(-1).float()) * -1e6
    values = logits.max(dim=1).values  # (B, V)
    return torch.log1p(torch.relu(values))


def sparse_frugal(model, h, mask):
    W = model.lm_head.weight  # (V, C)
    pad = (1.0 - mask.unsqueeze(-1).float()) * -1e6
    parts = []
    for v0 in range(0, W.shape[0], VCHUNK):
        logits = torch.matmul(h, W[v0:v0 + VCHUNK].t()) * model.d ** -0.25  # (B, T, VCHUNK)
        parts.append((logits + pad).max(dim=1).values)
    return torch.log1p(torch.relu(torch.cat(parts, dim=1)))  # (B, V)


def dense_head(model, h, mask):
    m = mask.unsqueeze(-1).to(h.dtype)
    return (F.normalize(h, dim=-1) * m).sum(1) / m.sum(1)  # (B, C)


HEADS = {'literal': sparse_literal, 'frugal': sparse_frugal, 'dense': dense_head}


def flops_reg(r):
    return (r.abs().mean(0) ** 2).sum()


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('task', choices=['train-step', 'train-losses', 'encode'])
    ap.add_argument('--head', choices=list(HEADS), default='literal')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--steps', type=int, default=3)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--vocab', type=int, default=32000)
    ap.add_argument('--hidden', type=int, default=256)
    ap.add_argument('--layers', type=int, default=4)
    ap.add_argument('--heads', type=int, default=4)
    ap.add_argument('--ffn', type=int, default=688)
    ap.add_argument('--queries', type=int, default=16)
    ap.add_argument('--qlen', type=int, default=32)
    ap.add_argument('--docs', type=int, default=128)
    ap.add_argument('--dlen', type=int, default=128)
    ap.add_argument('--batch', type=int, default=64, help='encode: documents per forward')
    ap.add_argument('--tau', type=float, default=0.01)
    ap.add_argument('--autocast', action='store_true', help="run forward and loss under torch.autocast('cpu', dtype=torch.bfloat16)")
    ap.add_argument('--dtype', choices=['fp32', 'bf16'], default='fp32', help='encode: bf16 = model.to(torch.bfloat16)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    bf16 = a.autocast or a.dtype == 'bf16'
    env = anchor_env.describe()
    anchor_env.require(env, ['jemalloc', 'openblas'] + (['onednn-bf16'] if bf16 else []))
    torch.manual_seed(0)
    model = BiLlama(a.vocab, a.hidden, a.layers, a.heads, a.ffn)
    if a.dtype == 'bf16':
        model = model.to(torch.bfloat16)
    autocast = (lambda: torch.autocast('cpu', dtype=torch.bfloat16)) if a.autocast else (lambda: torch.autocast('cpu', enabled=False))
    head = HEADS[a.head]
    g = torch.Generator().manual_seed(1)
    d_ids = torch.randint(0, a.vocab, (a.docs, a.dlen), generator=g)
    d_mask = torch.ones(a.docs, a.dlen, dtype=torch.long)
    times, cpu = [], []
    extra = {}
    if a.task == 'encode':
        model.eval()
        with torch.no_grad(), autocast():
            for it in range(a.warmup + a.steps):
                t0, c0 = time.perf_counter(), time.process_time()
                for b0 in range(0, a.docs, a.batch):
                    rep = head(model, model(d_ids[b0:b0 + a.batch], d_mask[b0:b0 + a.batch]), d_mask[b0:b0 + a.batch])
                dt, dc = time.perf_counter() - t0, time.process_time() - c0
                if it >= a.warmup:
                    times.append(dt)
                    cpu.append(dc)
        extra['docsPerSec'] = a.docs / statistics.median(times)
    else:
        q_ids = torch.randint(0, a.vocab, (a.queries, a.qlen), generator=g)
        q_mask = torch.ones(a.queries, a.qlen, dtype=torch.long)
        B, Nc = a.queries, a.docs
        n = Nc // B - 1  # hard negatives per query: row B + i*n + j, as Lion's collator layout
        teacher = torch.randn(B, 1 + n, generator=g)
        own = torch.tensor([[i] + [B + i * n + j for j in range(n)] for i in range(B)])  # (B, 1+n)
        scale = 1.0 if a.head != 'dense' else 1.0 / a.tau
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
        model.train()
        for it in range(a.warmup + a.steps):
            t0, c0 = time.perf_counter(), time.process_time()
            opt.zero_grad(set_to_none=True)
            with autocast():
                q = head(model, model(q_ids, q_mask), q_mask)  # (B, dim)
                c = head(model, model(d_ids, d_mask), d_mask)  # (Nc, dim)
                S = scale * (q @ c.t())  # (B, Nc)
            S = S.float()
            loss = F.cross_entropy(S, torch.arange(B))
            if a.task == 'train-losses':
                s_own = torch.gather(S, 1, own)  # (B, 1+n)
                kl = F.kl_div(F.log_softmax(s_own, -1), F.log_softmax(teacher, -1), reduction='batchmean', log_target=True)
                loss = (loss + kl) / 2
                if a.head != 'dense':
                    loss = loss + 0.05 * flops_reg(q) + 0.04 * flops_reg(c)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            dt, dc = time.perf_counter() - t0, time.process_time() - c0
            if it >= a.warmup:
                times.append(dt)
                cpu.append(dc)
            extra['loss'] = float(loss)
    out = {'task': a.task, 'head': a.head, 'threads': a.threads, 'torch': torch.__version__, 'autocast': a.autocast,
           'dtype': a.dtype, 'anchorEnv': env, 'seconds': times,
           'median': statistics.median(times),
           'cpuSeconds': cpu, 'cpuMedian': statistics.median(cpu), 'loadavg': list(os.getloadavg()), 'peakRssBytes': peak_rss_bytes(), **extra}
    json.dump(out, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
