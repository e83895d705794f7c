"""EMAIL_ADDRESS: written addresses anywhere, and spelled-out ones ("jane dot doe at gmail dot com") in
answers to a bot question that asked for an email."""

from __future__ import annotations

import re

from stages.sanitizer.recognizers.base import Detection, TextContext

ENTITY_TYPE = "EMAIL_ADDRESS"
SCORE = 1.0
SPELLED_SCORE = 0.7

_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@(?:[\w-]+\.)+[^\W\d_]{2,}(?![\w-])")
# "at"/"dot" are ordinary words, so the spelled-out form is trusted only when an email was asked for.
_AT = r"(?:\s*@\s*|\s+at\s+|\s*[(\[]at[)\]]\s*)"
_DOT = r"(?:\s*\.\s*|\s+dot\s+|\s*[(\[]dot[)\]]\s*)"
_SPELLED = re.compile(
    rf"(?<![\w.%+-])[\w%+-]+(?:{_DOT}[\w%+-]+)*{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}[^\W\d_]{{2,}}(?![\w-])",
    re.IGNORECASE,
)
_SPELLED_DOT = re.compile(rf"{_DOT}", re.IGNORECASE)
_SPELLED_AT = re.compile(rf"{_AT}", re.IGNORECASE)


class EmailRecognizer:
    entity_type = ENTITY_TYPE
    context_words = ("email", "e-mail", "mail")
    ner_labels: frozenset[str] = frozenset()

    def detect(self, text: str, context: TextContext) -> list[Detection]:
        found = [Detection(m.start(), m.end(), ENTITY_TYPE, SCORE, m.group().lower())
                 for m in _EMAIL.finditer(text)]
        if ENTITY_TYPE in context.expected:
            found += [
                Detection(m.start(), m.end(), ENTITY_TYPE, SPELLED_SCORE, _unspell(m.group()))
                for m in _SPELLED.finditer(text)
            ]
        return found


def _unspell(spelled: str) -> str:
    return _SPELLED_DOT.sub(".", _SPELLED_AT.sub("@", spelled, count=1)).lower()
