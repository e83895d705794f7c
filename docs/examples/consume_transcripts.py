"""A downstream consumer of the public topic `transcripts.sanitized`, written as a team outside this project
would: aiokafka and json only, from the published contract (docs/schemas/, README "Consuming the public
topic"), no import of the project.

It reads every partition from the start (read_committed: only committed transactions), keeps each
conversation's turns, and once a partition holds an `export_end` from every source partition of an export, that
partition's share of the export is complete: it prints each conversation of it, turns sorted by `sequence`
(turns of one conversation from different pages can arrive out of order), one JSON line per turn, then a
summary line. With --export it stops when that export is complete on every partition.

    python consume_transcripts.py --bootstrap localhost:9092 --topic cognigy-archiver.transcripts.sanitized
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import defaultdict
from typing import Any

from aiokafka import AIOKafkaConsumer

KNOWN_VERSION = 1  # the schema version this consumer was written for (the `schema_version` header and `v`)


class Export:
    """What one partition has seen of one export."""

    def __init__(self) -> None:
        self.turns: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.ended_sources: set[int] = set()
        self.source_partitions: int | None = None
        self.withheld = 0
        self.dead_pages: list[int] = []

    @property
    def complete(self) -> bool:
        return self.source_partitions is not None and len(self.ended_sources) == self.source_partitions


def print_export(export_id: str, partition: int, export: Export) -> None:
    count = 0
    for conversation, turns in sorted(export.turns.items()):
        for turn in sorted(turns, key=lambda t: t["sequence"]):
            print(json.dumps({"export_id": export_id, "conversation": conversation, "sequence": turn["sequence"],
                              "record": turn["record"]}))
            count += 1
    print(json.dumps({"export_id": export_id, "partition": partition, "complete": True, "records": count,
                      "withheld_records": export.withheld, "dead_pages": sorted(export.dead_pages)}))


async def consume(bootstrap: str, topic: str, only: str | None) -> None:
    # No group: every partition, from the start (a real consumer would use a group and commit its offsets).
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                isolation_level="read_committed", auto_offset_reset="earliest")
    await consumer.start()
    try:
        seen: dict[tuple[str, int], Export] = defaultdict(Export)
        done: set[int] = set()  # partitions on which `only` is complete
        while only is None or not consumer.assignment() or len(done) < len(consumer.assignment()):
            batches = await consumer.getmany(timeout_ms=1000)
            for tp, messages in batches.items():
                for message in messages:
                    value = json.loads(message.value)
                    if value["v"] != KNOWN_VERSION:
                        sys.exit(f"schema version {value['v']} at {tp.partition}:{message.offset}: "
                                 f"this consumer knows {KNOWN_VERSION}")
                    if only is not None and value["export_id"] != only:
                        continue
                    export = seen[(value["export_id"], tp.partition)]
                    if value["type"] == "transcript_record":
                        export.turns[value["conversation"] or f"(page {value['page_index']})"].append(value)
                    elif value["type"] == "page_withheld":
                        export.withheld += value["withheld_records"]
                        if value["dead"]:
                            export.dead_pages.append(value["page_index"])
                    elif value["type"] == "export_end":
                        export.ended_sources.add(value["source_partition"])
                        export.source_partitions = value["source_partitions"]
                        if export.complete:
                            print_export(value["export_id"], tp.partition, export)
                            del seen[(value["export_id"], tp.partition)]
                            done.add(tp.partition)
                    # Any other type is newer than this consumer: compatible changes may add some.
    finally:
        await consumer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap", default="localhost:9092")
    parser.add_argument("--topic", default="cognigy-archiver.transcripts.sanitized")
    parser.add_argument("--export", help="print this export only, and stop once it is complete")
    args = parser.parse_args()
    asyncio.run(consume(args.bootstrap, args.topic, args.export))


if __name__ == "__main__":
    main()
