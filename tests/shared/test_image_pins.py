"""Images are pinned by digest where a digest exists to pin: every image docker-compose.yml pulls (ours is built
there) names its tag and its sha256 digest, so a re-pushed tag cannot change what runs. The ones not pinned
yet are named here, so a new image by tag alone fails this test."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PINNED = re.compile(r"[a-z0-9./-]+:[\w.-]+@sha256:[0-9a-f]{64}")
# No digest could be checked for these where the others were pinned (see the note atop docker-compose.yml).
NOT_YET_PINNED = {"otel/opentelemetry-collector", "jaegertracing/all-in-one"}


def test_every_image_compose_pulls_is_pinned_by_digest() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    pulled = {name: svc["image"] for name, svc in services.items() if "build" not in svc}
    by_tag = {name: image for name, image in pulled.items() if not PINNED.fullmatch(image)}
    assert {image.split(":")[0] for image in by_tag.values()} == NOT_YET_PINNED, by_tag
    assert len(pulled) - len(by_tag) >= 5
