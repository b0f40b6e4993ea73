#!/usr/bin/env python3
"""An independent, plain numpy forward pass of the Llama architecture as GGUF stores it (Q/K rows
permuted so rotary pairs are adjacent), dense or Mixtral-style mixture of experts, over a GGUF
file's dequantized weights. For the fidelity fixtures of Tests/Fixtures/moe-tiny. Written from the
architecture's description, not from the engine.

    python3 scripts/reference/llama.py MODEL.gguf 1,2,3   # logits of every position, as JSON
Needs numpy and the PyPI `gguf` package.
"""
import json
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize


class Llama:
    def __init__(self, path):
        r = GGUFReader(path)
        self.t = {t.name: t for t in r.tensors}
        f = r.fields
        def get(key, default=None):
            return f[key].contents() if key in f else default
        a = "llama"
        self.width = int(get(f"{a}.embedding_length"))
        self.layers = int(get(f"{a}.block_count"))
        self.heads = int(get(f"{a}.attention.head_count"))
        self.kv_heads = int(get(f"{a}.attention.head_count_kv", self.heads))
        self.head_dim = int(get(f"{a}.attention.key_length", self.width // self.heads))
        self.eps = float(get(f"{a}.attention.layer_norm_rms_epsilon"))
        self.base = float(get(f"{a}.rope.freq_base", 10000.0))
        self.experts = int(get(f"{a}.expert_count", 0))
        self.used = int(get(f"{a}.expert_used_count", 0))

    def array(self, name):
        t = self.t[name]
        shape = [int(x) for x in reversed(t.shape)]
        return dequantize(t.data, t.tensor_type).astype(np.float64).reshape(shape)

    def rms(self, v, w):
        return v / np.sqrt((v ** 2).mean(-1, keepdims=True) + self.eps) * w

    def rope(self, v):
        """Adjacent pairs (2i, 2i+1) rotate by position * base^(-2i/head_dim)."""
        n, half = v.shape[0], self.head_dim // 2
        angle = np.arange(n)[:, None] * self.base ** (-2.0 * np.arange(half) / self.head_dim)
        c, s = np.cos(angle)[:, None, :], np.sin(angle)[:, None, :]
        a, b = v[..., 0::2], v[..., 1::2]
        out = np.empty_like(v)
        out[..., 0::2] = a * c - b * s
        out[..., 1::2] = a * s + b * c
        return out

    @staticmethod
    def swiglu(g, u):
        return g / (1 + np.exp(-g)) * u

    def mlp(self, p, h):
        if self.experts == 0:
            g = h @ self.array(p + "ffn_gate.weight").T
            u = h @ self.array(p + "ffn_up.weight").T
            return self.swiglu(g, u) @ self.array(p + "ffn_down.weight").T
        router = h @ self.array(p + "ffn_gate_inp.weight").T          # n x E
        gate, up, down = (self.array(p + f"ffn_{k}_exps.weight") for k in ("gate", "up", "down"))
        out = np.zeros_like(h)
        for t in range(h.shape[0]):
            chosen = sorted(range(self.experts), key=lambda e: (-router[t, e], e))[: self.used]
            z = np.exp(router[t, chosen] - router[t, chosen].max())
            for e, w in zip(chosen, z / z.sum()):
                out[t] += w * (self.swiglu(gate[e] @ h[t], up[e] @ h[t]) @ down[e].T)
        return out

    def logits(self, ids):
        n, H, KV, hd = len(ids), self.heads, self.kv_heads, self.head_dim
        emb = self.array("token_embd.weight")
        x = emb[ids]
        causal = np.tril(np.ones((n, n), bool))
        for layer in range(self.layers):
            p = f"blk.{layer}."
            h = self.rms(x, self.array(p + "attn_norm.weight"))
            q = self.rope((h @ self.array(p + "attn_q.weight").T).reshape(n, H, hd))
            k = self.rope((h @ self.array(p + "attn_k.weight").T).reshape(n, KV, hd))
            v = (h @ self.array(p + "attn_v.weight").T).reshape(n, KV, hd)
            out = np.empty((n, H, hd))
            for head in range(H):
                kvh = head // (H // KV)
                s = np.where(causal, q[:, head] @ k[:, kvh].T / np.sqrt(hd), -np.inf)
                e = np.exp(s - s.max(-1, keepdims=True))
                out[:, head] = (e / e.sum(-1, keepdims=True)) @ v[:, kvh]
            x = x + out.reshape(n, H * hd) @ self.array(p + "attn_output.weight").T
            x = x + self.mlp(p, self.rms(x, self.array(p + "ffn_norm.weight")))
        h = self.rms(x, self.array("output_norm.weight"))
        out = self.array("output.weight") if "output.weight" in self.t else emb
        return h @ out.T


if __name__ == "__main__":
    m = Llama(sys.argv[1])
    print(json.dumps(m.logits([int(t) for t in sys.argv[2].split(",")]).round(6).tolist()))
