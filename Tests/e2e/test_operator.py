"""End-to-end: the manifests apply to a real kube-apiserver, and real `scalellm operator` processes
reconcile the sample LLMService, with exactly one of two leading and a hand-over on SIGTERM.

Needs the control plane of scripts/kube-env.sh (scripts/test.sh starts it and sets
SCALELLM_TEST_KUBECONFIG)."""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import BINARY, ROOT, free_port, http_get

KUBECONFIG = os.environ.get("SCALELLM_TEST_KUBECONFIG")
pytestmark = pytest.mark.skipif(not KUBECONFIG and not os.environ.get("CI"),
                                reason="needs scripts/kube-env.sh start and SCALELLM_TEST_KUBECONFIG")


def kubectl(*args, check=True, input=None):
    r = subprocess.run(["kubectl", "--kubeconfig", KUBECONFIG, *args], capture_output=True, text=True,
                       timeout=60, input=input)
    if check and r.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {r.stdout}{r.stderr}")
    return r


def get_json(*args):
    return json.loads(kubectl("get", "-o", "json", *args).stdout)


def eventually(what, check, timeout=45):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if check():
                return
        except (AssertionError, json.JSONDecodeError, OSError):
            pass
        time.sleep(0.3)
    raise AssertionError(f"timed out: {what}")


class Operator:
    def __init__(self, identity):
        self.identity = identity
        self.port = free_port()
        self.log = open(os.path.join(ROOT, ".build", f"e2e-operator-{identity}.log"), "w")
        self.proc = subprocess.Popen(
            [BINARY, "operator", "--kubeconfig", KUBECONFIG, "--lease-namespace", "scalellm-system",
             "--lease-duration", "4", "--retry-period", "1", "--resync", "5", "--health-host", "127.0.0.1",
             "--health-port", str(self.port), "--identity", identity],
            stdout=self.log, stderr=subprocess.STDOUT)

    def leading(self):
        status, body = http_get(f"http://127.0.0.1:{self.port}/leader", timeout=1)
        return status == 200 and body == b"true"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            return self.proc.wait(timeout=20)
        return self.proc.returncode


def engine_deployments():
    items = get_json("deployments", "-n", "default", "-l", "scalellm.io/service=smollm")["items"]
    return sorted(d["metadata"]["name"] for d in items)


def test_manifests_apply_and_operators_hand_over_leadership():
    assert KUBECONFIG, "CI must run the Kubernetes tests: scripts/test.sh starts scripts/kube-env.sh"
    kubectl("apply", "-k", os.path.join(ROOT, "manifests"))
    kubectl("wait", "--for", "condition=established", "--timeout=30s", "crd/llmservices.scalellm.io")
    kubectl("delete", "llmservice", "smollm", "-n", "default", "--ignore-not-found", "--wait=true")
    kubectl("apply", "-f", os.path.join(ROOT, "manifests", "llmservice-sample.yaml"))
    a, b = Operator("op-a"), Operator("op-b")
    try:
        eventually("one leader", lambda: [a.leading(), b.leading()].count(True) == 1)
        time.sleep(2)
        assert [a.leading(), b.leading()].count(True) == 1, "exactly one operator leads"
        eventually("objects reconciled", lambda: engine_deployments() ==
                   ["smollm-gateway", "smollm-latency", "smollm-throughput"])
        status = get_json("llmservice", "smollm", "-n", "default")["status"]
        assert status["observedGeneration"] == 1
        assert {p["name"]: p["desiredReplicas"] for p in status["pools"]} == {"latency": 1, "throughput": 2}

        leader, standby = (a, b) if a.leading() else (b, a)
        t0 = time.time()
        assert leader.stop() == 0, "SIGTERM stops the operator cleanly"
        eventually("standby takes over", standby.leading, timeout=10)
        handover = time.time() - t0
        assert handover < 8, f"hand-over took {handover:.1f} s"

        # The new leader acts on a spec change.
        kubectl("patch", "llmservice", "smollm", "-n", "default", "--type", "merge",
                "-p", '{"spec": {"pools": [{"name": "latency", "tensorParallel": 2, "minReplicas": 1, "maxReplicas": 2},'
                      ' {"name": "throughput", "tensorParallel": 1, "minReplicas": 3, "maxReplicas": 8}]}}')
        eventually("observedGeneration follows", lambda: get_json("llmservice", "smollm", "-n", "default")
                   ["status"]["observedGeneration"] == 2)
        assert get_json("deployment", "smollm-throughput", "-n", "default")["spec"]["replicas"] == 3

        # A restarted operator makes no duplicates.
        assert standby.stop() == 0
        c = Operator("op-c")
        try:
            eventually("restarted operator leads", c.leading)
            time.sleep(3)
            assert engine_deployments() == ["smollm-gateway", "smollm-latency", "smollm-throughput"]
            services = get_json("services", "-n", "default", "-l", "scalellm.io/service=smollm")["items"]
            assert len(services) == 3
        finally:
            c.stop()
    finally:
        a.stop()
        b.stop()
        kubectl("delete", "llmservice", "smollm", "-n", "default", "--ignore-not-found", "--wait=true")
    # Garbage collection removes what the operator created.
    eventually("owned objects collected", lambda: engine_deployments() == [], timeout=60)


