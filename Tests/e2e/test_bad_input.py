"""Bad input gets OpenAI-style 4xx errors naming the problem, and the server keeps serving."""
import json
import socket
import subprocess
import time

import pytest

from conftest import BINARY, json_error, raw_request

GOOD = json.dumps({"prompt": "Hello", "max_tokens": 2, "temperature": 0}).encode()


def still_serving(server):
    status, data = raw_request(server.port, "POST", "/v1/completions", GOOD)
    assert status == 200, data
    assert json.loads(data)["choices"][0]["finish_reason"] in ("stop", "length")


CASES = [
    ("/v1/chat/completions", b"{not json", 400, None),
    ("/v1/chat/completions", b"", 400, None),
    ("/v1/chat/completions", b'{"messages": "hi"}', 400, "messages"),
    ("/v1/chat/completions", b'{"model": 3, "messages": []}', 400, "model"),
    ("/v1/chat/completions", b'{"messages": []}', 400, "messages"),
    ("/v1/chat/completions", b'{}', 400, "messages"),
    ("/v1/chat/completions", b'{"messages": [{"role": "wizard", "content": "x"}]}', 400, "messages[0].role"),
    ("/v1/chat/completions", b'{"messages": [{"content": "x"}]}', 400, "messages[0].role"),
    ("/v1/chat/completions", b'{"messages": [{"role": "user", "content": "x"}], "max_tokens": -5}', 400, "max_tokens"),
    ("/v1/chat/completions", b'{"messages": [{"role": "user", "content": "x"}], "max_tokens": 10000000}', 400, "max_tokens"),
    ("/v1/chat/completions", b'{"messages": [{"role": "user", "content": "x"}], "max_completion_tokens": 0}', 400, "max_completion_tokens"),
    ("/v1/chat/completions", b'{"messages": [{"role": "user", "content": "x"}], "max_tokens": "ten"}', 400, "max_tokens"),
    ("/v1/chat/completions", b'{"messages": [{"role": "user", "content": "x"}], "temperature": 7}', 400, "temperature"),
    ("/v1/chat/completions", b'{"messages": [{"role": "user", "content": "x"}], "top_p": 0}', 400, "top_p"),
    ("/v1/chat/completions", b'{"messages": [{"role": "user", "content": "x"}], "n": 2}', 400, "n"),
    ("/v1/chat/completions", b'{"messages": [{"role": "user", "content": "x"}], "logprobs": true}', 400, "logprobs"),
    ("/v1/chat/completions", b'{"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]}', 400, "tools"),
    ("/v1/chat/completions", b'{"messages": [{"role": "user", "content": "x"}], "stop": [""]}', 400, "stop"),
    ("/v1/chat/completions", b'{"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}', 400, "messages[0].content"),
    ("/v1/completions", b'{"prompt": ""}', 400, "prompt"),
    ("/v1/completions", b'{"prompt": [1, 2, 99999999]}', 400, "prompt"),
    ("/v1/completions", b'{"prompt": "x", "presence_penalty": 3}', 400, "presence_penalty"),
]


@pytest.mark.parametrize("path,body,status,param", CASES)
def test_bad_request(server, path, body, status, param):
    got, data = raw_request(server.port, "POST", path, body)
    assert got == status, data
    err = json_error(data)
    assert err["type"] == "invalid_request_error"
    if param:
        assert err["param"] == param, err
        assert param.split(".")[-1].split("[")[0] in err["message"], err
    still_serving(server)


def test_invalid_utf8(server):
    got, data = raw_request(server.port, "POST", "/v1/completions", b'{"prompt": "\xff\xfe bad"}')
    assert got == 400
    assert "UTF-8" in json_error(data)["message"]
    still_serving(server)


def test_prompt_longer_than_context(server):
    long_prompt = "hello " * 5000
    got, data = raw_request(server.port, "POST", "/v1/completions", json.dumps({"prompt": long_prompt}).encode())
    assert got == 400
    err = json_error(data)
    assert err["param"] == "prompt" and "context length" in err["message"]
    still_serving(server)


def test_oversized_body(server):
    body = json.dumps({"prompt": "x" * (5 << 20)}).encode()
    try:
        got, data = raw_request(server.port, "POST", "/v1/completions", body)
        assert got == 413
        assert json_error(data)["code"] == "request_too_large"
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may close the connection after answering 413 mid-upload
    still_serving(server)


def test_unknown_model(server):
    got, data = raw_request(server.port, "POST", "/v1/completions", json.dumps({"model": "gpt-9", "prompt": "x"}).encode())
    assert got == 404
    err = json_error(data)
    assert err["code"] == "model_not_found" and "gpt-9" in err["message"]


def test_unknown_route_and_wrong_method(server):
    got, data = raw_request(server.port, "GET", "/v1/nothing")
    assert got == 404 and json_error(data)
    got, data = raw_request(server.port, "GET", "/v1/chat/completions")
    assert got == 405 and "POST" in json_error(data)["message"]
    got, data = raw_request(server.port, "DELETE", "/v1/models")
    assert got == 405


def test_client_disconnect_stops_generation(server):
    before = server.metric("vllm:request_success_total", finished_reason="cancelled")
    body = json.dumps({"prompt": "Once upon a time", "max_tokens": 1500, "ignore_eos": True,
                       "temperature": 0.8, "stream": True}).encode()
    s = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    received = b""
    while received.count(b"data: ") < 3:
        chunk = s.recv(4096)
        assert chunk
        received += chunk
    s.close()
    deadline = time.time() + 10
    while time.time() < deadline:
        if server.metric("vllm:request_success_total", finished_reason="cancelled") > before \
                and server.metric("vllm:num_requests_running") == 0:
            break
        time.sleep(0.1)
    assert server.metric("vllm:request_success_total", finished_reason="cancelled") > before
    assert server.metric("vllm:num_requests_running") == 0
    assert server.metric("vllm:gpu_cache_usage_perc") == 0  # its KV blocks were freed at once
    still_serving(server)


def test_bad_kernel_flags_are_named():
    r = subprocess.run([BINARY, "generate", "--prompt", "x", "--batch-gemm", "mkl"], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "--batch-gemm must be panel or openblas (got 'mkl')" in r.stderr, r.stderr
    r = subprocess.run([BINARY, "generate", "--prompt", "x", "--decode-activations", "q4"], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "--decode-activations must be q8 or f32 (got 'q4')" in r.stderr, r.stderr


def test_both_batch_gemms_answer_from_the_prompt():
    # A prompt of 17+ tokens, so its prefill takes the batch GEMM. The two GEMMs add in different
    # orders, so later greedy tokens may part at a near tie; the answer itself must be there.
    prompt = ("The history of the city of Paris goes back more than two thousand years, to a small settlement "
              "on an island in the river Seine. Today the capital of France is")
    outs = []
    for gemm in ("panel", "openblas"):
        r = subprocess.run([BINARY, "generate", "--prompt", prompt, "--max-tokens", "8",
                            "--batch-gemm", gemm], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        outs.append(r.stdout)
    assert all(o.lstrip().startswith("Paris") for o in outs), outs
