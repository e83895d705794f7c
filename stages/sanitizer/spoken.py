"""Speech-to-text as it would have been typed, with a map back to the original characters.

A voice turn says "null eins fünf zwei drei vier", "tom underscore baker at icloud dot com", "k r m five
one oh oh seven", "b wie berta u wie ulrich g wie gustav" where a typed one has 015234, tom_baker@icloud.com,
KRM51007 and BUG. `normalize` rewrites those runs of spoken digits, letters and symbols into their typed
form, so that the recognizers, which know typed shapes, find them; `spoken_detections` runs the
recognizers over the rewritten text and maps what they find back to the spoken words.

Spoken words are read in the conversation's language only, and ambiguous ones only among others: "one
of them", "sei" (you are), "een" (a), "de" (of), "i", "a" stay words unless they sit inside a run of
digits or letters; "at" and "dot" become "@" and "." only in the shape of an e-mail address."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import msgspec

from stages.sanitizer.number_words import Kind, NumberWord, Weak, fold
from stages.sanitizer.recognizers.base import Detection, Recognizer, TextContext
from stages.sanitizer.spoken_words import CLEAR_AT, GENERIC_TLDS, LANGUAGES, MAIL_CUE, NOT_LOCAL, Language, Symbol

_TOKEN = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")  # "it's", "c'est" are one word
# What may separate the words of one run: "soixante-dix", "twenty one".
_SOFT_GAP = re.compile(r"\s*(?:-\s*)?")
_COMMA = re.compile(r"\s*,\s*")
_PHONE_DIGITS = 7
_SPACED_DIGITS = 5
_EMAIL = "EMAIL_ADDRESS"
_AFTER_DOMAIN = re.compile(r"[@/]|\.\w")  # "you at jane.doe@x.com", "at example.com/help": no address
_MAX_PHRASE = 3


@dataclass(slots=True)
class _Item:
    """One word (or phrase: "at sign", "k as in kilo", "double oh") and how it may be read."""

    start: int
    end: int
    key: str  # folded
    number: NumberWord | None = None
    letter: str = ""
    symbol: Symbol | None = None
    weak: Weak = Weak.STRONG
    spoken: bool = True  # False for written digits and single letters: runs of only those stay as written

    @property
    def content(self) -> bool:
        return self.symbol is None


class Normalized:
    """A text with its spoken runs rewritten, and where each character came from."""

    __slots__ = ("_changed", "_ends", "_forward_end", "_forward_start", "_starts", "spellings", "text")

    def __init__(self, original: str, replacements: Sequence[tuple[int, int, Sequence[tuple[str, int, int]]]]) -> None:
        """`replacements`: sorted, disjoint (start, end, pieces): original[start:end] becomes the pieces'
        texts, each piece (text, start, end) standing for original[start:end]."""
        chars: list[str] = []
        self.spellings: list[tuple[int, int]] = []  # spans of words spelled letter by letter ("c a r y s")
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._changed: list[bool] = []
        self._forward_start = [-1] * (len(original) + 1)
        self._forward_end = [-1] * (len(original) + 1)
        position = 0
        for start, end, pieces in [*replacements, (len(original), len(original), ())]:
            for index in range(position, start):
                self._forward_start[index], self._forward_end[index] = len(chars), len(chars) + 1
                chars.append(original[index])
                self._starts.append(index)
                self._ends.append(index + 1)
                self._changed.append(False)
            previous_end = len(chars)
            if "".join(text for text, _, _ in pieces).isalpha() and len(pieces) >= 3:
                self.spellings.append((len(chars), len(chars) + sum(len(text) for text, _, _ in pieces)))
            for text, piece_start, piece_end in pieces:
                first = len(chars)
                for index in range(piece_start, piece_end):
                    self._forward_start[index], self._forward_end[index] = first, first + len(text)
                chars.extend(text)
                self._starts.extend([piece_start] * len(text))
                self._ends.extend([piece_end] * len(text))
                self._changed.extend([True] * len(text))
            # Characters between the pieces (the spaces of "four one five") belong to the pieces around them.
            for index in range(start, end):
                if self._forward_start[index] < 0:
                    self._forward_start[index], self._forward_end[index] = len(chars), previous_end
                else:
                    previous_end = self._forward_end[index]
            position = end
        self._forward_start[len(original)] = self._forward_end[len(original)] = len(chars)
        self.text = "".join(chars)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of text[start:end]: every spoken word that made part of it."""
        return self._starts[start], self._ends[end - 1]

    def normalized_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of text made from original[start:end]."""
        return self._forward_start[start], max(self._forward_start[start], self._forward_end[end - 1])

    def changed(self, start: int, end: int) -> bool:
        return any(self._changed[start:end])


def normalize(text: str, language: str = "en", expected: frozenset[str] = frozenset()) -> Normalized | None:
    """`text` with its spoken digits, letters and e-mail addresses as typed, or None if it holds none."""
    return _normalize(text, language, _EMAIL in expected)


@lru_cache(maxsize=4096)
def _normalize(text: str, language: str, email_asked: bool) -> Normalized | None:
    # Cached: the detector, digit runs, echoes and split values read the same texts.
    lang = LANGUAGES.get(language, LANGUAGES["en"])
    items = _items(text, lang)
    if not any(item.letter or (item.spoken and (item.number or item.symbol)) or _single_digit(item) for item in items):
        return None
    emails = _emails(text, items, lang, email_asked or bool(MAIL_CUE.search(text)))
    taken = [any(start <= item.start < end for start, end, _ in emails) for item in items]
    readings = [reading for run in _runs(text, items, taken, lang) for reading in _read_run(text, items, run, lang)]
    replacements = [*emails, *readings]
    replacements = [r for r in replacements if "".join(p.text for p in r[2]) != text[r[0] : r[1]]]
    if not replacements:
        return None
    return Normalized(text, sorted(replacements, key=lambda r: r[0]))


def spoken_detections(text: str, context: TextContext, recognizers: Sequence[Recognizer]) -> list[Detection]:
    """What `recognizers` find in the typed form of `text` that they cannot find in `text` itself, in
    `text`'s offsets, each span covering all the spoken words it was made of."""
    normalized = normalize(text, context.language, context.expected)
    if normalized is None:
        return []
    entities = tuple((*normalized.normalized_span(start, end), label) for start, end, label in context.entities)
    typed = msgspec.structs.replace(context, entities=entities)
    detections = [d for recognizer in recognizers for d in recognizer.detect(normalized.text, typed)]
    found = [_in_original(normalized, d, d.start, d.end) for d in detections if normalized.changed(d.start, d.end)]
    # A word spelled out after it was said is what the word is: "its ana tremblay t r e m b l a y".
    for start, end in normalized.spellings:
        spelled = normalized.text[start:end].lower()
        found += [_in_original(normalized, d, start, end) for d in detections
                  if (d.end <= start or end <= d.start) and spelled in _words(normalized.text[d.start : d.end])]
    return found


