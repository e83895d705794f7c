"""Identifier candidates, shared by the ACCOUNT_NUMBER, ID_DOCUMENT and VEHICLE_PLATE recognizers and
computed once per text: codes as people write them ("PK-31-0072945", "TRK/5590213/07", "KD 5512 0874",
"5819 4306", "KA 05 MJ 2718"), each with the cue word before it (see `identifier_cues`), and the tests
for what a code is not (a date, an IP address, an amount or a reading with its unit, a flight number, a
postcode, a BIC, a phone number).

A code is a run of letter and digit chunks joined by "-", "/", "." or a single space. A space joins two
chunks only where one has a digit and both look like code (digits, or up to four capitals), so
"Ford F-250" stays two things and "plate 582 HTW" is one code. A cue word that stands apart ("Nr. 123",
"ID 123", "PNR XK4M2L") is a cue, not part of the code; joined by "-" ("NO-3184259") it is part of it.
Capitals alone (5 to 8: "KXQWRT") are a code only right after a cue word."""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from functools import lru_cache

import msgspec
import phonenumbers

from stages.sanitizer.recognizers.base import Detection, TextContext, word_set
from stages.sanitizer.recognizers.identifier_cues import (
    ACCOUNT,
    GENERIC,
    NEGATIVE,
    REFERENCE,
    SPECIFIC,
    WEAK_NEGATIVE,
    classify,
)
from stages.sanitizer.recognizers.phone import DEFAULT_REGIONS, LANGUAGE_REGIONS

WINDOW = 6  # words before a code that may hold its cue
CLOSE = 3  # words between a flight-number-like code ("LH 1234") and a cue that makes it an identifier
LETTERS_CLOSE = 2  # words between a code of capitals only and its cue ("booking reference is KXQWRT")
MAX_CHUNKS = 12
MAX_LENGTH = 48


_CHUNK = re.compile(r"[^\W_]+")
_TIGHT = frozenset("-/.")
_SPACE = frozenset({" ", "\u00a0"})
_DISTRICT = re.compile(r"[A-ZÄÖÜ]{1,3} [A-Z]{1,2} \d{1,4}[EH]?")  # a German plate with spaces: "HH XY 77"
# Capitals that never belong to a code: currencies and units ("EUR 1500", "1500 KWH").
_UNITS = word_set(
    "EUR USD GBP CHF PLN INR AUD CAD ZAR NZD SEK NOK DKK CZK HUF JPY KWH KW MWH WH GB MB KB TB KM KG CM MM AM PM "
    "M2 M3 KM2")
_LONE_WORDS = frozenset({"I", "A"})  # capital words of one letter that are words, not code

# Words, signs such as "#" and "n°", and tokens with a digit (other codes) before a candidate.
_TOKEN = re.compile(
    r"(?P<sign>(?<![^\W_])[nN][°º.]?(?=\s*\d)|[#№])|(?P<word>[^\W\d_]+(?:['\u2019.-][^\W\d_]+)*(?![^\W_]))"
    r"|(?P<code>[^\W_]+)")
# Sentence ends: no cue reaches across them. A dot after an abbreviation or a cue ("Nr.", "Ref.", "USt-IdNr.")
# is none.
_BOUNDARY = re.compile(r"[.!?;]+(?=\s|$)|\n")
_LAST_WORD = re.compile(r"[^\W\d_]+$")
_ABBREVIATIONS = word_set("nr no n num ref réf rif az kd tel vers pol ca bzw inkl nº mr mrs ms dr st gz vsnr kdnr art")
# Words that tie a cue to the word before it, which then decides: "relevé du compteur" is a reading,
# "réservation de vol" a booking, "numéro de vol" a flight ("numéro" says nothing), "lectura de su contador"
# a reading.
_LINKERS = word_set("of de du des del della dello dei degli di d al a au aux alla van der dem von vom")
# Articles and possessives between them are passed over ("de su contador"), but are no linkers themselves: in
# "um 12 Uhr, Ihr Rücksendeschein" nothing ties "Uhr" to the cue.
_DETERMINERS = word_set(
    "la le les el los las il lo gli the het your my our votre vos mon ma ton ta sa son su sus mi tu suo sua mio "
    "mia ihr ihre ihres ihrer mein meine meines seines uw mijn je jego mojego twojego")
