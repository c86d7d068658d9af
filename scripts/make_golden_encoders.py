#!/usr/bin/python3
"""Golden tensors for Lion's BERT/DistilBERT encoders, the Mistral and Qwen3 decoders and every pooling
(test/model/bert.test.ts, test/model/decoders.test.ts, test/encoders/pooling.test.ts compare against them).

Minimal PyTorch re-implementations (no `transformers`), written from the architectures' definitions as
Hugging Face implements them:
  BERT        embeddings word + absolute position + token type 0, LayerNorm; post-LN layers
              x = LN(x + O attn(x)), x = LN(x + W2 gelu_erf(W1 x)); MLM head t = LN(gelu(Wt h + bt)),
              logits = t E^T + b with the decoder tied to the word embeddings.
  DistilBERT  the same computation without token types, under DistilBERT's weight names, saved as
              pytorch_model.bin (torch.save) so the restricted .bin reader is exercised too.
  Mistral     the Llama block (RMSNorm, rotate-half RoPE, GQA, SwiGLU); sliding_window larger than the batch.
  Qwen3       the Llama block with RMSNorm over each head of q and k (q_norm, k_norm) before RoPE, head_dim
              decoupled from hidden_size / heads.
Poolings: SPLADE max log1p(relu(max_t logits)) with no scale and with d^-1/4, SPLADE sum; dense CLS, masked
mean, masked mean of L2-normalised tokens (Lion's), last real token; L2 normalisation; Matryoshka truncation.

Weights are random, every computation runs in float64; Lion's float32 results match to 1e-5 relative.
The batch is right-padded, as Hugging Face pads BERT; positions are 0..n-1 over the real tokens.
Output: test/fixtures/golden/<arch>/{config.json, weights, golden.json}.

Run: /usr/bin/python3 scripts/make_golden_encoders.py   (torch >= 1.13; deterministic, seed 4321)
"""
import json
import math
import os
import struct

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'golden')
DT = torch.float64
torch.manual_seed(4321)

IDS = [[5, 17, 42, 9, 88, 23, 6], [5, 30, 11, 6, 0, 0, 0]]
LENS = [7, 4]


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        b = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def rnd(*shape, s=0.3):
    """Random values exactly representable in float32."""
    return (torch.randn(*shape, dtype=DT) * s).float().double()


def mask_tensor():
    m = torch.zeros(len(IDS), len(IDS[0]), dtype=torch.bool)
    for b, n in enumerate(LENS):
        m[b, :n] = True
    return m


def real(x):
    """Rows of a (B, T, ...) tensor at real positions, flattened (row-major)."""
    return [v for b, n in enumerate(LENS) for v in x[b, :n].flatten().tolist()]


# ------------------------------------------------------------------------------------------------ BERT
def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def gelu(x):
    return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))


def attention(q, k, v, mask, causal):
    """q (B,H,T,D), k/v (B,KVH,T,D) repeated to H heads, key-padding mask (B,T)."""
    B, H, T, D = q.shape
    rep = H // k.shape[1]
    k = k.repeat_interleave(rep, dim=1)
    v = v.repeat_interleave(rep, dim=1)
    s = q @ k.transpose(-1, -2) / math.sqrt(D)
    allowed = mask[:, None, None, :].expand(B, H, T, T).clone()
    if causal:
        allowed &= torch.ones(T, T, dtype=torch.bool).tril()[None, None]
    s = s.masked_fill(~allowed, float('-inf'))
    p = torch.softmax(s, -1)
    p = torch.nan_to_num(p, nan=0.0)
    return p @ v


def bert_weights(V, C, L, F, P, types):
    w = {
        'embeddings.word_embeddings.weight': rnd(V, C, s=0.5),
        'embeddings.position_embeddings.weight': rnd(P, C, s=0.5),
        'embeddings.LayerNorm.weight': 1 + rnd(C, s=0.1), 'embeddings.LayerNorm.bias': rnd(C, s=0.1),
    }
    if types:
        w['embeddings.token_type_embeddings.weight'] = rnd(types, C, s=0.5)
    for l in range(L):
        p = f'encoder.layer.{l}.'
        for m in ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense']:
            w[p + m + '.weight'] = rnd(C, C, s=C ** -0.5)
            w[p + m + '.bias'] = rnd(C, s=0.1)
        w[p + 'intermediate.dense.weight'] = rnd(F, C, s=C ** -0.5)
        w[p + 'intermediate.dense.bias'] = rnd(F, s=0.1)
        w[p + 'output.dense.weight'] = rnd(C, F, s=F ** -0.5)
        w[p + 'output.dense.bias'] = rnd(C, s=0.1)
        for n in ['attention.output.LayerNorm', 'output.LayerNorm']:
            w[p + n + '.weight'] = 1 + rnd(C, s=0.1)
            w[p + n + '.bias'] = rnd(C, s=0.1)
    w['cls.predictions.transform.dense.weight'] = rnd(C, C, s=C ** -0.5)
    w['cls.predictions.transform.dense.bias'] = rnd(C, s=0.1)
    w['cls.predictions.transform.LayerNorm.weight'] = 1 + rnd(C, s=0.1)
    w['cls.predictions.transform.LayerNorm.bias'] = rnd(C, s=0.1)
    w['cls.predictions.bias'] = rnd(V, s=0.5)
    return w


