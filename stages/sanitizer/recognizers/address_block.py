"""Postal addresses written over several lines, as on an envelope, in a signature or in an export (lines broken
by real newlines or by the two characters backslash and n):

    Jana Dvořáková
    412 Vinohradská 1180
    Apt. 7
    Kolín
    Czech Republic 28002

Once one line is a street, the short lines of the same block around it are the rest of its address: a flat or
suite line ("Apt. 7", "Suite 12", "Flat 2", "Top 4"), town lines, a region line, a line with a postal code
("Kolín 28002", "28002 Kolín", "Czech Republic 28002", "Leeds LS1 4AB"), a code alone ("415", "910 11"). A street
without a type word ("Vinohradská 1180", which alone could be anything with a number) counts when a flat line or a
line with a postal code in the same block confirms it. Name lines above the street are left to the name
recognizers; a line with a colon, a phone number or a sentence ends the block.

`address_parts(text)` is `address.address_parts(text)` with these lines added.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from stages.sanitizer.recognizers import address
from stages.sanitizer.recognizers.address import STOP_WORDS, UNIT_LINE, Evidence, Part, postal_at
from stages.sanitizer.recognizers.base import word_set

LineKind = Literal["street", "weak", "unit", "postal", "place_postal", "place", "short", "blank", "other"]

_DECORATION = " \t\r?}>*•·|"  # what some exports put before each line of a block ("??? ", "}} ")
_NAME = r"(?:(?i:st|mt|ft)\.|[^\W\d_][\w'\u2019]*(?:-[^\W\d_][\w'\u2019]*)*)"
# Place words: "Ždár nad Sázavou 1", "København K", "Cyprus (Greek)", ", GA", "Outer Kaiti, nan".
_PLACE = re.compile(rf",?[ \t]*{_NAME}(?:,?[ \t]+(?:{_NAME}|\d{{1,2}}(?!\w)|\([^()\n]{{1,20}}\)))*")
_PLACE_TOKEN = re.compile(rf",?[ \t]*(?:{_NAME}|\d{{1,2}}(?!\w)|\([^()\n]{{1,20}}\))")
_PLACE_END = re.compile(r"[ \t]*(?:[.?!;,)]|[ \t](?-i:[a-z]))")  # where a sentence goes on after a place
_SENTENCE_MARK = re.compile(r"[ \t]*[.?!;,)]")
# Codes that only their place in a block shows to be one: Iceland "415", Sweden "910 11".
_SHORT_CODE = re.compile(r"\d{3}(?:\s\d{2})?(?![\w'\u2019-]|\s\d)")
_WORD_AFTER_GAP = re.compile(r"(?<=[ \t,])\w")
# Lower-case words inside a place's name: "Frankfurt am Main", "Ždár nad Sázavou", "Teixeira de Freitas".
_LINKS = address.TOWN_LINKS | {"u", "nad", "pod", "na", "y", "e", "i"}
# How a letter or message ends, below an address: "Best regards", "Mit freundlichen Grüßen", "Sent from my phone".
_CLOSINGS = word_set("""
    best kind warm regards cheers thanks thank sincerely yours greetings sent
    mit viele liebe beste freundliche freundlichen grüße gruß gesendet
    cordialement bien salutations amitiés envoyé
    saludos atentamente cordialmente un enviado
    cordiali distinti saluti inviato
    met vriendelijke groet groeten verzonden
    pozdrawiam pozdrowienia wysłane