# Languages that put the head first even without a linker: French "service client" (the company's customer
# service), Italian "servizio clienti", Polish "odczyt licznika" (meter reading).
_HEAD_FIRST = frozenset({"fr", "es", "it", "pt", "pl"})
# A cue after the code: a copula, a possessive, then up to three words.
_AFTER_CUE = re.compile(
    r"\s*[,:-]?\s*(?:is|are|was|ist|das\s+ist|sind|war|est|c'est|es|son|era|è|sono|zijn|jest|to|that's|thats|"
    r"that\s+is|this\s+is)?\s*(?:my|our|his|her|the|mein\w*|unser\w*|ihr\w*|sein\w*|mon|ma|mes|notre|votre|"
    r"mi|mis|su|sus|nuestr\w*|il\s+mio|la\s+mia|il\s+suo|la\s+sua|mijn|ons|onze|uw|zijn|haar|m[óo]j\w*|"
    r"nasz\w*|jego|jej)\s+(?P<words>[^\W\d_][\w'-]*(?:\s+[^\W\d_][\w'-]*){0,2})",
    re.IGNORECASE)
# What lets a code take the cue of the code before it: "policy 1234567 and 7654321", "HT 31 077 / NT 9 264".
_CONNECTOR = re.compile(
    r"[\s,;/&+]*(?:(?:and|or|und|oder|sowie|bzw|et|ou|y|o|e|en|of|i|lub|albo|plus)\b[\s,;/&+.]*)?",
    re.IGNORECASE)

# Not identifiers, whatever the words around them.
_DATE = re.compile(
    r"(?P<a>\d{1,2})(?P<s>[./ -])(?P<b>\d{1,2})(?P=s)(?:\d{2}|\d{4})"
    r"|(?:19|20)\d{2}(?P<t>[./-])(?P<m>\d{1,2})(?P=t)(?P<d>\d{1,2})")
_PAIRS = re.compile(r"\d{2}-\d{2}-\d{2}")
_LETTER_CODE = re.compile(r"[A-Z]{5,8}")  # a booking code of capitals only ("KXQWRT"), right after its cue
_LETTER_RUN = re.compile(r"[A-Z]{5}")
_YEARS = re.compile(r"(?:19|20)\d{2}\s?[-/]\s?(?:(?:19|20)\d{2}|\d{2})")  # "2019-2024", "2023/24"
_HEX = re.compile(r"0x[\da-f]+", re.IGNORECASE)  # error codes and addresses: 0x80070005
_DOMAIN = re.compile(r"[^\W\d_]\.[^\W\d_]{2,}(?:$|/)")  # a web address's host: example.com/help/123
_IP = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,3})?(?![\d.])")
_AMOUNT_BEFORE = re.compile(r"(?:[€$£₹¥]|\b(?:EUR|USD|GBP|CHF|PLN|INR|AUD|CAD|ZAR|Rs\.?|R\$))\s?$", re.IGNORECASE)
_AFTER = re.compile(
    r"\s?(?:[%€$£₹]|zł)|[.,:]\d|@|\s?(?:kwh|kw|wh|mwh|m3|m³|eur|euros?|usd|chf|gbp|pln|inr|dollars?|pounds?|"
    r"rupees?|złotych|zl|units?|einheiten|kilowatt\w*|kubikmeter|liters?|litres?|km|kg|cm|mm|gb|mb|mbit\w*|minutes?|"
    r"min|uhr|h|hours?|stunden|metr\w*|mètres?|cubic|days?|tage?n?|jours?|días?|giorni|dagen|points?|punkte?n?|"
    r"puntos|punti|punten|punktów|miles|meilen|millas|miglia|avios)\b",
    re.IGNORECASE)
