from __future__ import annotations

import pytest

from stages.sanitizer.recognizers import names
from stages.sanitizer.recognizers.names import DATA, LANGUAGES


@pytest.mark.parametrize(
    ("word", "folded"),
    [("Björn", "bjorn"), ("Łukasz", "lukasz"), ("Y\u0131ld\u0131z", "yildiz"), ("Søren", "soren"),
     ("Straße", "strasse"), ("Siobhán", "siobhan"), ("Çağlar", "caglar")],
)
def test_folds_as_the_name_list_is_keyed(word: str, folded: str) -> None:
    assert names.fold(word) == folded


@pytest.mark.parametrize(
    ("word", "language"),
    [("Björn", "de"), ("rosamund", "en"), ("Małgorzata", "pl"), ("Siobhán", "en"), ("Mehmet", "de"),
     ("Priya", "en"), ("Anouk", "nl"), ("Giulia", "it"), ("Maëlle", "fr"), ("Rocío", "es"),
     ("Hannahs", "de"), ("Hannah's", "en"), ("Winter", "de")],
)
def test_knows_given_names_of_many_origins(word: str, language: str) -> None:
    assert names.is_first_name(word, language)


@pytest.mark.parametrize(
    ("word", "language"),
    [("Danke", "de"), ("Ich", "de"), ("Wie", "de"), ("Juni", "de"), ("Servus", "de"), ("Grüezi", "de"),
     ("Hola", "es"), ("Ciao", "it"), ("the", "en"), ("Monday", "en"), ("mardi", "fr"), ("Aadhaar", "en"),
     ("Bills", "en")],
)
def test_function_words_greetings_and_dates_are_no_names(word: str, language: str) -> None:
    assert not names.is_first_name(word, language)


@pytest.mark.parametrize(
    ("word", "language", "ambiguous"),
    [("summer", "en", True), ("Frank", "en", True), ("hope", "en", True), ("Winter", "de", True),
     ("Björn", "de", False), ("Rosamund", "en", False), ("Małgorzata", "pl", False)],
)
def test_knows_which_names_are_words_too(word: str, language: str, ambiguous: bool) -> None:
    assert names.is_ambiguous(word, language) is ambiguous


def test_a_capital_tells_a_name_except_for_german_nouns() -> None:
    assert names.capital_tells("Summer", "en")
    assert names.capital_tells("Summer", "de")
    assert not names.capital_tells("Winter", "de")


@pytest.mark.parametrize(
    ("word", "language", "ordinary"),
    [("müde", "de", True), ("Lehrer", "de", True), ("désolé", "fr", True), ("contento", "it", True),
     ("zmęczony", "pl", True), ("blij", "nl", True), ("tired", "de", True), ("Wyssbrod", "de", False),
     ("Stojanović", "de", False), ("obiechina", "en", False)],
)
def test_tells_ordinary_words_of_the_language_and_english(word: str, language: str, ordinary: bool) -> None:
    assert names.is_word(word, language) is ordinary


def test_possessives_end_a_name() -> None:
    assert names.is_possessive("Hannahs", "de")
    assert names.is_possessive("Connor's", "en")
    assert not names.is_possessive("Thomas", "de")


def test_the_data_files_are_well_formed() -> None:
    lines = (DATA / "first_names.tsv").read_text(encoding="utf-8").splitlines()
    assert len(lines) > 10_000
    for line in lines:
        name, languages = line.split("\t")
        assert name == names.fold(name) and set(languages.split()) <= set(LANGUAGES)
    for language in LANGUAGES:
        words = (DATA / f"words_{language}.txt").read_text(encoding="utf-8").split()
        assert len(words) > 10_000 and all(word == word.lower() for word in words)