def _in_original(normalized: Normalized, detection: Detection, start: int, end: int) -> Detection:
    start, end = normalized.original_span(start, end)
    return msgspec.structs.replace(detection, start=start, end=end)


def _words(text: str) -> set[str]:
    return {fold(word) for word in _TOKEN.findall(text)}


def _items(text: str, lang: Language) -> list[_Item]:
    tokens = [(m.start(), m.end(), fold(m.group())) for m in _TOKEN.finditer(text)]
    items: list[_Item] = []
    index = 0
    while index < len(tokens):
        item, used = _phrase(text, tokens, index, lang) or (_word(text, tokens[index], lang), 1)
        if item.key == "one" and items and items[-1].key in lang.pronoun_after:
            item.number = None  # "the first one", "a new one"
        items.append(item)
        index += used
    return items


def _adjacent(text: str, end: int, start: int) -> bool:
    return _SOFT_GAP.fullmatch(text, end, start) is not None


def _phrase(text: str, tokens: list[tuple[int, int, str]], index: int, lang: Language) -> tuple[_Item, int] | None:
    """A reading of several words from `index` on: "at sign", "k as in kilo", "double oh"; or None."""
    first = tokens[index][2]
    start = tokens[index][0]
    # Most words start none of these: they are not looked at further.
    if first not in lang.phrase_starts and first not in lang.repeats and not _single_letter(
            text[start : tokens[index][1]]):
        return None
    words = [first]
    for following in range(index + 1, min(index + _MAX_PHRASE + 1, len(tokens))):
        if not _adjacent(text, tokens[following - 1][1], tokens[following][0]):
            break
        words.append(tokens[following][2])
    for size in range(len(words), 1, -1):
        phrase = " ".join(words[:size])
        if phrase in lang.phrases:
            item = _word(text, (start, tokens[index + size - 1][1], phrase), lang)
            return item, size
    # "k as in kilo", "h wie heinrich": a single letter, a filler, and a word that starts with it.
    if _single_letter(text[start : tokens[index][1]]):
        loose, clear = lang.spelled_by
        fillers = loose if first in lang.word_letters else loose | clear
        for size in (2, 3):
            if len(words) > size and " ".join(words[1:size]) in fillers and words[size].startswith(first):
                return _Item(start, tokens[index + size][1], first, letter=first.upper()), size + 1
    repeat = lang.repeats.get(first)
    if repeat is not None and len(words) > 1:
        single = _word(text, tokens[index + 1], lang)
        end = tokens[index + 1][1]
        if single.number is not None and single.number.kind is Kind.UNIT and not single.number.ordinal:
            digits = str(single.number.value) * repeat
            return _Item(start, end, first, number=NumberWord(Kind.NUMBER, 0, digits=digits)), 2
        if single.letter and single.weak is Weak.STRONG:
            return _Item(start, end, first, letter=single.letter * repeat), 2
    return None


