"""The `cognigy-archiver` command: the typer apps of the command modules, assembled. Nothing else is here;
what the commands share is in console.py.

Modules that only some commands need (asyncio, aiokafka, the archive's, numpy's) are imported by those
commands: `sanitize` over a few thousand lines pays for every import at each start."""

from __future__ import annotations

import logging

import typer

from cognigy_archiver.archive_command import archive_app, audit_app
from cognigy_archiver.demo_command import demo
from cognigy_archiver.export_command import export_list, export_status, export_submit
from cognigy_archiver.fetch_command import fetch
from cognigy_archiver.kafka_command import kafka_app
from cognigy_archiver.run_command import run
from cognigy_archiver.sanitize_command import detokenize, sanitize
from cognigy_archiver.schedule_command import backfill, schedule_app
from cognigy_archiver.schemas_command import schemas_app
from cognigy_archiver.simulate_command import simulate
from cognigy_archiver.subject_command import subject_app
from cognigy_archiver.topics_command import topics_app

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Export Cognigy.AI conversation logs through Kafka into a verified, PII-free archive.")
# The export group gathers commands from two modules: `backfill` submits a schedule, not an export.
export_app = typer.Typer(no_args_is_help=True, help="Submit and watch exports.")
export_app.command("backfill")(backfill)
export_app.command("submit")(export_submit)
export_app.command("status")(export_status)
export_app.command("list")(export_list)

app.add_typer(kafka_app, name="kafka")
app.add_typer(topics_app, name="topics")
app.add_typer(export_app, name="export")
app.add_typer(archive_app, name="archive")
app.add_typer(audit_app, name="audit")
app.add_typer(subject_app, name="subject")
app.add_typer(schedule_app, name="schedule")
app.add_typer(schemas_app, name="schemas")
for command in (fetch, sanitize, detokenize, run, simulate, demo):
    app.command()(command)


def main() -> None:
    # aiokafka logs connection failures itself; the commands report them once, in their own words.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    app(prog_name="cognigy-archiver")


if __name__ == "__main__":
    main()
