"""ACCOUNT_NUMBER: identifiers that point to one customer: customer, account, policy, claim, order, booking
(PNR), ticket, tracking, case and file numbers, meter ids, SIM and device ids, patient and member ids,
complaint and repair references. They have no common shape, so three things decide (see `identifiers`):

- a cue word before the code ("policy", "Kundennummer", "numéro de dossier", "numer zamówienia",
  "reference"), or after it ("... is my account number"), or the bot's question (`TextContext.expected`):
  any code with a digit and 4 characters or more, or 5 digits; capitals alone ("KXQWRT") right after the cue;
- "number", "Nr.", "#", "n°" alone before it: a code of 5 characters or more, or 6 digits that are no
  phone number;
- nothing: a code that mixes capitals and digits (6 or more: "PK-31-0072945", "XK4M2L", "TRK/5590213/07";
  no flight number "LH 1234", postcode or BIC), or 8 digits or more that are no phone number.

A word that says it is something else (a flight, seat, reading, amount, version, error, promo code, phone
number, the company's customer service) keeps it out, as do dates, amounts and readings with their unit.
UPI payment ids ("name@okbank") are found by their shape. Normalized to the letters and digits in upper
case."""

from __future__ import annotations

import re

from stages.sanitizer.recognizers.base import Detection, TextContext
from stages.sanitizer.recognizers.identifier_cues import GENERIC, ID, PLATE
from stages.sanitizer.recognizers.identifiers import Candidate, CodeRecognizer

ENTITY_TYPE = "ACCOUNT_NUMBER"
CUED_SCORE = 0.9
EXPECTED_SCORE = 0.9
UPI_SCORE = 0.85
NUMBERED_SCORE = 0.7
SHAPED_SCORE = 0.55

# A UPI id: a handle at a bank's short name, with no top-level domain after it (that would be an e-mail).
_UPI = re.compile(r"(?<![\w.+@-])[A-Za-z\d][\w.-]{1,63}@[A-Za-z][A-Za-z\d]{1,19}(?![\w@-]|\.[A-Za-z\d])")


class AccountNumberRecognizer(CodeRecognizer):
    entity_type = ENTITY_TYPE

    def detect(self, text: str, context: TextContext) -> list[Detection]:
        upi = [Detection(m.start(), m.end(), ENTITY_TYPE, UPI_SCORE, m.group().lower()) for m in _UPI.finditer(text)]
        return super().detect(text, context) + upi

    def score(self, candidate: Candidate, expected: bool) -> float:
        if candidate.vetoed():
            return 0.0
        if candidate.cued(ENTITY_TYPE):
            return CUED_SCORE
        if expected and candidate.stated and candidate.cue not in (ID, PLATE):
            return EXPECTED_SCORE
        if not candidate.plain():
            return 0.0
        if candidate.cue == GENERIC and candidate.numbered:
            return NUMBERED_SCORE
        return SHAPED_SCORE if candidate.shaped else 0.0
