#!/usr/bin/env python3
"""Writes Tests/Fixtures/gemma3-270m/cases.json for gemma-3-270m-q4_k_m.gguf:
- from llama.cpp's `llama-server` serving the file: token ids of test strings (/tokenize), and for
  each prompt the top-10 next-token log-probabilities and the greedy continuation with each step's
  top-2 margin (/completion with n_probs);
- from the project's plain numpy reference (scripts/reference/gemma3.py): each prompt's exact
  top-10 next-token log-probabilities in float32/64 math.
The Swift tests (Tests/LLMModelTests/GemmaTests.swift) compare the engine against both.

    llama-server -m gemma-3-270m-q4_k_m.gguf --port 18111 -t 2 -c 2048 &
    python3 scripts/make_gemma_fixture.py http://127.0.0.1:18111 gemma-3-270m-q4_k_m.gguf \
        > Tests/Fixtures/gemma3-270m/cases.json
Needs numpy and the PyPI `gguf` package.
"""
import json
import sys
import os
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference"))
from gemma3 import Gemma3  # noqa: E402

BASE = sys.argv[1]
MODEL = sys.argv[2]

TEXTS = [
    "The capital of France is",
    "Hello world! How are you today?",
    "  leading spaces,\n\nnewlines\n\n\n and\ttabs\t\t here",
    "naïve café, Größe, 日本語のテキスト, emoji 😀🎉 and ≠ symbols",
    "<start_of_turn>user\nWrite a haiku about autumn.<end_of_turn>\n<start_of_turn>model\n",
    "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
    "Unknown bytes \u0001\u0002 and a mix: x = 3.14159, y = -2e10; <b>bold</b> [multimodal]",
]

# The last prompt is longer than Gemma's 512-position sliding window.
LONG = open(__file__.rsplit("/", 2)[0] + "/docs/data/perplexity.txt", encoding="utf-8").read()[:3600]

PROMPTS = [
    "The capital of France is",
    "<start_of_turn>user\nWhat is the tallest mountain on Earth?<end_of_turn>\n<start_of_turn>model\n",
    "def fib(n):\n    ",
    LONG,
]


def post(path, body):
    req = urllib.request.Request(BASE + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.load(r)


def main():
    tokenize = [{"text": t, "ids": post("/tokenize", {"content": t, "add_special": False, "parse_special": True})["tokens"]}
                for t in TEXTS]
    prompts = []
    reference = Gemma3(MODEL)
    for p in PROMPTS:
        ids = post("/tokenize", {"content": p, "add_special": True, "parse_special": True})["tokens"]
        d = post("/completion", {"prompt": ids, "n_predict": 16, "n_probs": 10, "temperature": 0, "cache_prompt": False})
        steps = d["completion_probabilities"]
        top = [[t["id"], round(t["logprob"], 4)] for t in steps[0]["top_logprobs"]]
        greedy = [s["id"] for s in steps]
        margins = [round(s["top_logprobs"][0]["logprob"] - s["top_logprobs"][1]["logprob"], 4) for s in steps]
        prompts.append({"prompt": p, "ids": ids, "top_logprobs": top, "reference_top_logprobs": reference.top_logprobs(ids), "greedy_ids": greedy, "greedy_margins": margins,
                        "greedy_text": d["content"]})
    json.dump({"source": "llama.cpp llama-server (llama-cpp-python 0.3.36 sources) and scripts/reference/gemma3.py, "
               "gemma-3-270m-q4_k_m.gguf",
               "tokenize": tokenize, "prompts": prompts}, sys.stdout, indent=1, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
