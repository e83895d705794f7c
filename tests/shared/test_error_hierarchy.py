"""One error hierarchy: every exception the runtime packages define is an ArchiverError, and the tree in
shared/errors.py's docstring names each of them."""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

import shared.errors

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ("shared", "stages", "cognigy_archiver")
BUILTIN_ERRORS = {name for name, value in vars(builtins).items()
                  if isinstance(value, type) and issubclass(value, BaseException)}


def classes() -> dict[str, tuple[str, list[str]]]:
    """Every class of the runtime packages: name -> (where, the names of its bases)."""
    found = {}
    for package in RUNTIME:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ClassDef):
                    bases = [ast.unparse(base).rpartition(".")[2] for base in node.bases]
                    found[node.name] = (str(path.relative_to(ROOT)), bases)
    return found


def test_every_error_is_an_archiver_error_drawn_in_the_tree() -> None:
    found = classes()
    outside = [f"{where}: {name}({', '.join(bases)})" for name, (where, bases) in found.items()
               if name != "ArchiverError" and BUILTIN_ERRORS & set(bases)]
    assert outside == [], "errors outside ArchiverError"
    errors = {"ArchiverError"}
    while grown := {name for name, (_, bases) in found.items() if errors & set(bases)} - errors:
        errors |= grown
    assert len(errors) > 20
    doc = shared.errors.__doc__ or ""
    assert [name for name in sorted(errors) if name not in doc] == [], "missing from the tree in shared/errors.py"

