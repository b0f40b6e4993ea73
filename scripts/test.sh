#!/usr/bin/env bash
# The whole test suite: Swift unit and integration tests (release build: the model runs at real
# speed), then end-to-end tests of the real `scalellm` binary with the official OpenAI client.
# The operator's tests run against a real etcd + kube-apiserver + kube-controller-manager on
# loopback (scripts/kube-env.sh; the binaries are built once and cached in ~/.cache/scalellm).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/kube-env.sh start
trap 'scripts/kube-env.sh stop >/dev/null 2>&1 || true' EXIT
export SCALELLM_TEST_KUBECONFIG=${KUBE_ENV_DIR:-/tmp/scalellm-kube-env}/kubeconfig
# One release build of the binary and the tests (swift test alone would rebuild with other flags).
swift build -c release --build-tests
.build/release/scalellm model pull
.build/release/scalellm model pull gemma3-270m
swift test -c release --skip-build
python3 -m pytest -q Tests/e2e
