"""VEHICLE_PLATE: number plates. Written in capitals in a national format they are found anywhere: UK
("KN23 ZPT"), German and Austrian ("M-AK 2718", "HH-TR 519"), French and Italian ("AB-123-CD", "GD 531 PL"),
Spanish ("1234 BCD"), Indian ("KA 05 MJ 2718"), Irish ("191-D-52731") and South African ("CY 301-442").
Other formats (US "582 HTW", Swiss "ZH 123456", Polish "WA 12345", a partial "KT71") after a cue word
("plate", "reg", "Kennzeichen", "plaque", "matrícula", "targa", "kenteken", "tablica rejestracyjna") or when
the bot asked for the plate. Normalized to the letters and digits in upper case."""

from __future__ import annotations

import re

from stages.sanitizer.recognizers.identifier_cues import ACCOUNT, ID
from stages.sanitizer.recognizers.identifiers import Candidate, CodeRecognizer

ENTITY_TYPE = "VEHICLE_PLATE"
CUED_SCORE = 0.9
EXPECTED_SCORE = 0.9
SHAPED_SCORE = 0.7
MAX_CHARACTERS = 10  # letters and digits of the longest plates

_NATIONAL = re.compile(
    r"[A-Z]{2}\d{2} ?[A-Z]{3}"  # UK
    r"|[A-ZÄÖÜ]{1,3}[- ][A-Z]{1,2} ?\d{1,4}[EH]?"  # DE, AT
    r"|[A-Z]{2}[- ]?\d{3}[- ]?[A-Z]{2}"  # FR, IT
    r"|\d{4} ?[BCDFGHJKLMNPRSTVWXYZ]{3}"  # ES
    r"|[A-Z]{2} ?\d{1,2} ?[A-Z]{1,3} ?\d{4}"  # IN
    r"|\d{2,3}-[A-Z]{1,2}-\d{1,6}"  # IE
    r"|[A-Z]{2,3} \d{3}[- ]\d{3}"  # ZA
)


class VehiclePlateRecognizer(CodeRecognizer):
    entity_type = ENTITY_TYPE

    def score(self, candidate: Candidate, expected: bool) -> float:
        if candidate.vetoed() or candidate.excluded or not candidate.digits or len(candidate.compact) > MAX_CHARACTERS:
            return 0.0
        if candidate.near(ENTITY_TYPE) and len(candidate.compact) >= 2:
            return CUED_SCORE
        if expected and len(candidate.compact) >= 2 and candidate.cue not in (ACCOUNT, ID):
            return EXPECTED_SCORE
        if candidate.plain() and candidate.upper and _NATIONAL.fullmatch(candidate.value):
            return SHAPED_SCORE
        return 0.0
