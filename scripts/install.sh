#!/usr/bin/env bash
# Set-up for a new user: system packages, a release build, and the default model.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release
.build/release/scalellm model pull