def bert_forward(w, cfg, ids, mask):
    C, H, eps = cfg['C'], cfg['H'], cfg['eps']
    B, T = ids.shape
    D = C // H
    pos = torch.arange(T)
    x = w['embeddings.word_embeddings.weight'][ids] + w['embeddings.position_embeddings.weight'][pos][None]
    if 'embeddings.token_type_embeddings.weight' in w:
        x = x + w['embeddings.token_type_embeddings.weight'][0]
    x = layer_norm(x, w['embeddings.LayerNorm.weight'], w['embeddings.LayerNorm.bias'], eps)
    lin = lambda t, n: t @ w[n + '.weight'].T + w[n + '.bias']
    for l in range(cfg['L']):
        p = f'encoder.layer.{l}.'
        heads = lambda t: t.view(B, T, H, D).transpose(1, 2)
        a = attention(heads(lin(x, p + 'attention.self.query')), heads(lin(x, p + 'attention.self.key')),
                      heads(lin(x, p + 'attention.self.value')), mask, False)
        a = a.transpose(1, 2).reshape(B, T, C)
        x = layer_norm(x + lin(a, p + 'attention.output.dense'), w[p + 'attention.output.LayerNorm.weight'],
                       w[p + 'attention.output.LayerNorm.bias'], eps)
        f = lin(gelu(lin(x, p + 'intermediate.dense')), p + 'output.dense')
        x = layer_norm(x + f, w[p + 'output.LayerNorm.weight'], w[p + 'output.LayerNorm.bias'], eps)
    t = layer_norm(gelu(lin(x, 'cls.predictions.transform.dense')), w['cls.predictions.transform.LayerNorm.weight'],
                   w['cls.predictions.transform.LayerNorm.bias'], eps)
    logits = t @ w['embeddings.word_embeddings.weight'].T + w['cls.predictions.bias']
    return x, logits


def poolings(hidden, logits, mask, C):
    m = mask[..., None].to(DT)
    out = {}
    if logits is not None:
        neg = logits.masked_fill(~mask[..., None], float('-inf'))
        out['splade_max'] = torch.log1p(torch.relu(neg.max(1).values)).flatten().tolist()
        out['splade_max_scaled'] = torch.log1p(torch.relu(neg.max(1).values * C ** -0.25)).flatten().tolist()
        out['splade_sum'] = (torch.log1p(torch.relu(logits)) * m).sum(1).flatten().tolist()
    mean = (hidden * m).sum(1) / m.sum(1)
    out['mean'] = mean.flatten().tolist()
    out['mean_normalized'] = torch.nn.functional.normalize(mean, dim=-1).flatten().tolist()
    out['mean_of_normalized_tokens'] = ((torch.nn.functional.normalize(hidden, dim=-1, eps=1e-12) * m).sum(1) / m.sum(1)).flatten().tolist()
    out['cls'] = hidden[:, 0].flatten().tolist()
    last = torch.stack([hidden[b, n - 1] for b, n in enumerate(LENS)])
    out['last'] = last.flatten().tolist()
    out['last_normalized'] = torch.nn.functional.normalize(last, dim=-1).flatten().tolist()
    out['mean_truncated8_normalized'] = torch.nn.functional.normalize(mean[:, :8], dim=-1).flatten().tolist()
    return out


WORDS = ['.', ',', '?', '!', 'the', 'capital', 'of', 'france', 'is', 'paris', 'what', 'a', 'city', 'in', 'europe',
         'lion', 'sparse', 'dense', 'retrieval', 'un', '##aff', '##able', '##s', '##ing', 'run', 'model', 'search',
         'query', 'document', 'cafe', 'big', 'cat', 'cats', 'sleep', '##y', 'river', 'bank', 'money', 'water', 'flow']


