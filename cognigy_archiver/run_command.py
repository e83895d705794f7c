"""`cognigy-archiver run STAGE`: one pipeline stage as a long-running process."""

from __future__ import annotations

from typing import Annotated

import typer

from cognigy_archiver.console import fail, kafka_unreachable, settings_or_fail
from shared.errors import ArchiverError


def run(stage: Annotated[str, typer.Argument(
        help="fetcher | verifier | sanitizer | archiver | notifier | scheduler")]) -> None:
    """Run one stage process until SIGTERM."""
    from aiokafka.errors import KafkaConnectionError

    from cognigy_archiver.stages import STAGES, run_stage

    if stage not in STAGES:
        fail(ArchiverError(f"unknown stage {stage!r}; choose one of: {', '.join(STAGES)}"))
    settings = settings_or_fail()
    try:
        run_stage(stage, settings)
    except ArchiverError as exc:
        fail(exc)
    except KafkaConnectionError:
        fail(kafka_unreachable(settings))
