"""`cognigy-archiver subject find|erase|export`: data-subject requests across every complete export.

The person is named by options or, better, by `--request-file` (JSON: {"email": [...], "phone": [...],
"name": [...], "contact_id": [...]}): values on a command line end up in shell histories and process lists.
Nothing this command prints, logs or audits contains the raw values; every run is audited.
The search and erasure modules (numpy's index, the archive's readers) are imported by the commands: the CLI
imports this module for every command.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
import typer

from cognigy_archiver.console import audit_log, fail, manifest_trust, settings_or_fail, with_archive
from shared.archive.iceberg_config import configured_table
from shared.errors import ArchiverError
from shared.settings import Settings, env_name

if TYPE_CHECKING:
    from cognigy_archiver.subject_identifiers import Probe
    from cognigy_archiver.subject_search import Search
    from shared.archive.keystore import KeyStore
    from shared.archive.storage import ObjectStore

subject_app = typer.Typer(no_args_is_help=True, help="Data-subject requests: find, erase or export what the "
                                                     "archive holds about a person.")

Emails = Annotated[list[str], typer.Option("--email", help="an e-mail address (repeatable)")]
Phones = Annotated[list[str], typer.Option("--phone", help="a phone number, any format (repeatable)")]
Names = Annotated[list[str], typer.Option("--name", help="a full name as the person gives it (repeatable)")]
Contacts = Annotated[list[str], typer.Option("--contact-id", help="a Cognigy contact id (repeatable)")]
RequestFile = Annotated[Path | None, typer.Option(help="JSON file naming the person (keeps values off the "
                                                       "command line)")]
Whole = Annotated[bool, typer.Option("--whole-conversation", help="every record of the conversations involved")]
Reason = Annotated[str, typer.Option(help="why: a ticket or request reference, recorded in the audit log")]
AsJson = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def _probes(settings: Settings, emails: list[str], phones: list[str], names: list[str], contacts: list[str],
            request_file: Path | None) -> list[Probe]:
    from cognigy_archiver.subject_identifiers import SubjectRequest, load_request, probes

    given = SubjectRequest(email=emails, phone=phones, name=names, contact_id=contacts)
    try:
        if request_file is not None:
            from_file = load_request(request_file)
            given = SubjectRequest(email=[*from_file.email, *emails], phone=[*from_file.phone, *phones],
                                   name=[*from_file.name, *names], contact_id=[*from_file.contact_id, *contacts])
        return probes(given, settings)
    except ArchiverError as exc:
        fail(exc)


async def _search(settings: Settings, store: ObjectStore, keys: KeyStore, found: list[Probe], whole: bool,
                  action: str, reason: str) -> Search:
    from cognigy_archiver.subject_identifiers import request_id
    from cognigy_archiver.subject_search import find_subject
    from shared.archive.key_check import key_check_value

    search = await find_subject(store, keys, found, settings.pii.tokenization_key_id, whole,
                                key_check=key_check_value(settings.pii.tokenization_key.reveal().encode()),
                                trust=await manifest_trust(settings, store))
    if action:
        await audit_log(settings, store).append(
            f"{action}:{request_id(found)}:{datetime.now(UTC).isoformat()}", f"subject {action}", "", {
                "request": request_id(found), "reason": reason, "whole_conversation": whole,
                "identifiers": sorted({p.label for p in found}), "exports_searched": search.searched,
                "exports": len(search.exports), "records": search.record_count})
    return search


@subject_app.command("find")
def subject_find(emails: Emails = [], phones: Phones = [], names: Names = [], contacts: Contacts = [],  # noqa: B006
                 request_file: RequestFile = None, whole_conversation: Whole = False, reason: Reason = "",
                 records: Annotated[bool, typer.Option("--records", help="print the sanitized records too")] = False,
                 as_json: AsJson = False) -> None:
    """List where the person occurs: export, segment, record, record id, timestamp."""
    from cognigy_archiver.subject_identifiers import request_id

    settings = settings_or_fail()
    found = _probes(settings, emails, phones, names, contacts, request_file)
    search = with_archive(settings, lambda store, keys: _search(settings, store, keys, found, whole_conversation,
                                                                "search", reason))
    _notes([msgspec.to_builtins(s) for s in search.skipped], search.key_unchecked, settings)
    if as_json:
        for location in search.locations():
            typer.echo(json.dumps(msgspec.to_builtins(location)))
    else:
        for location in search.locations():
            typer.echo(f"{location.export_id}  {Path(location.segment).name}  #{location.record:<4} "
                       f"{location.record_id or '-'}  {location.timestamp or '-'}  {', '.join(location.matched)}")
    if records:
        for hits in search.exports:
            for segment_records in hits.records.values():
                for record, _ in segment_records.values():
                    typer.echo(json.dumps(record, ensure_ascii=False))
    typer.echo(f"{search.record_count} record(s) in {len(search.exports)} export(s); "
               f"{search.searched} complete export(s) searched (request {request_id(found)})", err=as_json)


@subject_app.command("erase")
def subject_erase(emails: Emails = [], phones: Phones = [], names: Names = [], contacts: Contacts = [],  # noqa: B006
                  request_file: RequestFile = None, whole_conversation: Whole = False, reason: Reason = "",
                  rekey: Annotated[bool, typer.Option("--rekey", help="re-seal each changed encrypted export under a "
                                                      "new data key and destroy the old one, so backups of the "
                                                      "erased records can no longer be decrypted")] = False,
                  yes: Annotated[bool, typer.Option("--yes", help="do it (without: only show what would go)")] = False,
                  as_json: AsJson = False) -> None:
    """Remove the person's records from every export (rewrites only the segments that hold them, or with
    --rekey every segment of those exports), then verify each changed export. Idempotent: a second run
    finds nothing and changes nothing."""
    from cognigy_archiver.subject_erase import erase_subject, sweep_all
    from cognigy_archiver.subject_identifiers import request_id
    from shared.archive.reader import verify_export

    settings = settings_or_fail()
    found = _probes(settings, emails, phones, names, contacts, request_file)
    request = request_id(found)
    if yes and not reason.strip():
        # An erasure nobody can trace back to a request is not defensible in an audit.
        fail(ArchiverError("--reason: name the request this erasure answers (a ticket reference, no personal data)"))

    async def work(store: ObjectStore, keys: KeyStore) -> dict[str, Any]:
        audit = audit_log(settings, store)
        table = await configured_table(settings, store)
        swept = await sweep_all(store, keys, audit, table)  # what an interrupted erase left behind
        search = await _search(settings, store, keys, found, whole_conversation, "" if yes else "search", reason)
        skipped = [msgspec.to_builtins(s) for s in search.skipped]
        unchecked = search.key_unchecked
        if not yes:
            return {"dry_run": True, "request": request, "swept": swept, "not_searched": skipped,
                    "key_unchecked": unchecked,
                    "exports": [{"export_id": h.manifest.export_id, "records": sum(map(len, h.records.values()))}
                                for h in search.exports]}
        erased = await erase_subject(store, audit, search, request, reason, whole_conversation, rekey, table=table)
        trust = await manifest_trust(settings, store)  # with the records of the manifests just written
        problems = {e.export_id: (await verify_export(store, e.export_id, keys, trust)).problems for e in erased}
        return {"dry_run": False, "request": request, "swept": swept, "not_searched": skipped,
                "key_unchecked": unchecked,
                "exports": [{**msgspec.to_builtins(e), "verified": not problems[e.export_id],
                             "problems": problems[e.export_id]} for e in erased]}

    outcome = with_archive(settings, work)
    _notes(outcome["not_searched"], outcome["key_unchecked"], settings)
    if as_json:
        typer.echo(json.dumps(outcome))
    else:
        for export in outcome["exports"]:
            verb = "would remove" if outcome["dry_run"] else "removed"
            check = "" if outcome["dry_run"] else (", verified" if export["verified"] else ", VERIFY FAILED")
            typer.echo(f"{export['export_id']}: {verb} {export['records']} record(s){check}")
            for problem in export.get("problems", []):
                typer.secho(f"  - {problem}", fg="red", err=True)
        total = sum(e["records"] for e in outcome["exports"])
        if outcome["dry_run"]:
            typer.echo(f"{total} record(s) in {len(outcome['exports'])} export(s) would be erased: run again with "
                       "--yes to erase them")
        else:
            typer.echo(f"{total} record(s) erased from {len(outcome['exports'])} export(s) (request {request}; "
                       "audit-logged)" if total else f"nothing held for this person (request {request}; audit-logged)")
    if any(not e.get("verified", True) for e in outcome["exports"]):
        raise typer.Exit(1)


@subject_app.command("export")
def subject_export(emails: Emails = [], phones: Phones = [], names: Names = [], contacts: Contacts = [],  # noqa: B006
                   request_file: RequestFile = None, whole_conversation: Whole = False, reason: Reason = "",
                   out: Annotated[Path, typer.Option(help="the JSON document's path; - for stdout")] = Path("-"),
                   ) -> None:
    """Write everything the archive holds about the person as one JSON document (sanitized records, where
    each sits, and which exports were searched)."""
    from cognigy_archiver.subject_identifiers import request_id

    settings = settings_or_fail()
    found = _probes(settings, emails, phones, names, contacts, request_file)
    search = with_archive(settings, lambda store, keys: _search(settings, store, keys, found, whole_conversation,
                                                                "export", reason))
    _notes([msgspec.to_builtins(s) for s in search.skipped], search.key_unchecked, settings)
    document = {
        "request": request_id(found), "generated_at": datetime.now(UTC).isoformat(),
        "identifiers": sorted({p.label for p in found}), "whole_conversation": whole_conversation,
        "exports_searched": search.searched, "records": search.record_count,
        "not_searched": [msgspec.to_builtins(s) for s in search.skipped],
        "exports": [{"export_id": h.manifest.export_id, "completed_at": h.manifest.completed_at.isoformat(),
                     "records": [{**msgspec.to_builtins(location), "record": record}
                                 for location, record in zip(h.locations(), _records(h.records), strict=True)]}
                    for h in search.exports],
    }
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if str(out) == "-":
        sys.stdout.write(text)
    else:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text)
        except OSError as exc:
            fail(ArchiverError(f"--out: cannot write {out}: {exc.strerror}"))
        typer.echo(f"{search.record_count} record(s) from {len(search.exports)} export(s) written to {out}", err=True)


def _notes(skipped: list[dict[str, str]], key_unchecked: list[str], settings: Settings) -> None:
    """What the search could not cover or vouch for, on stderr: an erase or export is only as complete as
    the search."""
    for s in skipped:
        typer.secho(f"note: {s['export_id']}: {s['reason']}", fg="yellow", err=True)
    if key_unchecked:
        shown = ", ".join(key_unchecked[:5]) + (f" and {len(key_unchecked) - 5} more" if len(key_unchecked) > 5 else "")
        typer.secho(f"note: {len(key_unchecked)} export(s) were archived before key check values ({shown}): if "
                    f"{env_name('pii.tokenization_key')} is not the key {settings.pii.tokenization_key_id!r} they were "
                    "tokenized with, nothing is found in them, and that cannot be told", fg="yellow", err=True)


def _records(by_segment: dict[int, dict[int, tuple[dict[str, Any], set[str]]]]) -> list[dict[str, Any]]:
    """The records in the order `ExportHits.locations` lists them."""
    return [record for _, records in sorted(by_segment.items()) for _, (record, _) in sorted(records.items())]