def _word(text: str, token: tuple[int, int, str], lang: Language) -> _Item:
    start, end, key = token
    item = _Item(start, end, key)
    written = text[start:end]
    if written.isdigit():
        item.number, item.spoken = NumberWord(Kind.NUMBER, 0, digits=written), False
        return item
    symbol = lang.symbols.get(key)
    if symbol is not None:
        item.symbol, item.weak = symbol, Weak.BOTH
        return item
    item.number = lang.numbers.lookup(written)
    if item.number is not None:
        item.weak = item.number.weak
    if _single_letter(written):
        item.letter, item.spoken = key.upper(), item.number is not None
        if key in lang.word_letters:
            item.weak = Weak.BOTH
        elif item.number is None:
            item.weak = Weak.STRONG
        return item
    named = lang.letters.get(key)
    if named is not None and item.number is None:
        item.letter, item.weak = named[0].upper(), named[1]
    return item


def _single_letter(written: str) -> bool:
    """"b", "Ä"; not "è", "à", which are words."""
    return len(written) == 1 and written.isalpha() and (written.isascii() or written.lower() in "äöü")


def _runs(text: str, items: list[_Item], taken: list[bool], lang: Language) -> list[list[int]]:
    """Maximal sequences of adjacent items that may be digits, letters or symbols between them."""
    runs: list[list[int]] = []
    previous = -2
    for index, item in enumerate(items):
        if taken[index] or not (item.number is not None or item.letter or (
                item.symbol is not None and item.symbol is not Symbol.AT)):
            continue
        if previous == index - 1 and _adjacent(text, items[previous].end, item.start):
            runs[-1].append(index)
        else:
            runs.append([index])
        previous = index
    merged: list[list[list[int]]] = []  # runs a comma separates, as chains
    for run in runs:
        if merged and _spoken_number(items, run) and _spoken_number(items, merged[-1][-1]) and _COMMA.fullmatch(
                text, items[merged[-1][-1][-1]].end, items[run[0]].start):
            merged[-1].append(run)
        else:
            merged.append([run])
    return [run for chain in merged for run in _join_chain(items, chain, lang)]


