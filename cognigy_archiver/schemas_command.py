"""`cognigy-archiver schemas write [--check]`: the topics' and webhooks' JSON Schemas and AsyncAPI document in
docs/schemas/, generated from the code (shared/contract.py, cognigy_archiver/topic_contract.py), never edited
by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cognigy_archiver.console import fail
from shared.errors import ValidationFailed

SCHEMAS_FOLDER = Path(__file__).resolve().parents[1] / "docs" / "schemas"

schemas_app = typer.Typer(no_args_is_help=True, help="The published schemas of the topics and webhooks.")


@schemas_app.command("write")
def schemas_write(
    check: Annotated[bool, typer.Option("--check", help="Only compare: exit 1 if a file would change.")] = False,
    folder: Annotated[Path, typer.Option("--to", help="The folder to write them to.")] = SCHEMAS_FOLDER,
) -> None:
    """Write every message's JSON Schema and the AsyncAPI document. Refused when a message changed in a way
    that breaks its readers or writers (a field removed or retyped, a new required field, an enum value
    removed) without a bump of its schema version."""
    from cognigy_archiver.topic_contract import pipeline_contract
    from shared.contract import write_documents

    try:
        changed = write_documents(pipeline_contract(), folder, check=check)
    except ValidationFailed as exc:
        fail(exc)
    for name in changed:
        typer.echo(f"{'out of date' if check else 'wrote'} {folder / name}")
    if check and changed:
        typer.echo("run `cognigy-archiver schemas write`", err=True)
        raise typer.Exit(1)
