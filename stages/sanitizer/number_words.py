"""Number words of each supported language, and how consecutive ones make the digits a person means.

Speech-to-text writes numbers as words: "four one five", "nineteen eighty three", "zweiundvierzig",
"soixante-dix", "tysiąc dziewięćset". A spoken number is a sequence of groups, each group an ordinary
number ("nineteen", "eighty three", "one hundred and five"), and the digits are the groups' digits one
after the other: "nineteen eighty three" is 1983, "twenty two fifteen" 2215, "oh eight thirty four" 0834. Words
are looked up folded (lower case, without accents), so "funf" and "fünf" are one word."""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import NamedTuple


class Kind(enum.Enum):
    UNIT = "unit"  # 0-9
    TEEN = "teen"  # 10-19
    TENS = "tens"  # 20, 30, ... 90
    NUMBER = "number"  # a compound read whole: 42, 1978
    HUNDREDS = "hundreds"  # one word for a multiple of 100: "doscientos", "sto"
    HUNDRED = "hundred"  # multiplies what comes before it by 100
    THOUSAND = "thousand"
    CONNECTOR = "connector"  # "and", "und", "et", "y", "en"


class Weak(enum.IntEnum):
    """How much a word needs other spoken digits around it to be read as a number: "one" in "one of
    them", "sei" (you are), "een" (a), "neuf" (new) are ordinary words on their own."""

    STRONG = 0
    NEIGHBOUR = 1  # next to another digit or letter of the run
    BOTH = 2  # between two of them
    MULTIPLICAND = 3  # only right before "hundred"/"thousand": "a hundred", "ein tausend"
    SPELLING = 4  # a spelling-alphabet word ("tango", "lima"): only next to others and among two or more


class NumberWord(NamedTuple):
    kind: Kind
    value: int
    ordinal: bool = False
    weak: Weak = Weak.STRONG
    digits: str = ""  # set for written digits and repeats ("007", "double oh"): a closed group as is


class Group(NamedTuple):
    """Consecutive words `first`..`last` (indexes) read as one number."""

    first: int
    last: int
    digits: str
    ordinal: bool