def write_wordpiece(d, V):
    """A small WordPiece tokenizer.json in the layout of bert-base-uncased (BertNormalizer with lowercasing and
    accent stripping, BertPreTokenizer, [CLS] $A [SEP] template, WordPiece decoder)."""
    specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
    vocab = specials + WORDS + [f'w{i}' for i in range(V - len(specials) - len(WORDS))]
    assert len(vocab) == V
    ids = {t: i for i, t in enumerate(vocab)}
    tok = {
        'version': '1.0', 'truncation': None, 'padding': None,
        'added_tokens': [{'id': ids[t], 'content': t, 'single_word': False, 'lstrip': False, 'rstrip': False,
                          'normalized': False, 'special': True} for t in specials],
        'normalizer': {'type': 'BertNormalizer', 'clean_text': True, 'handle_chinese_chars': True, 'strip_accents': None, 'lowercase': True},
        'pre_tokenizer': {'type': 'BertPreTokenizer'},
        'post_processor': {
            'type': 'TemplateProcessing',
            'single': [{'SpecialToken': {'id': '[CLS]', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}}, {'SpecialToken': {'id': '[SEP]', 'type_id': 0}}],
            'pair': [{'SpecialToken': {'id': '[CLS]', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}}, {'SpecialToken': {'id': '[SEP]', 'type_id': 0}},
                     {'Sequence': {'id': 'B', 'type_id': 1}}, {'SpecialToken': {'id': '[SEP]', 'type_id': 1}}],
            'special_tokens': {t: {'id': t, 'ids': [ids[t]], 'tokens': [t]} for t in ['[CLS]', '[SEP]']},
        },
        'decoder': {'type': 'WordPiece', 'prefix': '##', 'cleanup': True},
        'model': {'type': 'WordPiece', 'unk_token': '[UNK]', 'continuing_subword_prefix': '##', 'max_input_chars_per_word': 100, 'vocab': ids},
    }
    json.dump(tok, open(os.path.join(d, 'tokenizer.json'), 'w'), indent=1)
    json.dump({'do_lower_case': True, 'cls_token': '[CLS]', 'sep_token': '[SEP]', 'pad_token': '[PAD]', 'mask_token': '[MASK]',
               'unk_token': '[UNK]', 'model_max_length': 512, 'tokenizer_class': 'BertTokenizer'},
              open(os.path.join(d, 'tokenizer_config.json'), 'w'), indent=1)


def make_bert():
    V, C, L, H, F, P = 120, 32, 2, 4, 64, 16
    cfg = {'C': C, 'H': H, 'L': L, 'eps': 1e-12}
    w = bert_weights(V, C, L, F, P, 2)
    ids, mask = torch.tensor(IDS), mask_tensor()
    hidden, logits = bert_forward(w, cfg, ids, mask)
    d = os.path.join(OUT, 'bert')
    os.makedirs(d, exist_ok=True)
    config = {'architectures': ['BertForMaskedLM'], 'model_type': 'bert', 'vocab_size': V, 'hidden_size': C,
              'num_hidden_layers': L, 'num_attention_heads': H, 'intermediate_size': F, 'hidden_act': 'gelu',
              'max_position_embeddings': P, 'type_vocab_size': 2, 'layer_norm_eps': 1e-12, 'pad_token_id': 0,
              'position_embedding_type': 'absolute'}
    json.dump(config, open(os.path.join(d, 'config.json'), 'w'), indent=1)
    st = {('bert.' + k if not k.startswith('cls.') else k): v for k, v in w.items()}
    st['cls.predictions.decoder.weight'] = w['embeddings.word_embeddings.weight']
    st['cls.predictions.decoder.bias'] = w['cls.predictions.bias']
    write_safetensors(os.path.join(d, 'model.safetensors'), st)
    g = {'ids': IDS, 'lengths': LENS, 'hidden': real(hidden), 'logits': real(logits), **poolings(hidden, logits, mask, C)}
    json.dump(g, open(os.path.join(d, 'golden.json'), 'w'))
    write_wordpiece(d, V)


DISTIL = [('encoder.layer.', 'transformer.layer.'), ('.attention.self.query.', '.attention.q_lin.'),
          ('.attention.self.key.', '.attention.k_lin.'), ('.attention.self.value.', '.attention.v_lin.'),
          ('.attention.output.dense.', '.attention.out_lin.'), ('.attention.output.LayerNorm.', '.sa_layer_norm.'),
          ('.intermediate.dense.', '.ffn.lin1.'), ('.output.dense.', '.ffn.lin2.'), ('.output.LayerNorm.', '.output_layer_norm.')]


