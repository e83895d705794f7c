"""The language of each conversation, so that every text is read with its own language's cues, number
words and NER model (the English model reads German "Ich", "Wie", "Danke" as people).

One language per session, not per turn: a two-word answer ("urs aebischer", "ja genau") says nothing on its
own, while the whole conversation is unambiguous. The detector is lingua, restricted to the languages the
sanitizer knows (`LANGUAGES`, or fewer by setting), which makes it both faster and more accurate on short
texts, in its low-accuracy mode (trigrams only): the high-accuracy mode loads five n-gram models per
language for any text under 120 characters (1.7 s at the first short session) and told no session of the
dev set apart better (100 of 100 either way). A session with too little text to tell keeps the default
language."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pl")
"""The languages the sanitizer has cues and number words for, English first (the default)."""
DEFAULT = "en"
# The start of a long session is enough to tell its language, and bounds the detector's work.
MAX_CHARS = 2000
_MIN_LETTERS = 12  # fewer letters than this: keep the default rather than guess


class LanguageGuesser:
    def __init__(self, languages: Sequence[str] = LANGUAGES) -> None:
        """`languages`: ISO 639-1 codes the conversations may be in, from LANGUAGES; the first is the language
        of a session too short to tell (none given: English). Raises ValueError for a code not in LANGUAGES."""
        unknown = [code for code in languages if code not in LANGUAGES]
        if unknown:
            raise ValueError(f"unsupported language(s) {', '.join(unknown)} (supported: {', '.join(LANGUAGES)})")
        self.languages = tuple(dict.fromkeys(languages or [DEFAULT]))
        self.default = self.languages[0]
        self._detector = _detector(self.languages) if len(self.languages) > 1 else None

    def guess(self, texts: Iterable[str]) -> str:
        """The language of a conversation from its texts (the default when too short or unclear)."""
        if self._detector is None:
            return self.default
        sample = " ".join(texts)[:MAX_CHARS]
        if sum(ch.isalpha() for ch in sample) < _MIN_LETTERS:
            return self.default
        language = self._detector.detect_language_of(sample)
        return self.default if language is None else language.iso_code_639_1.name.lower()


@lru_cache(maxsize=4)
def _detector(codes: tuple[str, ...]) -> LanguageDetector:
    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in codes]
    return LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()
