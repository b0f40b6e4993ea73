"""The Helm chart with real Helm (v4, as the library in the PyPI package helm-python-sdk): lint,
render, install onto the test apiserver, run the operator with the chart's own service account
(proving its RBAC is enough), and uninstall."""
import base64
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import BINARY, ROOT, free_port, http_get
from test_operator import KUBECONFIG, eventually, get_json, kubectl

helm = pytest.importorskip("helm_python") if not os.environ.get("CI") else __import__("helm_python")
CHART = os.path.join(ROOT, "charts", "scalellm")


def test_chart_lints_clean_and_renders():
    report = helm.lint(CHART, strict=True)
    assert report["errors"] == [], report
    assert [m for m in report["messages"] if m["severity"] >= 2] == [], report
    out = helm.Chart.load(CHART).render({"sample": {"enabled": True}}, name="demo", namespace="demo-ns", is_install=True)
    operator = out["scalellm/templates/operator.yaml"]
    assert "--gateway-cluster-role=demo-gateway" in operator and "namespace: demo-ns" in operator
    assert "kind: LLMService" in out["scalellm/templates/llmservice.yaml"]
    assert "resourceNames: [demo-gateway]" in out["scalellm/templates/rbac.yaml"]
    with open(os.path.join(CHART, "crds", "llmservices.yaml")) as f:
        assert "name: llmservices.scalellm.io" in f.read()


def service_account_kubeconfig(ns, account, path):
    """A kubeconfig that authenticates as the chart's service account (its token Secret)."""
    def token():
        sa = get_json("serviceaccount", account, "-n", ns)
        secret = get_json("secret", sa["secrets"][0]["name"], "-n", ns)
        return base64.b64decode(secret["data"]["token"]).decode()
    eventually("service-account token issued", lambda: token(), timeout=30)
    admin = open(KUBECONFIG).read()
    server = admin.split('server: "')[1].split('"')[0]
    ca = admin.split('certificate-authority: "')[1].split('"')[0]
    path.write_text(f"""apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "{server}", certificate-authority: "{ca}"}}}}]
users: [{{name: u, user: {{token: {token()}}}}}]
contexts: [{{name: x, context: {{cluster: c, user: u, namespace: {ns}}}}}]
current-context: x
""")


def test_chart_installs_and_its_operator_rbac_suffices(tmp_path):
    assert KUBECONFIG
    ns = f"helm-{os.getpid()}"
    config = helm.Config(kubeconfig_path=KUBECONFIG, namespace=ns)
    release = config.install(CHART, "demo", {"sample": {"enabled": True}}, namespace=ns, create_namespace=True, timeout=60)
    assert release["status"] == "deployed"
    op = None
    try:
        assert get_json("deployment", "demo-operator", "-n", ns)["spec"]["replicas"] == 2
        assert get_json("llmservice", "smollm", "-n", ns)["spec"]["pools"][0]["name"] == "latency"
        # No kubelet runs the operator pods: run the binary with the pods' identity instead.
        kc = tmp_path / "sa-kubeconfig"
        service_account_kubeconfig(ns, "demo-operator", kc)
        # Only the release's namespace: other tests' LLMServices on the shared apiserver stay out of it.
        op = subprocess.Popen([BINARY, "operator", "--kubeconfig", str(kc), "--namespace", ns, "--lease-name", "demo-operator",
                               "--gateway-cluster-role", "demo-gateway", "--health-port", "0"],
                              stdout=open(os.path.join(ROOT, ".build", "e2e-operator-helm.log"), "w"), stderr=subprocess.STDOUT)
        eventually("operator with the chart's RBAC reconciles the sample", lambda: sorted(
            d["metadata"]["name"] for d in get_json("deployments", "-n", ns, "-l", "scalellm.io/service=smollm")["items"])
            == ["smollm-gateway", "smollm-latency", "smollm-throughput"], timeout=45)
        eventually("status written", lambda: get_json("llmservice", "smollm", "-n", ns)["status"]["observedGeneration"] == 1)
        binding = get_json("rolebinding", "smollm-gateway", "-n", ns)
        assert binding["roleRef"]["name"] == "demo-gateway"
        lease = get_json("lease", "demo-operator", "-n", ns)
        assert lease["spec"]["holderIdentity"]
        log = open(os.path.join(ROOT, ".build", "e2e-operator-helm.log")).read()
        assert "forbidden" not in log.lower(), log[-2000:]
    finally:
        if op:
            op.send_signal(signal.SIGTERM)
            op.wait(timeout=20)
        config.uninstall("demo")
    eventually("release objects removed", lambda: kubectl("get", "deployment", "demo-operator", "-n", ns, check=False).returncode != 0)
    eventually("sample's objects garbage-collected", lambda: get_json(
        "deployments", "-n", ns, "-l", "scalellm.io/service=smollm")["items"] == [], timeout=60)
    kubectl("delete", "namespace", ns, "--wait=false", check=False)
