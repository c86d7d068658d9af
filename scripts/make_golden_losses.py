#!/usr/bin/env python3
"""Golden values and gradients for Lion's retrieval losses (src/train/losses.ts), computed with PyTorch.

Follows the reference implementation (HansiZeng/scaling-retriever, spec section 3) literally:
  CL     CrossEntropyLoss(q @ c.T * scale, arange(B))          contexts [positives, negatives per query]
  KD     MSELoss(scale*(q.d+ - q.d-), t+ - t-)
  CL+KD  (CL + KLDivLoss(batchmean, log_target)(log_softmax(S[i, own]), log_softmax(teacher))) / 2
  FLOPS  sum(mean(abs(R), 0) ** 2)
Inputs are float32 values; the maths runs in float64. Writes test/fixtures/golden-losses/losses.json.
Run: /usr/bin/python3 scripts/make_golden_losses.py
"""
import json
import os

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'golden-losses', 'losses.json')


def f32(t):
    return t.to(torch.float32).to(torch.float64)


def reps(g, rows, dim, sparse):
    x = torch.randn(rows, dim, generator=g, dtype=torch.float64)
    if sparse:
        return f32(torch.relu(x) * 0.7)  # about half the entries exactly zero, as log1p(relu(.)) gives
    return f32(x / dim ** 0.5 * 0.6)  # dense reps have norm <= 1


def own_index(B, n):
    return [[i] + [B + i * n + j for j in range(n)] for i in range(B)]


def case(name, kind, B, n, D, sparse, seed, lq=0.0, ld=0.0):
    g = torch.Generator().manual_seed(seed)
    scale = 1.0 if sparse else 100.0
    q = reps(g, B, D, sparse).requires_grad_(True)
    c = reps(g, B * (1 + n), D, sparse).requires_grad_(True)
    teacher = f32(torch.randn(B, 1 + n, generator=g, dtype=torch.float64) * 3.0)
    out = {'name': name, 'kind': kind, 'B': B, 'n': n, 'D': D, 'scale': scale, 'lambdaQ': lq, 'lambdaD': ld}
    S = q @ c.T * scale
    terms = {}
    if kind == 'cl':
        rank = F.cross_entropy(S, torch.arange(B))
    elif kind == 'kd':
        margin = teacher[:, 0] - teacher[:, 1]
        student = (q * c[:B]).sum(-1) * scale - (q * c[B:]).sum(-1) * scale
        rank = F.mse_loss(student, margin)
        out['teacherMargin'] = margin.tolist()
    elif kind == 'clkd':
        cl = F.cross_entropy(S, torch.arange(B))
        idx = torch.tensor(own_index(B, n))
        student = torch.gather(S, 1, idx)
        kl = torch.nn.KLDivLoss(reduction='batchmean', log_target=True)(
            F.log_softmax(student, dim=-1), F.log_softmax(teacher, dim=-1))
        rank = (cl + kl) / 2
        terms['cl'] = cl.item()
        terms['kl'] = kl.item()
        out['teacher'] = teacher.flatten().tolist()
    else:
        raise ValueError(kind)
    flops = lambda x: torch.sum(torch.mean(torch.abs(x), dim=0) ** 2)
    fq = flops(q)
    fd = (flops(c[:B]) + flops(c[B:])) / 2 if kind == 'kd' else flops(c)
    total = rank + lq * fq + ld * fd
    total.backward()
    out.update({'q': q.detach().flatten().tolist(), 'c': c.detach().flatten().tolist(), 'rank': rank.item(),
                'flopsQ': fq.item(), 'flopsD': fd.item(), 'loss': total.item(), 'terms': terms,
                'dq': q.grad.flatten().tolist(), 'dc': c.grad.flatten().tolist()})
    return out


def adamw_case():
    """Three AdamW steps with global-norm clipping at 1.0, weight decay 0.01, float32 as training runs."""
    g = torch.Generator().manual_seed(11)
    shapes = {'a': (3, 4), 'b': (5,)}
    params = {k: torch.randn(*s, generator=g).requires_grad_(True) for k, s in shapes.items()}
    init = {k: p.detach().flatten().tolist() for k, p in params.items()}
    opt = torch.optim.AdamW(list(params.values()), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    steps = []
    for t, lr in enumerate([1e-3, 5e-4, 2e-4]):
        for group in opt.param_groups:
            group['lr'] = lr
        grads = {k: torch.randn(*s, generator=g) * (3.0 if t == 0 else 0.1) for k, s in shapes.items()}
        for k, p in params.items():
            p.grad = grads[k].clone()
        norm = torch.nn.utils.clip_grad_norm_(list(params.values()), 1.0).item()
        opt.step()
        steps.append({'lr': lr, 'grads': {k: v.flatten().tolist() for k, v in grads.items()}, 'norm': norm,
                      'after': {k: p.detach().flatten().tolist() for k, p in params.items()}})
    return {'generator': 'scripts/make_golden_losses.py', 'weightDecay': 0.01, 'maxNorm': 1.0, 'init': init, 'steps': steps}


def mntp_case():
    """Shifted causal-LM cross-entropy over masked positions (LlamaForCausalLM.forward with labels)."""
    g = torch.Generator().manual_seed(12)
    B, T, V = 2, 6, 7
    logits = f32(torch.randn(B, T, V, generator=g, dtype=torch.float64) * 2).requires_grad_(True)
    labels = torch.full((B, T), -100, dtype=torch.long)
    for b, t, y in [(0, 1, 3), (0, 4, 6), (1, 2, 0), (1, 3, 5), (1, 5, 2), (0, 0, 4)]:
        labels[b, t] = y
    loss = F.cross_entropy(logits[:, :-1, :].reshape(-1, V), labels[:, 1:].reshape(-1), ignore_index=-100)
    loss.backward()
    return {'B': B, 'T': T, 'V': V, 'logits': logits.detach().flatten().tolist(), 'labels': labels.flatten().tolist(),
            'loss': loss.item(), 'dlogits': logits.grad.flatten().tolist()}


def main():
    torch.manual_seed(0)
    cases = [
        case('cl-sparse', 'cl', 3, 2, 12, True, 1),
        case('cl-dense', 'cl', 3, 2, 8, False, 2),
        case('kd-sparse', 'kd', 4, 1, 10, True, 3),
        case('kd-dense', 'kd', 4, 1, 8, False, 4),
        case('clkd-sparse', 'clkd', 3, 3, 12, True, 5),
        case('clkd-dense', 'clkd', 2, 3, 8, False, 6),
        case('cl-sparse-flops', 'cl', 3, 2, 12, True, 7, 0.05, 0.04),
        case('kd-sparse-flops', 'kd', 3, 1, 9, True, 8, 0.05 * 0.25, 0.04 * 0.25),
        case('clkd-sparse-flops', 'clkd', 2, 2, 11, True, 9, 0.05, 0.04),
    ]
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(os.path.join(os.path.dirname(OUT), 'adamw.json'), 'w') as f:
        json.dump(adamw_case(), f)
    with open(os.path.join(os.path.dirname(OUT), 'mntp.json'), 'w') as f:
        json.dump(mntp_case(), f)
    with open(OUT, 'w') as f:
        json.dump({'generator': 'scripts/make_golden_losses.py', 'torch': torch.__version__, 'cases': cases}, f)
    print(f'wrote {len(cases)} cases to {os.path.normpath(OUT)}')


if __name__ == '__main__':
    main()