def _spoken_number(items: list[_Item], run: list[int]) -> bool:
    return all(items[i].number is not None and items[i].spoken for i in run)


def _join_chain(items: list[_Item], chain: list[list[int]], lang: Language) -> list[list[int]]:
    """Groups of spoken digits a comma separates are one run if they make a phone number's length:
    "four one five, five five five, oh one four three", "zéro six, douze, trente-quatre, ..."; shorter
    ones are a list ("three, six or twelve")."""
    if len(chain) == 1:
        return chain
    digits = sum(len(group.digits) for run in chain for group in lang.numbers.compose(
        [number for number in (items[i].number for i in run) if number is not None]))
    return [[i for run in chain for i in run]] if digits >= _PHONE_DIGITS else chain


def _accept(text: str, run: list[_Item]) -> list[bool]:
    """Which items of a run are read as digits, letters or symbols: every strong one, and weak ones with
    accepted neighbours (as many as they need)."""
    ok = [item.weak is Weak.STRONG and item.content and not _connector(item) for item in run]
    alphabet = sum(1 for item in run if item.weak is Weak.SPELLING)
    changed = True
    while changed:
        changed = False
        for index in range(len(run)):
            if not ok[index] and _acceptable(text, run, ok, index, alphabet):
                ok[index] = changed = True
    return ok


def _connector(item: _Item) -> bool:
    return item.number is not None and item.number.kind is Kind.CONNECTOR


def _acceptable(text: str, run: list[_Item], ok: list[bool], index: int, alphabet: int) -> bool:
    item = run[index]
    before = run[index - 1] if index > 0 and ok[index - 1] and run[index - 1].content else None
    after = run[index + 1] if index + 1 < len(run) and ok[index + 1] and run[index + 1].content else None
    following = run[index + 1].number if index + 1 < len(run) else None
    if item.number is not None and item.number.weak is Weak.MULTIPLICAND:  # "a hundred", "ein tausend"
        if following is not None and following.kind in (Kind.HUNDRED, Kind.THOUSAND):
            return True
        if not item.letter:
            return False
    if item.symbol is Symbol.PLUS:
        return index == 0 and after is not None and after.number is not None
    if item.symbol is Symbol.DOT:  # "one nine two dot one six eight"; a dot between letters is none
        return before is not None and after is not None and before.number is not None and after.number is not None
    if _connector(item):  # "two thousand and one": the number after it may be weak
        return before is not None and index + 1 < len(run) and run[index + 1].number is not None
    if item.symbol is not None:
        return before is not None and after is not None
    left = _supports(before)
    right = _supports(after) or (after is not None and _connector(after))
    if item.weak is Weak.NEIGHBOUR:
        return left or right
    if item.weak is Weak.SPELLING:
        return (left or right) and alphabet >= 2
    if left and right:
        return True
    # BOTH, next to a run on one side only: two of them ("s w one a two a a"), or one where the text
    # starts or ends after a long run (a check letter: "... ocho nueve a").
    first, last = index, index
    while first > 0 and not ok[first - 1] and run[first - 1].weak is Weak.BOTH and run[first - 1].letter:
        first -= 1
    while last + 1 < len(run) and not ok[last + 1] and run[last + 1].weak is Weak.BOTH and run[last + 1].letter:
        last += 1
    outer_left = first > 0 and ok[first - 1] and _supports(run[first - 1])
    outer_right = last + 1 < len(run) and ok[last + 1] and _supports(run[last + 1])
    if not (outer_left or outer_right):
        return False
    at_edge = (first == 0 and not text[: run[first].start].strip()) or (
        last == len(run) - 1 and not text[run[last].end :].strip(" .!?"))
    return (outer_left and outer_right) or last > first or (at_edge and sum(ok) >= 4)


