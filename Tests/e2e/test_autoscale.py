"""End-to-end: `scalellm up --autoscale` follows a load step (2 -> 32 -> 2 concurrent streaming
clients) up and back down, and every response is complete (finish_reason and [DONE]) throughout."""
import json
import os
import subprocess
import sys

from conftest import ROOT


def test_local_stack_scales_up_and_down_without_losing_a_response(tmp_path):
    csv_path = tmp_path / "timeline.csv"
    r = subprocess.run(
        [sys.executable, os.path.join(ROOT, "scripts", "autoscale_timeline.py"),
         "--schedule", "2:6,32:30,2:40", "--csv", str(csv_path), "--max-tokens", "24", "--",
         "--min-replicas", "1", "--max-replicas", "3", "--target", "4",
         "--stable-window", "8", "--panic-window", "2", "--scale-down-delay", "4"],
        capture_output=True, text=True, timeout=400)
    assert r.returncode == 0, f"{r.stdout}\n{r.stderr}"
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert result["failed"] == 0, result
    assert result["requests"] > 50, result
    assert result["peak_replicas"] >= 2, f"no scale-up under 32 clients: {result}"
    assert result["final_replicas"] == 1, f"no scale-down after the load dropped: {result}"
    assert result["up_exit"] == 0, "Ctrl-C stops the stack cleanly"
    rows = csv_path.read_text().splitlines()
    assert rows[0].startswith("t,clients,replicas,ready,demand,p99_latency_s")
    # Scale-up happened while 32 clients ran, not before.
    first_up = next(line for line in rows[1:] if int(line.split(",")[2]) >= 2)
    assert int(first_up.split(",")[1]) == 32, first_up


def test_autoscale_flags_are_checked():
    binary = os.path.join(ROOT, ".build", "release", "scalellm")
    r = subprocess.run([binary, "up", "--autoscale", "--min-replicas", "5", "--max-replicas", "2"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "--min-replicas" in r.stderr and "max" in r.stderr, r.stderr
    r = subprocess.run([binary, "up", "--autoscale", "--min-replicas", "0"], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "--min-replicas 0 needs --scale-to-zero" in r.stderr, r.stderr
