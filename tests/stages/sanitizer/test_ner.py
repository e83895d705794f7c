from __future__ import annotations

import pytest
from spacy.language import Language

from shared.errors import ArchiverError, ConfigError
from stages.sanitizer.engine import PiiEngine
from stages.sanitizer.ner import NerModels, entities, resolve_models
from stages.sanitizer.ner_process import CHUNK, NerProcess

from .conversation import dialogue


def test_models_per_language_from_the_setting() -> None:
    assert resolve_models("none") == {}
    assert resolve_models("en=pkg_a, fr=pkg_b") == {"en": "pkg_a", "fr": "pkg_b"}
    assert set(resolve_models("auto")) <= {"en"}  # other languages' models only when named


def test_a_model_that_is_not_installed_fails_at_start() -> None:
    with pytest.raises(ConfigError, match="no_such_model"):
        NerModels({"de": "no_such_model"})


def test_the_english_model_never_reads_another_language(ner_engine: PiiEngine) -> None:
    # English NER takes capitalised German words for people; on a German conversation it must not run.
    german = dialogue(("bot", "Guten Tag! Wie kann ich Ihnen heute helfen?"),
                      ("user", "Ich habe eine Frage zu meiner Rechnung. Danke schon mal."),
                      ("bot", "Gerne. Worum geht es bei der Rechnung genau?"),
                      ("user", "Die Rechnung vom Juni ist doppelt abgebucht worden. Können Sie das prüfen?"))
    sanitized, counts = ner_engine.sanitize_records(german, [])
    assert [r["inputText"] for r in sanitized] == [r["inputText"] for r in german]
    assert {c.entity_type for c in counts} == {"CONTACT_ID"}


def test_the_helper_process_finds_what_this_process_finds(nlp: Language) -> None:
    texts = [f"Ms Halvorsen met Tobias Wendt in Rotterdam on day {n}." for n in range(CHUNK + 5)] + ["nothing"]
    helper = NerProcess(resolve_models("auto"))
    try:
        found = list(helper.submit({"en": texts}))
        helper.submit({"en": texts})  # never read: its replies must not answer the next request
        again = list(helper.submit({"en": texts[:2]}))
    finally:
        helper.close()
    assert [(language, len(chunk)) for language, chunk in found] == [("en", CHUNK), ("en", 6)]
    assert [e for _, chunk in found for e in chunk] == entities(nlp, texts)
    assert again == [("en", entities(nlp, texts[:2]))]


def test_a_model_that_does_not_load_in_the_helper_fails_the_request(nlp: Language) -> None:
    helper = NerProcess({"en": "msgspec"})  # installed, but no spaCy pipeline
    try:
        with pytest.raises(ArchiverError):
            list(helper.submit({"en": ["Ms Halvorsen called."]}))
    finally:
        helper.close()


def test_closing_the_helper_stops_it_with_a_request_unanswered(nlp: Language) -> None:
    helper = NerProcess(resolve_models("auto"))
    helper.submit({"en": ["Ms Halvorsen called about Tobias Wendt."] * 500})
    helper.close()
    assert helper._child.returncode is not None
