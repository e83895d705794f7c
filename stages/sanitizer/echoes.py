"""Values found once in a session, found again wherever the session repeats them.

A name given in lower case after "What's your name?" is found by context, but "ok jane, done!" three turns
later has no context, and NER misses lower-case names. So every value found in a session is looked for,
as whole words in any case, in every text of the session; a name's words of three letters or more are
looked for on their own as well ("jane doe" -> "jane", "doe"). Numbers are looked for by their digits,
however they are written or said: the bot's "I heard 98471 20356" echoes "nine eight four seven one ...", and
"+44 7700 900123" echoes "07700900123" (a shared tail of MIN_SHARED_DIGITS is the same number). An echo gets
the type and normalized value of what it echoes, hence the same token.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from stages.sanitizer.digits import digit_runs
from stages.sanitizer.recognizers.base import Detection
from stages.sanitizer.recognizers.names import is_ambiguous, is_word
from stages.sanitizer.recognizers.person import ENTITY_TYPE as PERSON
from stages.sanitizer.recognizers.person import NOT_NAMES

SCORE = 0.5
MIN_CHARS = 3  # shorter values ("Al", "Jo") would match parts of too many ordinary texts
MIN_DIGITS = 5  # a number with fewer digits is echoed by too many amounts and times
MIN_SHARED_DIGITS = 7  # the national part of a phone number, the long part of an account number


class Echoes:
    def __init__(self, found: Iterable[tuple[str, Detection]], language: str = "en") -> None:
        """`found`: the detections of one session, each with the text it was found in; `language`: the
        session's. In what people write, a name word that is also an ordinary word ("summer", "frank")
        echoes only capitalised: "to be frank" after "Frank Miller" is no name. A bot echoes in any case: it
        repeats the name as the user typed it ("Thanks, jane")."""
        self._values: dict[str, tuple[str, str]] = {}  # surface (lower case, single spaces) -> type, value
        self._capitalised_only: set[str] = set()
        self._language = language
        self._numbers: dict[str, tuple[str, str]] = {}  # digits -> type, value
        for text, detection in found:
            surface = _surface(text[detection.start : detection.end])
            self._add(surface, detection.entity_type, detection.normalized)
            for run in digit_runs(text[detection.start : detection.end], language=language):
                if len(run.digits) >= MIN_DIGITS:
                    self._numbers.setdefault(run.digits, (detection.entity_type, detection.normalized))
            if detection.entity_type == PERSON:
                for word in surface.split():
                    if word not in NOT_NAMES:
                        self._add(word, PERSON, word)
                        if is_ambiguous(word, language) or is_word(word, language):
                            self._capitalised_only.add(word)
        # Longest first, so that "jane doe" is one echo rather than "jane" and "doe".
        values = sorted(self._values, key=len, reverse=True)
        alternatives = "|".join(r"\s+".join(map(re.escape, v.split())) for v in values)
        # A possessive echoes its name: "Rory's number", "whats rorys number", "Hannahs Termin".
        self._pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?P<possessive>['\u2019]?s)?(?!\w)",
                                   re.IGNORECASE) if values else None

    def find(self, text: str, source: str = "") -> list[Detection]:
        found = self._find_numbers(text) if self._numbers else []
        if self._pattern is None:
            return found
        for match in self._pattern.finditer(text):
            # Case-insensitive matching and lower() disagree on a few letters (the Turkish dotted I).
            surface = _surface(match.group())
            value = self._values.get(surface)
            if value is None and match.group("possessive"):
                surface = _surface(match.group()[: match.start("possessive") - match.start()])
                value = self._values.get(surface)
            if source != "bot" and surface in self._capitalised_only and not match.group()[0].isupper():
                continue
            if value is not None:
                found.append(Detection(match.start(), match.end(), value[0], SCORE, value[1]))
        return found

    def _find_numbers(self, text: str) -> list[Detection]:
        found = []
        for run in digit_runs(text, language=self._language):
            if len(run.digits) < MIN_DIGITS:
                continue
            value = self._numbers.get(run.digits) or next(
                (v for digits, v in self._numbers.items() if _same_number(digits, run.digits)), None)
            if value is not None:
                found.append(Detection(run.start, run.end, value[0], SCORE, value[1]))
        return found

    def _add(self, surface: str, entity_type: str, normalized: str) -> None:
        if len(surface) >= MIN_CHARS:
            self._values.setdefault(surface, (entity_type, normalized))


def _same_number(a: str, b: str) -> bool:
    shorter, longer = sorted((a, b), key=len)
    return len(shorter) >= MIN_SHARED_DIGITS and longer.endswith(shorter)


def _surface(text: str) -> str:
    return " ".join(text.lower().split())
