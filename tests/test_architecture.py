"""The layers of docs/architecture.md, checked on the code's own imports (function-level imports too):
no import circle anywhere, and no import against the layers."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("shared", "simulator", "stages", "cognigy_archiver", "bench")
# What each layer may import from the project (third-party libraries aside). A stage imports no other stage.
ALLOWED = {
    "shared": {"shared"},
    "simulator": {"shared", "simulator"},
    "stages": {"shared", "stages"},
    "cognigy_archiver": {"shared", "simulator", "stages", "cognigy_archiver"},
    "bench": {"shared", "simulator", "stages", "cognigy_archiver", "bench"},
}


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imported(path: Path) -> Iterator[str]:
    """Every module `path` imports, wherever in it (`from a.b import c` names a.b, and a.b.c if that is a module)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def graph() -> dict[str, set[str]]:
    known = modules()
    edges: dict[str, set[str]] = {}
    for name, path in known.items():
        targets = set(imported(path))
        tests = {t for t in targets if t.split(".")[0] == "tests" and (ROOT / f"{t.replace('.', '/')}.py").exists()}
        edges[name] = {t for t in targets if t in known and t != name} | tests
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_circle() -> None:
    assert cycles(graph()) == []


def test_no_import_against_the_layers() -> None:
    wrong = []
    for name, targets in graph().items():
        layer = name.split(".")[0]
        for target in sorted(targets):
            other = target.split(".")[0]
            if other not in ALLOWED[layer]:
                wrong.append(f"{name} -> {target}")
            elif layer == other == "stages" and name.split(".")[1] != target.split(".")[1]:
                wrong.append(f"{name} -> {target} (one stage into another)")
    assert wrong == []


@pytest.mark.parametrize(("edges", "expected"), [
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ({"a": {"b"}, "b": set()}, []),
])
def test_the_circle_finder_finds_circles(edges: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert cycles(edges) == expected
