"""`scalellm quantize` and `scalellm perplexity` on the command line: bad input is named; a Q8_0
rewrite of the default model loads and generates."""
import os
import subprocess

from conftest import BINARY


def run(*args, timeout=300):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=timeout)


def default_model():
    return run("model", "path").stdout.strip().splitlines()[-1]


def test_bad_quantize_and_perplexity_input_is_named(tmp_path):
    m = default_model()
    r = run("quantize", m, str(tmp_path / "x.gguf"), "--type", "q5_k")
    assert r.returncode != 0 and "--type 'q5_k' is not one of" in r.stderr, r.stderr
    r = run("quantize", m, m, "--type", "q8_0")
    assert r.returncode != 0 and "another file than the input" in r.stderr, r.stderr
    r = run("quantize", "/nonexistent.gguf", str(tmp_path / "x.gguf"), "--type", "q8_0")
    assert r.returncode != 0 and "cannot read '/nonexistent.gguf'" in r.stderr, r.stderr
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\x00" * 12)
    r = run("quantize", str(bad), str(tmp_path / "x.gguf"), "--type", "q8_0")
    assert r.returncode != 0 and "cannot quantize" in r.stderr, r.stderr
    r = run("generate", "--quantize", "q2", "--prompt", "hi")
    assert r.returncode != 0 and "--quantize must be q8_0 or q4_0" in r.stderr, r.stderr
    short = tmp_path / "short.txt"
    short.write_text("Far too short to score.")
    r = run("perplexity", "--file", str(short), "--context", "128")
    assert r.returncode != 0 and "at least 256" in r.stderr, r.stderr
    r = run("perplexity", "--file", str(short), "--context", "7")
    assert r.returncode != 0 and "--context must be an even number" in r.stderr, r.stderr


def test_q8_0_rewrite_loads_and_generates(tmp_path):
    out = tmp_path / "q8.gguf"
    r = run("quantize", default_model(), str(out), "--type", "q8_0")
    assert r.returncode == 0, r.stderr
    assert "Q8_0" in r.stdout and out.stat().st_size > 100 << 20
    r = run("generate", "--model", str(out), "--prompt", "The capital of France is", "--max-tokens", "4")
    assert r.returncode == 0, r.stderr
    assert "Paris" in r.stdout