def _supports(neighbour: _Item | None) -> bool:
    """Whether an accepted neighbour makes a weak word a digit or letter. A written number does not: "OH
    45409" is a state and a zip code."""
    return neighbour is not None and (neighbour.spoken or neighbour.number is None)


class _Piece(NamedTuple):
    text: str
    start: int
    end: int


_Replacement = tuple[int, int, list[_Piece]]


def _read_run(text: str, items: list[_Item], run: list[int], lang: Language) -> list[_Replacement]:
    """The typed form of the parts of `run` that are read as digits, letters and symbols."""
    accepted = _accept(text, [items[i] for i in run])
    readings: list[_Replacement] = []
    part: list[int] = []
    for index, ok in [*zip(run, accepted, strict=True), (-1, False)]:
        if ok:
            part.append(index)
            continue
        if part:
            readings += _read_part(items, part, lang)
        part = []
    return readings


def _reads_number(items: list[_Item], part: list[int], position: int) -> bool:
    """English "o" and Spanish "y" are letters or numbers: numbers next to numbers."""
    item = items[part[position]]
    if item.number is None or item.symbol is not None:
        return False
    if item.number.weak is Weak.MULTIPLICAND:  # "a hundred", but "b a seven"
        following = items[part[position + 1]].number if position + 1 < len(part) else None
        return following is not None and following.kind in (Kind.HUNDRED, Kind.THOUSAND)
    if not item.letter:
        return True
    return any(items[part[p]].number is not None and not items[part[p]].letter
               for p in (position - 1, position + 1) if 0 <= p < len(part))


def _read_part(items: list[_Item], part: list[int], lang: Language) -> list[_Replacement]:
    """Accepted items `part` as typed pieces; a connector that joins no numbers splits it."""
    chunks: list[list[tuple[_Piece, int, int, str]]] = [[]]  # piece, first and last item, ordinal joiner
    position = 0
    while position < len(part):
        item = items[part[position]]
        if not _reads_number(items, part, position):
            text = item.letter if item.symbol is None else item.symbol.value
            chunks[-1].append((_Piece(text, item.start, item.end), part[position], part[position], ""))
            position += 1
            continue
        end = position
        while end < len(part) and _reads_number(items, part, end):
            end += 1
        indexes = part[position:end]
        words = [items[i].number for i in indexes]
        covered = 0
        for group in lang.numbers.compose([w for w in words if w is not None]):
            if group.first > covered:
                chunks.append([])
            text, joiner = group.digits, ""
            if group.ordinal:
                text, joiner = lang.numbers.ordinal_text(int(group.digits))
                previous = chunks[-1][-1] if chunks[-1] else None
                if previous is not None and previous[0].text[-1:].isdigit() and not previous[3]:
                    chunks[-1][-1] = (*previous[:3], " ")  # "number seven third cross road": 7 3rd
            first, last = indexes[group.first], indexes[group.last]
            chunks[-1].append((_Piece(text, items[first].start, items[last].end), first, last, joiner))
            covered = group.last + 1
        if covered < len(indexes):
            chunks.append([])
        position = end
    readings = []
    for chunk in chunks:
        # A symbol joins what is around it: one left at an edge (after a split) is no part of the run.
        while chunk and items[chunk[0][1]].symbol not in (None, Symbol.PLUS):
            chunk.pop(0)
        while chunk and items[chunk[-1][2]].symbol is not None:
            chunk.pop()
        if chunk and _worth_rewriting(items, chunk):
            pieces = [piece._replace(text=piece.text + joiner) for piece, _, _, joiner in chunk[:-1]]
            readings.append((items[chunk[0][1]].start, items[chunk[-1][2]].end, [*pieces, chunk[-1][0]]))
    return readings


