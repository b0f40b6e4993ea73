#!/usr/bin/env bash
# Verifies the Dockerfile's stages without a container engine:
#   build   - the build stage's command (static Swift stdlib) on a tree holding only what the
#             Dockerfile copies (Package.swift, Sources, Tests);
#   runtime - a debootstrap'd Debian bookworm minbase root with exactly the runtime stage's packages
#             and user, the binary and the default model copied in as the COPY lines do; then, as
#             uid 10001 inside it: an engine serves a completion, a gateway in front of it serves
#             one too, and the engine exits 0 on SIGTERM.
# Needs root, apt (debootstrap) and network to a Debian mirror and PyPI's model (already pulled by
# `scalellm model pull`). Takes ~25 min on 2 cores (the static build). Not part of scripts/test.sh.
#   scripts/verify-image.sh [WORKDIR]     (default /tmp/scalellm-image-check; removed at the end
#                                          unless KEEP=1; BIN=path reuses a static binary)
set -euo pipefail
ROOT_DIR=$(cd "$(dirname "$0")/.." && pwd)
W=${1:-/tmp/scalellm-image-check}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
rm -rf "$W"; mkdir -p "$W/src"
cleanup() { umount "$W/root/proc" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$W"; }
trap cleanup EXIT

echo "== build stage: only the copied files, static Swift standard library"
cp "$ROOT_DIR/Package.swift" "$W/src/"
git -C "$ROOT_DIR" archive HEAD Sources Tests | tar -x -C "$W/src"
if [ -z "${BIN:-}" ]; then
  (cd "$W/src" && swift build -c release --static-swift-stdlib --product scalellm)
  BIN="$W/src/.build/release/scalellm"
fi
if ldd "$BIN" | grep -q libswift; then echo "the binary needs Swift runtime libraries" >&2; exit 1; fi

echo "== runtime stage: bookworm minbase + libopenblas0-pthread + ca-certificates, user 10001"
command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
debootstrap --variant=minbase bookworm "$W/root" "$MIRROR" >/dev/null
cp /etc/resolv.conf "$W/root/etc/resolv.conf"
chroot "$W/root" sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends libopenblas0-pthread ca-certificates >/dev/null && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 --home /home/scalellm --create-home scalellm'
install -m 755 "$BIN" "$W/root/usr/local/bin/scalellm"
MODEL=$("$ROOT_DIR/.build/release/scalellm" model path | tail -n 1)
mkdir -p "$W/root/models" && cp "$MODEL" "$MODEL.sha256" "$W/root/models/" && chown -R 10001 "$W/root/models"
mount -t proc proc "$W/root/proc"

# chroot and env exec the binary, so $! below is the scalellm process itself (a shell function
# would put a subshell in between, and SIGTERM would stop the subshell, not the server).
IN_ROOT=(chroot --userspec=10001:10001 "$W/root" env SCALELLM_MODELS=/models /usr/local/bin/scalellm)
"${IN_ROOT[@]}" engine --host 127.0.0.1 --port 18555 --threads 1 > "$W/engine.log" 2>&1 & ENGINE=$!
for _ in $(seq 300); do curl -sf http://127.0.0.1:18555/ready >/dev/null && break; sleep 0.2; done
ANSWER=$(curl -sf http://127.0.0.1:18555/v1/completions -H 'Content-Type: application/json' \
  -d '{"prompt":"The capital of France is","max_tokens":8,"temperature":0}')
echo "engine: $ANSWER"
"${IN_ROOT[@]}" gateway --host 127.0.0.1 --port 18556 --backend http://127.0.0.1:18555 > "$W/gateway.log" 2>&1 & GATEWAY=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:18556/ready >/dev/null && break; sleep 0.2; done
VIA=$(curl -sf http://127.0.0.1:18556/v1/completions -H 'Content-Type: application/json' \
  -d '{"prompt":"The capital of France is","max_tokens":8,"temperature":0}')
echo "gateway: $VIA"
"${IN_ROOT[@]}" operator --help >/dev/null
kill -TERM "$GATEWAY"
G=0; wait "$GATEWAY" || G=$?
kill -TERM "$ENGINE"
E=0; wait "$ENGINE" || E=$?
echo "exit status after SIGTERM: engine $E, gateway $G"
grep -q Paris <<<"$ANSWER" && grep -q Paris <<<"$VIA" && [ "$E" = 0 ] && [ "$G" = 0 ] && echo "image stages verified"