""")
_MAX_SHORT_WORDS = 3
_MAX_PLACE_WORDS = 5
_MAX_PLACE_CHARS = 40
_MAX_PENDING = 3  # place lines in a row before a line with a postal code confirms them
_MAX_TRAILING = 2  # place lines after the last flat or postal code line: a town and a country
_CONFIRMING = frozenset({"unit", "postal", "place_postal"})
_RANK: dict[Evidence, int] = {"weak": 0, "shape": 1, "line": 2, "org": 3}


@dataclass(slots=True)
class _Line:
    """One line of the text: its content (without decoration), what it holds, and the parts it would add."""

    start: int
    end: int
    kind: LineKind = "other"
    parts: list[tuple[int, int, address.Kind]] = field(default_factory=list)
    terminal: bool = False  # a sentence goes on after it: "Norway. It was ...": the block ends here
    # The same line read as a town and postal code, where it also reads as a street: "Svratka 45098" below a
    # street, "Svépomoc 219" as the street; "Leeds LS1 4AB. I now live at 2 Elm Road" below a street.
    place: _Line | None = None


@lru_cache(maxsize=512)  # the street, postal code and city recognizers read the same text one after another
def address_parts(text: str) -> tuple[Part, ...]:
    """Every address part in `text` (see `address.address_parts`) with the lines of multi-line addresses."""
    parts = address.address_parts(text)
    view = address.readable(text)
    if "\n" not in view:
        return parts
    added = _block_parts(view, parts)
    if not added:
        return parts
    # A part found on its own line as well keeps its strongest evidence ("Apt. 7" alone is weak).
    strongest: dict[tuple[int, int, address.Kind], Part] = {}
    for part in (*parts, *added):
        key = (part.start, part.end, part.kind)
        if key not in strongest or _RANK[part.evidence] > _RANK[strongest[key].evidence]:
            strongest[key] = part
    return tuple(sorted(strongest.values(), key=lambda p: (p.start, -p.end)))


def _block_parts(text: str, parts: tuple[Part, ...]) -> list[Part]:
    casual = address.is_casual(text)
    lines = [_classified(text, start, end, parts, casual) for start, end in _line_spans(text)]
    found: list[Part] = []
    taken = -1
    for i, line in enumerate(lines):
        if i <= taken or line.kind not in ("street", "weak"):
            continue
        block, last, confirmed = _block(lines, i)
        if line.kind == "weak" and not (confirmed or UNIT_LINE.search(text, line.start, line.end)):
            continue
        evidence: Evidence = "org" if address.is_org(text, line.parts[0][0]) or any(
            p.evidence == "org" and line.start <= p.start < line.end for p in parts) else "line"
        found += [Part(s, e, kind, evidence) for member in block for s, e, kind in member.parts]
        # A line read as this address's postal code may go on with the next address: "70842, and 12 Elm Road".
        taken = last - 1 if last > i and lines[last].kind in ("street", "weak") else last
    return found


def _line_spans(text: str) -> list[tuple[int, int]]:
    """The content of each line as (start, end): without decoration before it and spaces after it."""
    spans = []
    position = 0
    for raw in text.split("\n"):
        start, end = position, position + len(raw)
        while start < end and text[start] in _DECORATION:
            start += 1
        while end > start and text[end - 1] in " \t\r":
            end -= 1
        spans.append((start, end))
        position += len(raw) + 1
    return spans


def _classified(text: str, start: int, end: int, parts: tuple[Part, ...], casual: bool) -> _Line:
    """What the line `text[start:end]` holds: a street (with the street's part to the line's end), a flat, a
    postal code, a town and the like."""
    line = _Line(start, end)
    if start == end:
        line.kind = "blank"
    elif UNIT_LINE.fullmatch(text, start, end):
        line.kind, line.parts = "unit", [(start, end, "street")]
    else:
        content_end = _content_end(text, start, end)
        streets = [p for p in parts if p.kind == "street" and start <= p.start < end and p.end >= content_end]
        street_start = streets[0].start if streets else address.untyped_street_ending(text, start, content_end, casual)
        if street_start is None:
            _read_place(text, line, casual)
            return line
        line.kind = "street" if any(p.evidence != "weak" for p in streets) else "weak"
        line.parts = [(street_start, end, "street")]
        place = _Line(start, end)
        _read_place(text, place, casual)
        line.place = place if place.kind in ("postal", "place_postal") else None
    return line


def _content_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in " \t.,;:!?":
        end -= 1
    return end


def _read_place(text: str, line: _Line, casual: bool) -> None:
    """A line with a postal code ("Kolín 28002", "28002 Kolín", "Leeds LS1 4AB", "415"), or a town, region or
    country ("Kolín", ", GA"), also where a sentence goes on after it ("Norway. It was ...")."""
    start, end = line.start, _content_end(text, line.start, line.end)
    code_end = _code_at(text, start, end)
    if code_end is not None and (code_end == end or _goes_on(text, code_end, line.end, casual)):
        line.kind, line.parts, line.terminal = "postal", [(start, code_end, "postal")], code_end < end
        return
    if code_end is not None:  # "28002 Kolín"
        town = _gap_end(text, code_end)
        if _PLACE.fullmatch(text, town, end) and _words_fit(text[town:end], casual, True):
            line.kind, line.parts = "place_postal", [(start, code_end, "postal"), (town, end, "city")]
        return
    for word in _WORD_AFTER_GAP.finditer(text, start, end):  # "Kolín 28002", "Leeds LS1 4AB", "Drachten, FR 90160"
        last_code_end = _code_at(text, word.start(), end)
        town_end = _content_end(text, start, word.start())
        if last_code_end is not None and _PLACE.fullmatch(text, start, town_end) and _words_fit(
                text[start:town_end], casual, True):
            line.kind, line.parts = "place_postal", [(start, town_end, "city"), (word.start(), last_code_end, "postal")]
            line.terminal = last_code_end < end
            return
    place_end = _place_end(text, start, end, casual)
    if place_end is None:
        return
    terminal = place_end < end
    if terminal and not _goes_on(text, place_end, line.end, casual):
        return
    fits = _words_fit(text[start:place_end], casual, False)
    if fits or len(text[start:place_end].split()) <= _MAX_SHORT_WORDS:
        line.kind = "place" if fits else "short"
        line.parts = [(start, place_end, "city")]
        line.terminal = terminal


def _place_end(text: str, start: int, end: int, casual: bool) -> int | None:
    """The end of the place words at `start`: in text with capitals, up to a lower-case word ("Brazil for ...")."""
    place_end = None
    position = start
    while (token := _PLACE_TOKEN.match(text, position, end)) is not None:
        word = token.group().lstrip(", \t")
        if place_end is not None and not casual and word[0].islower() and word.lower() not in _LINKS:
            break
        position = place_end = token.end()
    return place_end


def _goes_on(text: str, position: int, end: int, casual: bool) -> bool:
    """Whether a sentence goes on at `position` after an address: "Norway. It was", "28002 last week"."""
    return _PLACE_END.match(text, position, end) is not None and (
        not casual or _SENTENCE_MARK.match(text, position, end) is not None)


def _code_at(text: str, start: int, end: int) -> int | None:
    code_end = postal_at(text, start)
    if code_end is None:
        short = _SHORT_CODE.match(text, start, end)
        code_end = short.end() if short else None
    return code_end


def _words_fit(place: str, casual: bool, before_code: bool) -> bool:
    """Whether `place` may be a town, region or country: a few words, the first not a function word and
    capitalised (all of them, links aside, unless a postal code follows), "THE LAURELS" in capitals."""
    words = place.replace(",", " ").split()
    if not words or len(words) > _MAX_PLACE_WORDS or len(place) > _MAX_PLACE_CHARS:
        return False
    if place.isupper():
        return True
    first = words[0]
    if first.lower() in STOP_WORDS | _CLOSINGS or not (casual or first[0].isupper()):
        return False
    return casual or before_code or all(
        w[0].isupper() or w[0].isdigit() or w.lower() in _LINKS or w.startswith("(") for w in words)


def _gap_end(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t,":
        position += 1
    return position


def _block(lines: list[_Line], anchor: int) -> tuple[list[_Line], int, bool]:
    """The lines of the address around the street line `anchor`, the index of its last line, and whether a
    flat or postal code line is among them."""
    above = anchor
    while above > 0 and lines[above - 1].kind == "unit":
        above -= 1
    block = lines[above:anchor + 1]
    last = anchor
    pending: list[_Line] = []
    confirmed = False
    blank_used = False
    below = anchor + 1
    while below < len(lines) and not lines[below - 1].terminal:  # a street line ends a sentence only in its tail
        line = _below_street(lines[below])
        if line.kind == "blank":  # a blank line inside an address, before its postal code line
            following = below + 1
            if blank_used or following >= len(lines) or _below_street(lines[following]).kind not in (
                    "postal", "place_postal"):
                break
            blank_used = True
        elif line.kind in _CONFIRMING:
            block += [*pending, line]
            pending = []
            last = below
            confirmed = True
        elif line.kind in ("place", "short") and len(pending) < _MAX_PENDING:
            pending.append(line)
        else:
            break
        if line.terminal:
            break
        below += 1
    for line in pending[:_MAX_TRAILING]:
        if line.kind != "place":
            break
        block.append(line)
        last += 1
    return block, last, confirmed


def _below_street(line: _Line) -> _Line:
    """How a line reads below a street: "Svratka 45098" is its town and postal code."""
    return line.place or line
