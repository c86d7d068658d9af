#!/usr/bin/python3
"""Golden tensors for Lion's Llama/Qwen2 model (test/model/*.test.ts compare against them).

Builds two tiny random models in Hugging Face layout, in plain PyTorch (no `transformers`: the forward below is
a line-by-line transcription of transformers 4.43 LlamaModel / Qwen2Model: RMSNorm, rotate-half RoPE with
Llama-3 `rope_scaling`, grouped-query attention, SwiGLU MLP, tied or untied LM head, Qwen2's q/k/v biases):

  llama/  tied embeddings, rope_theta 5e5 with llama3 rope_scaling, rms_norm_eps 1e-5, one model.safetensors (bf16)
          adapter/ a PEFT LoRA adapter with the sparse key layout  base_model.model.model.layers.N...
  qwen2/  untied lm_head, q/k/v biases, rope_theta 1e4, rms_norm_eps 1e-6, two shards + model.safetensors.index.json
          adapter/ a PEFT LoRA adapter with the dense key layout   base_model.model.layers.N...

Weights are random values rounded to bfloat16 (so the bf16 files hold them exactly) and every computation here
runs in float64, so the goldens are the exact answer for those weights and Lion's float32 result is compared
against them with a relative tolerance.

Bidirectional attention follows scaling_retriever/modeling/bidirectional_llama.py (spec §2.2): an all-zero
additive mask plus the key-padding mask only. Causal adds the usual triangle. The batch is right-padded, so
HF's default position ids arange(T) equal positions 0..n-1 over the real tokens.

For each model x {bidirectional, causal} x {no LoRA, LoRA}: logits and final (normed) hidden states at the
real positions, the loss (mean cross-entropy of next-token labels, -100 ignored), gradients (every parameter
for full fine-tuning in the bidirectional case; the LoRA parameters for the LoRA cases), and the losses of 10
torch.optim.AdamW steps on the same batch. Output: test/fixtures/golden/<model>/golden.safetensors + cases.json.

Reduced precision (golden-bf16.safetensors + cases-bf16.json, per model): the same weights and batch run the
way a PyTorch user runs them in bfloat16, with transformers 4.43's own casts (RMSNorm in float32 then cast back,
cos/sin cast to the activations' dtype, softmax in float32 then cast back, logits .float()):

  autocast  float32 weights under torch.autocast('cpu', dtype=torch.bfloat16): matmuls and linears in bf16
            (outputs rounded to bf16), the residual stream float32. Bidirectional: final hidden states, logits,
            the sparse rep (log1p(relu(max_t logits·d^-1/4)), real tokens) and the dense rep (masked mean of
            F.normalize(h)), the loss, and its gradients for full fine-tuning (`autocast.bi`) and for the LoRA
            adapter on the frozen base (`autocast.bi_lora`, the paper's setting).
  bf16w     the checkpoint loaded as bf16 (model.to(torch.bfloat16)): every activation bf16, reps taken in
            float32 from the bf16 final states. Forward only (hidden, logits, sparse, dense).

plus the exact float64 sparse and dense reps (`bi.sparse`, `bi.dense`). cases-bf16.json records, for each
tensor, PyTorch's own error against the float64 answer (relative Frobenius error, smallest row cosine), so a
reduced-precision path can be held to "no worse than PyTorch's bf16, within a stated factor".

Run: /usr/bin/python3 scripts/make_golden.py   (torch >= 1.13, numpy; deterministic, seed 1234)
"""
import json
import math
import os
import struct

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'golden')
torch.manual_seed(1234)
DT = torch.float64

# ------------------------------------------------------------------------------------------ safetensors io
DTYPES = {torch.float32: 'F32', torch.bfloat16: 'BF16', torch.float16: 'F16'}


