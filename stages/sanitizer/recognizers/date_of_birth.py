"""DATE_OF_BIRTH: a date given as someone's birth date, in the common formats and languages: numeric
("18.02.1977", "9.2.83", "26-09-1994", "17/08/1991", "1983-10-09", "12. 3. 1990") and written ("21. Oktober
1952", "13 mars 1982", "el 5 de mayo de 1990", "il 3 aprile 1975", "12 januari 1968", "3 maja 1980",
"March 14, 1985", "march seventeenth 1983", "the sixth of november 79", "1979 may 22nd", "neunter zehnter
1987"). A date is a birth date only

- near a birth cue in the same sentence: "born", "DOB", "geboren", "geb.", "Geburtsdatum", "né le",
  "date de naissance", "nacido", "fecha de nacimiento", "nato", "data di nascita", "geboortedatum",
  "urodzony", "data urodzenia"... (after the date too: "am 21. Oktober 1952 geboren"); next to such a cue a
  month or a year alone counts as well ("born in 1985", "im März geboren");
- or when the bot asked for a date of birth (`TextContext.expected`): then every date of the answer
  counts ("Ben 11.07.2015, Ida 02.12.2018"), a day and month without year, and a bare year;
- or in a person's record, right before their street address ("Jan Kowalski, 08.04.1976, Hauptstraße 5").

Any other date (an appointment, a delivery, "next tuesday") is left alone, as is a year before 1900 or in
the future. Normalized to ISO 8601 (YYYY-MM-DD; --MM-DD without a year; YYYY or YYYY-MM when that is all
there is). Numeric dates are read day first, except with slashes or dashes in English when the first number
could be the month (03/14/1985)."""

from __future__ import annotations

import re
from datetime import date

from stages.sanitizer.recognizers.address import address_parts
from stages.sanitizer.recognizers.base import Detection, TextContext
from stages.sanitizer.recognizers.cues import cue_spans, near_cue

ENTITY_TYPE = "DATE_OF_BIRTH"
CUE_SCORE = 0.85
EXPECTED_SCORE = 0.9
RECORD_SCORE = 0.7
FIRST_YEAR = 1900
CUE_WORDS_BEFORE = 6
CUE_WORDS_AFTER = 3
ADJACENT = 1  # words between a cue and a bare month or year ("born in 1985")
MAX_BARE_ANSWER_WORDS = 4  # "1985", "in 1985 i think": a bare year answers a birth date question

_MONTH_NAMES: dict[int, tuple[str, ...]] = {
    1: ("january", "jan", "januar", "jänner", "janvier", "janv", "enero", "ene", "gennaio", "gen", "januari",
        "styczeń", "stycznia", "sty", "janeiro"),
    2: ("february", "feb", "februar", "feber", "février", "févr", "fevrier", "febrero", "febbraio", "februari",
        "luty", "lutego", "lut", "fevereiro", "fev"),
    3: ("march", "mar", "märz", "maerz", "mär", "mars", "marzo", "maart", "mrt", "marzec", "marca", "março"),
    4: ("april", "apr", "avril", "avr", "abril", "abr", "aprile", "kwiecień", "kwietnia", "kwi"),
    5: ("may", "mai", "mayo", "maggio", "mag", "mei", "maj", "maja", "maio"),
    6: ("june", "jun", "juni", "juin", "junio", "giugno", "giu", "czerwiec", "czerwca", "cze", "junho"),
    7: ("july", "jul", "juli", "juillet", "juil", "julio", "luglio", "lug", "lipiec", "lipca", "lip", "julho"),
    8: ("august", "aug", "août", "aout", "agosto", "ago", "augustus", "sierpień", "sierpnia", "sie"),
    9: ("september", "sep", "sept", "septembre", "septiembre", "setiembre", "settembre", "set", "wrzesień",
        "września", "wrz", "setembro"),
    10: ("october", "oct", "oktober", "okt", "octobre", "octubre", "ottobre", "ott", "październik",
         "października", "paź", "outubro", "out"),
    11: ("november", "nov", "novembre", "noviembre", "listopad", "listopada", "lis", "novembro"),
    12: ("december", "dec", "dezember", "dez", "décembre", "decembre", "diciembre", "dic", "dicembre",
         "grudzień", "grudnia", "gru", "dezembro"),
}
_MONTHS = {name: month for month, names in _MONTH_NAMES.items() for name in names}


