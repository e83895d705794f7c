"""Live progress of an export, per stage, for `export status --follow` and the demo.

Every page stage writes a progress event per page into `exports.progress` (in the transaction that
produces the page), keyed by export, so one partition holds an export's history. The view reads that
partition incrementally, plus the fetcher's checkpoint (pages fetched) and the latest status per stage.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner
from rich.console import Group
from rich.live import Live
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from shared.kafka.clients import reader
from shared.kafka.tables import read_table
from shared.kafka.topics import EXPORTS_PROGRESS, EXPORTS_STATUS, FETCH_CHECKPOINTS
from shared.messages import CheckpointEntry, ExportStatus, FetchCheckpoint, PageProgress, decode
from shared.settings import Settings

PAGE_STAGES = ("verifier", "sanitizer", "archiver")
TERMINAL_STATES = ("completed", "partial", "failed")


@dataclass
class ExportView:
    export_id: str
    total_pages: int | None = None
    fetched: int = 0
    pages: dict[str, set[int]] = field(default_factory=lambda: {s: set() for s in PAGE_STAGES})
    records: dict[str, int | None] = field(default_factory=lambda: dict.fromkeys(PAGE_STAGES))
    dead: set[int] = field(default_factory=set)
    statuses: dict[str, ExportStatus] = field(default_factory=dict)

    @property
    def state(self) -> str:
        final = self.statuses.get("notifier") or self.statuses.get("fetcher")
        if final is None:
            return "requested" if not self.fetched else "fetching"
        return final.state

    @property
    def failure(self) -> str | None:
        """Why the export failed, in the words of the stage that failed it; None if it has not."""
        failed = [s for s in (self.statuses.get("notifier"), self.statuses.get("fetcher"))
                  if s is not None and s.state == "failed"]
        return failure_reason(failed[0].detail) if failed else None

    @property
    def unknown(self) -> bool:
        return not self.statuses and not self.fetched and not any(self.pages.values())

    @property
    def finished(self) -> bool:
        return any(s.state in TERMINAL_STATES for s in self.statuses.values())

    def apply(self, event: PageProgress) -> None:
        if event.stage not in self.pages or event.page_index in self.pages[event.stage]:
            return
        self.pages[event.stage].add(event.page_index)
        if event.records is not None:
            self.records[event.stage] = (self.records[event.stage] or 0) + event.records
        if event.dead:
            self.dead.add(event.page_index)


class ProgressReader:
    def __init__(self, settings: Settings, export_id: str) -> None:
        self.settings = settings
        self.view = ExportView(export_id)
        self.consumer: AIOKafkaConsumer = reader(settings)

    async def start(self) -> None:
        await self.consumer.start()
        topic = self.settings.kafka.topic(EXPORTS_PROGRESS)
        await self.consumer._client.force_metadata_update()  # a fresh client may not know the topic yet
        partitions = sorted(self.consumer.partitions_for_topic(topic) or [])
        partition = DefaultPartitioner()(self.view.export_id.encode(), partitions, partitions)
        tp = TopicPartition(topic, partition)
        self.consumer.assign([tp])
        await self.consumer.seek_to_beginning(tp)

    async def stop(self) -> None:
        await self.consumer.stop()

    async def refresh(self) -> ExportView:
        view = self.view
        batch = await self.consumer.getmany(timeout_ms=200)
        for records in batch.values():
            for r in records:
                if r.key == view.export_id.encode():
                    view.apply(decode(r.value, PageProgress))
        checkpoints = await read_table(self.settings, self.settings.kafka.topic(FETCH_CHECKPOINTS), CheckpointEntry)
        checkpoint = checkpoints.get(view.export_id.encode())
        if isinstance(checkpoint, FetchCheckpoint):
            view.fetched = checkpoint.next_page_index
        statuses = await read_table(self.settings, self.settings.kafka.topic(EXPORTS_STATUS), ExportStatus)
        view.statuses = {s.stage: s for s in statuses.values() if s.export_id == view.export_id}
        totals = [s.total_pages for s in view.statuses.values() if s.total_pages is not None]
        view.total_pages = totals[0] if totals else None
        return view


class ProgressDisplay:
    """Rich progress bars, one per stage, with counts and an ETA."""

    def __init__(self) -> None:
        self.bars = Progress(TextColumn("  {task.description:<10}"), BarColumn(), MofNCompleteColumn(),
                             TextColumn("pages {task.fields[records]:>16}"), TimeElapsedColumn(),
                             TimeRemainingColumn())
        self.tasks = {name: self.bars.add_task(name, total=None, records="") for name in
                      ("fetched", "verified", "sanitized", "archived")}
        self.started = time.monotonic()

    def update(self, view: ExportView) -> Group:
        counts: dict[str, tuple[int, int | None]] = {"fetched": (view.fetched, None)}
        for name, stage in (("verified", "verifier"), ("sanitized", "sanitizer"), ("archived", "archiver")):
            counts[name] = (len(view.pages[stage]), view.records[stage])
        for name, (pages, records) in counts.items():
            self.bars.update(self.tasks[name], completed=pages, total=view.total_pages,
                             records="" if records is None else f"{records:,} records")
        summary = Table.grid(padding=(0, 2))
        problems = [f"dead pages {len(view.dead)}"] if view.dead else []
        if view.failure is not None:
            problems.insert(0, "[red]failed[/]")
        summary.add_row(f"export [bold]{view.export_id}[/]", f"state [bold]{view.state}[/]",
                        ", ".join(problems) or "no errors")
        if view.failure is not None:
            summary.add_row("[red]reason[/]", escape(view.failure), "")
        notifier = view.statuses.get("notifier")
        if notifier is not None and notifier.state in ("completed", "partial"):
            summary.add_row("manifest", f"[dim]{escape(notifier.detail)}[/]", "")
        return Group(summary, self.bars)


def failure_reason(detail: str) -> str:
    """A failed status's detail as a sentence: the notifier writes its error as JSON, the fetcher as text."""
    try:
        error = json.loads(detail)
    except ValueError:
        return detail or "no reason given"
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    return detail


def status_rows(statuses: list[ExportStatus]) -> Table:
    """`export list`: one row per export, its most recent word."""
    latest: dict[str, ExportStatus] = {}
    for s in sorted(statuses, key=lambda s: s.updated_at):
        latest[s.export_id] = s
    table = Table("export", "state", "pages", "records", "updated", "detail", title="exports")
    for s in sorted(latest.values(), key=lambda s: s.updated_at, reverse=True):
        table.add_row(s.export_id, s.state, str(s.total_pages or s.pages), f"{s.records:,}",
                      f"{s.updated_at:%Y-%m-%d %H:%M:%S}", s.detail)
    return table


async def follow_export(settings: Settings, export_id: str, follow: bool, refresh_seconds: float = 0.5) -> ExportView:
    """Show the export's progress once, or live until it ends; returns the last view."""
    display = ProgressDisplay()
    progress = ProgressReader(settings, export_id)
    await progress.start()
    try:
        view = await progress.refresh()
        if view.unknown:
            return view
        with Live(display.update(view), refresh_per_second=4, transient=False) as live:
            while follow and not view.finished:
                await asyncio.sleep(refresh_seconds)
                view = await progress.refresh()
                live.update(display.update(view))
            live.update(display.update(await progress.refresh()))
    finally:
        await progress.stop()
    return view