def test_invalid_llmservice_is_rejected_by_the_schema():
    assert KUBECONFIG
    kubectl("apply", "-f", os.path.join(ROOT, "manifests", "crd.yaml"))
    kubectl("wait", "--for", "condition=established", "--timeout=30s", "crd/llmservices.scalellm.io")
    bad = """apiVersion: scalellm.io/v1alpha1
kind: LLMService
metadata: {name: bad, namespace: default}
spec:
  pools: [{name: p, tensorParallel: 0, maxReplicas: 0}]
"""
    r = kubectl("apply", "--validate=false", "-f", "-", input=bad, check=False)
    assert r.returncode != 0
    assert "spec.pools.tensorParallel" in r.stderr and "greater than or equal to 1" in r.stderr, r.stderr


def test_operator_names_a_bad_kubeconfig():
    r = subprocess.run([BINARY, "operator", "--kubeconfig", "/nonexistent/kubeconfig", "--health-port", "0"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "cannot read kubeconfig '/nonexistent/kubeconfig'" in r.stderr, r.stderr


STUB = os.path.join(ROOT, ".build", "release", "scalellm-stub")


def pod_manifest(name, ns, pool, tp, port):
    return json.dumps({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": {
            "scalellm.io/service": "disc", "app.kubernetes.io/component": "engine",
            "scalellm.io/pool": pool, "scalellm.io/tensor-parallel": str(tp)}},
        "spec": {"containers": [{"name": "engine", "image": "scalellm:latest",
                                 "ports": [{"name": "http", "containerPort": port}]}]}})