def _ordinals() -> dict[str, int]:
    """Spoken ordinal days, English and German: "ninth", "twenty second", "zwölfter", "dreißigsten"."""
    english = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
               "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
               "eighteenth", "nineteenth")
    words = {word: day for day, word in enumerate(english, 1)}
    for tens, cardinal, ordinal in ((20, "twenty", "twentieth"), (30, "thirty", "thirtieth")):
        words[ordinal] = tens
        for day, unit in enumerate(english[:9], 1):
            if tens + day <= 31:
                words[f"{cardinal} {unit}"] = tens + day
    german = ("erst", "zweit", "dritt", "viert", "fünft", "sechst", "siebt", "acht", "neunt", "zehnt", "elft",
              "zwölft", "dreizehnt", "vierzehnt", "fünfzehnt", "sechzehnt", "siebzehnt", "achtzehnt", "neunzehnt")
    stems = {stem: day for day, stem in enumerate(german, 1)} | {"siebent": 7}
    units = ("ein", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun")
    for tens, cardinal in ((20, "zwanzig"), (30, "dreißig"), (30, "dreissig")):
        stems[cardinal + "st"] = tens
        for day, unit in enumerate(units, 1):
            if tens + day <= 31:
                stems[f"{unit}und{cardinal}st"] = tens + day
    for stem, day in stems.items():
        for ending in ("e", "er", "en", "em", "es"):
            words[stem + ending] = day
    return words


_ORDINAL_WORDS = _ordinals()


def _alternation(words: list[str]) -> str:
    """A regex alternation of `words`, longest first; a space in a word matches a space or a hyphen."""
    return "|".join(r"[\s-]".join(map(re.escape, w.split())) for w in sorted(words, key=len, reverse=True))


_MONTH = rf"(?P<month_name>{_alternation(list(_MONTHS))})\.?"
_DAY = (rf"(?:(?P<day>\d{{1,2}})(?:st|nd|rd|th|er|re|e|ème|º|°|ª|-?go|-?ego)?\.?"
        rf"|(?P<day_word>{_alternation(list(_ORDINAL_WORDS))}))")
_YEAR = r"(?P<year>(?:19|20)\d{2}|['\u2019]?\d{2})"
_END = r"(?![\w'\u2019])"
_START = r"(?<![\w'\u2019])"
_DAY_LINK = r"(?:\s*(?:of|de|di|du)\s+|\s*[\s.-]\s*)"
_YEAR_LINK = r"(?:,?\s*(?:of|de|del|du)?\s+|[\s.-])"
_ORDINAL_MONTHS = [w for w, day in _ORDINAL_WORDS.items() if day <= 12]
# Each pattern's groups: a, b (the day and month of a numeric date) or day/day_word, month/month_name/
# month_word; year, optional in written dates.
_NUMERIC = [
    re.compile(rf"{_START}(?P<a>\d{{1,2}})\s?(?P<sep>[./-])\s?(?P<b>\d{{1,2}})\s?(?P=sep)\s?"
               rf"(?P<year>(?:19|20)?\d{{2}})(?![\w/-]|[.,]\d)"),
    re.compile(rf"{_START}(?P<year>(?:19|20)\d{{2}})(?P<sep>[-/])(?P<month>\d{{1,2}})(?P=sep)(?P<day>\d{{1,2}})(?![\w/-])"),
]
_WRITTEN = [
    re.compile(rf"{_START}(?:the\s+)?{_DAY}{_DAY_LINK}{_MONTH}(?:{_YEAR_LINK}{_YEAR})?{_END}", re.IGNORECASE),
    re.compile(rf"{_START}{_MONTH}\s+(?:the\s+)?{_DAY}(?:{_YEAR_LINK}{_YEAR})?{_END}", re.IGNORECASE),
    re.compile(rf"{_START}(?P<year>(?:19|20)\d{{2}})\s+{_MONTH}\s+(?:the\s+)?{_DAY}{_END}", re.IGNORECASE),
]
# "neunter zehnter 1987", "the third of the fourth 1990" is rare enough to leave out.
_SPOKEN = re.compile(rf"{_START}{_DAY}\s+(?P<month_word>{_alternation(_ORDINAL_MONTHS)})"
                     rf"\s+(?P<year>(?:19|20)\d{{2}}|\d{{2}}){_END}", re.IGNORECASE)
# Said only with a cue or asked for: "12 3 1990".
_SPACED = re.compile(rf"{_START}(?P<day>\d{{1,2}})\s(?P<month>\d{{1,2}})\s(?P<year>(?:19|20)\d{{2}}){_END}")
# Which patterns can match a text: its words must hold a month name or a spoken month.
_WORD = re.compile(r"[^\W\d_]+")
_MONTH_WORDS = frozenset(w for m in _MONTHS for w in _WORD.findall(m))
_ORDINAL_MONTH_WORDS = frozenset(_ORDINAL_MONTHS)
# A month or a year alone, counted right next to a cue: "born in 1985", "im März geboren".
# Only month names of four letters or more, or May: alone, "Sie" is no Polish August.
_ALONE_MONTHS = [m for m in _MONTHS if len(m) >= 4 or m in {"may", "mai", "mei", "maj"}]
_PARTIAL_MONTH = rf"(?P<month_name>{_alternation(_ALONE_MONTHS)})\.?"
_PARTIAL = re.compile(
    rf"(?<![\w'\u2019/.-])(?:{_PARTIAL_MONTH}(?:\s+(?P<year>(?:19|20)\d{{2}}))?|(?P<year_only>(?:19|20)\d{{2}}))(?![\w'\u2019/-]|\.\d)",
    re.IGNORECASE)
_CUE = re.compile(
    r"(?<![\w'\u2019])(?:born|birth\w*|dob|d\.o\.b\.?|b-?day|geboren\w*|geb\.|geburt\w*|jahrgang|née?s?|naissance|"
    r"nacid[oa]s?|nac[ií]|nacimiento|f\.\s?nac\.?|nat[oai]|nascit[ae]|geboorte\w*|urodz\w*|ur\.|nascid[oa]s?|"
    r"nascimento|anniversaire|cumpleaños|compleanno|verjaardag|urodziny)(?![\w'\u2019])",
    re.IGNORECASE,
)
_RECORD_GAP = re.compile(r"\s*[,;]\s*")  # a record's fields: "..., 08.04.1976, Lindenstraße 5"


class DateOfBirthRecognizer:
    entity_type = ENTITY_TYPE
    context_words: tuple[str, ...] = ()
    ner_labels: frozenset[str] = frozenset()

    def detect(self, text: str, context: TextContext) -> list[Detection]:
        expected = ENTITY_TYPE in context.expected
        cues = cue_spans(_CUE, text)
        this_year = date.today().year
        found = []
        dates = []  # every date, birth date or not: a month or year inside one is no date of its own
        for pattern in _patterns(text, bool(expected or cues)):
            for match in pattern.finditer(text):
                dates.append(match.span())
                normalized = _birth_date(match, this_year, month_first=context.language == "en")
                if normalized is None:
                    continue
                score = self._score(text, match, cues, expected, normalized)
                if score is not None:
                    found.append(Detection(match.start(), match.end(), ENTITY_TYPE, score, normalized))
        if cues or expected:
            found += [d for d in self._partial(text, cues, expected, this_year)
                      if all(d.end <= start or end <= d.start for start, end in dates)]
        return found

    @staticmethod
    def _score(text: str, match: re.Match[str], cues: list[tuple[int, int]], expected: bool,
               normalized: str) -> float | None:
        if expected:
            return EXPECTED_SCORE
        if near_cue(text, cues, match.start(), match.end(), CUE_WORDS_BEFORE, CUE_WORDS_AFTER):
            return CUE_SCORE
        if not normalized.startswith("--") and _before_street(text, match.end()):
            return RECORD_SCORE
        return None

    @staticmethod
    def _partial(text: str, cues: list[tuple[int, int]], expected: bool, this_year: int) -> list[Detection]:
        short = expected and len(text.split()) <= MAX_BARE_ANSWER_WORDS
        found = []
        for match in _PARTIAL.finditer(text):
            year_text = match.group("year") or match.group("year_only")
            year = int(year_text) if year_text else None
            if year is not None and not FIRST_YEAR <= year <= this_year:
                continue
            if not (short or near_cue(text, cues, match.start(), match.end(), ADJACENT, ADJACENT)):
                continue
            month = _MONTHS[match.group("month_name").lower()] if match.group("month_name") else None
            if month is None:
                normalized = f"{year:04d}"
            elif year is None:
                normalized = f"--{month:02d}"
            else:
                normalized = f"{year:04d}-{month:02d}"
            found.append(Detection(match.start(), match.end(), ENTITY_TYPE,
                                   EXPECTED_SCORE if short else CUE_SCORE, normalized))
        return found


def _patterns(text: str, lenient: bool) -> list[re.Pattern[str]]:
    """The patterns that may match `text` (the others would only cost time); `lenient`: a cue or the
    question allows the spaced numeric form."""
    words = frozenset(w.lower() for w in _WORD.findall(text))
    patterns = [*_NUMERIC, _SPACED] if lenient else list(_NUMERIC)
    if not words.isdisjoint(_MONTH_WORDS):
        patterns += _WRITTEN
    if not words.isdisjoint(_ORDINAL_MONTH_WORDS):
        patterns.append(_SPOKEN)
    return patterns


def _before_street(text: str, end: int) -> bool:
    gap = _RECORD_GAP.match(text, end)
    return gap is not None and any(p.start == gap.end() and p.kind == "street" and p.evidence != "org"
                                   for p in address_parts(text))


def _birth_date(match: re.Match[str], this_year: int, month_first: bool) -> str | None:
    """The ISO form of a plausible birth date, or None."""
    groups = match.groupdict()
    year = _year(groups["year"], this_year) if groups.get("year") else None
    if groups.get("a"):
        first, second = int(groups["a"]), int(groups["b"])
        month_first = month_first and groups["sep"] != "." and first <= 12
        month, day = (first, second) if month_first or second > 12 else (second, first)
    else:
        day = int(groups["day"]) if groups.get("day") else _ORDINAL_WORDS[_spaced(groups["day_word"])]
        if groups.get("month_name"):
            month = _MONTHS[groups["month_name"].lower()]
        elif groups.get("month_word"):
            month = _ORDINAL_WORDS[_spaced(groups["month_word"])]
        else:
            month = int(groups["month"])
    if year is not None and not FIRST_YEAR <= year <= this_year:
        return None
    try:
        date(year or 2000, month, day)  # 2000 is a leap year: 29 February without a year is a date
    except ValueError:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}" if year is not None else f"--{month:02d}-{day:02d}"


def _spaced(word: str) -> str:
    return re.sub(r"[\s-]+", " ", word.lower())


def _year(text: str, this_year: int) -> int:
    digits = text.lstrip("'\u2019")
    if len(digits) == 4:
        return int(digits)
    # Two digits: the latest year ending so that is not in the future.
    year = 2000 + int(digits)
    return year if year <= this_year else year - 100
