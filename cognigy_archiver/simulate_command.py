"""`cognigy-archiver simulate`: the bundled Cognigy simulator as an HTTP server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cognigy_archiver.console import fail
from shared.errors import ArchiverError, ValidationFailed
from shared.export_requests import parse_time


def simulate(
    port: int = 8780,
    host: Annotated[str, typer.Option(help="address to listen on (0.0.0.0 in a container)")] = "127.0.0.1",
    seed: int = 7,
    conversations: int = 300,
    page_size: int = 50,
    corrupt_page: Annotated[list[int] | None, typer.Option(help="page index whose checksum is always wrong")] = None,
    rate_limit_per_minute: int = 0,
    page_delay: Annotated[float, typer.Option(help="seconds of latency per data page")] = 0.0,
    faults: Annotated[str | None, typer.Option(envvar="COGNIGY_SIM_FAULTS", help="faults to inject, as JSON "
                                               "(see simulator/config.py: Faults)")] = None,
    ground_truth: Annotated[Path | None, typer.Option(help="write every planted PII value here (JSON lines)")] = None,
    dataset_start: Annotated[str | None, typer.Option(help="ISO-8601 time the dataset begins at")] = None,
    dataset_seconds: Annotated[float, typer.Option(help="> 0: the dataset spans this many seconds, not 30 days")
                               ] = 0.0,
) -> None:
    """Serve the bundled Cognigy simulator (export-job API with a seeded synthetic dataset)."""
    from simulator.config import dataset_window, parse_faults
    from simulator.server import SimulatorConfig
    from simulator.server import run as serve

    try:
        start = parse_time(dataset_start, "dataset_start") if dataset_start else dataset_window()[0]
        config = SimulatorConfig(host=host, port=port, seed=seed, conversations=conversations, page_size=page_size,
                                 corrupt_pages=corrupt_page or [], rate_limit_requests=rate_limit_per_minute,
                                 page_delay_seconds=page_delay, dataset_start=start, dataset_seconds=dataset_seconds,
                                 faults=parse_faults(faults))
    except ValidationFailed as exc:
        fail(exc)
    except ValueError as exc:
        fail(ArchiverError(f"invalid simulator option: {exc}"))
    if ground_truth is not None:
        from simulator.dataset import generate_dataset, write_ground_truth

        dataset = generate_dataset(seed, conversations, config.dataset_start, config.dataset_days,
                                   seconds=config.dataset_seconds)
        write_ground_truth(dataset, ground_truth)
    serve(config)
