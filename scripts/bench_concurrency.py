#!/usr/bin/env python3
"""Closed-loop load on an OpenAI-compatible server: C concurrent clients stream /v1/completions
(max_tokens tokens each, ignore_eos) for a fixed time; prints aggregate generated tokens/s and
time-to-first-token p50/p99. Standard library only; talks to the URL given (loopback by default).

    scripts/bench_concurrency.py --url http://127.0.0.1:8000 --concurrency 1 8 32 64 --seconds 30
"""
import argparse
import http.client
import json
import statistics
import threading
import time
import urllib.parse


def one_request(host, port, model, prompt, max_tokens):
    conn = http.client.HTTPConnection(host, port, timeout=120)
    body = {"prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "stream": True, "ignore_eos": True}
    if model:
        body["model"] = model
    start = time.perf_counter()
    conn.request("POST", "/v1/completions", body=json.dumps(body), headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError(f"HTTP {resp.status}: {resp.read()[:200]}")
    ttft, tokens, done = None, 0, False
    for raw in resp:
        line = raw.strip()
        if not line.startswith(b"data: "):
            continue
        data = line[6:]
        if data == b"[DONE]":
            done = True
            break
        chunk = json.loads(data)
        for c in chunk.get("choices", []):
            if c.get("text"):
                tokens += 1
                if ttft is None:
                    ttft = time.perf_counter() - start
    conn.close()
    if not done:
        raise RuntimeError("stream ended without [DONE]")
    return ttft or (time.perf_counter() - start), tokens


def run_level(url, model, concurrency, seconds, max_tokens):
    u = urllib.parse.urlparse(url)
    stop_at = time.perf_counter() + seconds
    ttfts, counts, errors = [], [], []
    lock = threading.Lock()

    def client(i):
        prompt = f"Client {i} writes a long story about the sea. Once upon a time"
        while time.perf_counter() < stop_at:
            try:
                t, n = one_request(u.hostname, u.port, model, prompt, max_tokens)
                with lock:
                    ttfts.append(t)
                    counts.append(n)
            except Exception as e:  # noqa: BLE001 - report and go on
                with lock:
                    errors.append(str(e))

    start = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    ttfts.sort()
    p = lambda q: ttfts[min(len(ttfts) - 1, int(q * len(ttfts)))] if ttfts else float("nan")
    return {"concurrency": concurrency, "requests": len(counts), "errors": len(errors),
            "tokens_per_s": sum(counts) / elapsed, "ttft_p50_s": p(0.5), "ttft_p99_s": p(0.99),
            "first_error": errors[0] if errors else None}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--model", default=None)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32, 64])
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--max-tokens", type=int, default=64)
    a = ap.parse_args()
    print("concurrency,requests,errors,tokens_per_s,ttft_p50_s,ttft_p99_s")
    for c in a.concurrency:
        r = run_level(a.url, a.model, c, a.seconds, a.max_tokens)
        print(f"{c},{r['requests']},{r['errors']},{r['tokens_per_s']:.1f},{r['ttft_p50_s']:.3f},{r['ttft_p99_s']:.3f}", flush=True)
        if r["first_error"]:
            print("  first error:", r["first_error"])


if __name__ == "__main__":
    main()
