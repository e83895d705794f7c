"""Trains the zstd dictionary the archiver ships (shared/archive/dictionaries/cognigy-conversations.zdict).

Samples are sanitized conversation records of the simulator's synthetic tenant, as the archiver sees them,
seeded differently from bench/archiver_bench.py (seed 7), so the benchmark measures the dictionary on
conversations it was not trained on. Run: `.venv/bin/python -m bench.archiver_dictionary`
"""

from __future__ import annotations

from typing import Any

import msgspec
import zstandard

from shared.archive.segments import BUILTIN_DICTIONARY, COMPRESSION_LEVEL
from simulator.dataset import generate_dataset
from simulator.server import dataset_window
from stages.sanitizer.engine import PiiEngine

TRAINING_SEED = 1
CONVERSATIONS = 600
DICTIONARY_BYTES = 64 * 1024  # 16, 64 and 112 KiB measured: 64 KiB compressed best
DICTIONARY_ID = 0x43410001  # "CA" + version 1: outside the range zstd reserves (below 32768)
SAMPLE_RECORDS = 5  # small samples: the dictionary is for page-sized segments


def sanitized_records(seed: int, conversations: int) -> list[dict[str, Any]]:
    records = generate_dataset(seed, conversations, dataset_window()[0]).records
    engine = PiiEngine(b"dictionary-training-key-0123456789", "k1")
    return [r for start in range(0, len(records), 50)
            for r in engine.sanitize_records(records[start:start + 50], [])[0]]


def main() -> None:
    encoder = msgspec.json.Encoder()
    records = sanitized_records(TRAINING_SEED, CONVERSATIONS)
    samples: list[bytes | bytearray | memoryview[int]] = [
        b"".join(encoder.encode(r) + b"\n" for r in records[i:i + SAMPLE_RECORDS])
        for i in range(0, len(records), SAMPLE_RECORDS)]
    dictionary = zstandard.train_dictionary(DICTIONARY_BYTES, samples, dict_id=DICTIONARY_ID,
                                            level=COMPRESSION_LEVEL, threads=1)
    BUILTIN_DICTIONARY.parent.mkdir(parents=True, exist_ok=True)
    BUILTIN_DICTIONARY.write_bytes(dictionary.as_bytes())
    print(f"{BUILTIN_DICTIONARY}: {len(dictionary.as_bytes())} bytes, id {dictionary.dict_id()}, "
          f"from {len(records)} records")


if __name__ == "__main__":
    main()