def set_ready(name, ns, ready):
    status = {"status": {"phase": "Running", "podIP": "127.0.0.1",
                         "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}
    kubectl("patch", "pod", name, "-n", ns, "--subresource=status", "--type", "merge", "-p", json.dumps(status))


def test_gateway_discovers_ready_engine_pods_by_label(tmp_path):
    assert KUBECONFIG
    ns = f"disc-{os.getpid()}"
    kubectl("create", "namespace", ns)
    ports = [free_port(), free_port()]
    stubs = [subprocess.Popen([STUB, "--port", str(p), "--model", "m"], stdout=subprocess.DEVNULL) for p in ports]
    gw_port = free_port()
    config = tmp_path / "gateway.yaml"
    config.write_text(f"""
port: {gw_port}
health_check: {{interval_ms: 200}}
discovery:
  kubernetes:
    namespace: {ns}
    label_selector: scalellm.io/service=disc,app.kubernetes.io/component=engine
    kubeconfig: {KUBECONFIG}
""")
    gw = subprocess.Popen([BINARY, "gateway", "--config", str(config)],
                          stdout=open(os.path.join(ROOT, ".build", "e2e-gateway-discovery.log"), "w"), stderr=subprocess.STDOUT)

    def replicas():
        status, body = http_get(f"http://127.0.0.1:{gw_port}/status", timeout=1)
        return sorted((r["url"], r["pool"], r["tensor_parallel"], r["healthy"]) for r in json.loads(body)["replicas"])

    try:
        kubectl("apply", "-f", "-", input=pod_manifest("e1", ns, "latency", 2, ports[0]))
        kubectl("apply", "-f", "-", input=pod_manifest("e2", ns, "throughput", 1, ports[1]))
        # Pending pods (no IP, not Ready) are not replicas.
        eventually("gateway up", lambda: http_get(f"http://127.0.0.1:{gw_port}/health", timeout=1)[0] == 200)
        time.sleep(1)
        assert replicas() == []
        set_ready("e1", ns, True)
        set_ready("e2", ns, True)
        want = sorted([(f"http://127.0.0.1:{ports[0]}", "latency", 2, True), (f"http://127.0.0.1:{ports[1]}", "throughput", 1, True)])
        eventually("both pods are healthy replicas", lambda: replicas() == want)
        import urllib.request
        req = urllib.request.Request(f"http://127.0.0.1:{gw_port}/v1/completions", method="POST",
                                     data=json.dumps({"model": "m", "prompt": "hi", "max_tokens": 4}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.status == 200
        # A pod that stops being Ready leaves the pool; a deleted one too.
        set_ready("e2", ns, False)
        eventually("not-ready pod removed", lambda: [u for u, *_ in replicas()] == [f"http://127.0.0.1:{ports[0]}"])
        kubectl("delete", "pod", "e1", "-n", ns, "--grace-period=0", "--force", "--wait=false")
        eventually("deleted pod removed", lambda: replicas() == [])
        assert http_get(f"http://127.0.0.1:{gw_port}/ready", timeout=1)[0] == 503
    finally:
        gw.send_signal(signal.SIGTERM)
        gw.wait(timeout=20)
        for s in stubs:
            s.kill()
        kubectl("delete", "namespace", ns, "--wait=false", check=False)


def test_operator_scales_a_pool_from_gateway_load_and_back(tmp_path):
    """The load comes from a real gateway process in front of a slow stub engine, driven by a load
    generator; the operator reads the gateway's /status (annotation scalellm.io/gateway-url, as the
    gateway runs outside the cluster here) and scales the pool's Deployment through /scale."""
    import threading
    import urllib.request
    assert KUBECONFIG
    kubectl("apply", "-f", os.path.join(ROOT, "manifests", "crd.yaml"))
    kubectl("wait", "--for", "condition=established", "--timeout=30s", "crd/llmservices.scalellm.io")
    ns = f"auto-{os.getpid()}"
    kubectl("create", "namespace", ns)
    stub_port, gw_port = free_port(), free_port()
    stub = subprocess.Popen([STUB, "--port", str(stub_port), "--delay-ms", "1500", "--model", "m"], stdout=subprocess.DEVNULL)
    config = tmp_path / "gateway.yaml"
    config.write_text(f"port: {gw_port}\nhealth_check: {{interval_ms: 200}}\n"
                      f"backends: [{{url: 'http://127.0.0.1:{stub_port}', pool: throughput}}]\n")
    gw = subprocess.Popen([BINARY, "gateway", "--config", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    service = {
        "apiVersion": "scalellm.io/v1alpha1", "kind": "LLMService",
        "metadata": {"name": "auto", "namespace": ns,
                     "annotations": {"scalellm.io/gateway-url": f"http://127.0.0.1:{gw_port}"}},
        "spec": {"pools": [{"name": "throughput", "minReplicas": 1, "maxReplicas": 4}],
                 "autoscaling": {"enabled": True, "target": 4, "stableWindowSeconds": 6,
                                 "panicWindowSeconds": 2, "scaleDownDelaySeconds": 4}}}
    kubectl("apply", "-f", "-", input=json.dumps(service))
    op = subprocess.Popen([BINARY, "operator", "--kubeconfig", KUBECONFIG, "--namespace", ns, "--no-leader-election",
                           "--health-port", "0", "--resync", "5"],
                          stdout=open(os.path.join(ROOT, ".build", "e2e-operator-autoscale.log"), "w"), stderr=subprocess.STDOUT)

    def replicas():
        return get_json("deployment", "auto-throughput", "-n", ns)["spec"]["replicas"]

    stop = threading.Event()
    codes = []

    def client():
        while not stop.is_set():
            req = urllib.request.Request(f"http://127.0.0.1:{gw_port}/v1/completions", method="POST",
                                         data=json.dumps({"model": "m", "prompt": "x", "max_tokens": 4}).encode(),
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    r.read()
                    codes.append(r.status)
            except urllib.error.HTTPError as e:
                codes.append(e.code)

    try:
        eventually("pool created at minReplicas", lambda: replicas() == 1)
        eventually("gateway has the stub ready", lambda: json.loads(http_get(
            f"http://127.0.0.1:{gw_port}/status")[1])["pools"][0]["ready_replicas"] == 1)
        threads = [threading.Thread(target=client) for _ in range(16)]
        for t in threads:
            t.start()
        try:
            eventually("scaled up under load", lambda: replicas() >= 3, timeout=30)
        finally:
            stop.set()
            for t in threads:
                t.join()
        status = get_json("llmservice", "auto", "-n", ns)["status"]
        assert "panic" in status["pools"][0].get("lastScaleReason", ""), status
        assert status["loadLevel"] in ("low", "medium", "high")
        events = get_json("events", "-n", ns)["items"]
        assert any(e["reason"] == "Scaled" and "pool throughput: 1 -> " in e["message"] for e in events)
        eventually("scaled back down after stabilization", lambda: replicas() == 1, timeout=60)
        assert codes and all(c == 200 for c in codes), f"{len(codes)} requests, statuses {set(codes)}"
    finally:
        stop.set()
        op.send_signal(signal.SIGTERM)
        op.wait(timeout=20)
        gw.send_signal(signal.SIGTERM)
        gw.wait(timeout=20)
        stub.kill()
        kubectl("delete", "namespace", ns, "--wait=false", check=False)
