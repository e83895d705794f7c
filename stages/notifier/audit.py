"""An append-only JSON-lines audit log. Each entry carries the SHA-256 of the previous line, so removing
or editing a line breaks the chain (`verify_chain`). Entries are deduplicated by event id, so a replay
after a crash does not write the same action twice."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

GENESIS = "0" * 64


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.event_ids: set[str] = set()
        self.last_hash = GENESIS
        if path.exists():
            for line in path.read_bytes().splitlines():
                if line.strip():
                    self.event_ids.add(json.loads(line)["event_id"])
                    self.last_hash = hashlib.sha256(line).hexdigest()

    def append(self, event_id: str, action: str, export_id: str, data: dict[str, Any]) -> bool:
        """Write one entry durably; False if this event id was written before."""
        if event_id in self.event_ids:
            return False
        entry = {"event_id": event_id, "ts": datetime.now(UTC).isoformat(), "action": action,
                 "export_id": export_id, "data": data, "prev_sha256": self.last_hash}
        line = json.dumps(entry, sort_keys=True, separators=(",", ":")).encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as f:
            f.write(line + b"\n")
            f.flush()
            os.fsync(f.fileno())
        self.event_ids.add(event_id)
        self.last_hash = hashlib.sha256(line).hexdigest()
        return True


def verify_chain(path: Path) -> list[str]:
    """Problems found in the chain; empty when every entry links to the one before."""
    problems: list[str] = []
    previous = GENESIS
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        entry = json.loads(line)
        if entry.get("prev_sha256") != previous:
            problems.append(f"line {number}: chain broken (prev_sha256 does not match line {number - 1})")
        previous = hashlib.sha256(line).hexdigest()
    return problems
