"""`cognigy-archiver demo`: the command; the demo itself (and its imports of every part) is in demo.py."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cognigy_archiver.console import fail
from shared.errors import ArchiverError


def demo(
    conversations: int = 300,
    work_dir: Path = Path("var/demo"),
    timeout: float = 300.0,
    plot: Annotated[Path | None, typer.Option(help="sample each stage's /metrics and plot them to this PNG")] = None,
    page_delay: Annotated[float, typer.Option(help="simulated Cognigy latency per page, seconds")] = 0.0,
) -> None:
    """Run everything locally: Kafka, the simulator, the five stages, one export, a summary."""
    import asyncio

    from cognigy_archiver.demo import run_demo

    try:
        ok = asyncio.run(run_demo(work_dir, conversations, timeout, plot, page_delay))
    except ArchiverError as exc:
        fail(exc)
    if not ok:
        raise typer.Exit(1)
