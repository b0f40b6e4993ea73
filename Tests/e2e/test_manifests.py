"""The Helm chart ships the same CRD as manifests/ (Helm cannot read files outside the chart)."""
import os

from conftest import ROOT


def test_chart_crd_matches_manifests():
    with open(os.path.join(ROOT, "manifests", "crd.yaml")) as a, \
         open(os.path.join(ROOT, "charts", "scalellm", "crds", "llmservices.yaml")) as b:
        assert a.read() == b.read(), "copy manifests/crd.yaml to charts/scalellm/crds/llmservices.yaml"
