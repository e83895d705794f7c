from __future__ import annotations

import pytest

from shared.errors import ConfigError
from stages.sanitizer.engine import PiiEngine
from stages.sanitizer.ner import NerModels, resolve_models

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