def _worth_rewriting(items: list[_Item], chunk: list[tuple[_Piece, int, int, str]]) -> bool:
    """Letters alone are rewritten from three on ("c a r y s"), single written digits from five on (speech
    to text may write "4 1 5 5 5 0 1"); anything else if a word was spoken (written digits and single
    letters stay as they are: "4 b")."""
    if all(piece.text.isalpha() for piece, _, _, _ in chunk):
        return sum(len(piece.text) for piece, _, _, _ in chunk) >= 3
    indexes = [i for _, first, last, _ in chunk for i in range(first, last + 1)]
    return any(items[i].spoken for i in indexes) or sum(1 for i in indexes if _single_digit(items[i])) >= _SPACED_DIGITS


def _single_digit(item: _Item) -> bool:
    return item.number is not None and len(item.number.digits) == 1 and not item.spoken


class _Element(NamedTuple):
    """A word of an e-mail address (`item` >= 0), a symbol (spoken: an item; typed: in a gap) or a break."""

    item: int
    symbol: Symbol | None
    start: int
    end: int


_TYPED = {"@": Symbol.AT, ".": Symbol.DOT, "_": Symbol.UNDERSCORE, "-": Symbol.DASH}
_BREAK = _Element(-1, None, -1, -1)
_LOCAL_SEPARATORS = frozenset({Symbol.DOT, Symbol.UNDERSCORE, Symbol.DASH, Symbol.APOSTROPHE})
_DOMAIN_SEPARATORS = frozenset({Symbol.DOT, Symbol.DASH})


def _elements(text: str, items: list[_Item]) -> list[_Element]:
    elements = []
    for index, item in enumerate(items):
        if index:
            gap_start = items[index - 1].end
            gap = text[gap_start : item.start]
            typed = _TYPED.get(gap.strip())
            if typed is not None:
                at = gap_start + gap.index(typed.value)
                elements.append(_Element(-1, typed, at, at + 1))
            elif not _adjacent(text, gap_start, item.start):
                elements.append(_BREAK)
        if item.symbol is not None:
            elements.append(_Element(index, item.symbol, item.start, item.end))
        else:
            elements.append(_Element(index, None, item.start, item.end))
    return elements


def _emails(text: str, items: list[_Item], lang: Language, said_email: bool) -> list[_Replacement]:
    """Spoken e-mail addresses ("jane dot doe at gmail dot com", "jane@gmail punkt de") as typed."""
    if not any(item.symbol is Symbol.AT for item in items) and "@" not in text:
        return []
    elements = _elements(text, items)
    found: list[_Replacement] = []
    for at, element in enumerate(elements):
        if element.symbol is not Symbol.AT or (found and element.start < found[-1][1]):
            continue
        local = _local(text, items, elements, at, lang)
        domain = _domain(text, items, elements, at, lang)
        if local is None or domain is None:
            continue
        (first, local_pieces, clear), (last, domain_pieces) = local, domain
        clear = clear or any(e.item < 0 and e.symbol is Symbol.DOT for e in elements[at:last])  # "x at web.de"
        spoken_at = element.item >= 0
        if spoken_at and not (said_email or clear or items[element.item].key in CLEAR_AT):
            continue
        pieces = [*local_pieces, _Piece("@", element.start, element.end), *domain_pieces]
        start, end = elements[first].start, elements[last].end
        if "".join(piece.text for piece in pieces) != text[start:end].lower():  # a typed address is left alone
            found.append((start, end, pieces))
    return found


def _is_word(element: _Element) -> bool:
    return element.item >= 0 and element.symbol is None


def _spelled(item: _Item) -> bool:
    """A single letter or a number: several of them make one part of an address ("g m x", "seventy eight")."""
    return (item.number is not None and item.number.kind is not Kind.CONNECTOR) or (
        bool(item.letter) and len(item.key) == 1)


