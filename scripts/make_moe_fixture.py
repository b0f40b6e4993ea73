#!/usr/bin/env python3
"""Writes Tests/Fixtures/moe-tiny/: a small random Mixtral-style mixture-of-experts model in the
llama GGUF layout (model.gguf: 2 layers, width 64, 6 query / 2 KV heads, 4 experts of width 96,
2 used per token, Q8_0 attention and expert weights, a 256-byte vocabulary), and cases.json with the
logits of every position of two prompts from the numpy reference (scripts/reference/llama.py).
The Swift tests check the engine's forward pass, at tensor-parallel degrees 1 to 3, against them.

    python3 scripts/make_moe_fixture.py Tests/Fixtures/moe-tiny
Needs numpy and the PyPI `gguf` package. Deterministic (seeded).
"""
import json
import os
import sys

import numpy as np
import gguf

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference"))
from llama import Llama  # noqa: E402

WIDTH, HEADS, KV_HEADS, LAYERS, EXPERTS, USED, FF = 64, 6, 2, 2, 4, 2, 96


def byte_alphabet():
    """GPT-2's printable stand-ins for the 256 bytes."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return [chars[b] for b in range(256)]


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(20261125)
    path = os.path.join(out_dir, "model.gguf")
    w = gguf.GGUFWriter(path, "llama")
    w.add_name("moe-tiny (random weights, test fixture)")
    w.add_context_length(256)
    w.add_embedding_length(WIDTH)
    w.add_block_count(LAYERS)
    w.add_feed_forward_length(FF)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV_HEADS)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(10000.0)
    w.add_expert_count(EXPERTS)
    w.add_expert_used_count(USED)
    w.add_key_length(16)
    w.add_value_length(16)
    tokens = byte_alphabet() + ["<|endoftext|>"]
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt2")
    w.add_token_list(tokens)
    w.add_token_types([1] * 256 + [3])
    w.add_token_merges(["Ġ t", "Ġ a", "h e", "i n"])
    w.add_eos_token_id(256)
    w.add_add_bos_token(False)
    vocab = len(tokens)

    def q8(name, rows, cols, scale, experts=None):
        shape = (experts, rows, cols) if experts else (rows, cols)
        data = (rng.standard_normal(shape) * scale).astype(np.float32)
        q = gguf.quants.quantize(data, gguf.GGMLQuantizationType.Q8_0)
        w.add_tensor(name, q, raw_shape=q.shape, raw_dtype=gguf.GGMLQuantizationType.Q8_0)

    def f32(name, shape, scale, offset=0.0):
        w.add_tensor(name, (offset + rng.standard_normal(shape) * scale).astype(np.float32))

    f32("token_embd.weight", (vocab, WIDTH), 0.5)
    head_dim = 16
    for layer in range(LAYERS):
        p = f"blk.{layer}."
        f32(p + "attn_norm.weight", (WIDTH,), 0.1, 1.0)
        q8(p + "attn_q.weight", HEADS * head_dim, WIDTH, 0.15)
        q8(p + "attn_k.weight", KV_HEADS * head_dim, WIDTH, 0.15)
        q8(p + "attn_v.weight", KV_HEADS * head_dim, WIDTH, 0.15)
        q8(p + "attn_output.weight", WIDTH, HEADS * head_dim, 0.1)
        f32(p + "ffn_norm.weight", (WIDTH,), 0.1, 1.0)
        f32(p + "ffn_gate_inp.weight", (EXPERTS, WIDTH), 0.5)
        q8(p + "ffn_gate_exps.weight", FF, WIDTH, 0.15, EXPERTS)
        q8(p + "ffn_up_exps.weight", FF, WIDTH, 0.15, EXPERTS)
        q8(p + "ffn_down_exps.weight", WIDTH, FF, 0.1, EXPERTS)
    f32("output_norm.weight", (WIDTH,), 0.1, 1.0)
    q8("output.weight", vocab, WIDTH, 0.2)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    ref = Llama(path)
    prompts = [[int(t) for t in rng.integers(0, 256, 12)], [int(t) for t in rng.integers(0, 256, 40)]]
    cases = [{"ids": ids, "logits": ref.logits(ids).astype(np.float32).round(6).tolist()} for ids in prompts]
    with open(os.path.join(out_dir, "cases.json"), "w") as f:
        json.dump({"source": "scripts/make_moe_fixture.py + scripts/reference/llama.py (numpy)", "cases": cases}, f)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "Tests/Fixtures/moe-tiny")
