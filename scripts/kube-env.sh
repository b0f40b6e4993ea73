#!/usr/bin/env bash
# A real Kubernetes control plane on loopback for the operator tests: etcd + kube-apiserver +
# kube-controller-manager v1.20.2 (Deployments create ReplicaSets and Pods, owned objects are garbage
# collected; no kubelet or scheduler, so Pods stay Pending). etcd is compacted every 5 s and
# ConfigMap watches are served from etcd, not the watch cache, so a watch from an old
# resourceVersion really gets 410 Gone (the informer tests rely on it).
#
#   scripts/kube-env.sh build   build the binaries once from Debian's `kubernetes` source package
#                               (~6-8 min on 2 cores) into $SCALELLM_KUBE_CACHE (default ~/.cache/scalellm/kube-v1.20.2)
#   scripts/kube-env.sh start   build if needed, start everything, write $KUBE_ENV_DIR/kubeconfig
#   scripts/kube-env.sh stop    stop everything started by `start`
#   scripts/kube-env.sh env     print KUBECONFIG=... for the running control plane
set -euo pipefail
CACHE=${SCALELLM_KUBE_CACHE:-$HOME/.cache/scalellm/kube-v1.20.2}
D=${KUBE_ENV_DIR:-/tmp/scalellm-kube-env}
EPORT=${KUBE_ENV_ETCD_PORT:-12379}
APORT=${KUBE_ENV_APISERVER_PORT:-16443}
TOKEN=scalellm-test-admin-token

build() {
  [ -x "$CACHE/kube-apiserver" ] && [ -x "$CACHE/kube-controller-manager" ] && return 0
  local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends golang-go golang-github-modern-go-reflect2-dev \
      dpkg-dev etcd-server openssl curl >/dev/null
  local W; W=$(mktemp -d /tmp/scalellm-kube-build.XXXXXX)
  # Source packages through a private apt configuration; /etc/apt is left as it is.
  local C=$W/apt; mkdir -p "$C/parts" "$C/lists/partial" "$C/cache/archives/partial"
  sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > "$C/parts/src.sources"
  local APTO="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$C/parts -o Dir::State::Lists=$C/lists -o Dir::Cache=$C/cache"
  apt-get $APTO update -qq
  mkdir -p "$W/src" "$CACHE"
  (cd "$W/src" && apt-get $APTO source --download-only kubernetes >/dev/null && dpkg-source -x kubernetes_*.dsc k8s >/dev/null)
  # The vendored reflect2 1.0.1 does not build with Go >= 1.18; Debian's 1.0.2 does.
  rm -rf "$W/src/k8s/vendor/github.com/modern-go/reflect2"
  cp -rL /usr/share/gocode/src/github.com/modern-go/reflect2 "$W/src/k8s/vendor/github.com/modern-go/reflect2"
  mkdir -p "$W/gopath/src/k8s.io"; ln -s "$W/src/k8s" "$W/gopath/src/k8s.io/kubernetes"
  (
    cd "$W/gopath/src/k8s.io/kubernetes"
    export GOPATH=$W/gopath GOCACHE=$W/gocache GO111MODULE=off CGO_ENABLED=0 GOFLAGS= GOPROXY=off
    # The OpenAPI definitions are generated code that the source tarball leaves out.
    go build -o "$W/openapi-gen" ./vendor/k8s.io/kube-openapi/cmd/openapi-gen
    IN=$( { grep -rl --include='*.go' '+k8s:openapi-gen=' pkg; (cd vendor && grep -rlR --include='*.go' '+k8s:openapi-gen=' k8s.io | sed 's|^|vendor/|'); } \
      | grep -vE '_test\.go$|/testdata/|vendor/k8s.io/(code-generator|sample-apiserver|kube-openapi)/' \
      | xargs -n1 dirname | LC_ALL=C sort -u | sed 's|^|k8s.io/kubernetes/|' | paste -sd,)
    "$W/openapi-gen" -i "$IN" -p k8s.io/kubernetes/pkg/generated/openapi -O zz_generated.openapi \
      -h vendor/k8s.io/code-generator/hack/boilerplate.go.txt -r "$W/violations.report"
    LD="-s -w"
    for P in k8s.io/kubernetes/vendor/k8s.io/component-base/version k8s.io/kubernetes/vendor/k8s.io/client-go/pkg/version; do
      LD="$LD -X $P.gitVersion=v1.20.2 -X $P.gitMajor=1 -X $P.gitMinor=20 -X $P.gitTreeState=clean"
    done
    go build -trimpath -ldflags "$LD" -o "$CACHE/kube-apiserver.tmp" ./cmd/kube-apiserver
    go build -trimpath -ldflags "$LD" -o "$CACHE/kube-controller-manager.tmp" ./cmd/kube-controller-manager
  )
  mv "$CACHE/kube-apiserver.tmp" "$CACHE/kube-apiserver"
  mv "$CACHE/kube-controller-manager.tmp" "$CACHE/kube-controller-manager"
  rm -rf "$W"
  "$CACHE/kube-apiserver" --version
}