def make_distilbert():
    V, C, L, H, F, P = 100, 24, 2, 3, 48, 12
    cfg = {'C': C, 'H': H, 'L': L, 'eps': 1e-12}
    w = bert_weights(V, C, L, F, P, 0)
    ids, mask = torch.tensor(IDS), mask_tensor()
    hidden, logits = bert_forward(w, cfg, ids, mask)
    d = os.path.join(OUT, 'distilbert')
    os.makedirs(d, exist_ok=True)
    config = {'architectures': ['DistilBertForMaskedLM'], 'model_type': 'distilbert', 'vocab_size': V, 'dim': C,
              'n_layers': L, 'n_heads': H, 'hidden_dim': F, 'activation': 'gelu', 'max_position_embeddings': P,
              'pad_token_id': 0, 'sinusoidal_pos_embds': False, 'tie_weights_': True}
    json.dump(config, open(os.path.join(d, 'config.json'), 'w'), indent=1)
    sd = {}
    for k, v in w.items():
        if k.startswith('cls.'):
            k = {'cls.predictions.transform.dense.weight': 'vocab_transform.weight', 'cls.predictions.transform.dense.bias': 'vocab_transform.bias',
                 'cls.predictions.transform.LayerNorm.weight': 'vocab_layer_norm.weight', 'cls.predictions.transform.LayerNorm.bias': 'vocab_layer_norm.bias',
                 'cls.predictions.bias': 'vocab_projector.bias'}[k]
        else:
            for a, b in DISTIL:
                k = k.replace(a, b)
            k = 'distilbert.' + k
        sd[k] = v.float()
    sd['vocab_projector.weight'] = sd['distilbert.embeddings.word_embeddings.weight']  # tied: one shared storage
    torch.save(sd, os.path.join(d, 'pytorch_model.bin'))
    g = {'ids': IDS, 'lengths': LENS, 'hidden': real(hidden), 'logits': real(logits), **poolings(hidden, logits, mask, C)}
    json.dump(g, open(os.path.join(d, 'golden.json'), 'w'))
    write_wordpiece(d, V)


# ------------------------------------------------------------------------------------------------ decoders
def rms_norm(x, w, eps):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * w