def write_safetensors(path, tensors, metadata=None):
    """Minimal safetensors writer: u64 header length, JSON header (8-byte padded), raw little-endian data."""
    header, blobs, off = {}, [], 0
    if metadata:
        header['__metadata__'] = metadata
    for name, t in tensors.items():
        t = t.contiguous()
        if t.dtype == torch.bfloat16:
            b = t.view(torch.int16).numpy().tobytes()
        else:
            b = t.numpy().tobytes()
        header[name] = {'dtype': DTYPES[t.dtype], 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(obj, f, indent=1)
        f.write('\n')


# ------------------------------------------------------------------------------------------ the model
def rand(*shape, std=1.0, mean=0.0):
    """Random values that bf16 holds exactly, as float64."""
    return (torch.randn(*shape) * std + mean).to(torch.bfloat16).to(DT)


def rope_inv_freq(cfg):
    D = cfg['head_dim']
    inv = 1.0 / (cfg['rope_theta'] ** (torch.arange(0, D, 2, dtype=torch.int64).to(DT) / D))
    rs = cfg.get('rope_scaling')
    if rs and rs.get('rope_type', rs.get('type')) == 'llama3':
        # transformers 4.43 _compute_llama3_parameters
        factor, lo, hi, old = rs['factor'], rs['low_freq_factor'], rs['high_freq_factor'], rs['original_max_position_embeddings']
        low_wl, high_wl = old / lo, old / hi
        out = []
        for f in inv.tolist():
            wl = 2 * math.pi / f
            if wl < high_wl:
                out.append(f)
            elif wl > low_wl:
                out.append(f / factor)
            else:
                smooth = (old / wl - lo) / (hi - lo)
                out.append((1 - smooth) * f / factor + smooth * f)
        inv = torch.tensor(out, dtype=DT)
    return inv


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rmsnorm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def make_params(cfg, qkv_bias):
    C, I, V = cfg['hidden_size'], cfg['intermediate_size'], cfg['vocab_size']
    H, KVH, D = cfg['num_attention_heads'], cfg['num_key_value_heads'], cfg['head_dim']
    p = {'model.embed_tokens.weight': rand(V, C, std=0.15)}
    for l in range(cfg['num_hidden_layers']):
        pre = f'model.layers.{l}.'
        p[pre + 'input_layernorm.weight'] = rand(C, std=0.1, mean=1.0)
        p[pre + 'self_attn.q_proj.weight'] = rand(H * D, C, std=C ** -0.5)
        p[pre + 'self_attn.k_proj.weight'] = rand(KVH * D, C, std=C ** -0.5)
        p[pre + 'self_attn.v_proj.weight'] = rand(KVH * D, C, std=C ** -0.5)
        if qkv_bias:
            p[pre + 'self_attn.q_proj.bias'] = rand(H * D, std=0.1)
            p[pre + 'self_attn.k_proj.bias'] = rand(KVH * D, std=0.1)
            p[pre + 'self_attn.v_proj.bias'] = rand(KVH * D, std=0.1)
        p[pre + 'self_attn.o_proj.weight'] = rand(C, H * D, std=(H * D) ** -0.5)
        p[pre + 'post_attention_layernorm.weight'] = rand(C, std=0.1, mean=1.0)
        p[pre + 'mlp.gate_proj.weight'] = rand(I, C, std=C ** -0.5)
        p[pre + 'mlp.up_proj.weight'] = rand(I, C, std=C ** -0.5)
        p[pre + 'mlp.down_proj.weight'] = rand(C, I, std=I ** -0.5)
    p['model.norm.weight'] = rand(C, std=0.1, mean=1.0)
    if not cfg['tie_word_embeddings']:
        p['lm_head.weight'] = rand(V, C, std=0.15)
    return p


TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']


def lora_module(name):
    return ('self_attn.' if name in ('q_proj', 'k_proj', 'v_proj', 'o_proj') else 'mlp.') + name


def make_lora(cfg, params, r):
    """LoRA A (r, in) and B (out, r), keyed by the base weight name. B is non-zero so the adapter matters."""
    lora = {}
    for l in range(cfg['num_hidden_layers']):
        for t in TARGETS:
            w = params[f'model.layers.{l}.{lora_module(t)}.weight']
            out_f, in_f = w.shape
            lora[f'model.layers.{l}.{lora_module(t)}'] = (rand(r, in_f, std=in_f ** -0.5), rand(out_f, r, std=0.3))
    return lora


def forward(cfg, p, lora, scaling, ids, mask, causal):
    """Returns (logits (B,T,V), hidden (B,T,C)) in float64."""
    B, T = ids.shape
    H, KVH, D, eps = cfg['num_attention_heads'], cfg['num_key_value_heads'], cfg['head_dim'], cfg['rms_norm_eps']

    def lin(x, key):
        y = x @ p[key + '.weight'].T
        if key + '.bias' in p:
            y = y + p[key + '.bias']
        if lora is not None and key in lora:
            a, b = lora[key]
            y = y + (x @ a.T @ b.T) * scaling
        return y

    x = p['model.embed_tokens.weight'][ids]
    pos = torch.arange(T, dtype=DT)
    freqs = torch.outer(pos, rope_inv_freq(cfg))
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]
    # additive mask: 0 where visible, -inf at padded keys (and above the diagonal when causal)
    add = torch.zeros(B, 1, T, T, dtype=DT)
    add = add.masked_fill(mask[:, None, None, :] == 0, float('-inf'))
    if causal:
        add = add + torch.triu(torch.full((T, T), float('-inf'), dtype=DT), diagonal=1)
    for l in range(cfg['num_hidden_layers']):
        pre = f'model.layers.{l}.'
        h = rmsnorm(x, p[pre + 'input_layernorm.weight'], eps)
        q = lin(h, pre + 'self_attn.q_proj').view(B, T, H, D).transpose(1, 2)
        k = lin(h, pre + 'self_attn.k_proj').view(B, T, KVH, D).transpose(1, 2)
        v = lin(h, pre + 'self_attn.v_proj').view(B, T, KVH, D).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // KVH, dim=1)
        v = v.repeat_interleave(H // KVH, dim=1)
        att = (q @ k.transpose(2, 3)) / math.sqrt(D) + add
        att = torch.softmax(att, dim=-1)
        o = (att @ v).transpose(1, 2).reshape(B, T, H * D)
        x = x + lin(o, pre + 'self_attn.o_proj')
        h = rmsnorm(x, p[pre + 'post_attention_layernorm.weight'], eps)
        g = lin(h, pre + 'mlp.gate_proj')
        u = lin(h, pre + 'mlp.up_proj')
        x = x + lin(torch.nn.functional.silu(g) * u, pre + 'mlp.down_proj')
    hidden = rmsnorm(x, p['model.norm.weight'], eps)
    head = p['model.embed_tokens.weight'] if cfg['tie_word_embeddings'] else p['lm_head.weight']
    return hidden @ head.T, hidden


def loss_fn(logits, labels):
    V = logits.shape[-1]
    return torch.nn.functional.cross_entropy(logits.reshape(-1, V), labels.reshape(-1), ignore_index=-100)


# ------------------------------------------------------------------------------------------ the goldens
ADAMW = {'lr': 5e-3, 'beta1': 0.9, 'beta2': 0.999, 'eps': 1e-8, 'weight_decay': 0.01, 'steps': 10}
LORA = {'r': 4, 'lora_alpha': 8, 'lora_dropout': 0.0}


def batch(cfg, lengths, T, pad_id, bos_id):
    B = len(lengths)
    ids = torch.full((B, T), pad_id, dtype=torch.int64)
    mask = torch.zeros(B, T, dtype=torch.int64)
    for b, n in enumerate(lengths):
        ids[b, 0] = bos_id
        ids[b, 1:n] = torch.randint(3, cfg['vocab_size'], (n - 1,))
        mask[b, :n] = 1
    labels = torch.full((B, T), -100, dtype=torch.int64)
    for b, n in enumerate(lengths):
        labels[b, :n - 1] = ids[b, 1:n]
    return ids, mask, labels


def peft_key(base_key, which, dense):
    """peft's saved key for a LoRA tensor: sparse base (…ForCausalLM) keeps `model.`, dense (…Model) has none."""
    key = base_key[len('model.'):] if dense else base_key
    return f'base_model.model.{key}.lora_{which}.weight'


def make_model(name, cfg, qkv_bias, shards, dense_adapter, script_only=()):
    d = os.path.join(OUT, name)
    params = make_params(cfg, qkv_bias)
    lora = make_lora(cfg, params, LORA['r'])
    scaling = LORA['lora_alpha'] / LORA['r']
    write_json(os.path.join(d, 'config.json'), {k: v for k, v in cfg.items() if k not in script_only})
    bf = {k: v.to(torch.bfloat16) for k, v in params.items()}
    if shards == 1:
        write_safetensors(os.path.join(d, 'model.safetensors'), bf, {'format': 'pt'})
    else:
        keys = list(bf)
        cut = len(keys) // 2
        parts = [keys[:cut], keys[cut:]]
        wmap = {}
        for i, part in enumerate(parts):
            fn = f'model-{i + 1:05d}-of-{len(parts):05d}.safetensors'
            write_safetensors(os.path.join(d, fn), {k: bf[k] for k in part}, {'format': 'pt'})
            wmap.update({k: fn for k in part})
        total = sum(v.numel() * 2 for v in bf.values())
        write_json(os.path.join(d, 'model.safetensors.index.json'), {'metadata': {'total_size': total}, 'weight_map': wmap})
    # the adapter, in peft's on-disk layout
    ad = {}
    for key, (a, b) in lora.items():
        ad[peft_key(key, 'A', dense_adapter)] = a.to(torch.float32)
        ad[peft_key(key, 'B', dense_adapter)] = b.to(torch.float32)
    write_safetensors(os.path.join(d, 'adapter', 'adapter_model.safetensors'), ad, {'format': 'pt'})
    write_json(os.path.join(d, 'adapter', 'adapter_config.json'), {
        'peft_type': 'LORA', 'task_type': None, 'base_model_name_or_path': '..',
        'r': LORA['r'], 'lora_alpha': LORA['lora_alpha'], 'lora_dropout': LORA['lora_dropout'],
        'target_modules': TARGETS, 'bias': 'none', 'fan_in_fan_out': False, 'inference_mode': True,
        'modules_to_save': None, 'init_lora_weights': True,
        'auto_mapping': {'base_model_class': 'LlamaBiModel' if dense_adapter else 'LlamaBiForMNTP', 'parent_library': 'scaling_retriever.modeling.bidirectional_llama'},
    })

    ids, mask, labels = batch(cfg, [7, 5, 3], 7, cfg['eos_token_id'], cfg['bos_token_id'])
    real = mask.reshape(-1).nonzero().reshape(-1)
    out, cases = {}, []
    for causal in (False, True):
        for use_lora in (False, True):
            tag = ('causal' if causal else 'bi') + ('_lora' if use_lora else '')
            ps = {k: v.clone().requires_grad_(not use_lora) for k, v in params.items()}
            ls = {k: (a.clone().requires_grad_(use_lora), b.clone().requires_grad_(use_lora)) for k, (a, b) in lora.items()} if use_lora else None
            logits, hidden = forward(cfg, ps, ls, scaling, ids, mask, causal)
            loss = loss_fn(logits, labels)
            loss.backward()
            V, C = cfg['vocab_size'], cfg['hidden_size']
            out[f'{tag}.logits'] = logits.detach().reshape(-1, V)[real].float()
            out[f'{tag}.hidden'] = hidden.detach().reshape(-1, C)[real].float()
            grads = []
            if use_lora:
                for key, (a, b) in ls.items():
                    for which, t in (('A', a), ('B', b)):
                        gk = peft_key(key, which, dense_adapter)
                        out[f'{tag}.grad.{gk}'] = t.grad.float()
                        grads.append(gk)
            elif not causal:
                for k, v in ps.items():
                    out[f'{tag}.grad.{k}'] = v.grad.float()
                    grads.append(k)
            # 10 AdamW steps from the same start, on the same batch
            ps = {k: v.clone().requires_grad_(not use_lora) for k, v in params.items()}
            ls = {k: (a.clone().requires_grad_(True), b.clone().requires_grad_(True)) for k, (a, b) in lora.items()} if use_lora else None
            train = [t for ab in ls.values() for t in ab] if use_lora else list(ps.values())
            opt = torch.optim.AdamW(train, lr=ADAMW['lr'], betas=(ADAMW['beta1'], ADAMW['beta2']), eps=ADAMW['eps'], weight_decay=ADAMW['weight_decay'])
            step_losses = []
            for _ in range(ADAMW['steps']):
                opt.zero_grad()
                lg, _ = forward(cfg, ps, ls, scaling, ids, mask, causal)
                l = loss_fn(lg, labels)
                l.backward()
                opt.step()
                step_losses.append(l.item())
            cases.append({'name': tag, 'causal': causal, 'lora': use_lora, 'loss': loss.item(), 'grads': grads, 'adamwLosses': step_losses})
    write_safetensors(os.path.join(d, 'golden.safetensors'), out)
    write_json(os.path.join(d, 'cases.json'), {
        'model': name, 'ids': ids.tolist(), 'mask': mask.tolist(), 'labels': labels.tolist(),
        'lora': {**LORA, 'targets': TARGETS, 'adapterKeys': 'dense' if dense_adapter else 'sparse'},
        'adamw': ADAMW, 'cases': cases,
        'note': 'logits and hidden are at the real positions only, in row-major (b, t) order',
    })
    make_bf16_goldens(d, cfg, params, lora, scaling, ids, mask, labels, dense_adapter)


# ------------------------------------------------------------------------------------------ bf16 goldens
def forward_hf(cfg, p, lora, scaling, ids, mask, causal):
    """transformers 4.43's eager Llama/Qwen2 forward with its own dtype casts, for reduced-precision runs.

    `p` holds float32 (run under autocast) or bfloat16 (a bf16 checkpoint) tensors; returns (logits float32,
    hidden in the activations' dtype)."""
    B, T = ids.shape
    H, KVH, D, eps = cfg['num_attention_heads'], cfg['num_key_value_heads'], cfg['head_dim'], cfg['rms_norm_eps']

    def norm(x, w):
        dt = x.dtype
        x32 = x.to(torch.float32)
        x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)
        return w * x32.to(dt)

    def lin(x, key):
        y = torch.nn.functional.linear(x, p[key + '.weight'], p.get(key + '.bias'))
        if lora is not None and key in lora:
            a, b = lora[key]
            y = y + torch.nn.functional.linear(torch.nn.functional.linear(x, a), b) * scaling
        return y

    x = torch.nn.functional.embedding(ids, p['model.embed_tokens.weight'])
    freqs = torch.outer(torch.arange(T, dtype=DT), rope_inv_freq(cfg))
    emb = torch.cat((freqs, freqs), dim=-1)
    cos32, sin32 = emb.cos().float()[None, None], emb.sin().float()[None, None]
    add = torch.zeros(B, 1, T, T, dtype=x.dtype)
    add = add.masked_fill(mask[:, None, None, :] == 0, torch.finfo(x.dtype).min)
    if causal:
        add = add.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1), torch.finfo(x.dtype).min)
    for l in range(cfg['num_hidden_layers']):
        pre = f'model.layers.{l}.'
        h = norm(x, p[pre + 'input_layernorm.weight'])
        q = lin(h, pre + 'self_attn.q_proj').view(B, T, H, D).transpose(1, 2)
        k = lin(h, pre + 'self_attn.k_proj').view(B, T, KVH, D).transpose(1, 2)
        v = lin(h, pre + 'self_attn.v_proj').view(B, T, KVH, D).transpose(1, 2)
        cos, sin = cos32.to(v.dtype), sin32.to(v.dtype)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // KVH, dim=1)
        v = v.repeat_interleave(H // KVH, dim=1)
        att = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(D) + add
        att = torch.softmax(att, dim=-1, dtype=torch.float32).to(q.dtype)
        o = torch.matmul(att, v).transpose(1, 2).reshape(B, T, H * D)
        x = x + lin(o, pre + 'self_attn.o_proj')
        h = norm(x, p[pre + 'post_attention_layernorm.weight'])
        x = x + lin(torch.nn.functional.silu(lin(h, pre + 'mlp.gate_proj')) * lin(h, pre + 'mlp.up_proj'), pre + 'mlp.down_proj')
    hidden = norm(x, p['model.norm.weight'])
    head = p['model.embed_tokens.weight'] if cfg['tie_word_embeddings'] else p['lm_head.weight']
    return torch.nn.functional.linear(hidden, head).float(), hidden


def sparse_rep(logits, mask, C):
    """Spec §2.4 on (B, T, V) logits: log1p(relu(max over real tokens of logits · d^-1/4)), in float32/64."""
    z = logits * C ** -0.25
    z = z.masked_fill(mask[:, :, None] == 0, float('-inf'))
    return torch.log1p(torch.relu(z.max(dim=1).values))


def dense_rep(hidden, mask):
    """Spec §2.5: masked mean of F.normalize(h) over real tokens, not re-normalised."""
    m = mask[:, :, None].to(hidden.dtype)
    return (torch.nn.functional.normalize(hidden, dim=-1) * m).sum(1) / m.sum(1)


def errors(got, want):
    """Relative Frobenius error and the smallest row cosine (rows = last dim) of `got` against `want`."""
    g, w = got.double().reshape(-1, got.shape[-1]) if got.dim() > 1 else got.double()[None], \
        want.double().reshape(-1, want.shape[-1]) if want.dim() > 1 else want.double()[None]
    rel = ((g - w).norm() / w.norm().clamp_min(1e-300)).item()
    cos = torch.nn.functional.cosine_similarity(g, w, dim=-1, eps=1e-300)
    nz = w.norm(dim=-1) > 0
    return {'relFrobenius': rel, 'minRowCosine': cos[nz].min().item() if nz.any() else 1.0}


def make_bf16_goldens(d, cfg, params, lora, scaling, ids, mask, labels, dense_adapter):
    """golden-bf16.safetensors + cases-bf16.json (see the module docstring). Uses no random numbers."""
    V, C = cfg['vocab_size'], cfg['hidden_size']
    real = mask.reshape(-1).nonzero().reshape(-1)
    rows = lambda x, X: x.detach().reshape(-1, X)[real].float()
    out, errs = {}, {}
    # the exact answer (float64) for the reps
    with torch.no_grad():
        logits64, hidden64 = forward(cfg, params, None, scaling, ids, mask, False)
    exact = {'hidden': rows(hidden64, C).double(), 'logits': rows(logits64, V).double(),
             'sparse': sparse_rep(logits64, mask, C), 'dense': dense_rep(hidden64, mask)}
    out['bi.sparse'], out['bi.dense'] = exact['sparse'].float(), exact['dense'].float()

    def record(tag, name, t, want):
        out[f'{tag}.{name}'] = t.detach().float().contiguous()
        errs[f'{tag}.{name}'] = errors(t.detach(), want)

    # autocast, full fine-tuning: forward, reps, loss and every parameter's gradient
    p32 = {k: v.float().clone().requires_grad_(True) for k, v in params.items()}
    with torch.autocast('cpu', dtype=torch.bfloat16):
        logits, hidden = forward_hf(cfg, p32, None, scaling, ids, mask, False)
        loss = loss_fn(logits, labels)
    loss.backward()
    want_grads = {}
    p64 = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    lg64, _ = forward(cfg, p64, None, scaling, ids, mask, False)
    loss_fn(lg64, labels).backward()
    record('autocast.bi', 'hidden', rows(hidden, C), exact['hidden'])
    record('autocast.bi', 'logits', rows(logits, V), exact['logits'])
    record('autocast.bi', 'sparse', sparse_rep(logits.detach(), mask, C), exact['sparse'])
    record('autocast.bi', 'dense', dense_rep(hidden.detach().float(), mask), exact['dense'])
    grads = []
    for k, v in p32.items():
        record('autocast.bi', f'grad.{k}', v.grad, p64[k].grad)
        grads.append(k)
    cases = [{'name': 'autocast.bi', 'mode': 'autocast', 'causal': False, 'lora': False, 'loss': loss.item(),
              'exactLoss': loss_fn(lg64, labels).item(), 'grads': grads}]

    # autocast, LoRA on the frozen base: the adapter's gradients
    p32 = {k: v.float() for k, v in params.items()}
    l32 = {k: (a.float().clone().requires_grad_(True), b.float().clone().requires_grad_(True)) for k, (a, b) in lora.items()}
    with torch.autocast('cpu', dtype=torch.bfloat16):
        logits, hidden = forward_hf(cfg, p32, l32, scaling, ids, mask, False)
        loss = loss_fn(logits, labels)
    loss.backward()
    l64 = {k: (a.clone().requires_grad_(True), b.clone().requires_grad_(True)) for k, (a, b) in lora.items()}
    lg64, h64 = forward(cfg, params, l64, scaling, ids, mask, False)
    loss64 = loss_fn(lg64, labels)
    loss64.backward()
    record('autocast.bi_lora', 'hidden', rows(hidden, C), rows(h64, C).double())
    grads = []
    for key, (a, b) in l32.items():
        for which, t, t64 in (('A', a, l64[key][0]), ('B', b, l64[key][1])):
            gk = peft_key(key, which, dense_adapter)
            record('autocast.bi_lora', f'grad.{gk}', t.grad, t64.grad)
            grads.append(gk)
    cases.append({'name': 'autocast.bi_lora', 'mode': 'autocast', 'causal': False, 'lora': True, 'loss': loss.item(),
                  'exactLoss': loss64.item(), 'grads': grads})

    # a bf16 checkpoint run as bf16 (model.to(torch.bfloat16)), inference
    pbf = {k: v.to(torch.bfloat16) for k, v in params.items()}
    with torch.no_grad():
        logits, hidden = forward_hf(cfg, pbf, None, scaling, ids, mask, False)
    record('bf16w.bi', 'hidden', rows(hidden, C), exact['hidden'])
    record('bf16w.bi', 'logits', rows(logits, V), exact['logits'])
    record('bf16w.bi', 'sparse', sparse_rep(logits, mask, C), exact['sparse'])
    record('bf16w.bi', 'dense', dense_rep(hidden.float(), mask), exact['dense'])
    cases.append({'name': 'bf16w.bi', 'mode': 'bf16-weights', 'causal': False, 'lora': False,
                  'loss': loss_fn(logits, labels).item(), 'grads': []})

    write_safetensors(os.path.join(d, 'golden-bf16.safetensors'), out)
    write_json(os.path.join(d, 'cases-bf16.json'), {
        'model': os.path.basename(d), 'torch': torch.__version__,
        'batch': 'the batch of cases.json (ids, mask, labels)',
        'modes': {
            'autocast': "float32 weights under torch.autocast('cpu', dtype=torch.bfloat16), transformers 4.43 casts",
            'bf16-weights': 'weights and activations bfloat16 (model.to(torch.bfloat16)), transformers 4.43 casts',
        },
        'reps': 'sparse: log1p(relu(max over real tokens of logits * d^-1/4)) (B, V); dense: masked mean of F.normalize(h) (B, C); bi.* are the float64 answers',
        'cases': cases,
        'torchErrorVsExact': errs,
        'note': 'hidden and logits are at the real positions only, in row-major (b, t) order',
    })


LLAMA = {
    'architectures': ['LlamaForCausalLM'], 'model_type': 'llama', 'vocab_size': 1000, 'hidden_size': 64,
    'intermediate_size': 128, 'num_hidden_layers': 2, 'num_attention_heads': 4, 'num_key_value_heads': 2,
    'head_dim': 16, 'hidden_act': 'silu', 'max_position_embeddings': 131072, 'rms_norm_eps': 1e-5,
    'rope_theta': 500000.0, 'rope_scaling': {'factor': 8.0, 'low_freq_factor': 1.0, 'high_freq_factor': 4.0,
                                             'original_max_position_embeddings': 8192, 'rope_type': 'llama3'},
    'attention_bias': False, 'mlp_bias': False, 'tie_word_embeddings': True, 'bos_token_id': 1, 'eos_token_id': 2,
    'torch_dtype': 'bfloat16',
}
QWEN2 = {
    'architectures': ['Qwen2ForCausalLM'], 'model_type': 'qwen2', 'vocab_size': 1000, 'hidden_size': 64,
    'intermediate_size': 96, 'num_hidden_layers': 2, 'num_attention_heads': 4, 'num_key_value_heads': 2,
    'hidden_act': 'silu', 'max_position_embeddings': 32768, 'rms_norm_eps': 1e-6, 'rope_theta': 10000.0,
    'tie_word_embeddings': False, 'bos_token_id': 1, 'eos_token_id': 2, 'torch_dtype': 'bfloat16',
    'use_sliding_window': False, 'sliding_window': 32768,
}

if __name__ == '__main__':
    make_model('llama', LLAMA, qkv_bias=False, shards=1, dense_adapter=False)
    q = dict(QWEN2)
    q['head_dim'] = q['hidden_size'] // q['num_attention_heads']  # used by this script only; not written
    make_model('qwen2', q, qkv_bias=True, shards=2, dense_adapter=True, script_only=('head_dim',))
    print('wrote', OUT)