_BEFORE = re.compile(r"(?:[+@]|\d[:.,])$")
# Shapes other recognizers or nobody should take: flight and train numbers ("LH 1234", "U2 8314", "ICE 1537"),
# BICs, and UK, Canadian, Dutch and Irish postcodes (POSTAL_CODE's).
_FLIGHT = re.compile(r"(?:[A-Z]{2,3}|[A-Z]\d|\d[A-Z]) ?\d{1,4}[A-Z]?")
_RUNS = re.compile(r"\d+|[^\W\d_]+")
_BIC = re.compile(r"[A-Z]{6}[A-Z\d]{2}(?:[A-Z\d]{3})?")
_POSTCODE = re.compile(
    r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}|[A-Z]\d[A-Z] ?\d[A-Z]\d|\d{4} ?[A-Z]{2}"
    r"|[AC-FHKNPRTV-Y]\d{2} ?[\dAC-FHKNPRTV-Y]{4}|\d{5}-\d{4}")
# Eight digits that read as a date (20240603): a date of birth or an appointment as likely as an id.
_COMPACT_DATE = re.compile(r"(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])|"
                           r"(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])(?:19|20)\d{2}")


class Candidate(msgspec.Struct, frozen=True):
    """One code in a text. `compact`: its letters and digits in upper case (the normalized value).
    `cue`: the kind of the nearest cue word before it (`identifier_cues`), None without one.
    `distance`: the words between the cue and the code. `excluded`: a shape that is no identifier (date, IP
    address, amount, reading with a unit)."""

    start: int
    end: int
    value: str
    compact: str
    digits: int
    letters: int
    upper: bool
    cue: str | None
    distance: int
    excluded: bool
    phone: bool  # digits only, and a valid phone number where the conversation's language is spoken

    @property
    def stated(self) -> bool:
        """Enough of a code to be an identifier where a cue word or the bot's question says it is one."""
        if self.excluded or not self.digits:
            return False
        if not self.letters:
            return self.digits >= 5
        # Lower-case words with a number ("28-year-old", "3-seat") are no codes; "xk4m2l", "kq-53820614" are.
        wordy = self.digits < 3 and any(len(chunk) >= 3 and chunk.isalpha() and chunk.islower()
                                        for chunk in _CHUNK.findall(self.value))
        return len(self.compact) >= 4 and not wordy

    @property
    def numbered(self) -> bool:
        """An identifier after a bare "number", "Nr." or "#": a phone number is as likely for digits."""
        if self.excluded or not self.digits:
            return False
        return len(self.compact) >= 5 if self.letters else self.digits >= 6 and not self.phone

    @property
    def shaped(self) -> bool:
        """An identifier by its shape alone: letters and digits mixed (6 or more, in capitals or with 5 or
        more digits), or 8 digits or more, but no flight number, postcode, BIC or phone number."""
        if self.excluded or not self.digits:
            return False
        if not self.letters:
            return self.digits >= 8 and not self.phone and not _COMPACT_DATE.fullmatch(self.compact)
        if len(self.compact) < 6 or not (self.upper or (self.digits >= 5 and len(self.compact) >= 7)):
            return False
        # A word and a number ("COVID-19", "ZKLUNCH15") is a name or a promo code; a reference mixes more.
        if self.digits < 3 and len(_RUNS.findall(self.compact)) < 3:
            return False
        value = self.value.upper()
        return not (self.flight_like or _BIC.fullmatch(value) or _POSTCODE.fullmatch(value))

    @property
    def flight_like(self) -> bool:
        return _FLIGHT.fullmatch(self.value.upper()) is not None

    def near(self, kind: str) -> bool:
        """A cue for `kind` before it, close enough for a code that could be a flight number ("the booking
        is Lisbon to Oslo on TP 742" is a flight; "booking ref LH4KQ2" is none)."""
        return self.cue == kind and (self.distance <= CLOSE or not self.flight_like)

    def cued(self, kind: str) -> bool:
        """A cue for `kind` before it, and enough of a code; capitals alone only right after the cue."""
        if not self.digits:
            return self.cue == kind and self.distance <= LETTERS_CLOSE and not self.excluded
        return self.near(kind) and self.stated

    def vetoed(self) -> bool:
        """A word before it says it is no identifier (a flight, a reading, an amount, a phone number)."""
        return self.cue == NEGATIVE

    def plain(self) -> bool:
        """No cue word for another type, and no "code" (a promo or error code) before it."""
        return self.cue not in SPECIFIC and self.cue != WEAK_NEGATIVE


