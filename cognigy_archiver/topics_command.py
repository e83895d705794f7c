"""`cognigy-archiver topics create|describe`: the pipeline's Kafka topics."""

from __future__ import annotations

import typer

from cognigy_archiver.console import run_async, settings_or_fail

topics_app = typer.Typer(no_args_is_help=True, help="Create and list the pipeline's topics.")


@topics_app.command("create")
def topics_create() -> None:
    """Create every topic the pipeline uses; an existing one is left alone, except that a message limit
    (max.message.bytes) below the pipeline's is raised."""
    from shared.kafka.topics import create_topics, topic_specs

    settings = settings_or_fail()
    changes = run_async(create_topics(settings), settings)
    for spec in topic_specs(settings):
        name = settings.kafka.topic(spec.name)
        mark = "created" if name in changes.created else "exists "
        line = f"{mark} {name} partitions={spec.partitions} {spec.config.get('cleanup.policy', '')}"
        if name in changes.raised:
            line += f" max.message.bytes raised from {changes.raised[name]} to {spec.config['max.message.bytes']}"
        typer.echo(line)


@topics_app.command("describe")
def topics_describe() -> None:
    """Partitions, messages and consumer lag of every topic."""
    from rich.console import Console

    from cognigy_archiver.topic_report import topic_report

    settings = settings_or_fail()
    Console().print(run_async(topic_report(settings), settings))
