"""The words people say for symbols, letters and spelling in each supported language (en, de, fr, es,
it, nl, pl), for `spoken`. Keys are folded (see `number_words.fold`); phrases are joined by single spaces."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from stages.sanitizer.number_words import Numbers, Weak, fold, numbers

MAIL_CUE = re.compile(r"\b(?:e-?mail|mail(?:adres\w*|address)?|courriel|correo|posta|poczt\w*|mejl\w*)\b", re.I)
# The last label of a domain: a country code, or one of the common generic ones.
GENERIC_TLDS = frozenset(("com", "net", "org", "info", "biz", "edu", "gov", "mil", "int", "io", "app", "dev",
                          "online", "email", "name", "pro", "shop"))


class Symbol(enum.Enum):
    AT = "@"
    DOT = "."
    UNDERSCORE = "_"
    DASH = "-"
    SLASH = "/"
    PLUS = "+"
    APOSTROPHE = "'"  # "m dot o apostrophe brien at ..."


# Per language: symbol words, letter names, the words between a letter and the word that spells it ("k as
# in kilo", "h wie heinrich"), the words for "double". Every language also reads English symbol words:
# "at" and "dot" are said everywhere.
_SYMBOLS = {
    "en": {"at": Symbol.AT, "at sign": Symbol.AT, "at the rate": Symbol.AT, "dot": Symbol.DOT,
           "period": Symbol.DOT, "point": Symbol.DOT, "underscore": Symbol.UNDERSCORE,
           "under score": Symbol.UNDERSCORE, "dash": Symbol.DASH, "hyphen": Symbol.DASH, "minus": Symbol.DASH,
           "slash": Symbol.SLASH, "forward slash": Symbol.SLASH, "plus": Symbol.PLUS,
           "apostrophe": Symbol.APOSTROPHE},
    "de": {"at": Symbol.AT, "klammeraffe": Symbol.AT, "at zeichen": Symbol.AT, "atzeichen": Symbol.AT,
           "punkt": Symbol.DOT, "unterstrich": Symbol.UNDERSCORE, "tiefstrich": Symbol.UNDERSCORE,
           "bindestrich": Symbol.DASH, "strich": Symbol.DASH, "trennstrich": Symbol.DASH,
           "minus": Symbol.DASH, "schragstrich": Symbol.SLASH, "plus": Symbol.PLUS,
           "apostroph": Symbol.APOSTROPHE},
    "fr": {"arobase": Symbol.AT, "arobas": Symbol.AT, "arrobe": Symbol.AT, "point": Symbol.DOT,
           "tiret bas": Symbol.UNDERSCORE, "tiret du huit": Symbol.UNDERSCORE, "tiret": Symbol.DASH,
           "tiret du six": Symbol.DASH,
           "trait d'union": Symbol.DASH, "moins": Symbol.DASH, "barre oblique": Symbol.SLASH,
           "plus": Symbol.PLUS},
    "es": {"arroba": Symbol.AT, "punto": Symbol.DOT, "guion bajo": Symbol.UNDERSCORE,
           "barra baja": Symbol.UNDERSCORE, "guion": Symbol.DASH, "menos": Symbol.DASH,
           "barra": Symbol.SLASH, "mas": Symbol.PLUS, "apostrofo": Symbol.APOSTROPHE},
    "it": {"chiocciola": Symbol.AT, "chiocciolina": Symbol.AT, "punto": Symbol.DOT,
           "trattino basso": Symbol.UNDERSCORE, "trattino": Symbol.DASH, "meno": Symbol.DASH,
           "barra": Symbol.SLASH, "piu": Symbol.PLUS, "apostrofo": Symbol.APOSTROPHE},
    "nl": {"apenstaartje": Symbol.AT, "apenstaart": Symbol.AT, "punt": Symbol.DOT,
           "laag streepje": Symbol.UNDERSCORE, "liggend streepje": Symbol.UNDERSCORE,
           "streepje": Symbol.DASH, "koppelteken": Symbol.DASH, "min": Symbol.DASH,
           "schuine streep": Symbol.SLASH, "plus": Symbol.PLUS, "apostrof": Symbol.APOSTROPHE},
    "pl": {"malpa": Symbol.AT, "malpka": Symbol.AT, "kropka": Symbol.DOT, "podkreslnik": Symbol.UNDERSCORE,
           "podkreslenie": Symbol.UNDERSCORE, "podloga": Symbol.UNDERSCORE, "myslnik": Symbol.DASH,
           "minus": Symbol.DASH, "lacznik": Symbol.DASH, "ukosnik": Symbol.SLASH, "plus": Symbol.PLUS,
           "apostrof": Symbol.APOSTROPHE},
}
# Only unmistakable at-words make an address of "x at y dot com" without anything else saying e-mail.
CLEAR_AT = frozenset({"at sign", "at the rate", "klammeraffe", "at zeichen", "atzeichen", "arobase", "arobas",
                       "arrobe", "arroba", "chiocciola", "chiocciolina", "apenstaartje", "apenstaart", "malpa",
                       "malpka"})

_B = Weak.BOTH
# Letter names: a letter, or (letter, weakness) for names that are ordinary words too ("de" = of).
_LETTER_NAMES: dict[str, dict[str, str | tuple[str, Weak]]] = {
    "en": {"aitch": "h", "zed": "z", "double u": "w", "double you": "w"},
    "de": {"be": "b", "ce": "c", "zeh": "c", "de": "d", "ef": "f", "ge": "g", "ha": ("h", _B), "jot": "j",
           "ka": "k", "el": "l", "em": "m", "en": ("n", _B), "pe": "p", "ku": "q", "er": ("r", _B),
           "es": ("s", _B), "te": "t", "vau": "v", "we": "w", "ix": "x", "ypsilon": "y", "zett": "z"},
    "fr": {"be": "b", "ce": ("c", _B), "de": ("d", _B), "effe": "f", "ge": "g", "ache": "h", "ji": "j",
           "ka": "k", "elle": ("l", _B), "emme": "m", "enne": "n", "pe": "p", "ku": "q", "erre": "r",
           "esse": "s", "te": ("t", _B), "ve": "v", "double ve": "w", "ixe": "x", "i grec": "y",
           "zede": "z"},
    "es": {"be": "b", "ce": "c", "de": ("d", _B), "efe": "f", "ge": "g", "hache": "h", "jota": "j",
           "ka": "k", "ele": "l", "eme": "m", "ene": "n", "pe": "p", "cu": "q", "erre": "r", "ere": "r",
           "ese": ("s", _B), "te": ("t", _B), "uve": "v", "ve": ("v", _B), "doble ve": "w", "uve doble": "w",
           "equis": "x", "i griega": "y", "ye": ("y", _B), "zeta": "z"},
    "it": {"bi": "b", "ci": ("c", _B), "di": ("d", _B), "effe": "f", "gi": "g", "acca": "h", "i lunga": "j",
           "kappa": "k", "elle": "l", "emme": "m", "enne": "n", "pi": "p", "cu": "q", "erre": "r",
           "esse": "s", "ti": ("t", _B), "vu": "v", "vi": ("v", _B), "doppia vu": "w", "doppio vu": "w",
           "ics": "x", "ipsilon": "y", "zeta": "z"},
    "nl": {"bee": "b", "cee": "c", "dee": "d", "ef": "f", "gee": "g", "ha": ("h", _B), "jee": "j", "ka": "k",
           "el": "l", "em": "m", "en": ("n", _B), "pee": "p", "ku": "q", "er": ("r", _B), "es": "s",
           "tee": "t", "vee": "v", "wee": "w", "iks": "x", "zet": "z"},
    "pl": {"be": "b", "ce": "c", "de": "d", "ef": "f", "gie": "g", "ha": "h", "jot": "j", "ka": "k",
           "el": "l", "em": "m", "en": "n", "pe": "p", "ku": "q", "er": "r", "es": "s", "te": "t", "wu": "w",
           "fau": "v", "iks": "x", "igrek": "y", "zet": "z"},
}
# Single letters that are words of the language ("i", "a", Polish "w", "z"): only between other letters or
# digits. English "o" is a letter or zero, whichever its neighbours are.
_WORD_LETTERS = {"en": "ai", "de": "", "fr": "ay", "es": "aeouy", "it": "aeio", "nl": "u", "pl": "aiouwz"}
_NATO = {
    "alpha": "a", "alfa": "a", "bravo": "b", "charlie": "c", "delta": "d", "echo": "e", "foxtrot": "f",
    "golf": "g", "hotel": "h", "india": "i", "juliet": "j", "juliett": "j", "kilo": "k", "lima": "l",
    "mike": "m", "november": "n", "oscar": "o", "papa": "p", "quebec": "q", "romeo": "r", "sierra": "s",
    "tango": "t", "uniform": "u", "victor": "v", "whiskey": "w", "whisky": "w", "x ray": "x", "xray": "x",
    "yankee": "y", "zulu": "z",
}
# "k as in kilo": (words any letter may use, words only a clear letter may use: "a de ..." is no spelling).
_SPELLED_BY = {
    "en": ({"as in", "as"}, {"for"}), "de": ({"wie", "wie in"}, set()), "fr": ({"comme", "comme dans"}, set()),
    "es": ({"como", "como en"}, {"de"}), "it": ({"come"}, {"di", "per"}), "nl": ({"als in", "zoals"}, {"van", "voor"}),
    "pl": ({"jak", "jak w"}, set()),
}
_REPEATS = {
    "en": {"double": 2, "triple": 3, "quadruple": 4}, "de": {"doppel": 2, "doppelt": 2, "dreifach": 3},
    "fr": {"double": 2, "triple": 3}, "es": {"doble": 2, "triple": 3}, "it": {"doppio": 2, "doppia": 2, "triplo": 3},
    "nl": {"dubbel": 2, "dubbele": 2, "driedubbel": 3}, "pl": {"podwojne": 2, "podwojna": 2, "potrojne": 3},
}
# Words that come before an address and are no part of it ("my email is ...").
NOT_LOCAL = frozenset(fold(w) for line in (
    "is its it's it thats that's my me email mail e address to at the and or please use send was",
    "ist meine mein lautet die das an und oder bitte adresse mailadresse",
    "est c'est mon ma courriel et ou", "es mi correo y o", "è mia mio la il indirizzo posta",
    "mijn het adres en", "jest mój moja poczta") for w in line.split())
_PRONOUN_AFTER = {"en": frozenset((
    "the", "a", "this", "that", "which", "each", "every", "any", "no", "new", "old", "other", "another", "same",
    "last", "next", "first", "second", "only", "right", "wrong", "big", "small", "little", "good", "bad"))}


@dataclass(frozen=True, slots=True)
class Language:
    """What `spoken` needs to know of one language."""

    numbers: Numbers
    symbols: dict[str, Symbol]
    letters: dict[str, tuple[str, Weak]]
    word_letters: str
    spelled_by: tuple[frozenset[str], frozenset[str]]  # fillers any letter may use, fillers for clear ones
    repeats: dict[str, int]
    phrases: frozenset[str]  # keys of several words
    pronoun_after: frozenset[str]  # words after which "one" is a pronoun
    phrase_starts: frozenset[str]  # the first word of each phrase


def language(code: str) -> Language:
    """The words of the language `code` (one of LANGUAGES' keys)."""
    letters: dict[str, tuple[str, Weak]] = {k: (v, Weak.SPELLING) for k, v in _NATO.items()}
    for name, letter in _LETTER_NAMES[code].items():
        letters[name] = letter if isinstance(letter, tuple) else (letter, Weak.STRONG)
    symbols = {**_SYMBOLS["en"], **_SYMBOLS[code]}
    loose, clear = _SPELLED_BY[code]
    phrases = frozenset(key for key in (*symbols, *letters) if " " in key)
    return Language(numbers(code), symbols, letters, _WORD_LETTERS[code],
                    (frozenset(loose | _SPELLED_BY["en"][0]), frozenset(clear)), {**_REPEATS["en"], **_REPEATS[code]},
                    phrases, _PRONOUN_AFTER.get(code, frozenset()), frozenset(key.split(" ")[0] for key in phrases))


LANGUAGES = {code: language(code) for code in _LETTER_NAMES}
"""Every supported language's words, by ISO 639-1 code."""
