"""IBAN_CODE: international bank account numbers, with or without spaces every four characters, whose
length fits their country and whose check digits pass ISO 13616 mod-97. Normalized to upper case without
spaces. When the bot asked for an IBAN, a mistyped one (check digits fail) still counts."""

from __future__ import annotations

import re

from stages.sanitizer.recognizers.base import Detection, TextContext

ENTITY_TYPE = "IBAN_CODE"
SCORE = 1.0
UNCHECKED_SCORE = 0.6

# ISO 13616 registry: IBAN length per country.
LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25,
    "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18,
    "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33,
    "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}
# A country code, two check digits, then groups of letters and digits, optionally split by single spaces
# or dashes. The country's length decides where the IBAN ends.
_CANDIDATE = re.compile(r"(?<![\w])([A-Za-z]{2})(\d{2})((?:[ -]?[A-Za-z0-9]){11,30})(?![A-Za-z0-9])")
_CHAR = re.compile(r"[A-Za-z0-9]")


class IbanRecognizer:
    entity_type = ENTITY_TYPE
    context_words = ("iban", "bank", "account", "acct", "transfer", "sepa")
    ner_labels: frozenset[str] = frozenset()

    def detect(self, text: str, context: TextContext) -> list[Detection]:
        expected = ENTITY_TYPE in context.expected
        found = []
        for match in _CANDIDATE.finditer(text):
            country = match.group(1).upper()
            length = LENGTHS.get(country)
            if length is None:
                continue
            chars = list(_CHAR.finditer(text, match.start(), match.end()))
            if len(chars) < length:
                continue
            end = chars[length - 1].end()
            iban = "".join(c.group() for c in chars[:length]).upper()
            if mod97_valid(iban):
                found.append(Detection(match.start(), end, ENTITY_TYPE, SCORE, iban))
            elif expected:
                found.append(Detection(match.start(), end, ENTITY_TYPE, UNCHECKED_SCORE, iban))
        return found


def mod97_valid(iban: str) -> bool:
    rearranged = iban[4:] + iban[:4]
    if not rearranged.isalnum() or not rearranged.isascii():
        return False
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1
