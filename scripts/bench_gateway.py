#!/usr/bin/env python3
"""Gateway overhead on loopback: requests/s, added p50/p99 latency and CPU per request of a router in
front of the fast stub replica (`scalellm-stub`), against the stub direct, at concurrency 1 and 64,
non-streaming and streaming (16 SSE events per answer). Load from wrk (Debian package) with a Lua
body. Routers: ours, and optionally vllm-router / sglang-router from a venv (--router-venv).

    swift build -c release
    scripts/bench_gateway.py --seconds 10 [--router-venv /tmp/router-venv] [--only scalellm,vllm] [--rounds 3] [--flush-each-event]
                             [--stub-threads N] [--streaming both|no|yes]
"""
import argparse
import os
import re
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".build", "release")
TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready")


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                fields = open(f"/proc/{pid}/task/{tid}/stat").read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            except OSError:
                pass
    return total / TICKS


def descendants(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    pids = [pid]
    for c in out:
        pids += descendants(int(c))
    return pids


def wrk(url, path, stream, connections, seconds):
    body = '{"model":"stub-model","messages":[{"role":"user","content":"Hello there"}],"max_tokens":16%s}' % (
        ',"stream":true' if stream else "")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = \'%s\'\n' % body)
        lua = f.name
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", lua, url + path],
                         capture_output=True, text=True).stdout
    os.unlink(lua)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def pct(p):
        m = re.search(r"\s%s%%\s+([\d.]+)(us|ms|s)\b" % p, out)
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v

    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "p50": pct(50), "p99": pct(99), "requests": total, "non2xx": int(errors.group(1)) if errors else 0}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--router-venv", default=None, help="venv with vllm-router and sglang-router installed")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 64])
    ap.add_argument("--rounds", type=int, default=1, help="runs of each cell, targets interleaved; medians are printed")
    ap.add_argument("--only", default=None, help="comma-separated: run only the targets whose name contains one of these (plus direct)")
    ap.add_argument("--flush-each-event", action="store_true",
                    help="the stub writes each SSE event of a stream on its own (a syscall each) instead of the "
                         "whole immediate answer in one write")
    ap.add_argument("--stub-threads", type=int, default=1,
                    help="event-loop threads of each stub; 1 (two stubs, two threads) keeps the stubs from crowding "
                         "the router and wrk on a 2-core machine; 0: one per core")
    ap.add_argument("--streaming", choices=["both", "no", "yes"], default="both", help="which cells to run")
    a = ap.parse_args()

    procs = []

    def start(cmd, ready):
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        procs.append(p)
        wait_ready(ready)
        time.sleep(1.5)  # first health rounds
        return p

    try:
        stubs = []
        for _ in range(2):  # two replicas (power_of_two needs two); "direct" hits the first
            sp = free_port()
            start([os.path.join(BIN, "scalellm-stub"), "--port", str(sp), "--events", "16",
                   "--flush-each-event", "1" if a.flush_each_event else "0",
                   *(["--threads", str(a.stub_threads)] if a.stub_threads else [])], f"http://127.0.0.1:{sp}/ready")
            stubs.append(f"http://127.0.0.1:{sp}")
        targets = [("direct", stubs[0], None)]
        for name, extra in [("scalellm gateway (dynamic)", []), ("scalellm gateway round_robin", ["--policy", "round_robin"]),
                            ("scalellm gateway power_of_two", ["--policy", "power_of_two"])]:
            if a.only and not any(o in name for o in a.only.split(",")):
                continue
            p = free_port()
            cmd = [os.path.join(BIN, "scalellm"), "gateway", "--port", str(p), "--log-level", "warning", *extra]
            for u in stubs:
                cmd += ["--backend", u]
            targets.append((name, f"http://127.0.0.1:{p}", start(cmd, f"http://127.0.0.1:{p}/ready")))
        if a.router_venv:
            for name, exe, policy in [("vllm-router round_robin", "vllm-router", "round_robin"),
                                      ("vllm-router power_of_two", "vllm-router", "power_of_two"),
                                      ("sglang-router round_robin", "sglang-router", "round_robin"),
                                      ("sglang-router power_of_two", "sglang-router", "power_of_two")]:
                if a.only and not any(o in name for o in a.only.split(",")):
                    continue
                p = free_port()
                if exe == "vllm-router":
                    cmd = [os.path.join(a.router_venv, "bin", "vllm-router"), "--log-level", "warning"]
                else:
                    cmd = [os.path.join(a.router_venv, "bin", "sglang-router"), "launch", "--log-level", "warn"]
                cmd += ["--worker-urls", *stubs, "--policy", policy, "--host", "127.0.0.1", "--port", str(p),
                        "--prometheus-port", str(free_port())]
                try:
                    r = start(cmd, f"http://127.0.0.1:{p}/health")
                    targets.append((name, f"http://127.0.0.1:{p}", r))
                except RuntimeError as e:
                    print(f"# {name}: {e}")
        print("target,stream,concurrency,req_per_s,p50_ms,p99_ms,added_p50_ms,added_p99_ms,cpu_us_per_req,non2xx"
              + (",req_per_s_min,req_per_s_max" if a.rounds > 1 else ""))
        for stream in {"both": (False, True), "no": (False,), "yes": (True,)}[a.streaming]:
            for c in a.concurrency:
                # Rounds go through every target in turn, so a slow spell of the machine hits them all;
                # each figure is the median over the rounds.
                runs = {name: [] for name, _, _ in targets}
                for _ in range(a.rounds):
                    for name, url, proc in targets:
                        pids = descendants(proc.pid) if proc else []
                        cpu0 = cpu_seconds(pids)
                        r = wrk(url, "/v1/chat/completions", stream, c, a.seconds)
                        r["cpu"] = (cpu_seconds(pids) - cpu0) / max(r["requests"], 1) * 1e6 if proc else float("nan")
                        runs[name].append(r)
                base = None
                for name, _, _ in targets:
                    rs = runs[name]
                    r = {k: statistics.median(x[k] for x in rs) for k in ("rps", "p50", "p99", "cpu", "non2xx")}
                    if base is None:
                        base = r
                    extra = f",{min(x['rps'] for x in rs):.0f},{max(x['rps'] for x in rs):.0f}" if a.rounds > 1 else ""
                    print(f"{name},{stream},{c},{r['rps']:.0f},{r['p50']:.3f},{r['p99']:.3f},"
                          f"{r['p50'] - base['p50']:.3f},{r['p99'] - base['p99']:.3f},{r['cpu']:.1f},{r['non2xx']:.0f}{extra}", flush=True)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    main()