@lru_cache(maxsize=1 << 16)  # every word of every text is folded, and most words are common ones
def fold(word: str) -> str:
    """Lower case without accents, ß as ss."""
    decomposed = unicodedata.normalize("NFKD", word.lower().replace("ß", "ss").replace("ł", "l"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_U, _T, _X, _N, _HS = Kind.UNIT, Kind.TEEN, Kind.TENS, Kind.NUMBER, Kind.HUNDREDS


def _kind(value: int) -> Kind:
    if value < 10:
        return Kind.UNIT
    if value < 20:
        return Kind.TEEN
    return Kind.TENS if value < 100 and value % 10 == 0 else Kind.NUMBER


def _series(words: str, start: int, step: int = 1, ordinal: bool = False) -> dict[str, NumberWord]:
    """Space-separated words for start, start + step, ...; "a/b" spells one value two ways."""
    table = {}
    for index, spellings in enumerate(words.split()):
        value = start + index * step
        for spelling in spellings.split("/"):
            table[spelling] = NumberWord(_kind(value), value, ordinal)
    return table


class Numbers:
    """One language's number words and grammar. `words`: whole words; `morphemes`: the parts one-word
    compounds are made of ("neunzehn|hundert|acht|und|siebzig"), if the language writes them so;
    `ordinal_stem`: the cardinal inside an ordinal by suffix ("zwölften" -> "zwölf"), if any;
    `connector_rule`: when a connector joins the words around it; `ordinal_text`: how an ordinal is
    typed, alone and when another number follows ("12." and "12.3.1990")."""

    def __init__(
        self,
        words: dict[str, NumberWord],
        *,
        morphemes: Mapping[str, NumberWord] | None = None,
        ordinal_stem: Callable[[str], Iterable[tuple[str, bool]]] | None = None,
        connector_rule: str = "",
        vigesimal: bool = False,
        ordinal_text: Callable[[int], tuple[str, str]] = lambda value: (str(value), " "),
    ) -> None:
        self.words: dict[str, NumberWord] = {}
        for word, entry in words.items():
            # The written form first: "één" is one, "een" mostly "a".
            self.words.setdefault(word.lower(), entry)
        for word, entry in words.items():
            self.words.setdefault(fold(word), entry)
        self._parts = {fold(part): entry for part, entry in (morphemes or {}).items()}
        self._morphemes = tuple(sorted(self._parts, key=len, reverse=True))
        self._ordinal_stem = ordinal_stem
        self._connector_rule = connector_rule
        self._vigesimal = vigesimal
        self.ordinal_text = ordinal_text
        self.lookup = lru_cache(maxsize=4096)(self._lookup)

    def _lookup(self, word: str) -> NumberWord | None:
        """The number `word` is, read whole, as a compound, or as an ordinal; None if it is none."""
        found = self.words.get(word.lower()) or self.words.get(fold(word))
        if found is not None or not word.isalpha():
            return found
        folded = fold(word)
        found = self._compound(folded)
        if found is None and self._ordinal_stem is not None:
            for stem, strong in self._ordinal_stem(folded):
                cardinal = self.words.get(stem) or self._compound(stem)
                if cardinal is not None and cardinal.kind is not Kind.CONNECTOR and not cardinal.ordinal \
                        and cardinal.weak is not Weak.MULTIPLICAND:
                    weak = Weak.STRONG if strong else Weak.NEIGHBOUR
                    return NumberWord(cardinal.kind, cardinal.value, True, weak)
        return found

    def _compound(self, folded: str) -> NumberWord | None:
        if not self._morphemes or len(folded) < 6:
            return None
        for parts in _segment(folded, self._morphemes):
            words = [self._parts[part] for part in parts]
            groups = self.compose(words)
            if len(groups) == 1 and groups[0].first == 0 and groups[0].last == len(words) - 1:
                value = int(groups[0].digits)
                return NumberWord(_kind(value), value)
        return None

    def compose(self, words: Sequence[NumberWord]) -> list[Group]:
        """The groups `words` make, left to right. A connector that joins nothing is in no group (the
        caller reads it as an ordinary word)."""
        groups: list[Group] = []
        state: _State | None = None
        index = 0
        while index < len(words):
            word = words[index]
            if word.kind is Kind.CONNECTOR:
                following = words[index + 1] if index + 1 < len(words) else None
                if state is not None and following is not None and self._connects(state, following):
                    state.add(following, index + 1, self._vigesimal)
                    index += 2
                    continue
                if state is not None:
                    groups.append(state.group())
                state = None
            elif state is not None and state.extends(word, self._vigesimal):
                state.add(word, index, self._vigesimal)
            else:
                if state is not None:
                    groups.append(state.group())
                state = _State(word, index, self._vigesimal)
            index += 1
        if state is not None:
            groups.append(state.group())
        return groups

    def _connects(self, state: _State, following: NumberWord) -> bool:
        rule = self._connector_rule
        if following.digits or following.kind in (Kind.CONNECTOR, Kind.HUNDRED, Kind.THOUSAND):
            return False
        if rule == "after_multiplier":  # "one hundred and five", "two thousand and ten"
            return state.slot >= 99 and state.current % 100 == 0 and state.extends(following, False)
        if rule == "after_tens":  # "treinta y dos", "vingt et un"
            return state.slot in (9, 19) and state.extends(following, self._vigesimal)
        if rule == "unit_then_tens":  # "zwei und vierzig", "acht en zestig"
            return state.tail_unit > 0 and following.kind is Kind.TENS and not following.ordinal
        return False


class _State:
    """A group being read: `total` thousands, `current` the part under a thousand, `slot` the largest
    value that may still be added (0: none)."""

    def __init__(self, word: NumberWord, index: int, vigesimal: bool) -> None:
        self.first = self.last = index
        self.total = 0
        self.current = 0
        self.slot = 0
        self.ordinal = word.ordinal
        self.digits = word.digits
        self.tail_unit = 0  # a unit that a following "und <tens>" adds to
        if word.digits:
            return
        if word.kind is Kind.HUNDRED:
            self.current, self.slot = 100, 99
        elif word.kind is Kind.THOUSAND:
            self.total, self.slot = 1000, 999
        elif word.kind is Kind.HUNDREDS:
            self.current, self.slot = word.value, 99
        else:
            self.current = word.value
            self.slot = self._slot_after(word, vigesimal)
            self.tail_unit = word.value if word.kind is Kind.UNIT else 0

    @staticmethod
    def _slot_after(word: NumberWord, vigesimal: bool) -> int:
        if word.kind is Kind.TENS:
            return 19 if vigesimal and word.value in (60, 80) else 9
        if vigesimal and word.value == 10:  # "dix-sept"
            return 9
        return 0

    def extends(self, word: NumberWord, vigesimal: bool) -> bool:
        if self.digits or word.digits or word.kind is Kind.CONNECTOR:
            return False
        if self.ordinal and not word.ordinal:
            return False
        if word.kind is Kind.HUNDRED:
            return 1 <= self.current <= 99 and not word.ordinal
        if word.kind is Kind.THOUSAND:
            return self.total == 0 and 1 <= self.current <= 999
        if word.kind is Kind.HUNDREDS:
            return self.slot == 999 and self.current == 0
        if vigesimal and word.kind is Kind.TENS and word.value == 20 and self.tail_unit == 4:
            return True  # "quatre-vingt"
        if word.value == 0 or word.value > self.slot:
            return False
        if self.slot == 9:
            return word.kind is Kind.UNIT
        if self.slot == 19:
            return word.kind in (Kind.UNIT, Kind.TEEN)
        return True

    def add(self, word: NumberWord, index: int, vigesimal: bool) -> None:
        self.last = index
        self.ordinal = self.ordinal or word.ordinal
        tail_unit, self.tail_unit = self.tail_unit, 0
        if word.kind is Kind.HUNDRED:
            self.current *= 100
            self.slot = 99
        elif word.kind is Kind.THOUSAND:
            self.total, self.current, self.slot = self.current * 1000, 0, 999
        elif vigesimal and word.kind is Kind.TENS and word.value == 20 and tail_unit == 4:
            self.current, self.slot = self.current + 76, 19
        elif word.kind is Kind.TENS and tail_unit and self.slot < word.value:  # "zwei und vierzig"
            self.current += word.value
            self.slot = 0
        else:
            if word.kind is Kind.UNIT and self.slot >= 99:
                self.tail_unit = word.value
            self.current += word.value
            self.slot = self._slot_after(word, vigesimal) if word.kind in (Kind.TENS, Kind.TEEN) else 0
            if word.kind is Kind.HUNDREDS:
                self.slot = 99

    def group(self) -> Group:
        return Group(self.first, self.last, self.digits or str(self.total + self.current), self.ordinal)


@lru_cache(maxsize=8192)
def _segment(word: str, morphemes: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """Ways `word` is a sequence of `morphemes` (sorted longest first), longest first parts first."""
    if not word:
        return ((),)
    found: list[tuple[str, ...]] = []
    for morpheme in morphemes:
        if word.startswith(morpheme):
            found += [(morpheme, *rest) for rest in _segment(word[len(morpheme) :], morphemes)]
            if len(found) > 4:  # one reading is all that is needed; a few guard against a dead end
                break
    return tuple(found)


def _english_ordinal(value: int) -> tuple[str, str]:
    suffix = "th" if 10 <= value % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(value % 10, "th")
    return f"{value}{suffix}", " "


def _german_ordinal_stems(word: str) -> Iterable[tuple[str, bool]]:
    """"zwölften" -> "zwölf", "zwanzigste" -> "zwanzig", "dritte" -> "drei". "erste" (mostly "first") and
    "achten" (to heed) are weak."""
    irregular = {"erst": "eins", "dritt": "drei", "siebt": "sieben", "acht": "acht"}
    for ending in ("en", "er", "em", "es", "e"):
        if word.endswith(ending):
            stem = word[: -len(ending)]
            if stem in irregular:
                yield irregular[stem], stem not in ("erst", "acht")
            if stem.endswith("st"):
                yield stem[:-2], True
            if stem.endswith("t"):
                yield stem[:-1], True


def _dutch_ordinal_stems(word: str) -> Iterable[tuple[str, bool]]:
    """"twaalfde" -> "twaalf", "twintigste" -> "twintig", "achtste" -> "acht"."""
    irregular = {"eerste": "een", "derde": "drie"}
    if word in irregular:
        yield irregular[word], word != "eerste"
    if word.endswith("ste"):
        yield word[:-3], True
    if word.endswith("de"):
        yield word[:-2], True


def _italian_ordinal_stems(word: str) -> Iterable[tuple[str, bool]]:
    """"undicesimo" -> "undici", "ventitreesimo" -> "ventitre"."""
    for ending in ("esimo", "esima"):
        if word.endswith(ending):
            stem = word[: -len(ending)]
            yield stem, True
            yield stem + "i", True  # "undic|esimo"
            yield stem + "e", True  # "ventitre|esimo" -> "ventitré"


def _french_ordinal_stems(word: str) -> Iterable[tuple[str, bool]]:
    """"deuxième" -> "deux", "neuvième" -> "neuf", "onzième" -> "onze"."""
    for ending in ("iemes", "ieme"):
        if word.endswith(ending):
            stem = word[: -len(ending)]
            yield stem, True
            yield stem + "e", True
            yield stem.replace("cinqu", "cinq").replace("neuv", "neuf"), True


_CONNECTOR = NumberWord(Kind.CONNECTOR, 0)
_HUNDRED = NumberWord(Kind.HUNDRED, 100)
_THOUSAND = NumberWord(Kind.THOUSAND, 1000)
_ONE_BEFORE_MULTIPLIER = NumberWord(Kind.UNIT, 1, weak=Weak.MULTIPLICAND)


def _hundreds(words: str) -> dict[str, NumberWord]:
    return {word: NumberWord(_HS, (index + 1) * 100) for index, word in enumerate(words.split())}


def _weak(entry: NumberWord, weak: Weak = Weak.NEIGHBOUR) -> NumberWord:
    return entry._replace(weak=weak)


def _english() -> Numbers:
    words = {
        **_series("zero one two three four five six seven eight nine", 0),
        **_series("ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen", 10),
        **_series("twenty thirty forty/fourty fifty sixty seventy eighty ninety", 20, 10),
        **_series("first second third fourth fifth sixth seventh eighth ninth", 1, ordinal=True),
        **_series("tenth eleventh twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth"
                  " nineteenth", 10, ordinal=True),
        **_series("twentieth thirtieth fortieth fiftieth sixtieth seventieth eightieth ninetieth", 20, 10,
                  ordinal=True),
        "hundred": _HUNDRED, "thousand": _THOUSAND, "and": _CONNECTOR, "a": _ONE_BEFORE_MULTIPLIER,
    }
    words["nought"], words["niner"] = NumberWord(_U, 0), NumberWord(_U, 9)
    words["oh"] = words["o"] = words["nil"] = _weak(words["zero"])  # zero next to other digits only: "oh ok"
    for word in ("one", "first", "second"):  # "one of them", "first name", "wait a second"
        words[word] = _weak(words[word])
    return Numbers(words, connector_rule="after_multiplier", ordinal_text=_english_ordinal)


def _german() -> Numbers:
    words = {
        # Umlauts typed as two letters too ("fuenf"); "ue" is no "ü" in general: "neuen" is no "neun".
        **_series("null eins zwei drei vier fünf/fuenf sechs sieben acht neun", 0),
        **_series("zehn elf zwölf/zwoelf dreizehn vierzehn fünfzehn/fuenfzehn sechzehn siebzehn achtzehn"
                  " neunzehn", 10),
        **_series("zwanzig dreißig vierzig fünfzig/fuenfzig sechzig siebzig achtzig neunzig", 20, 10),
        "zwo": NumberWord(Kind.UNIT, 2), "hundert": _HUNDRED, "tausend": _THOUSAND, "und": _CONNECTOR,
        **dict.fromkeys(("ein", "eine", "einen", "einem", "einer"), _ONE_BEFORE_MULTIPLIER),
    }
    morphemes = {w: entry for w, entry in words.items() if w not in ("eine", "einen", "einem", "einer")}
    return Numbers(words, morphemes=morphemes, ordinal_stem=_german_ordinal_stems,
                   connector_rule="unit_then_tens", ordinal_text=lambda value: (f"{value}.", ""))


def _dutch() -> Numbers:
    words = {
        **_series("nul één twee drie vier vijf zes zeven acht negen", 0),
        **_series("tien elf twaalf dertien veertien vijftien zestien zeventien achttien negentien", 10),
        **_series("twintig dertig veertig vijftig zestig zeventig tachtig negentig", 20, 10),
        "een": NumberWord(Kind.UNIT, 1, weak=Weak.NEIGHBOUR), "honderd": _HUNDRED, "duizend": _THOUSAND,
        "en": _CONNECTOR, "ën": _CONNECTOR,
    }
    return Numbers(words, morphemes=words, ordinal_stem=_dutch_ordinal_stems, connector_rule="unit_then_tens",
                   ordinal_text=lambda value: (f"{value}e", " "))


def _french() -> Numbers:
    words = {
        **_series("zéro un deux trois quatre cinq six sept huit neuf", 0),
        **_series("dix onze douze treize quatorze quinze seize", 10),
        **_series("vingt/vingts trente quarante cinquante soixante septante huitante/octante nonante", 20, 10),
        "cent": _HUNDRED, "cents": _HUNDRED, "mille": _THOUSAND, "mil": _THOUSAND, "et": _CONNECTOR,
        "premier": NumberWord(_U, 1, True, Weak.NEIGHBOUR), "première": NumberWord(_U, 1, True, Weak.NEIGHBOUR),
    }
    words["un"] = words["une"] = _weak(words["un"])
    words["neuf"] = _weak(words["neuf"])  # also "new"
    return Numbers(words, ordinal_stem=_french_ordinal_stems, connector_rule="after_tens", vigesimal=True)


def _spanish() -> Numbers:
    words = {
        **_series("cero uno dos tres cuatro cinco seis siete ocho nueve", 0),
        **_series("diez once doce trece catorce quince dieciséis diecisiete dieciocho diecinueve", 10),
        **_series("veinte veintiuno/veintiún/veintiuna veintidós veintitrés veinticuatro veinticinco"
                  " veintiséis veintisiete veintiocho veintinueve", 20),
        **_series("treinta cuarenta cincuenta sesenta setenta ochenta noventa", 30, 10),
        **{w: NumberWord(_HS, v) for w, v in (("cien", 100), ("ciento", 100), ("quinientos", 500),
                                              ("quinientas", 500), ("setecientos", 700), ("novecientos", 900))},
        **{f"{p}cient{e}s": NumberWord(_HS, v * 100) for p, v in (("dos", 2), ("tres", 3), ("cuatro", 4),
                                                                 ("seis", 6), ("ocho", 8)) for e in "oa"},
        "mil": _THOUSAND, "y": _CONNECTOR,
        "primero": NumberWord(_U, 1, True, Weak.NEIGHBOUR),
    }
    words["uno"] = words["una"] = words["un"] = _weak(words["uno"])
    return Numbers(words, connector_rule="after_tens")


def _italian() -> Numbers:
    words = {
        **_series("zero uno due tre quattro cinque sei sette otto nove", 0),
        **_series("dieci undici dodici tredici quattordici quindici sedici diciassette diciotto diciannove", 10),
        **_series("venti trenta quaranta cinquanta sessanta settanta ottanta novanta", 20, 10),
        "cento": _HUNDRED, "mille": NumberWord(Kind.THOUSAND, 1000), "mila": _THOUSAND, "tré": NumberWord(_U, 3),
        "primo": NumberWord(_U, 1, True, Weak.NEIGHBOUR),
        "un": NumberWord(_U, 1, weak=Weak.NEIGHBOUR), "una": NumberWord(_U, 1, weak=Weak.NEIGHBOUR),
    }
    words["uno"] = _weak(words["uno"])
    words["sei"] = _weak(words["sei"])  # also "you are"
    # "ventotto", "trentuno", "centottanta": tens and cento drop their vowel before uno, otto and ottanta,
    # inside one word only.
    elided = {word[:-1]: words[word] for word in ("venti", "trenta", "quaranta", "cinquanta", "sessanta",
                                                  "settanta", "ottanta", "novanta", "cento")}
    return Numbers(words, morphemes={**words, **elided}, ordinal_stem=_italian_ordinal_stems)


def _polish() -> Numbers:
    words = {
        **_series("zero jeden dwa trzy cztery pięć sześć siedem osiem dziewięć", 0),
        **_series("dziesięć jedenaście dwanaście trzynaście czternaście piętnaście szesnaście siedemnaście"
                  " osiemnaście dziewiętnaście", 10),
        **_series("dwadzieścia trzydzieści czterdzieści pięćdziesiąt sześćdziesiąt siedemdziesiąt"
                  " osiemdziesiąt dziewięćdziesiąt", 20, 10),
        **_hundreds("sto dwieście trzysta czterysta pięćset sześćset siedemset osiemset dziewięćset"),
        "dwie": NumberWord(_U, 2), "tysiąc": _THOUSAND, "tysiące": _THOUSAND, "tysięcy": _THOUSAND,
        # Dates are said with ordinals in the genitive: "dwunastego marca tysiąc dziewięćset osiemdziesiątego".
        **_series("pierwszego/pierwszy drugiego/drugi trzeciego/trzeci czwartego/czwarty piątego/piąty"
                  " szóstego/szósty siódmego/siódmy ósmego/ósmy dziewiątego/dziewiąty", 1, ordinal=True),
        **_series("dziesiątego jedenastego dwunastego trzynastego czternastego piętnastego szesnastego"
                  " siedemnastego osiemnastego dziewiętnastego", 10, ordinal=True),
        **_series("dwudziestego trzydziestego czterdziestego pięćdziesiątego sześćdziesiątego"
                  " siedemdziesiątego osiemdziesiątego dziewięćdziesiątego", 20, 10, ordinal=True),
    }
    for word in ("jeden", "jedna", "jedno", "pierwszy", "drugi"):  # "one", "a"; "first", "second"
        words[word] = _weak(words.get(word, NumberWord(_U, 1)))
    return Numbers(words, ordinal_text=lambda value: (str(value), "."))


LANGUAGES: dict[str, Numbers] = {
    "en": _english(), "de": _german(), "nl": _dutch(), "fr": _french(), "es": _spanish(), "it": _italian(),
    "pl": _polish(),
}


def numbers(language: str) -> Numbers:
    """The number words of `language` (ISO 639-1), English for a language without its own."""
    return LANGUAGES.get(language, LANGUAGES["en"])
