# The two commands (see README.md): `make demo` and `make test`. Both set everything up first.
.PHONY: setup demo test lint bench

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