def rope(x, theta):
    """Rotate-half RoPE on (B, NH, T, D), positions 0..T-1."""
    D, T = x.shape[-1], x.shape[-2]
    inv = 1.0 / (theta ** (torch.arange(0, D, 2, dtype=DT) / D))
    f = torch.arange(T, dtype=DT)[:, None] * inv[None]
    emb = torch.cat([f, f], -1)
    cos, sin = emb.cos(), emb.sin()
    x1, x2 = x[..., :D // 2], x[..., D // 2:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


def decoder_forward(w, c, ids, mask, causal):
    B, T = ids.shape
    H, KVH, D, eps = c['H'], c['KVH'], c['D'], c['eps']
    x = w['model.embed_tokens.weight'][ids]
    for l in range(c['L']):
        p = f'model.layers.{l}.'
        h = rms_norm(x, w[p + 'input_layernorm.weight'], eps)
        q = (h @ w[p + 'self_attn.q_proj.weight'].T).view(B, T, H, D)
        k = (h @ w[p + 'self_attn.k_proj.weight'].T).view(B, T, KVH, D)
        v = (h @ w[p + 'self_attn.v_proj.weight'].T).view(B, T, KVH, D)
        if c['qk_norm']:
            q = rms_norm(q, w[p + 'self_attn.q_norm.weight'], eps)
            k = rms_norm(k, w[p + 'self_attn.k_norm.weight'], eps)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        a = attention(rope(q, c['theta']), rope(k, c['theta']), v, mask, causal).transpose(1, 2).reshape(B, T, H * D)
        x = x + a @ w[p + 'self_attn.o_proj.weight'].T
        h = rms_norm(x, w[p + 'post_attention_layernorm.weight'], eps)
        g = h @ w[p + 'mlp.gate_proj.weight'].T
        x = x + (torch.nn.functional.silu(g) * (h @ w[p + 'mlp.up_proj.weight'].T)) @ w[p + 'mlp.down_proj.weight'].T
    return rms_norm(x, w['model.norm.weight'], eps)


def make_decoder(name, config, c):
    V, C, F = config['vocab_size'], config['hidden_size'], config['intermediate_size']
    H, KVH, D = c['H'], c['KVH'], c['D']
    w = {'model.embed_tokens.weight': rnd(V, C, s=0.5)}
    for l in range(c['L']):
        p = f'model.layers.{l}.'
        w[p + 'input_layernorm.weight'] = 1 + rnd(C, s=0.1)
        w[p + 'self_attn.q_proj.weight'] = rnd(H * D, C, s=C ** -0.5)
        w[p + 'self_attn.k_proj.weight'] = rnd(KVH * D, C, s=C ** -0.5)
        w[p + 'self_attn.v_proj.weight'] = rnd(KVH * D, C, s=C ** -0.5)
        w[p + 'self_attn.o_proj.weight'] = rnd(C, H * D, s=(H * D) ** -0.5)
        if c['qk_norm']:
            w[p + 'self_attn.q_norm.weight'] = 1 + rnd(D, s=0.2)
            w[p + 'self_attn.k_norm.weight'] = 1 + rnd(D, s=0.2)
        w[p + 'post_attention_layernorm.weight'] = 1 + rnd(C, s=0.1)
        w[p + 'mlp.gate_proj.weight'] = rnd(F, C, s=C ** -0.5)
        w[p + 'mlp.up_proj.weight'] = rnd(F, C, s=C ** -0.5)
        w[p + 'mlp.down_proj.weight'] = rnd(C, F, s=F ** -0.5)
    w['model.norm.weight'] = 1 + rnd(C, s=0.1)
    if not config['tie_word_embeddings']:
        w['lm_head.weight'] = rnd(V, C, s=C ** -0.5)
    head = w.get('lm_head.weight', w['model.embed_tokens.weight'])
    ids, mask = torch.tensor(IDS), mask_tensor()
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    json.dump(config, open(os.path.join(d, 'config.json'), 'w'), indent=1)
    write_safetensors(os.path.join(d, 'model.safetensors'), w)
    g = {'ids': IDS, 'lengths': LENS}
    for mode, causal in [('bidirectional', False), ('causal', True)]:
        hidden = decoder_forward(w, c, ids, mask, causal)
        g[mode] = {'hidden': real(hidden), 'logits': real(hidden @ head.T), **poolings(hidden, hidden @ head.T, mask, C)}
    # gradients of loss = sum over real tokens of <hidden, R>, R[b, t, j] = sin(1 + b·T·C + t·C + j) (bidirectional)
    wg = {k: v.clone().requires_grad_(True) for k, v in w.items()}
    hidden = decoder_forward(wg, c, ids, mask, False)
    B, T = ids.shape
    R = torch.sin(1 + torch.arange(B * T * C, dtype=DT)).view(B, T, C) * mask[..., None]
    (hidden * R).sum().backward()
    names = ['model.layers.0.self_attn.q_proj.weight', 'model.layers.1.self_attn.k_proj.weight', 'model.embed_tokens.weight',
             'model.layers.1.input_layernorm.weight']
    if c['qk_norm']:
        names += ['model.layers.0.self_attn.q_norm.weight', 'model.layers.1.self_attn.k_norm.weight']
    g['grads'] = {n: wg[n].grad.flatten().tolist() for n in names}
    json.dump(g, open(os.path.join(d, 'golden.json'), 'w'))


def main():
    make_bert()
    make_distilbert()
    make_decoder('mistral', {
        'architectures': ['MistralForCausalLM'], 'model_type': 'mistral', 'vocab_size': 110, 'hidden_size': 32,
        'intermediate_size': 64, 'num_hidden_layers': 2, 'num_attention_heads': 4, 'num_key_value_heads': 2,
        'hidden_act': 'silu', 'max_position_embeddings': 4096, 'rms_norm_eps': 1e-5, 'rope_theta': 1e6,
        'sliding_window': 4096, 'tie_word_embeddings': False, 'bos_token_id': 1, 'eos_token_id': 2,
    }, {'L': 2, 'H': 4, 'KVH': 2, 'D': 8, 'eps': 1e-5, 'theta': 1e6, 'qk_norm': False})
    make_decoder('qwen3', {
        'architectures': ['Qwen3ForCausalLM'], 'model_type': 'qwen3', 'vocab_size': 110, 'hidden_size': 32,
        'intermediate_size': 48, 'num_hidden_layers': 2, 'num_attention_heads': 4, 'num_key_value_heads': 2,
        'head_dim': 12, 'hidden_act': 'silu', 'max_position_embeddings': 4096, 'rms_norm_eps': 1e-6,
        'rope_theta': 1e6, 'attention_bias': False, 'use_sliding_window': False, 'tie_word_embeddings': True,
        'bos_token_id': 1, 'eos_token_id': 2,
    }, {'L': 2, 'H': 4, 'KVH': 2, 'D': 12, 'eps': 1e-6, 'theta': 1e6, 'qk_norm': True})


if __name__ == '__main__':
    main()
