"""ID_DOCUMENT: passports, driving licences, identity cards and national numbers other than the US SSN.

National numbers with letters in a shape of their own are found anywhere: the UK National Insurance number
(NINO), and, with their check letter or digit (python-stdnum), the Indian PAN, the Spanish DNI and NIE, the
Italian codice fiscale and the Irish PPSN. So are numbers of digits that pass their check (one in ten random
numbers does, so they score lower, and a phone number is left to the phone recognizer): the NHS number,
German Steuer-ID, Dutch BSN, Austrian SVNR, Polish PESEL, Belgian national number, French NIR, Swiss AHV
number, Canadian SIN, South African id number, Indian Aadhaar, Australian TFN and UK UTR.
Any other code (a passport "Y7302461", a licence "PRITC762039CM9XY") is one after a cue word ("passport",
"Ausweis", "permis", "DNI", "patente", "rijbewijs", "dowód") or when the bot asked for it. Normalized to the
letters and digits in upper case."""

from __future__ import annotations

import re
from collections.abc import Callable

from stdnum.at import vnr
from stdnum.au import tfn
from stdnum.be import nn
from stdnum.ca import sin
from stdnum.ch import ssn
from stdnum.de import idnr
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.gb import nhs, utr
from stdnum.ie import pps
from stdnum.in_ import aadhaar, pan
from stdnum.it import codicefiscale
from stdnum.nl import bsn
from stdnum.pl import pesel
from stdnum.za import idnr as za_idnr

from stages.sanitizer.recognizers.identifier_cues import ACCOUNT, PLATE, WEAK_NEGATIVE
from stages.sanitizer.recognizers.identifiers import Candidate, CodeRecognizer

ENTITY_TYPE = "ID_DOCUMENT"
CUED_SCORE = 0.9
EXPECTED_SCORE = 0.9
LETTERED_SCORE = 0.85  # a shape with letters and a check: hardly anything else looks like it
CHECKED_SCORE = 0.75  # digits with a check digit: one in ten random numbers passes

_NINO = re.compile(r"(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]")

# (shape of the compact value, check) of national numbers with letters.
_LETTERED: tuple[tuple[re.Pattern[str], Callable[[str], bool]], ...] = (
    (_NINO, lambda value: True),
    (re.compile(r"[A-Z]{5}\d{4}[A-Z]"), pan.is_valid),
    (re.compile(r"[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]"), codicefiscale.is_valid),
    (re.compile(r"\d{8}[A-Z]"), dni.is_valid),
    (re.compile(r"[XYZ]\d{7}[A-Z]"), nie.is_valid),
    (re.compile(r"\d{7}[A-W][A-IW]?"), pps.is_valid),
)
# Checks of national numbers of digits only, by length.
_CHECKED: dict[int, tuple[Callable[[str], bool], ...]] = {
    8: (tfn.is_valid,),
    9: (bsn.is_valid, sin.is_valid, tfn.is_valid),
    10: (nhs.is_valid, vnr.is_valid, utr.is_valid),
    11: (idnr.is_valid, pesel.is_valid, nn.is_valid),
    12: (aadhaar.is_valid,),
    13: (za_idnr.is_valid, ssn.is_valid),
    15: (nir.is_valid,),
}


class IdDocumentRecognizer(CodeRecognizer):
    entity_type = ENTITY_TYPE

    def score(self, candidate: Candidate, expected: bool) -> float:
        if candidate.vetoed() or candidate.excluded:
            return 0.0
        if candidate.cued(ENTITY_TYPE):
            return CUED_SCORE
        if expected and candidate.stated and candidate.cue not in (ACCOUNT, PLATE):
            return EXPECTED_SCORE
        if candidate.cue == WEAK_NEGATIVE:
            return 0.0
        if candidate.letters:
            return LETTERED_SCORE if lettered(candidate.compact) else 0.0
        return CHECKED_SCORE if not candidate.phone and checked(candidate.compact) else 0.0


def lettered(value: str) -> bool:
    """A national number with letters and a valid check (NINO, PAN, codice fiscale, DNI, NIE, PPSN)."""
    return any(shape.fullmatch(value) and check(value) for shape, check in _LETTERED)


def checked(digits: str) -> bool:
    """Digits that pass the check of a national number of their length."""
    return any(check(digits) for check in _CHECKED.get(len(digits), ()))
