#!/usr/bin/env bash
# The whole test suite: Swift unit and integration tests (release build: the model runs at real
# speed), then end-to-end tests of the real `scalellm` binary with the official OpenAI client.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# One release build of the binary and the tests (swift test alone would rebuild with other flags).
swift build -c release --build-tests
.build/release/scalellm model pull
swift test -c release --skip-build
python3 -m pytest -q Tests/e2e
