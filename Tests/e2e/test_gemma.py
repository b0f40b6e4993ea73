"""The second real model, Gemma 3 270M (pretrained base), by its catalog name: listed, pulled,
served by an engine to the official OpenAI client (plain and streamed), and unknown names named."""
import subprocess

from openai import OpenAI

from conftest import BINARY, Server


def run(*args, timeout=600):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=timeout)


def test_catalog_lists_and_rejects_unknown_names():
    r = run("model", "list")
    assert r.returncode == 0 and "gemma3-270m" in r.stdout and "smollm2-135m" in r.stdout, r.stdout
    r = run("model", "pull", "gemma9-1t")
    assert r.returncode != 0 and "unknown model 'gemma9-1t' (known: smollm2-135m, gemma3-270m)" in r.stderr, r.stderr
    assert run("model", "path", "gemma3-270m").stdout.strip().endswith("gemma-3-270m-q4_k_m.gguf")


def test_engine_serves_gemma_by_name():
    s = Server("--model", "gemma3-270m")
    try:
        c = OpenAI(base_url=s.base + "/v1", api_key="unused", timeout=60, max_retries=0)
        model = c.models.list().data[0].id
        assert model == "gemma-3-270m-q4_k_m"
        r = c.completions.create(model=model, prompt="The three primary colors are", max_tokens=8, temperature=0)
        assert "red" in r.choices[0].text and "blue" in r.choices[0].text, r.choices[0].text
        assert r.usage.prompt_tokens == 6  # <bos> + 5 SentencePiece tokens
        stream = c.completions.create(model=model, prompt="The three primary colors are", max_tokens=8,
                                      temperature=0, stream=True)
        assert "".join(ch.choices[0].text for ch in stream if ch.choices) == r.choices[0].text
        chat = c.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}], max_tokens=4)
        assert chat.choices[0].finish_reason in ("stop", "length")
        # <bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n
        assert chat.usage.prompt_tokens == 10
    finally:
        assert s.stop() == 0
