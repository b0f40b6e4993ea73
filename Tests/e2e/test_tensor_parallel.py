"""`--tensor-parallel` wired into the real binary: an engine split over 2 pinned workers serves the
default model and the mixture-of-experts fixture (experts split between the workers); degrees the
model cannot take are named before serving."""
import os
import subprocess

from openai import OpenAI

from conftest import BINARY, ROOT, Server

MOE = os.path.join(ROOT, "Tests", "Fixtures", "moe-tiny", "model.gguf")


def test_engine_tensor_parallel_2_serves_the_default_model():
    s = Server("--tensor-parallel", "2")
    try:
        c = OpenAI(base_url=s.base + "/v1", api_key="unused", timeout=60, max_retries=0)
        model = c.models.list().data[0].id
        r = c.completions.create(model=model, prompt="The capital of France is", max_tokens=4, temperature=0)
        assert "Paris" in r.choices[0].text, r.choices[0].text
        log = open(s.log.name).read()
        assert "tensor parallel: 2 pinned workers" in log and "heads 0..<4 4..<9" in log, log[-2000:]
    finally:
        assert s.stop() == 0


def test_moe_model_with_expert_parallelism_serves():
    s = Server("--model", MOE, "--tensor-parallel", "3")
    try:
        c = OpenAI(base_url=s.base + "/v1", api_key="unused", timeout=60, max_retries=0)
        r = c.completions.create(model="model", prompt="hello", max_tokens=8, temperature=0)
        assert r.usage.completion_tokens == 8 or r.choices[0].finish_reason == "stop"
    finally:
        assert s.stop() == 0


def test_impossible_degrees_are_named_before_serving():
    r = subprocess.run([BINARY, "engine", "--port", "0", "--tensor-parallel", "10"], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "degree 10 exceeds the model's 9 attention heads" in r.stderr, r.stderr
    r = subprocess.run([BINARY, "engine", "--port", "0", "--model", "gemma3-270m", "--tensor-parallel", "2"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "architecture 'gemma3' runs on one worker only" in r.stderr, r.stderr
    r = subprocess.run([BINARY, "generate", "--prompt", "x", "--tensor-parallel", "0"], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "--tensor-parallel must be between 1 and 64 (got 0)" in r.stderr, r.stderr
