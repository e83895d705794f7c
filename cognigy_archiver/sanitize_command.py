"""`cognigy-archiver sanitize` and `cognigy-archiver detokenize`: the PII engine on JSON lines.

sanitize reads `{"text": ...}` lines (optionally with "session" and "source": "bot" | "user" | "agent",
so that a bot's question explains the user's answer) and writes one line per input line, in order: the
same object with the text sanitized and a "redactions" summary, or with `--spans`, the text replaced by
"spans": [{"start", "end", "type", "score"}] (offsets in Unicode code points into the input text). Other
fields pass through. The totals go to stderr. No text or value is ever printed to stderr.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
import typer

from cognigy_archiver.console import fail, settings_or_fail
from shared.errors import ArchiverError, ConfigError, ValidationFailed
from shared.export_requests import parse_rule
from shared.messages import PiiAction, PiiRule, RedactionCount
from shared.nesting import TooDeeplyNested, decode_json
from shared.settings import Settings

if TYPE_CHECKING:  # the engine pulls in spaCy: imported when a command runs, not when the CLI starts
    from stages.sanitizer.engine import PiiEngine

BATCH_LINES = 1000


def sanitize(
    rule: Annotated[list[str] | None, typer.Option(help="PII rule TYPE:ACTION[:MIN_LENGTH] (repeatable); "
                                                  "default ALL:tokenize")] = None,
    rules_file: Annotated[Path | None, typer.Option(help="a JSON list of PII rules with every field "
                                                    "(mask_char, keep_last, pattern, ner_labels)")] = None,
    spans: Annotated[bool, typer.Option("--spans", help="print what was found, not the rewritten text")] = False,
    key_file: Annotated[Path | None, typer.Option(help="file holding the tokenization key "
                                                  "(default: CA_TOKENIZATION_KEY or CA_TOKENIZATION_KEY_FILE)")] = None,
    key_id: Annotated[str | None, typer.Option(help="default: CA_TOKENIZATION_KEY_ID")] = None,
    model: Annotated[str | None, typer.Option(help="spaCy model: auto | none | a package "
                                              "(default: CA_SPACY_MODEL)")] = None,
    workers: Annotated[int, typer.Option(help="processes; 0 = one per CPU. A pool pays for its start (every "
                                         "worker loads the model) only on large inputs")] = 1,
    batch_lines: Annotated[int, typer.Option(help="lines analysed together; a batch ends where a "
                                             "session does")] = BATCH_LINES,
) -> None:
    """Sanitize JSON lines {"text": ...} from stdin to stdout, in the same order."""
    settings = settings_or_fail()
    try:
        rules = _rules(rule or [], rules_file)
        key = b"spans only, no tokens are made" if spans else _key(settings, key_file)
        engine = _engine(settings, key, key_id, model, workers)
    except ArchiverError as exc:
        fail(exc)
    totals: Counter[tuple[str, PiiAction, int | None]] = Counter()
    try:
        engine.analyzer.policy(rules)  # bad rules fail before any input is read
        for lines in _batches(batch_lines):
            records = [_record(number, line) for number, line in lines]
            if spans:
                out = [{**{k: v for k, v in line.items() if k != "text"}, "spans": found}
                       for (_, line), found in zip(lines, _spans(engine, records, rules), strict=True)]
            else:
                result = engine.sanitize_page(records, rules)
                out = [{**line, "text": record["inputText"], "redactions": msgspec.to_builtins(counts)}
                       for (_, line), record, counts in zip(lines, result.records, result.per_record, strict=True)]
                totals.update({(c.entity_type, c.action, c.rule): c.count for c in result.totals})
            sys.stdout.write("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in out))
    except ArchiverError as exc:
        fail(exc)
    finally:
        engine.close()
    if not spans:
        summary = [RedactionCount(entity_type=t, action=a, count=n, rule=r)
                   for (t, a, r), n in sorted(totals.items(), key=str)]
        typer.echo(json.dumps({"totals": msgspec.to_builtins(summary)}), err=True)


def detokenize(
    tokens: Annotated[list[str] | None, typer.Argument(help="tokens to decrypt; none: read lines from stdin")] = None,
    key_file: Annotated[Path | None, typer.Option(help="file holding the tokenization key "
                                                  "(default: CA_TOKENIZATION_KEY or CA_TOKENIZATION_KEY_FILE)")] = None,
    key_id: Annotated[str | None, typer.Option(help="default: CA_TOKENIZATION_KEY_ID")] = None,
) -> None:
    """Replace `encrypt` tokens ([TYPE_keyid_enc:...]) by their values, given the key that made them.

    Lines from stdin may be JSON (every string in them is detokenized: archive segments, sanitize's output)
    or plain text. `tokenize` tokens cannot be reversed and stay as they are."""
    from stages.sanitizer.actions import detokenize_text

    settings = settings_or_fail()
    try:
        key = _key(settings, key_file)
        kid = key_id or settings.pii.tokenization_key_id
        if tokens:
            for token in tokens:
                typer.echo(detokenize_text(key, kid, token))
            return
        for line in sys.stdin:
            sys.stdout.write(_detokenize_line(key, kid, line.rstrip("\n")) + "\n")
    except ArchiverError as exc:
        fail(exc)
    except ValueError as exc:
        fail(ArchiverError(f"cannot detokenize: {exc}"))


def _detokenize_line(key: bytes, key_id: str, line: str) -> str:
    from stages.sanitizer.actions import detokenize_text

    try:
        value = decode_json(line.encode())
    except (msgspec.DecodeError, TooDeeplyNested):  # not JSON, or too deep to walk: detokenized as text
        return detokenize_text(key, key_id, line)
    return json.dumps(_map_strings(value, lambda s: detokenize_text(key, key_id, s)), ensure_ascii=False)


def _map_strings(value: Any, change: Any) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {k: _map_strings(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_strings(v, change) for v in value]
    return value


def _engine(settings: Settings, key: bytes, key_id: str | None, model: str | None, workers: int) -> PiiEngine:
    """The engine; with one worker, its NER model loads in a helper process from here on, while this one
    imports the recognizers and reads the input, and runs there beside them (see `ner_process`)."""
    from stages.sanitizer.ner import NerModels, NerRunner, resolve_models
    from stages.sanitizer.ner_process import NerProcess

    ner: NerRunner | None = None
    if workers == 1:
        names = resolve_models(model or settings.pii.spacy_model)
        ner = NerProcess(names) if names else NerModels(names)
    from stages.sanitizer.engine import PiiEngine  # after the helper's start: a third of a second of imports

    try:
        return PiiEngine.from_settings(settings, key, key_id, model, workers, ner)
    except ArchiverError:
        if ner is not None:
            ner.close()
        raise


def _key(settings: Settings, key_file: Path | None) -> bytes:
    if key_file is not None:
        try:
            return key_file.read_text().strip().encode()
        except OSError as exc:
            raise ConfigError(f"--key-file: cannot read {key_file}: {exc.strerror}") from None
    settings.require("pii.tokenization_key")
    return settings.pii.tokenization_key.reveal().encode()


def _rules(compact: list[str], rules_file: Path | None) -> list[PiiRule]:
    rules = [parse_rule(text) for text in compact]
    if rules_file is not None:
        try:
            rules += msgspec.json.decode(rules_file.read_bytes(), type=list[PiiRule])
        except OSError as exc:
            raise ConfigError(f"--rules-file: cannot read {rules_file}: {exc.strerror}") from None
        except msgspec.ValidationError as exc:
            raise ValidationFailed([{"field": "rules_file", "problem": str(exc)}], "rules file") from None
        except msgspec.DecodeError:
            raise ValidationFailed([{"field": "rules_file", "problem": "not JSON"}], "rules file") from None
    return rules


def _batches(size: int) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    """Numbered, decoded input lines in batches of `size` or just over: a batch ends where a session does."""
    batch: list[tuple[int, dict[str, Any]]] = []
    for number, raw in enumerate(sys.stdin, start=1):
        if not raw.strip():
            continue
        line = _line(number, raw)
        if len(batch) >= size and line.get("session") != batch[-1][1].get("session"):
            yield batch
            batch = []
        batch.append((number, line))
    if batch:
        yield batch


def _line(number: int, raw: str) -> dict[str, Any]:
    try:
        line = decode_json(raw.encode())
    except (msgspec.DecodeError, TooDeeplyNested):
        line = None
    # The line itself is not quoted: it holds PII.
    if not isinstance(line, dict) or not isinstance(line.get("text"), str):
        raise ValidationFailed([{"field": f"line {number}", "problem": 'not a JSON object with a string "text"'}],
                               "input line")
    if line.get("source", "user") not in ("user", "bot", "agent"):
        raise ValidationFailed([{"field": f"line {number}", "problem": 'source must be "user", "bot" or "agent"'}],
                               "input line")
    return line


def _record(number: int, line: dict[str, Any]) -> dict[str, Any]:
    """The line as a Cognigy record: lines without a session are each a session of their own."""
    session = line.get("session")
    return {"inputText": line["text"], "source": line.get("source", "user"),
            "sessionId": f"line-{number}" if session is None else str(session)}


def _spans(engine: PiiEngine, records: list[dict[str, Any]], rules: list[PiiRule]) -> list[list[dict[str, Any]]]:
    found = {f.record: f.detections for f in engine.analyzer.analyze_records(records, rules)
             if f.leaf.path == ("inputText",)}
    return [[{"start": d.start, "end": d.end, "type": d.entity_type, "score": round(d.score, 3)}
             for d in found.get(index, [])]
            for index in range(len(records))]
