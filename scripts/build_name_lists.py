"""Regenerates the name gazetteer and the word lists of `stages/sanitizer/recognizers/data/` (see its README).

    apt-get install hunspell-en-us
    python3 -m venv /tmp/names && /tmp/names/bin/pip install wordfreq==3.1.1 nomquamgender==0.1.4
    /tmp/names/bin/python scripts/build_name_lists.py

Inputs: nomquamgender's name_data.json (given names -> number of sources, number of people, ...; MIT) and
wordfreq's word frequencies per language (CC-BY-SA 4.0), and the lower-case words of SCOWL's American
English dictionary (Debian's hunspell-en-us; permissive licence) to tell English words. Outputs:
- first_names.tsv: given names (ASCII-folded, lower case) seen in at least MIN_SOURCES sources and for
  MIN_PEOPLE people, each with the languages in which it is also an ordinary word ("winter": de en nl);
  names that are first of all ordinary words ("will", "bitte", "blue") are left out;
- words_<lang>.txt: the ordinary words of each language (lower case, as written), those at least
  MIN_ZIPF on wordfreq's scale (about one in a million words), without the words that are first of all
  given names ("peter", "maria").

A word is "first of all a name" or "first of all a word" by comparing how often it is written (wordfreq,
log10 per billion words) with how many people carry it as a given name (log10): words that are written far
more often than their bearers would explain are words. The name counts come mostly from English-speaking
sources, so European names look rarer than they are: other languages get a larger margin. In English, where
names and words collide most ("Mark", "Frank", "Dawn", "Hunter"), a name that the dictionary lists in lower
case is a word too unless it is written far less often than its bearers explain.
"""

from __future__ import annotations

import json
import math
import sys
import unicodedata
from pathlib import Path

import nomquamgender  # type: ignore[import-not-found]
from wordfreq import get_frequency_dict  # type: ignore[import-not-found]

LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pl")
OUT = Path(__file__).resolve().parent.parent / "stages" / "sanitizer" / "recognizers" / "data"
MIN_SOURCES = 5
MIN_PEOPLE = 5
MIN_ZIPF = 3.0
# zipf - log10(people) at or above which a name is also an ordinary word in that language...
WORD_MARGIN = {"en": -0.2}
WORD_MARGIN_OTHER = 0.5
ENGLISH_DICTIONARY = Path("/usr/share/hunspell/en_US.dic")
DICTIONARY_WORD_MARGIN = -1.3  # for names the English dictionary has in lower case
# ...and at or above which it is first of all a word, and no name to look for.
ONLY_WORD_MARGIN = 1.5
MIN_LETTERS = 2
_FOLD = str.maketrans({"ß": "ss", "ł": "l", "\u0131": "i", "ø": "o", "đ": "d", "æ": "ae", "œ": "oe", "þ": "th"})


def fold(word: str) -> str:
    """Lower case without diacritics, as nomquamgender keys its names ("Jörg" -> "jorg")."""
    decomposed = unicodedata.normalize("NFKD", word.lower().translate(_FOLD))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def is_word_shape(word: str) -> bool:
    letters = word.replace("-", "").replace("'", "")
    return len(letters) >= MIN_LETTERS and letters.isalpha()


def main() -> int:
    names_path = Path(nomquamgender.__file__).parent / "name_data.json"
    people = {name: row[1] for name, row in json.loads(names_path.read_text()).items()
              if row[0] >= MIN_SOURCES and row[1] >= MIN_PEOPLE and is_word_shape(name) and name.isascii()}
    zipf: dict[str, dict[str, float]] = {}
    for language in LANGUAGES:
        zipf[language] = {w: math.log10(f) + 9 for w, f in get_frequency_dict(language, "best").items()
                          if math.log10(f) + 9 >= MIN_ZIPF and is_word_shape(w)}

    with ENGLISH_DICTIONARY.open(encoding="utf-8", errors="replace") as dictionary:
        english = {line.split("/")[0].strip() for line in dictionary if line[:1].islower()}
    ambiguous: dict[str, set[str]] = {name: set() for name in people}
    only_word: set[str] = set()
    for language in LANGUAGES:
        for word, frequency in zipf[language].items():
            folded = fold(word)
            if folded not in people:
                continue
            excess = frequency - math.log10(people[folded])
            if excess >= ONLY_WORD_MARGIN:
                only_word.add(folded)
            elif excess >= WORD_MARGIN.get(language, WORD_MARGIN_OTHER) or (
                    language == "en" and word in english and excess >= DICTIONARY_WORD_MARGIN):
                ambiguous[folded].add(language)
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / "first_names.tsv").open("w", encoding="utf-8") as out:
        for name in sorted(people):
            if name not in only_word:
                out.write(f"{name}\t{' '.join(sorted(ambiguous[name]))}\n")
    for language in LANGUAGES:
        words = sorted(w for w in zipf[language]
                       if fold(w) not in people or fold(w) in only_word or language in ambiguous[fold(w)])
        (OUT / f"words_{language}.txt").write_text("".join(w + "\n" for w in words), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
