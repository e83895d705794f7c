"""The image's requirements.lock against pyproject.toml: every runtime dependency (and the spaCy model) is
pinned within its declared range, with hashes, and the Dockerfile installs exactly the lock."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def locked() -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes)."""
    pins: dict[str, tuple[str, int]] = {}
    name = ""
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if match := PIN.match(line):
            name = canonicalize_name(match.group(1))
            pins[name] = (match.group(2), 0)
        elif line.strip().startswith("--hash=sha256:") and name:
            version, hashes = pins[name]
            pins[name] = (version, hashes + 1)
    return pins


def test_every_runtime_dependency_is_pinned_within_its_range_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = locked()
    wanted = [Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["model"]]]
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in requirements.lock: run `make lock`"
        version, _ = pins[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements.lock pins {name}=={version}, outside {requirement}: run `make lock`")
    assert all(hashes > 0 for _, hashes in pins.values()), [n for n, (_, h) in pins.items() if h == 0]
    assert "cognigy-archiver" not in pins


def test_the_image_installs_the_lock_with_hashes_and_nothing_else() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    installs = [line.strip() for line in dockerfile.splitlines() if "pip install" in line]
    assert installs == ["RUN pip install --require-hashes --no-deps --only-binary=:all: -r requirements.lock",
                        "RUN pip install --no-deps . \\"]
    assert "COPY requirements.lock ./" in dockerfile
