"""A subject request's identifiers turn into exactly the tokens the sanitizer wrote for the same person,
however the person types them; bad identifiers are named, never echoed."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from cognigy_archiver import subject_identifiers
from cognigy_archiver.subject_identifiers import SubjectRequest, load_request, probes, request_id
from shared.archive.subject_index import record_tokens
from shared.errors import ArchiverError
from shared.messages import PiiRule
from shared.settings import load_settings
from stages.sanitizer.engine import PiiEngine
from stages.sanitizer.recognizers.person import ENTITY_TYPE as PERSON
from tests.archive_fixtures import cli

KEY = "subject-test-tokenization-key-0123456789"
SETTINGS = load_settings({"CA_TOKENIZATION_KEY": KEY})


def sanitized_tokens(text: str, question: str, rules: list[PiiRule]) -> set[str]:
    """The tokens the sanitizer writes for a user's answer to a bot question, with the contact id."""
    engine = PiiEngine(KEY.encode(), "k1", model="none")
    records = [{"id": "1", "sessionId": "s", "source": "bot", "inputText": question, "contactId": "user-7"},
               {"id": "2", "sessionId": "s", "source": "user", "inputText": text, "contactId": "user-7"}]
    sanitized, _ = engine.sanitize_records(records, rules)
    return record_tokens(sanitized[1])


@pytest.mark.parametrize("action", ["tokenize", "encrypt"])
def test_the_request_finds_the_tokens_the_sanitizer_wrote(action: str) -> None:
    rules = [PiiRule(entity_type="ALL", action=action)]
    tokens = sanitized_tokens("sure: Jane.Doe@Example.COM, (415) 555-0143", "Your email and phone please?", rules)
    tokens |= sanitized_tokens("Jane   Doe", "May I have your full name?", rules)
    request = SubjectRequest(email=[" jane.doe@example.com"], phone=["+1 415-555-0143"], name=["jane doe"],
                             contact_id=["user-7"])
    found = {p.label: p.value for p in probes(request, SETTINGS) if p.value in tokens}
    assert set(found) == {"email 1", "phone 1", "name 1", "contact_id 1"}
    assert len(tokens) == 4


def test_the_person_type_is_the_recognizers() -> None:
    assert subject_identifiers.PERSON == PERSON


def test_bad_identifiers_are_named_without_their_values(tmp_path: Path) -> None:
    with pytest.raises(ArchiverError) as caught:
        probes(SubjectRequest(email=["no-at-sign"], phone=["call me maybe"]), SETTINGS)
    fields = [p["field"] for p in caught.value.details["problems"]]
    assert fields == ["email 1", "phone 1"]
    assert "no-at-sign" not in str(caught.value.to_dict()) and "maybe" not in str(caught.value.to_dict())
    with pytest.raises(ArchiverError, match="names nobody"):
        probes(SubjectRequest(), SETTINGS)
    with pytest.raises(ArchiverError, match="CA_TOKENIZATION_KEY"):
        probes(SubjectRequest(email=["a@b.co"]), load_settings({}))
    bad = tmp_path / "request.json"
    bad.write_text('{"emails": ["a@b.co"]}')
    with pytest.raises(ArchiverError, match="not a subject request"):
        load_request(bad)


def test_a_request_id_names_the_request_not_the_person(tmp_path: Path) -> None:
    path = tmp_path / "request.json"
    path.write_bytes(msgspec.json.encode({"email": ["a@b.co"], "phone": ["+44 20 7946 0958"]}))
    first = request_id(probes(load_request(path), SETTINGS))
    again = request_id(probes(SubjectRequest(phone=["020 7946 0958"], email=["A@B.CO"]), SETTINGS))
    assert first == again and len(first) == 16
    assert first != request_id(probes(SubjectRequest(email=["a@b.co"]), SETTINGS))


def test_the_commands_name_a_bad_request_file_without_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "request.json"
    bad.write_text('{"email": "someone@example.com"}')
    env = {"CA_TOKENIZATION_KEY": KEY, "CA_ARCHIVE_DIR": str(tmp_path / "archive"),
           "CA_ARCHIVE_KEY_STORE": str(tmp_path / "keys")}
    for args in (["find", "--request-file", str(bad)], ["erase", "--request-file", str(tmp_path / "none.json")]):
        result = cli("subject", *args, env=env)
        assert result.returncode == 2 and result.stderr.startswith("error: "), result.stderr
        assert "Traceback" not in result.stderr and "someone@example.com" not in result.stderr


def test_an_erasure_without_a_reason_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    env = {"CA_TOKENIZATION_KEY": KEY, "CA_ARCHIVE_DIR": str(tmp_path / "archive"),
           "CA_ARCHIVE_KEY_STORE": str(tmp_path / "keys")}
    for reason in ([], ["--reason", " "]):
        result = cli("subject", "erase", "--email", "someone@example.com", "--yes", *reason, env=env)
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip() == ("error: --reason: name the request this erasure answers (a ticket "
                                         "reference, no personal data)")
