"""HTTP/1.1 details of the gateway's event-loop proxy, over raw loopback sockets: pipelined requests
mixing proxied and router routes are answered in order, `Connection: close` is honoured,
`Expect: 100-continue` gets its interim answer, an oversized body gets 413 and the connection
closes, and many requests on one keep-alive connection go through. Real gateway and stub processes."""
import os
import signal
import socket
import subprocess
import time

import pytest

from conftest import BINARY, ROOT, free_port, http_get

STUB = os.path.join(ROOT, ".build", "release", "scalellm-stub")
BODY = b'{"model":"stub-model","prompt":"hi","max_tokens":4}'


def wait_ready(url, proc, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, f"{url}: process exited with {proc.returncode}"
        try:
            if http_get(url, timeout=1)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready")


@pytest.fixture(scope="module")
def gateway():
    stub_port, port = free_port(), free_port()
    stub = subprocess.Popen([STUB, "--port", str(stub_port), "--events", "3"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    gw = subprocess.Popen([BINARY, "gateway", "--port", str(port), "--backend", f"http://127.0.0.1:{stub_port}",
                           "--log-level", "warning"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          start_new_session=True)
    try:
        wait_ready(f"http://127.0.0.1:{stub_port}/ready", stub)
        wait_ready(f"http://127.0.0.1:{port}/ready", gw)
        yield port
    finally:
        for p in (gw, stub):
            p.terminate()
            p.wait(timeout=20)


def exchange(port, raw, expect_close=False, wait=3.0):
    """Sends raw bytes; returns (bytes received, whether the server closed the connection)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(raw)
        out, closed = b"", False
        deadline = time.time() + wait
        s.settimeout(0.3 if not expect_close else wait)
        while time.time() < deadline:
            try:
                data = s.recv(65536)
            except socket.timeout:
                if not expect_close:
                    break
                continue
            if not data:
                closed = True
                break
            out += data
        return out, closed


def post(path, body=BODY, extra=b""):
    return (b"POST " + path + b" HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n" + extra +
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def statuses_and_kinds(data):
    """The status line of each answer, and what each body is (completion / health / ready / error)."""
    answers = []
    for chunk in data.split(b"HTTP/1.1 ")[1:]:
        status = int(chunk[:3])
        kind = ("completion" if b"text_completion" in chunk else "health" if b'"ok"' in chunk
                else "ready" if b'"ready"' in chunk else "other")
        answers.append((status, kind))
    return answers


def test_pipelined_requests_are_answered_in_order(gateway):
    raw = (post(b"/v1/completions") + b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n" + post(b"/v1/completions")
           + b"GET /ready HTTP/1.1\r\nHost: t\r\n\r\n" + post(b"/v1/completions"))
    data, _ = exchange(gateway, raw)
    assert statuses_and_kinds(data) == [(200, "completion"), (200, "health"), (200, "completion"), (200, "ready"),
                                        (200, "completion")]


def test_connection_close_is_honoured(gateway):
    data, closed = exchange(gateway, post(b"/v1/completions", extra=b"Connection: close\r\n"), expect_close=True)
    assert data.startswith(b"HTTP/1.1 200")
    assert b"connection: close" in data.lower()
    assert closed


def test_expect_continue_gets_an_interim_answer(gateway):
    data, _ = exchange(gateway, post(b"/v1/completions", extra=b"Expect: 100-continue\r\n"))
    assert data.startswith(b"HTTP/1.1 100")
    assert b"HTTP/1.1 200" in data and b"text_completion" in data


def test_an_oversized_body_gets_413_and_the_connection_closes(gateway):
    big = b'{"prompt":"' + b"x" * (5 << 20) + b'"}'  # over the 4 MiB default
    with socket.create_connection(("127.0.0.1", gateway), timeout=10) as s:
        s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: t\r\nContent-Length: " + str(len(big)).encode() + b"\r\n\r\n")
        try:
            s.sendall(big)
        except OSError:
            pass  # the gateway may close before reading it all
        out = b""
        while True:
            try:
                data = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not data:
                break
            out += data
    assert out.startswith(b"HTTP/1.1 413"), out[:200]
    assert b"exceeds the limit" in out


def test_many_requests_share_one_connection(gateway):
    raw = b"".join(post(b"/v1/completions") for _ in range(50))
    data, closed = exchange(gateway, raw, wait=5)
    assert statuses_and_kinds(data) == [(200, "completion")] * 50
    assert not closed


def test_streams_pass_through_on_a_kept_alive_connection(gateway):
    body = b'{"model":"stub-model","prompt":"hi","max_tokens":4,"stream":true}'
    data, _ = exchange(gateway, post(b"/v1/completions", body) + post(b"/v1/completions", body))
    assert data.count(b"HTTP/1.1 200") == 2
    assert data.count(b"data: [DONE]") == 2
    assert data.lower().count(b"transfer-encoding: chunked") == 2


def start_gateway(stub_args, config_text=None, tmp_path=None):
    """A stub with `stub_args` and a gateway in front of it (optionally with a YAML config)."""
    stub_port, port = free_port(), free_port()
    stub = subprocess.Popen([STUB, "--port", str(stub_port), *stub_args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    args = [BINARY, "gateway", "--port", str(port), "--backend", f"http://127.0.0.1:{stub_port}", "--log-level", "warning"]
    if config_text:
        path = tmp_path / "gateway.yaml"
        path.write_text(config_text)
        args += ["--config", str(path)]
    gw = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    wait_ready(f"http://127.0.0.1:{stub_port}/ready", stub)
    wait_ready(f"http://127.0.0.1:{port}/ready", gw)
    return port, stub, gw


def test_idle_and_stalled_connections_are_closed_at_the_idle_timeout(tmp_path):
    port, stub, gw = start_gateway([], "limits:\n  idle_timeout_ms: 1000\n", tmp_path)
    try:
        # After an answer, a silent keep-alive connection closes about a timeout later.
        t0 = time.time()
        data, closed = exchange(port, post(b"/v1/completions"), expect_close=True, wait=5)
        assert data.startswith(b"HTTP/1.1 200") and closed
        assert 0.8 < time.time() - t0 < 3.5
        # A client that stops halfway through its request head is cut off too.
        t0 = time.time()
        _, closed = exchange(port, b"POST /v1/completions HTTP/1.1\r\nHost: t\r\nContent-Le", expect_close=True, wait=5)
        assert closed and time.time() - t0 < 3.5
        # So is one that stops halfway through its body.
        t0 = time.time()
        data, closed = exchange(port, b"POST /v1/completions HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{\"pro",
                                expect_close=True, wait=5)
        assert closed and time.time() - t0 < 3.5
    finally:
        for p in (gw, stub):
            p.terminate()
            p.wait(timeout=20)


def test_sigterm_lets_a_proxied_stream_finish(tmp_path):
    # 10 events 200 ms apart: the stream is in flight when the gateway is told to stop.
    port, stub, gw = start_gateway(["--events", "10", "--event-delay-ms", "200"])
    try:
        body = b'{"model":"stub-model","prompt":"hi","max_tokens":4,"stream":true}'
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(post(b"/v1/completions", body))
            first = s.recv(65536)
            assert first.startswith(b"HTTP/1.1 200")
            gw.send_signal(signal.SIGTERM)
            out = first
            while True:
                data = s.recv(65536)
                if not data:
                    break
                out += data
        assert out.count(b"data: ") == 12  # 10 events, the final one and [DONE]
        assert b"data: [DONE]" in out and out.endswith(b"0\r\n\r\n")
        assert gw.wait(timeout=20) == 0
    finally:
        for p in (gw, stub):
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=20)


def test_a_chunked_request_body_is_proxied(gateway):
    body = b'{"model":"stub-model","prompt":"hi","max_tokens":4}'
    chunked = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(body[i:i + 7]), body[i:i + 7]) for i in range(0, len(body), 7))
    raw = (b"POST /v1/completions HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked
           + b"0\r\nX-Trailer: 1\r\n\r\n" + b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
    data, closed = exchange(gateway, raw)
    assert statuses_and_kinds(data) == [(200, "completion"), (200, "health")]
    assert not closed


def test_malformed_requests_get_a_json_400_and_the_connection_closes(gateway):
    for raw in [b"GARBAGE\r\n\r\n",
                b"POST /v1/completions HTTP/1.1\r\nHost: t\r\n folded: x\r\nContent-Length: 2\r\n\r\n{}",
                b"POST /v1/completions HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                b"POST /v1/completions HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"]:
        data, closed = exchange(gateway, raw, expect_close=True)
        assert data.startswith(b"HTTP/1.1 400"), (raw, data[:200])
        assert b'"invalid_request_error"' in data and b"Malformed HTTP request" in data
        assert closed


def test_an_oversized_head_gets_431(gateway):
    raw = b"POST /v1/completions HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * (80 << 10) + b"\r\n\r\n"
    data, closed = exchange(gateway, raw, expect_close=True)
    assert data.startswith(b"HTTP/1.1 431"), data[:200]
    assert closed


def test_http10_streams_end_with_the_close(gateway):
    body = b'{"model":"stub-model","prompt":"hi","max_tokens":4,"stream":true}'
    raw = (b"POST /v1/completions HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: "
           + str(len(body)).encode() + b"\r\n\r\n" + body)
    data, closed = exchange(gateway, raw, expect_close=True)
    assert data.startswith(b"HTTP/1.0 200")
    assert b"transfer-encoding" not in data.lower()
    assert data.rstrip().endswith(b"data: [DONE]")
    assert closed
