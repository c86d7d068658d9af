#!/usr/bin/python3
"""Random Llama checkpoints with real model shapes, for bench/encode-real.ts and bench/precision-quality.ts.

  --shape 1b   Llama-3.2-1B: vocab 128256, hidden 2048, 16 layers, 32 heads, 8 kv heads, head_dim 64,
               intermediate 8192, rope_theta 5e5 with llama3 rope_scaling (factor 32), tied embeddings (2.47 GB)
  --shape 8b   Llama-3-8B: vocab 128256, hidden 4096, 32 layers, 32 heads, 8 kv heads, head_dim 128,
               intermediate 14336, rope_theta 5e5, untied lm_head (16.06 GB)

Weights are N(0, 0.02) as transformers initialises them (RMSNorm weights 1), written straight to one bf16
model.safetensors in Hugging Face layout, tensor by tensor and in row blocks of at most 32M values, so the
generator never holds more than ~130 MB of float32 whatever the model size (the 8B file is never built in
fp32). The header's __metadata__ records the shape and seed; a directory that already holds the same
checkpoint is left alone. Prints one JSON line: {dir, bytes, params, seconds, reused}.

Run: /usr/bin/python3 scripts/gen_llama_checkpoint.py --shape 1b --out bench/work/llama-1b [--seed 0]
"""
import argparse
import json
import os
import struct
import time

import torch

SHAPES = {
    '1b': {
        'architectures': ['LlamaForCausalLM'], 'model_type': 'llama', 'vocab_size': 128256, 'hidden_size': 2048,
        'intermediate_size': 8192, 'num_hidden_layers': 16, 'num_attention_heads': 32, 'num_key_value_heads': 8,
        'head_dim': 64, 'hidden_act': 'silu', 'max_position_embeddings': 131072, 'rms_norm_eps': 1e-5,
        'rope_theta': 500000.0, 'rope_scaling': {'factor': 32.0, 'low_freq_factor': 1.0, 'high_freq_factor': 4.0,
                                                 'original_max_position_embeddings': 8192, 'rope_type': 'llama3'},
        'attention_bias': False, 'mlp_bias': False, 'tie_word_embeddings': True, 'bos_token_id': 128000,
        'eos_token_id': 128001, 'torch_dtype': 'bfloat16',
    },
    '8b': {
        'architectures': ['LlamaForCausalLM'], 'model_type': 'llama', 'vocab_size': 128256, 'hidden_size': 4096,
        'intermediate_size': 14336, 'num_hidden_layers': 32, 'num_attention_heads': 32, 'num_key_value_heads': 8,
        'head_dim': 128, 'hidden_act': 'silu', 'max_position_embeddings': 8192, 'rms_norm_eps': 1e-5,
        'rope_theta': 500000.0, 'attention_bias': False, 'mlp_bias': False, 'tie_word_embeddings': False,
        'bos_token_id': 128000, 'eos_token_id': 128001, 'torch_dtype': 'bfloat16',
    },
}
BLOCK = 32 * 1024 * 1024  # values generated at once


def tensors(cfg):
    """(name, shape, kind) in the order they are written; kind 'normal' or 'ones'."""
    C, I, V = cfg['hidden_size'], cfg['intermediate_size'], cfg['vocab_size']
    H, KVH, D = cfg['num_attention_heads'], cfg['num_key_value_heads'], cfg['head_dim']
    out = [('model.embed_tokens.weight', (V, C), 'normal')]
    for l in range(cfg['num_hidden_layers']):
        p = f'model.layers.{l}.'
        out += [(p + 'input_layernorm.weight', (C,), 'ones'),
                (p + 'self_attn.q_proj.weight', (H * D, C), 'normal'),
                (p + 'self_attn.k_proj.weight', (KVH * D, C), 'normal'),
                (p + 'self_attn.v_proj.weight', (KVH * D, C), 'normal'),
                (p + 'self_attn.o_proj.weight', (C, H * D), 'normal'),
                (p + 'post_attention_layernorm.weight', (C,), 'ones'),
                (p + 'mlp.gate_proj.weight', (I, C), 'normal'),
                (p + 'mlp.up_proj.weight', (I, C), 'normal'),
                (p + 'mlp.down_proj.weight', (C, I), 'normal')]
    out.append(('model.norm.weight', (C,), 'ones'))
    if not cfg['tie_word_embeddings']:
        out.append(('lm_head.weight', (V, C), 'normal'))
    return out


def numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def header_bytes(specs, metadata):
    header, off = {'__metadata__': metadata}, 0
    for name, shape, _ in specs:
        n = numel(shape) * 2
        header[name] = {'dtype': 'BF16', 'shape': list(shape), 'data_offsets': [off, off + n]}
        off += n
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    return h, off


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--shape', choices=list(SHAPES), required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    cfg = SHAPES[a.shape]
    specs = tensors(cfg)
    meta = {'format': 'pt', 'generator': 'scripts/gen_llama_checkpoint.py', 'shape': a.shape, 'seed': str(a.seed), 'init': 'N(0, 0.02), norms 1'}
    h, data = header_bytes(specs, meta)
    path = os.path.join(a.out, 'model.safetensors')
    params = sum(numel(s) for _, s, _ in specs)
    t0 = time.perf_counter()
    if os.path.exists(path) and os.path.getsize(path) == 8 + len(h) + data:
        with open(path, 'rb') as f:
            n = struct.unpack('<Q', f.read(8))[0]
            old = json.loads(f.read(n)).get('__metadata__', {})
        if old == meta:
            print(json.dumps({'dir': a.out, 'bytes': 8 + len(h) + data, 'params': params, 'seconds': 0, 'reused': True}))
            return
    os.makedirs(a.out, exist_ok=True)
    g = torch.Generator().manual_seed(a.seed)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for name, shape, kind in specs:
            rows, cols = (shape[0], numel(shape[1:])) if len(shape) > 1 else (1, shape[0])
            step = max(1, BLOCK // cols)
            for r0 in range(0, rows, step):
                r = min(step, rows - r0)
                block = torch.ones(r, cols) if kind == 'ones' else torch.randn(r, cols, generator=g) * 0.02
                f.write(block.to(torch.bfloat16).view(torch.int16).numpy().tobytes())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    with open(os.path.join(a.out, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=1)
        f.write('\n')
    print(json.dumps({'dir': a.out, 'bytes': 8 + len(h) + data, 'params': params, 'seconds': round(time.perf_counter() - t0, 1), 'reused': False}))


if __name__ == '__main__':
    main()
