"""The gateway with real engine processes: `scalellm up`, and `scalellm gateway` in front of engines
that die under load. The official openai client talks to the gateway over loopback."""
import concurrent.futures
import os
import signal
import subprocess
import time

import pytest
from openai import OpenAI, APIError

from conftest import BINARY, ROOT, Server, free_port, http_get


class Process:
    """A `scalellm` subcommand on a free port, ready when its /ready answers 200."""

    def __init__(self, *args: str, port: int, ready_timeout: float = 120):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log = open(os.path.join(ROOT, ".build", f"e2e-{args[0]}-{port}.log"), "w")
        self.proc = subprocess.Popen([BINARY, *args], stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + ready_timeout
        while time.time() < deadline:
            assert self.proc.poll() is None, f"{args[0]} exited with {self.proc.returncode}; see {self.log.name}"
            try:
                if http_get(self.base + "/ready", timeout=1)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{args[0]} not ready in {ready_timeout} s")

    def stop(self, sig=signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def engine_pids():
    out = subprocess.run(["pgrep", "-f", "release/scalellm engine"], capture_output=True, text=True).stdout.split()
    return {int(p) for p in out}


def test_up_serves_the_openai_client_and_stops_cleanly():
    before = engine_pids()
    port = free_port()
    up = Process("up", "--replicas", "2", "--port", str(port), port=port)
    try:
        client = OpenAI(base_url=up.base + "/v1", api_key="unused", timeout=60, max_retries=0)
        models = client.models.list().data
        assert len(models) == 1  # two replicas of one model, listed once
        model = models[0].id
        r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Say hi"}],
                                           max_tokens=8, temperature=0)
        assert r.choices[0].message.content and r.usage.completion_tokens == 8
        stream = client.completions.create(model=model, prompt="The capital of France is", max_tokens=8,
                                           temperature=0, stream=True)
        text = "".join(c.choices[0].text for c in stream if c.choices)
        assert text.startswith(" Paris")
        status, body = http_get(up.base + "/status")
        assert status == 200 and body.count(b'"healthy":true') == 2
        assert len(engine_pids() - before) == 2
    finally:
        assert up.stop(signal.SIGINT) == 0  # Ctrl-C
    deadline = time.time() + 10
    while engine_pids() - before and time.time() < deadline:
        time.sleep(0.1)
    assert not (engine_pids() - before), "engines left running after the stack stopped"


def test_a_killed_replica_loses_no_request_that_had_not_started_streaming():
    a, b = Server("--threads", "1"), Server("--threads", "1")
    port = free_port()
    gw = Process("gateway", "--port", str(port), "--backend", a.base, "--backend", b.base,
                 "--policy", "round_robin", port=port, ready_timeout=30)
    try:
        client = OpenAI(base_url=gw.base + "/v1", api_key="unused", timeout=60, max_retries=0)
        model = client.models.list().data[0].id

        def complete(i):
            r = client.completions.create(model=model, prompt=f"Request {i}: once upon a time", max_tokens=48,
                                          temperature=0, extra_body={"ignore_eos": True})
            return r.usage.completion_tokens

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            futures = [pool.submit(complete, i) for i in range(16)]
            time.sleep(0.5)
            a.proc.kill()  # dies with requests in flight
            results = [f.result(timeout=120) for f in futures]
        assert results == [48] * 16
        # The dead replica is out of rotation; new requests go to the live one.
        for _ in range(4):
            assert complete(99) == 48
        status, body = http_get(gw.base + "/status")
        assert b'"healthy":false' in body
    finally:
        gw.stop()
        a.stop()
        b.stop()


def test_a_stream_on_a_dying_replica_ends_with_an_error_not_a_hang():
    a = Server("--threads", "1")
    port = free_port()
    gw = Process("gateway", "--port", str(port), "--backend", a.base, port=port, ready_timeout=30)
    try:
        client = OpenAI(base_url=gw.base + "/v1", api_key="unused", timeout=30, max_retries=0)
        model = client.models.list().data[0].id
        stream = client.completions.create(model=model, prompt="Tell a long story", max_tokens=2000, stream=True,
                                           extra_body={"ignore_eos": True})
        started = time.time()
        got = 0
        with pytest.raises(APIError):
            for chunk in stream:
                got += 1
                if got == 5:
                    a.proc.kill()
        assert got >= 5 and time.time() - started < 20
    finally:
        gw.stop()
        a.stop()


def test_up_and_gateway_refuse_bad_input_with_a_message():
    r = subprocess.run([BINARY, "up", "--model", "/etc/hostname", "--port", str(free_port())],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "cannot load model '/etc/hostname'" in r.stderr
    r = subprocess.run([BINARY, "gateway", "--backend", "ftp://x:1"], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "not an http://host:port URL" in r.stderr
    r = subprocess.run([BINARY, "gateway", "--policy", "fastest"], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "--policy 'fastest'" in r.stderr
    r = subprocess.run([BINARY, "up", "--replicas", "0"], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "--replicas" in r.stderr


def test_a_busy_port_is_named():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        for cmd in (["gateway", "--backend", "http://127.0.0.1:1"], ["engine", "--threads", "1"]):
            r = subprocess.run([BINARY, *cmd, "--port", str(port)], capture_output=True, text=True, timeout=60)
            assert r.returncode != 0 and f"cannot listen on 127.0.0.1:{port}" in r.stderr, r.stderr