class CodeRecognizer:
    """What the identifier recognizers share: one detection per candidate that `score` scores, normalized to
    its letters and digits in upper case. Cue words are read by `candidates`, with the negative ones, so the
    engine's context words are not used."""

    entity_type: str
    context_words: tuple[str, ...] = ()
    ner_labels: frozenset[str] = frozenset()

    def __init__(self, regions: Sequence[str] = DEFAULT_REGIONS) -> None:
        """`regions`: the phone recognizer's (a number valid there is a phone number, its or a company's)."""
        self.regions = tuple(regions)

    def detect(self, text: str, context: TextContext) -> list[Detection]:
        expected = self.entity_type in context.expected
        found = []
        for candidate in candidates(text, phone_regions(self.regions, context.language), context.language):
            score = self.score(candidate, expected)
            if score:
                found.append(Detection(candidate.start, candidate.end, self.entity_type, score, candidate.compact))
        return found

    def score(self, candidate: Candidate, expected: bool) -> float:
        """0 for a candidate that is not of this type; `expected`: the bot asked for this type."""
        raise NotImplementedError


class _Token(msgspec.Struct, frozen=True):
    start: int
    end: int
    text: str
    kind: str  # "sign", "word" or "code"


def phone_regions(configured: Sequence[str], language: str) -> tuple[str, ...]:
    """Where the phone recognizer reads numbers for a text in `language`: a number valid there is its."""
    return tuple(dict.fromkeys((*LANGUAGE_REGIONS.get(language, ()), *configured)))


@lru_cache(maxsize=64)
def candidates(text: str, regions: tuple[str, ...] = DEFAULT_REGIONS, language: str = "en") -> tuple[Candidate, ...]:
    """The codes in `text`, left to right (cached: the three identifier recognizers read the same text).
    `regions`: where a number is a phone number (`phone_regions`); `language`: the conversation's."""
    if not any(map(str.isdigit, text)) and not _LETTER_RUN.search(text):
        return ()  # every candidate has a digit or is capitals only (see below): most texts hold none
    groups = _groups(text)
    if not groups:
        return ()
    tokens = [_Token(m.start(), m.end(), m.group(), m.lastgroup or "") for m in _TOKEN.finditer(text)]
    starts = [t.start for t in tokens]
    boundaries = [m.end() for m in _BOUNDARY.finditer(text) if not _abbreviation(text, m)]
    found: list[Candidate] = []
    for start, end in groups:
        value = text[start:end]
        compact = "".join(_CHUNK.findall(value)).upper()
        digits = sum(c.isdigit() for c in compact)
        if not digits and not _LETTER_CODE.fullmatch(value):
            continue
        letters = len(compact) - digits
        head_first = language in _HEAD_FIRST
        flight = _FLIGHT.fullmatch(value.upper()) is not None
        cue, distance = _cue(text, tokens, starts, boundaries, start, found[-1] if found else None, head_first,
                             flight)
        if cue is None or cue == GENERIC:
            cue = _cue_after(text, end) or cue
        # Two-digit groups ("30-94-57") after a cue are a sort code or a reference, not a date.
        excluded = _excluded(text, start, end, value) and not (cue in SPECIFIC and _PAIRS.fullmatch(value))
        phone = not letters and digits >= 7 and _phone(compact, regions)
        found.append(Candidate(start, end, value, compact, digits, letters, not any(c.islower() for c in value),
                               cue, distance, excluded, phone))
    return tuple(found)


