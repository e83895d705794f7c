"""MessagePack vs JSON for the pipeline's messages (the architecture asked us to pick one and measure).

Run: `.venv/bin/python -m bench.codec_bench` -> bench/results/codec.json
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from shared.messages import ExportOptions, PageMessage, RawPage, SanitizedMessage, SanitizedPage
from simulator.dataset import generate_dataset
from simulator.server import dataset_window

RESULTS = Path(__file__).parent / "results" / "codec.json"


def best_of(fn: Callable[[], Any], repeat: int = 5, number: int = 200) -> float:
    """Best mean seconds per call over `repeat` rounds of `number` calls (least disturbed by noise)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return min(times)


def main() -> None:
    records = generate_dataset(7, 60, dataset_window()[0]).records[:50]
    body = json.dumps({"items": records}).encode()
    raw = RawPage(export_id="exp-bench", page_index=3, body=body, source_sha256=hashlib.sha256(body).hexdigest(),
                  fetched_at=datetime.now(UTC), options=ExportOptions())
    sanitized = SanitizedPage(export_id="exp-bench", page_index=3, records=records, redactions=[], key_id="k1",
                              options=ExportOptions())
    results: dict[str, Any] = {"python": platform.python_version(), "msgspec": msgspec.__version__,
                               "records_per_page": len(records), "messages": {}}
    for name, message, kind in (("raw_page", raw, PageMessage), ("sanitized_page", sanitized, SanitizedMessage)):
        mp, js = msgspec.msgpack.encode(message), msgspec.json.encode(message)
        row = {
            "msgpack_bytes": len(mp), "json_bytes": len(js),
            "msgpack_encode_us": best_of(lambda m=message: msgspec.msgpack.encode(m)) * 1e6,
            "json_encode_us": best_of(lambda m=message: msgspec.json.encode(m)) * 1e6,
            "msgpack_decode_us": best_of(lambda b=mp, k=kind: msgspec.msgpack.decode(b, type=k)) * 1e6,
            "json_decode_us": best_of(lambda b=js, k=kind: msgspec.json.decode(b, type=k)) * 1e6,
        }
        row["size_ratio_json_over_msgpack"] = row["json_bytes"] / row["msgpack_bytes"]
        row["encode_ratio_json_over_msgpack"] = row["json_encode_us"] / row["msgpack_encode_us"]
        row["decode_ratio_json_over_msgpack"] = row["json_decode_us"] / row["msgpack_decode_us"]
        results["messages"][name] = {k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
