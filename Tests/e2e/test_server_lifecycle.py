"""Health, readiness, metrics and graceful shutdown of the real engine binary."""
import json
import signal
import threading
import time

from conftest import Server, http_get, raw_request


def test_health_ready_metrics(server):
    assert http_get(server.base + "/health")[0] == 200
    assert http_get(server.base + "/ready")[0] == 200
    raw_request(server.port, "POST", "/v1/completions", json.dumps({"prompt": "Hi", "max_tokens": 3}).encode())
    text = server.metrics()
    for name in ["vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:prompt_tokens_total",
                 "vllm:generation_tokens_total", "vllm:time_to_first_token_seconds_bucket",
                 "vllm:inter_token_latency_seconds_bucket"]:
        assert name in text, name
    assert server.metric("vllm:generation_tokens_total") >= 3


def test_sigterm_finishes_in_flight_requests():
    s = Server()
    result = {}

    def stream():
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
        body = json.dumps({"prompt": "Tell me a story.", "max_tokens": 60, "temperature": 0, "stream": True,
                           "ignore_eos": True})
        conn.request("POST", "/v1/completions", body=body, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        result["status"] = r.status
        result["body"] = r.read().decode()

    t = threading.Thread(target=stream)
    t.start()
    time.sleep(0.5)
    s.proc.send_signal(signal.SIGTERM)
    t.join(60)
    code = s.stop()
    assert result.get("status") == 200
    assert result["body"].rstrip().endswith("data: [DONE]")
    assert '"finish_reason":"length"' in result["body"].replace(" ", "")
    assert code == 0