def _groups(text: str) -> list[tuple[int, int]]:
    """(start, end) of each run of joined chunks."""
    groups: list[list[re.Match[str]]] = []
    chunks = list(_CHUNK.finditer(text))
    joined_last = False
    for index, chunk in enumerate(chunks):
        if _is_cue(text, chunks, index):
            joined_last = False
            continue
        if joined_last and (_joined(text, groups[-1][-1], chunk) or _district(text, chunks, index)):
            groups[-1].append(chunk)
        else:
            groups.append([chunk])
        joined_last = True
    return [(group[0].start(), group[-1].end()) for group in groups
            if len(group) <= MAX_CHUNKS and group[-1].end() - group[0].start() <= MAX_LENGTH]


def _is_cue(text: str, chunks: list[re.Match[str]], index: int) -> bool:
    """A letters-only chunk that is a cue word ("Nr", "ID", "PNR"), unless "-" or "/" ties it to digits
    ("NO-3184259")."""
    word = chunks[index].group()
    if not word.isalpha() or classify(word) is None:
        return False
    for neighbour in (index - 1, index + 1):
        if 0 <= neighbour < len(chunks) and _has_digit(chunks[neighbour].group()):
            left, right = sorted((chunks[index], chunks[neighbour]), key=lambda m: m.start())
            if text[left.end() : right.start()] in ("-", "/"):
                return False
    return True


def _joined(text: str, left: re.Match[str], right: re.Match[str]) -> bool:
    gap = text[left.end() : right.start()]
    if len(gap) != 1:
        return False
    if gap in _TIGHT:
        return True
    a, b = left.group(), right.group()
    return gap in _SPACE and _codeish(a) and _codeish(b) and (_has_digit(a) or _has_digit(b))


def _district(text: str, chunks: list[re.Match[str]], index: int) -> bool:
    """Whether `chunks[index]` joins the one before it as the second group of capitals of a German plate
    written with spaces ("HH XY 77"), which a space alone does not join."""
    if index + 1 >= len(chunks) or index < 1:
        return False
    left, right, digits = chunks[index - 1], chunks[index], chunks[index + 1]
    return (text[left.end() : right.start()] == " " == text[right.end() : digits.start()]
            and _DISTRICT.fullmatch(f"{left.group()} {right.group()} {digits.group()}") is not None)


def _codeish(chunk: str) -> bool:
    if chunk.upper() in _UNITS:
        return False
    if _has_digit(chunk):
        return True
    return chunk.isupper() and len(chunk) <= 4 and chunk not in _LONE_WORDS


def _has_digit(chunk: str) -> bool:
    return any(c.isdigit() for c in chunk)


def _abbreviation(text: str, boundary: re.Match[str]) -> bool:
    if boundary.group() != ".":
        return False
    word = _LAST_WORD.search(text, max(0, boundary.start() - 12), boundary.start())
    return word is not None and (word.group().lower() in _ABBREVIATIONS or classify(word.group()) is not None)


