# The two commands (see README.md): `make demo` and `make test`. Both set everything up first.
.PHONY: setup demo test lint bench lock

setup:
	./scripts/setup.sh

demo: setup
	.venv/bin/cognigy-archiver demo

lint: setup
	.venv/bin/ruff check .
	.venv/bin/mypy

test: lint
	.venv/bin/pytest

bench: setup
	.venv/bin/python -m bench.codec_bench
	.venv/bin/python -m bench.fetcher_bench
	.venv/bin/python -m bench.archiver_bench
	.venv/bin/pip install --quiet --disable-pip-version-check -e '.[bench]'
	.venv/bin/python -m bench.sanitizer_bench
	.venv/bin/python -m bench.formats_bench

# The image's pinned, hashed dependencies (Dockerfile); tests/test_image_lock.py checks it against pyproject.toml.
lock: setup
	.venv/bin/uv pip compile pyproject.toml --extra model --extra iceberg --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 --generate-hashes --custom-compile-command "make lock" \
		-o requirements.lock
