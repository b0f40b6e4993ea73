#!/usr/bin/env python3
"""An independent, plain numpy forward pass of the Gemma 3 text architecture over a GGUF file's
dequantized weights (float64 accumulation where it matters), for the fidelity fixture of
Tests/Fixtures/gemma3-270m. Written from the architecture's description, not from the engine.

    python3 scripts/reference/gemma3.py MODEL.gguf 2,818,5279,529,7001,563   # top-10 log-probs
Needs numpy and the PyPI `gguf` package.
"""
import json
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize


class Gemma3:
    def __init__(self, path):
        r = GGUFReader(path)
        self.tensors = {t.name: t for t in r.tensors}
        f = r.fields
        arch = "gemma3"
        def scalar(key, default=None):
            return f[key].contents() if key in f else default
        self.width = int(scalar(f"{arch}.embedding_length"))
        self.layers = int(scalar(f"{arch}.block_count"))
        self.heads = int(scalar(f"{arch}.attention.head_count"))
        self.kv_heads = int(scalar(f"{arch}.attention.head_count_kv"))
        self.head_dim = int(scalar(f"{arch}.attention.key_length"))
        self.eps = float(scalar(f"{arch}.attention.layer_norm_rms_epsilon"))
        self.rope_base = float(scalar(f"{arch}.rope.freq_base"))
        self.window = int(scalar(f"{arch}.attention.sliding_window"))
        self.local_base, self.pattern = 10000.0, 6
        self.embedding = self.matrix("token_embd.weight")

    def matrix(self, name):
        t = self.tensors[name]
        rows, cols = int(t.shape[1]), int(t.shape[0])
        return dequantize(t.data, t.tensor_type).astype(np.float32).reshape(rows, cols)

    def vector(self, name):
        return np.asarray(self.tensors[name].data, dtype=np.float32).reshape(-1)

    def rms(self, v, w):
        ms = (v.astype(np.float64) ** 2).mean(-1, keepdims=True)
        return (v / np.sqrt(ms + self.eps)).astype(np.float32) * w

    def rope(self, v, base):
        """NEOX layout: dimension i pairs with i + head_dim/2."""
        n, half = v.shape[0], self.head_dim // 2
        angle = np.arange(n)[:, None] * base ** (-2.0 * np.arange(half) / self.head_dim)
        c, s = np.cos(angle)[:, None, :], np.sin(angle)[:, None, :]
        a, b = v[..., :half], v[..., half:]
        return np.concatenate([a * c - b * s, a * s + b * c], -1).astype(np.float32)

    @staticmethod
    def gelu(g):
        return 0.5 * g * (1 + np.tanh(np.sqrt(2 / np.pi) * (g + 0.044715 * g ** 3)))

    def logits(self, ids):
        n, d, H, KV, hd = len(ids), self.width, self.heads, self.kv_heads, self.head_dim
        x = self.embedding[ids] * np.float32(np.sqrt(d))
        pos = np.arange(n)
        for layer in range(self.layers):
            p = f"blk.{layer}."
            h = self.rms(x, self.vector(p + "attn_norm.weight"))
            q = (h @ self.matrix(p + "attn_q.weight").T).reshape(n, H, hd)
            k = (h @ self.matrix(p + "attn_k.weight").T).reshape(n, KV, hd)
            v = (h @ self.matrix(p + "attn_v.weight").T).reshape(n, KV, hd)
            q = self.rms(q, self.vector(p + "attn_q_norm.weight"))
            k = self.rms(k, self.vector(p + "attn_k_norm.weight"))
            local = self.window > 0 and (layer + 1) % self.pattern != 0
            base = self.local_base if local else self.rope_base
            q, k = self.rope(q, base), self.rope(k, base)
            allowed = pos[None, :] <= pos[:, None]
            if local:
                allowed &= pos[:, None] - pos[None, :] < self.window
            out = np.empty((n, H, hd), np.float32)
            for head in range(H):
                kvh = head // (H // KV)
                scores = (q[:, head, :] @ k[:, kvh, :].T) / np.sqrt(hd)
                scores = np.where(allowed, scores, -np.inf)
                e = np.exp(scores - scores.max(-1, keepdims=True))
                out[:, head, :] = (e / e.sum(-1, keepdims=True)) @ v[:, kvh, :]
            o = out.reshape(n, H * hd) @ self.matrix(p + "attn_output.weight").T
            x = x + self.rms(o, self.vector(p + "post_attention_norm.weight"))
            h = self.rms(x, self.vector(p + "ffn_norm.weight"))
            g = h @ self.matrix(p + "ffn_gate.weight").T
            u = h @ self.matrix(p + "ffn_up.weight").T
            o = (self.gelu(g) * u) @ self.matrix(p + "ffn_down.weight").T
            x = x + self.rms(o, self.vector(p + "post_ffw_norm.weight"))
        h = self.rms(x[-1:], self.vector("output_norm.weight"))
        return (h.astype(np.float64) @ self.embedding.T.astype(np.float64))[0]

    def top_logprobs(self, ids, k=10):
        z = self.logits(ids)
        lp = z - z.max() - np.log(np.exp(z - z.max()).sum())
        return [[int(i), round(float(lp[i]), 4)] for i in np.argsort(-z)[:k]]


if __name__ == "__main__":
    model = Gemma3(sys.argv[1])
    print(json.dumps(model.top_logprobs([int(t) for t in sys.argv[2].split(",")])))
