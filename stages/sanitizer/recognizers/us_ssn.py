"""US_SSN: US social security numbers in the ranges the SSA issues (area 001-899 but not 666, group
01-99, serial 0001-9999), as 123-45-6789, 123 45 6789, or nine digits in a row. Written with separators it
is a likely SSN; nine bare digits are one only near a context word or when the bot asked for it. Spelled
out ("one two three ...") only when asked. Normalized to the nine digits."""

from __future__ import annotations

import re

from stages.sanitizer.digits import digit_runs
from stages.sanitizer.recognizers.base import Detection, TextContext

ENTITY_TYPE = "US_SSN"
FORMATTED_SCORE = 0.6
BARE_SCORE = 0.3
EXPECTED_SCORE = 0.95

_SSN = re.compile(r"(?<![\w-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![\w-])")
# Numbers the SSA published or that are typical placeholders.
_NOT_ISSUED = frozenset({"123456789", "078051120", "219099999"})


class UsSsnRecognizer:
    entity_type = ENTITY_TYPE
    context_words = ("ssn", "social", "security", "ss#", "taxpayer", "tin")
    ner_labels: frozenset[str] = frozenset()

    def detect(self, text: str, context: TextContext) -> list[Detection]:
        expected = ENTITY_TYPE in context.expected
        found = []
        for match in _SSN.finditer(text):
            digits = match.group(1) + match.group(3) + match.group(4)
            if not valid_ssn(digits):
                continue
            score = EXPECTED_SCORE if expected else FORMATTED_SCORE if match.group(2) else BARE_SCORE
            found.append(Detection(match.start(), match.end(), ENTITY_TYPE, score, digits))
        if expected:
            found += [Detection(run.start, run.end, ENTITY_TYPE, EXPECTED_SCORE, run.digits)
                      for run in digit_runs(text, 9, context.language) if run.spelled and valid_ssn(run.digits)]
        return found


def valid_ssn(digits: str) -> bool:
    if len(digits) != 9 or not digits.isdigit() or digits in _NOT_ISSUED:
        return False
    area, group, serial = int(digits[:3]), int(digits[3:5]), int(digits[5:])
    return 0 < area < 900 and area != 666 and group > 0 and serial > 0
