#!/usr/bin/env python3
"""PyTorch reference for `retort distill train` throughput: a Qwen2 decoder written in plain torch
(eager attention, RMSNorm, RoPE, SwiGLU, Q/K/V biases) in the shape of an HF config.json, batch
8 x 256 tokens, float32, AdamW, clipping, fwd+bwd+step, on N threads. Prints tokens/s (mean of
the steps after 2 warm-up steps). Usage: train_torch.py config.json THREADS [STEPS]"""
import json, math, sys, time, torch
import torch.nn as nn
import torch.nn.functional as F

cfg = json.load(open(sys.argv[1])); threads = int(sys.argv[2]); steps = int(sys.argv[3]) if len(sys.argv) > 3 else 10
torch.set_num_threads(threads); torch.manual_seed(0)
H, L, NH, KV, FF, V = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["intermediate_size"], cfg["vocab_size"]
D = H // NH

class Norm(nn.Module):
    def __init__(s): super().__init__(); s.w = nn.Parameter(torch.ones(H))
    def forward(s, x): return s.w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6))

def rope(x, cos, sin):
    a, b = x[..., : D // 2], x[..., D // 2 :]
    return x * cos + torch.cat((-b, a), -1) * sin

class Layer(nn.Module):
    def __init__(s):
        super().__init__()
        s.n1, s.n2 = Norm(), Norm()
        s.q, s.k, s.v = nn.Linear(H, NH * D), nn.Linear(H, KV * D), nn.Linear(H, KV * D)
        s.o = nn.Linear(NH * D, H, bias=False)
        s.g, s.u, s.d = nn.Linear(H, FF, bias=False), nn.Linear(H, FF, bias=False), nn.Linear(FF, H, bias=False)
    def forward(s, x, cos, sin, mask):
        B, T, _ = x.shape
        h = s.n1(x)
        q = rope(s.q(h).view(B, T, NH, D).transpose(1, 2), cos, sin)
        k = rope(s.k(h).view(B, T, KV, D).transpose(1, 2), cos, sin).repeat_interleave(NH // KV, 1)
        v = s.v(h).view(B, T, KV, D).transpose(1, 2).repeat_interleave(NH // KV, 1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(D) + mask
        x = x + s.o((att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, NH * D))
        h = s.n2(x)
        return x + s.d(F.silu(s.g(h)) * s.u(h))

class Model(nn.Module):
    def __init__(s):
        super().__init__()
        s.emb = nn.Embedding(V, H); s.layers = nn.ModuleList(Layer() for _ in range(L)); s.norm = Norm(); s.head = nn.Linear(H, V, bias=False)
    def forward(s, ids):
        T = ids.shape[1]
        inv = 1.0 / (10000 ** (torch.arange(0, D, 2).float() / D))
        ang = torch.outer(torch.arange(T).float(), inv); ang = torch.cat((ang, ang), -1)
        cos, sin = ang.cos(), ang.sin()
        mask = torch.full((T, T), float("-inf")).triu(1)
        x = s.emb(ids)
        for l in s.layers: x = l(x, cos, sin, mask)
        return s.head(s.norm(x))

model = Model(); opt = torch.optim.AdamW(model.parameters(), lr=3e-5)
ids = torch.randint(0, 400, (8, 256)); times = []
for step in range(steps + 2):
    t = time.perf_counter()
    logits = model(ids)
    loss = F.cross_entropy(logits[:, :-1].reshape(-1, V), ids[:, 1:].reshape(-1))
    loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step(); opt.zero_grad()
    if step >= 2: times.append(time.perf_counter() - t)
print(f"torch {torch.__version__}: {8 * 256 / (sum(times) / len(times)):.0f} tokens/s ({threads} threads)")
