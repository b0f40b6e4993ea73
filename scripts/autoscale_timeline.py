#!/usr/bin/env python3
"""Drive `scalellm up --autoscale` through a load schedule and record the timeline.

Starts the local stack with autoscaling, runs streaming /v1/completions clients following a
schedule of (clients, seconds) steps, samples the gateway's /status twice a second, and writes a CSV
(time, clients, replicas, ready replicas, demand, p99 latency of requests finished in the last 5 s,
completed and failed requests). Every response is checked complete: a finish_reason and a final
[DONE]. Exits 1 if any request failed or was truncated.

  scripts/autoscale_timeline.py --schedule 2:15,32:40,2:60 --csv docs/autoscaling/timeline.csv \
      --plot docs/autoscaling/timeline.png -- --min-replicas 1 --max-replicas 3 --target 4 \
      --stable-window 20 --panic-window 4 --scale-down-delay 10
(arguments after -- go to `scalellm up`; --plot needs matplotlib)
"""
import argparse
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Load:
    """Streaming clients; the number running follows `target`."""

    def __init__(self, base, model, max_tokens):
        self.base, self.model, self.max_tokens = base, model, max_tokens
        self.target = 0
        self.lock = threading.Lock()
        self.threads = []
        self.finished = []   # (end time, latency seconds)
        self.failures = []   # descriptions
        self.stopping = False

    def one_request(self):
        body = json.dumps({"model": self.model, "prompt": "Tell me a story about a lighthouse keeper.",
                           "max_tokens": self.max_tokens, "stream": True}).encode()
        req = urllib.request.Request(self.base + "/v1/completions", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        start = time.time()
        finish, done, tokens = None, False, 0
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                for raw in r:
                    line = raw.decode().strip()
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        done = True
                        break
                    event = json.loads(data)
                    if "error" in event:
                        raise RuntimeError(f"error event: {event['error']}")
                    choice = event["choices"][0]
                    tokens += 1
                    finish = choice.get("finish_reason") or finish
        except (urllib.error.URLError, OSError, RuntimeError, ValueError) as e:
            with self.lock:
                self.failures.append(f"{type(e).__name__}: {e}")
            return
        with self.lock:
            if finish and done:
                self.finished.append((time.time(), time.time() - start))
            else:
                self.failures.append(f"truncated: finish_reason={finish} done={done} events={tokens}")

    def worker(self, index):
        while not self.stopping and index < self.target:
            self.one_request()

    def set_clients(self, n):
        self.target = n
        self.threads = [t for t in self.threads if t.is_alive()]
        alive = {t.name for t in self.threads}
        for i in range(n):
            if f"client-{i}" not in alive:
                t = threading.Thread(target=self.worker, args=(i,), name=f"client-{i}", daemon=True)
                t.start()
                self.threads.append(t)

    def stop(self):
        self.stopping = True
        for t in self.threads:
            t.join(timeout=130)


def get_status(base):
    with urllib.request.urlopen(base + "/status", timeout=2) as r:
        return json.loads(r.read())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--schedule", default="2:15,32:40,2:60", help="clients:seconds steps")
    ap.add_argument("--csv", required=True)
    ap.add_argument("--plot", help="PNG to draw (needs matplotlib)")
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "scalellm"))
    ap.add_argument("up_args", nargs="*", help="after --: flags for scalellm up")
    args = ap.parse_args()
    schedule = [tuple(int(x) for x in step.split(":")) for step in args.schedule.split(",")]

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(args.csv + ".log", "w")
    up = subprocess.Popen([args.binary, "up", "--autoscale", "--port", str(port), *args.up_args],
                          stdout=log, stderr=subprocess.STDOUT)
    rows = []
    load = None
    try:
        deadline = time.time() + 120
        model = None
        while time.time() < deadline:
            if up.poll() is not None:
                sys.exit(f"scalellm up exited with {up.returncode}; see {log.name}")
            try:
                with urllib.request.urlopen(base + "/v1/models", timeout=1) as r:
                    model = json.loads(r.read())["data"][0]["id"]
                    break
            except (urllib.error.URLError, OSError, KeyError, IndexError):
                time.sleep(0.3)
        if model is None:
            sys.exit("the stack did not become ready in 120 s")
        load = Load(base, model, args.max_tokens)
        t0 = time.time()
        for clients, seconds in schedule:
            load.set_clients(clients)
            step_end = time.time() + seconds
            while time.time() < step_end:
                now = time.time()
                try:
                    s = get_status(base)
                except (urllib.error.URLError, OSError):
                    time.sleep(0.5)
                    continue
                pool = next((p for p in s["pools"] if p["pool"] == "default"), {})
                replicas = sum(1 for r in s["replicas"] if not r["draining"])
                with load.lock:
                    recent = sorted(lat for end, lat in load.finished if end > now - 5)
                    done, failed = len(load.finished), len(load.failures)
                p99 = recent[min(len(recent) - 1, int(len(recent) * 0.99))] if recent else ""
                rows.append({"t": round(now - t0, 1), "clients": clients, "replicas": replicas,
                             "ready": pool.get("ready_replicas", 0), "demand": pool.get("demand", 0),
                             "p99_latency_s": round(p99, 2) if p99 != "" else "", "completed": done, "failed": failed})
                time.sleep(max(0, 0.5 - (time.time() - now)))
        load.set_clients(0)
        load.stop()
    finally:
        if load:
            load.stopping = True
        up.send_signal(signal.SIGINT)
        try:
            up.wait(timeout=60)
        except subprocess.TimeoutExpired:
            up.kill()

    with open(args.csv, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    peak = max(r["replicas"] for r in rows)
    final = rows[-1]["replicas"]
    print(json.dumps({"requests": len(load.finished), "failed": len(load.failures), "peak_replicas": peak,
                      "final_replicas": final, "up_exit": up.returncode, "failures": load.failures[:5]}))
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(9, 4.5))
        t = [r["t"] for r in rows]
        ax.step(t, [r["clients"] for r in rows], where="post", label="concurrent clients", color="tab:gray")
        ax.plot(t, [r["demand"] for r in rows], label="in-flight demand", color="tab:orange", alpha=0.6)
        ax.set_xlabel("seconds")
        ax.set_ylabel("requests")
        ax2 = ax.twinx()
        ax2.step(t, [r["replicas"] for r in rows], where="post", label="engine replicas", color="tab:blue", linewidth=2)
        ax2.step(t, [r["ready"] for r in rows], where="post", label="ready replicas", color="tab:green", linestyle="--")
        lat = [(r["t"], r["p99_latency_s"]) for r in rows if r["p99_latency_s"] != ""]
        ax2.plot([a for a, _ in lat], [b for _, b in lat], label="p99 latency (s, last 5 s)", color="tab:red", alpha=0.7)
        ax2.set_ylabel("replicas / seconds")
        lines = ax.get_legend_handles_labels()
        lines2 = ax2.get_legend_handles_labels()
        ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="upper right", fontsize=8)
        ax.set_title("scalellm up --autoscale: replicas follow the load")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=110)
    sys.exit(1 if load.failures else 0)


if __name__ == "__main__":
    main()
