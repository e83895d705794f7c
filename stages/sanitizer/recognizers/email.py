"""EMAIL_ADDRESS: written addresses anywhere, and fragments of one: "cal.fitz@" or "@gmail.com" alone is
half of an address split over two messages. Spoken addresses ("jane dot doe at gmail dot com") reach it
typed (see `spoken`)."""

from __future__ import annotations

import re

from stages.sanitizer.recognizers.base import Detection, TextContext

ENTITY_TYPE = "EMAIL_ADDRESS"
SCORE = 1.0
FRAGMENT_SCORE = 0.6

_LOCAL = r"[\w.%+-]*\w"
_DOMAIN = r"(?:[\w-]+\.)+[^\W\d_]{2,}(?![\w-])"
_EMAIL = re.compile(rf"(?<![\w.%+-]){_LOCAL}@{_DOMAIN}")
# "cal.fitz@" ending a text or a clause, "@gmail.com" with nothing before it.
_LOCAL_FRAGMENT = re.compile(rf"(?<![\w.%+-]){_LOCAL}@(?=[\s,;:!?)]|\.?$)")
_DOMAIN_FRAGMENT = re.compile(rf"(?<![\w.%+-])@{_DOMAIN}")


class EmailRecognizer:
    entity_type = ENTITY_TYPE
    context_words = ("email", "e-mail", "mail", "courriel", "correo", "posta", "poczta", "adres")
    ner_labels: frozenset[str] = frozenset()

    def detect(self, text: str, context: TextContext) -> list[Detection]:
        found = [Detection(m.start(), m.end(), ENTITY_TYPE, SCORE, m.group().lower()) for m in _EMAIL.finditer(text)]
        found += [Detection(m.start(), m.end(), ENTITY_TYPE, FRAGMENT_SCORE, m.group().lower())
                  for pattern in (_LOCAL_FRAGMENT, _DOMAIN_FRAGMENT) for m in pattern.finditer(text)]
        return found