def _cue(text: str, tokens: list[_Token], starts: list[int], boundaries: list[int], start: int,
         previous: Candidate | None, head_first: bool, flight: bool) -> tuple[str | None, int]:
    """The nearest decisive cue among the WINDOW words before `start` in its sentence: a word for a type or a
    negative one wins; "number" or "code" alone is what is left. At another code the search stops: its cue
    carries over when only "and", "/" or a comma stand between them. With the number of words passed.
    A cue may qualify the word before it, which then decides (`_head`), but a flight number (`flight`) keeps
    the negative word right before it: "la reserva del vuelo IB3166"."""
    floor = boundaries[bisect.bisect_left(boundaries, start + 1) - 1] if boundaries and boundaries[0] <= start else 0
    index = bisect.bisect_left(starts, start) - 1
    weak: str | None = None
    referenced: int | None = None  # words passed before a "reference"
    words = 0
    while index >= 0 and words < WINDOW:
        token = tokens[index]
        if token.start < floor:
            break
        if token.kind == "code":
            if (previous is not None and previous.cue is not None and previous.end >= token.end
                    and _CONNECTOR.fullmatch(text, previous.end, start)):
                return previous.cue, previous.distance
            break
        kind = GENERIC if token.kind == "sign" else classify(token.text)
        if kind in SPECIFIC or kind == NEGATIVE:
            if kind == NEGATIVE and flight:
                return kind, words
            return _head(tokens, index, floor, head_first) or kind, words
        if kind == REFERENCE:
            referenced = words if referenced is None else referenced
        elif kind is not None and weak != WEAK_NEGATIVE:
            weak = kind
        words += 1
        index -= 1
    return (ACCOUNT, referenced) if referenced is not None else (weak, words)


def _head(tokens: list[_Token], index: int, floor: int, head_first: bool) -> str | None:
    """The kind of the word that a cue at `index` qualifies ("relevé" in "relevé du compteur"), if any."""
    linked = head_first
    for _ in range(3):
        index -= 1
        if index < 0 or tokens[index].start < floor or tokens[index].kind != "word":
            return None
        word = tokens[index].text.lower()
        if word in _LINKERS:
            linked = True
        elif word not in _DETERMINERS:
            break
    else:
        return None
    kind = classify(tokens[index].text) if linked else None
    return kind if kind in SPECIFIC or kind == NEGATIVE else None


def _cue_after(text: str, end: int) -> str | None:
    """The kind of a cue right after the code, as in "6803 5176 is my account number", "XK4M2L, das ist
    meine Buchungsnummer" (a negative word among them wins: "05293 is my meter reading")."""
    match = _AFTER_CUE.match(text, end)
    if match is None:
        return None
    kinds = [classify(word) for word in match.group("words").split()]
    if NEGATIVE in kinds:
        return NEGATIVE
    return next((kind for kind in kinds if kind in SPECIFIC), None)


def _excluded(text: str, start: int, end: int, value: str) -> bool:
    if _BEFORE.search(text, max(0, start - 2), start) or _AMOUNT_BEFORE.search(text[max(0, start - 6) : start]):
        return True
    if _AFTER.match(text, end):
        return True
    if _IP.search(value) or _YEARS.fullmatch(value) or _HEX.fullmatch(value) or _DOMAIN.search(value):
        return True
    date = _DATE.fullmatch(value)
    if date is None:
        return False
    if date.group("a") is not None:
        a, b = int(date.group("a")), int(date.group("b"))
        return (1 <= a <= 31 and 1 <= b <= 12) or (1 <= a <= 12 and 1 <= b <= 31)
    return 1 <= int(date.group("m")) <= 12 and 1 <= int(date.group("d")) <= 31


@lru_cache(maxsize=1024)
def _phone(digits: str, regions: tuple[str, ...]) -> bool:
    """A valid phone number in one of `regions`, written as such: with its trunk prefix ("030 ...") or its
    country code ("1 888 ..."), not as a bare national number that only happens to be valid."""
    for region in regions:
        try:
            number = phonenumbers.parse(digits, region)
        except phonenumbers.NumberParseException:
            continue
        if not phonenumbers.is_valid_number(number):
            continue
        national = re.sub(r"\D", "", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
        significant = phonenumbers.national_significant_number(number)
        if digits in (national, f"{number.country_code}{significant}"):
            return True
    return False