start() {
  build
  command -v etcd >/dev/null || { echo "etcd is missing (apt-get install etcd-server)" >&2; exit 1; }
  stop >/dev/null 2>&1 || true
  rm -rf "$D"; mkdir -p "$D/etcd" "$D/certs"
  openssl genrsa -out "$D/certs/sa.key" 2048 2>/dev/null
  echo "$TOKEN,admin,admin-uid,system:masters" > "$D/tokens.csv"
  setsid etcd --data-dir "$D/etcd" --name scalellm-test \
     --listen-client-urls "http://127.0.0.1:$EPORT" --advertise-client-urls "http://127.0.0.1:$EPORT" \
     --listen-peer-urls "http://127.0.0.1:$((EPORT+1))" --initial-advertise-peer-urls "http://127.0.0.1:$((EPORT+1))" \
     --initial-cluster "scalellm-test=http://127.0.0.1:$((EPORT+1))" > "$D/etcd.log" 2>&1 &
  echo $! > "$D/etcd.pid"
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$EPORT/health" >/dev/null && break; sleep 0.2; done
  setsid "$CACHE/kube-apiserver" --etcd-servers="http://127.0.0.1:$EPORT" \
     --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APORT" --cert-dir="$D/certs" \
     --token-auth-file="$D/tokens.csv" --authorization-mode=RBAC \
     --service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$D/certs/sa.key" \
     --service-account-signing-key-file="$D/certs/sa.key" --api-audiences=https://kubernetes.default.svc \
     --service-cluster-ip-range=10.0.0.0/24 --allow-privileged=true \
     --disable-admission-plugins=ServiceAccount \
     --etcd-compaction-interval=5s --watch-cache-sizes=configmaps#0 \
     ${KUBE_ENV_APISERVER_FLAGS:-} > "$D/apiserver.log" 2>&1 &
  echo $! > "$D/apiserver.pid"
  cat > "$D/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{name: scalellm-test, cluster: {server: "https://127.0.0.1:$APORT", certificate-authority: "$D/certs/apiserver.crt"}}]
users: [{name: admin, user: {token: $TOKEN}}]
contexts: [{name: scalellm-test, context: {cluster: scalellm-test, user: admin, namespace: default}}]
current-context: scalellm-test
KC
  local ready=""
  for i in $(seq 300); do
    if [ "$(curl -sk -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$APORT/readyz" 2>/dev/null)" = ok ]; then ready=1; break; fi
    sleep 0.2
  done
  [ -n "$ready" ] || { echo "kube-apiserver did not become ready:" >&2; tail -20 "$D/apiserver.log" >&2; exit 1; }
  setsid "$CACHE/kube-controller-manager" --kubeconfig="$D/kubeconfig" --leader-elect=false \
     --controllers='*' --service-account-private-key-file="$D/certs/sa.key" --use-service-account-credentials=false \
     --bind-address=127.0.0.1 --secure-port=0 --port=0 > "$D/controller-manager.log" 2>&1 &
  echo $! > "$D/controller-manager.pid"
  echo "control plane ready: KUBECONFIG=$D/kubeconfig"
}

stop() {
  local p
  for p in controller-manager apiserver etcd; do
    [ -f "$D/$p.pid" ] && kill "$(cat "$D/$p.pid")" 2>/dev/null || true
  done
  for p in controller-manager apiserver etcd; do
    if [ -f "$D/$p.pid" ]; then
      for _ in $(seq 50); do kill -0 "$(cat "$D/$p.pid")" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$(cat "$D/$p.pid")" 2>/dev/null || true
      rm -f "$D/$p.pid"
    fi
  done
}

case "${1:-}" in
  build) build ;;
  start) start ;;
  stop) stop ;;
  env) echo "KUBECONFIG=$D/kubeconfig" ;;
  *) echo "usage: $0 build|start|stop|env" >&2; exit 2 ;;
esac