def _domain(text: str, items: list[_Item], elements: list[_Element], at: int,
            lang: Language) -> tuple[int, list[_Piece]] | None:
    """Labels separated by dots and dashes after element `at`, at least one dot, ending in a top-level
    domain of letters: (last element, pieces), or None."""
    pieces: list[_Piece] = []
    last = -1
    dots = 0
    index = at + 1
    while True:
        label = _label(items, elements, index)
        if not label:
            break
        pieces += _pieces(text, items, [elements[e].item for e in label], lang)
        last = label[-1]
        separator = elements[last + 1] if last + 1 < len(elements) else _BREAK
        if separator.symbol not in _DOMAIN_SEPARATORS or not _label(items, elements, last + 2):
            break
        pieces.append(_Piece(separator.symbol.value if separator.symbol else "", separator.start, separator.end))
        dots += separator.symbol is Symbol.DOT
        index = last + 2
    if dots == 0 or not pieces:
        return None
    top = text[elements[last].start : elements[last].end].lower()
    if not (top.isalpha() and (len(top) == 2 or top in GENERIC_TLDS)):
        return None
    if _AFTER_DOMAIN.match(text, elements[last].end):
        return None
    return last, pieces


def _label(items: list[_Item], elements: list[_Element], index: int) -> list[int]:
    """Element indexes of one label from `index`: a word, or spelled letters and digits."""
    if index >= len(elements) or not _is_word(elements[index]):
        return []
    if not _spelled(items[elements[index].item]):
        return [index]
    label = [index]
    while label[-1] + 1 < len(elements) and _is_word(elements[label[-1] + 1]) \
            and _spelled(items[elements[label[-1] + 1].item]):
        label.append(label[-1] + 1)
    return label


def _local(text: str, items: list[_Item], elements: list[_Element], at: int,
           lang: Language) -> tuple[int, list[_Piece], bool] | None:
    """The local part before element `at`: segments of at most one word and any spelled letters and
    digits, separated by dots, underscores or dashes. (first element, pieces, whether it is clearly one:
    separated or spelled), or None."""
    segments: list[list[int]] = []
    index = at - 1
    while True:
        segment: list[int] = []
        words = 0
        while index >= 0 and _is_word(elements[index]) and not _before_address(items[elements[index].item]):
            word = not _spelled(items[elements[index].item])
            if word and words:
                break
            words += word
            segment.insert(0, index)
            index -= 1
        if not segment:
            break
        segments.insert(0, segment)
        if index < 1 or elements[index].symbol not in _LOCAL_SEPARATORS or not _is_word(elements[index - 1]) \
                or _before_address(items[elements[index - 1].item]):
            break
        index -= 1
    if not segments:
        return None
    pieces: list[_Piece] = []
    for number, segment in enumerate(segments):
        if number:
            separator = elements[segment[0] - 1]
            pieces.append(_Piece(separator.symbol.value if separator.symbol else "", separator.start, separator.end))
        pieces += _pieces(text, items, [elements[e].item for e in segment], lang)
    spelled = any(_spelled(items[elements[e].item]) for segment in segments for e in segment)
    return segments[0][0], pieces, len(segments) > 1 or spelled


def _before_address(item: _Item) -> bool:
    """A word such as "is", "email", "ist" that comes before an address (a spelled letter never does)."""
    return len(item.key) > 1 and item.key in NOT_LOCAL


def _pieces(text: str, items: list[_Item], indexes: list[int], lang: Language) -> list[_Piece]:
    """Words of an address as typed: numbers as digits, the rest in lower case."""
    pieces: list[_Piece] = []
    position = 0
    while position < len(indexes):
        item = items[indexes[position]]
        if not _reads_number(items, indexes, position) or _connector(item):
            pieces.append(_Piece(text[item.start : item.end].lower(), item.start, item.end))
            position += 1
            continue
        end = position
        while end < len(indexes) and _reads_number(items, indexes, end) and not _connector(items[indexes[end]]):
            end += 1
        numbers_at = indexes[position:end]
        words = [items[i].number for i in numbers_at]
        for group in lang.numbers.compose([w for w in words if w is not None]):
            first, last = items[numbers_at[group.first]], items[numbers_at[group.last]]
            pieces.append(_Piece(group.digits, first.start, last.end))
        position = end
    return pieces
