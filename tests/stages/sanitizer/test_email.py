from __future__ import annotations

import pytest

from stages.sanitizer.recognizers.base import TextContext
from stages.sanitizer.recognizers.email import FRAGMENT_SCORE, EmailRecognizer

NO_CONTEXT = TextContext()


@pytest.mark.parametrize(
    ("text", "found", "normalized"),
    [
        ("mail me at jane.doe@example.com please", "jane.doe@example.com", "jane.doe@example.com"),
        ("Jane.Doe+x@Mail.Example.CO.UK.", "Jane.Doe+x@Mail.Example.CO.UK", "jane.doe+x@mail.example.co.uk"),
        ("<bob_smith@company-name.io>", "bob_smith@company-name.io", "bob_smith@company-name.io"),
        ("schreiben Sie an björn.weiß@posteo.de", "björn.weiß@posteo.de", "björn.weiß@posteo.de"),
        ("mon adresse: chloé.roux@laposte.net", "chloé.roux@laposte.net", "chloé.roux@laposte.net"),
        ("josé@correo.es", "josé@correo.es", "josé@correo.es"),
        ("la mia è f.esposito@tiscali.it", "f.esposito@tiscali.it", "f.esposito@tiscali.it"),
        ("mijn mail: d.bakker@kpnmail.nl", "d.bakker@kpnmail.nl", "d.bakker@kpnmail.nl"),
        ("mój mail to ola.lis@wp.pl", "ola.lis@wp.pl", "ola.lis@wp.pl"),
    ],
)
def test_finds_written_addresses(text: str, found: str, normalized: str) -> None:
    detections = EmailRecognizer().detect(text, NO_CONTEXT)
    assert [(text[d.start : d.end], d.normalized) for d in detections] == [(found, normalized)]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("ok its rob.kaye@", "rob.kaye@"),
        ("meine ist h.brandt@ und dann", "h.brandt@"),
        ("@outlook.com", "@outlook.com"),
        ("y luego @hotmail.es", "@hotmail.es"),
    ],
)
def test_finds_the_halves_of_an_address_split_over_two_messages(text: str, found: str) -> None:
    [detection] = EmailRecognizer().detect(text, NO_CONTEXT)
    assert (text[detection.start : detection.end], detection.score) == (found, FRAGMENT_SCORE)
    assert detection.score >= 0.5


@pytest.mark.parametrize(
    "text",
    [
        "no email here",
        "@mention someone",
        "user@localhost",
        "version 1.2@3",
        "jane dot doe at gmail dot com",  # spoken: read once typed (see `spoken`)
        "look at google dot com",
        "prices @ 5 each",
        "wir treffen uns @ 10 Uhr",
        "rendez-vous @ la gare",
        "nos vemos @ las 5",
        "ci vediamo @ casa",
        "tot @ morgen",
        "do zobaczenia @ 5",
    ],
)
def test_ignores_non_addresses(text: str) -> None:
    assert EmailRecognizer().detect(text, NO_CONTEXT) == []
