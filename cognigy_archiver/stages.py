"""Running one stage as a process: settings, logs, tracing, signals, and errors shown without tracebacks."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

from shared.kafka.loop import install_stop_signals
from shared.settings import Settings
from shared.telemetry.health import start_health_server
from shared.telemetry.logs import setup_logging
from shared.telemetry.tracing import setup_tracing

log = logging.getLogger(__name__)
StageMain = Callable[[Settings, asyncio.Event], Awaitable[None]]
# The pipeline: every export passes these. The scheduler (continuous archiving) submits exports to it.
PIPELINE_STAGES = ("fetcher", "verifier", "sanitizer", "archiver", "notifier")
STAGES = (*PIPELINE_STAGES, "scheduler")


def stage_main(name: str) -> StageMain:
    # Imported on demand: the sanitizer pulls in spaCy, which the other stages do not need.
    if name == "fetcher":
        from stages.fetcher.stage import run as fetcher
        return fetcher
    if name == "verifier":
        from stages.verifier.stage import run as verifier
        return verifier
    if name == "sanitizer":
        from stages.sanitizer.stage import run as sanitizer
        return sanitizer
    if name == "archiver":
        from stages.archiver.stage import run as archiver
        return archiver
    if name == "notifier":
        from stages.notifier.stage import run as notifier
        return notifier
    if name == "scheduler":
        from stages.scheduler.stage import run as scheduler
        return scheduler
    raise ValueError(f"unknown stage {name!r}; choose one of {', '.join(STAGES)}")


def _exit_quietly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def run_stage(name: str, settings: Settings) -> None:
    # Until the event loop takes over signals, SIGTERM (a pod stopped while starting) exits cleanly.
    signal.signal(signal.SIGTERM, _exit_quietly)
    setup_logging(name, settings.operations.log_level)
    provider = setup_tracing(name)
    main = stage_main(name)
    log.info("starting %s with settings %s", name, settings.redacted())

    async def supervised() -> None:
        stop = asyncio.Event()
        install_stop_signals(stop)
        health = (await start_health_server(settings.operations.health_port, settings.operations.health_host)
                  if settings.operations.health_port else None)
        try:
            await main(settings, stop)
        finally:
            if health is not None:
                await health.cleanup()

    try:
        asyncio.run(supervised())
    finally:
        if provider is not None:
            provider.shutdown()  # flushes the spans still queued
