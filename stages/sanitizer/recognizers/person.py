"""PERSON: names from three sources, strongest first:
- the answer to a bot question that asked for a name ("jane doe" after "What's your name?"),
- self-introductions: "my name is X" (any case), "this is X", "I'm X", "call me X" (a lower-case X only
  if it does not look like an ordinary word: "I'm jane" yes, "I'm confused" no),
- PERSON entities from the spaCy NER model, when one is loaded (they arrive in `TextContext.entities`);
  a PiiRule's `ner_labels` may name other labels.
Normalized to lower case with single spaces, so "Jane Doe" and "jane  doe" share a token."""

from __future__ import annotations

import re
from collections.abc import Iterable

from spacy.lang.en.stop_words import STOP_WORDS

from stages.sanitizer.recognizers.base import Detection, TextContext, squash
from stages.sanitizer.recognizers.ner_entity import entity_spans

ENTITY_TYPE = "PERSON"
ANSWER_SCORE = 0.8
INTRODUCTION_SCORE = 0.8
NER_SCORE = 0.85

# Words that follow "I'm" or answer a question but are no name. spaCy's stop words hold the function
# words; chat adds its own.
NOT_NAMES = frozenset(STOP_WORDS) | {
    "ok", "okay", "hi", "hello", "hey", "thanks", "thank", "thx", "yes", "yeah", "yep", "yup", "no", "nope",
    "sure", "fine", "good", "great", "sorry", "help", "agent", "human", "bot", "please", "pls", "hmm", "um",
    "new", "old", "happy", "glad", "sad", "angry", "upset", "tired", "sick", "busy", "ready", "done",
    "interested", "calling", "writing", "speaking", "asking", "here", "there", "back", "home", "away", "late", "early",
    "right", "wrong", "lost", "stuck", "unable", "able", "customer", "client", "user", "member", "guest",
    "why", "what", "who", "anonymous", "private", "skip", "cancel", "stop", "menu", "start", "restart",
    "today", "tomorrow", "tonight", "later", "asap", "soon", "maybe", "anytime",
}
_PRONOUNS = frozenset({"i", "you", "we", "they", "he", "she", "it", "that", "there", "what", "who", "let"})
# Suffixes of adjectives, participles and adverbs: "I'm frustrated", "I'm leaving", "this is ridiculous".
_ORDINARY_WORD = re.compile(r"(?:ing|ed|ly|ful|ous|ive|able|ible|less|ish|ic|al)$")

_WORD = r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*"
_NAME_WORD = re.compile(_WORD)
_STRONG_CUE = r"my\s+(?:full\s+|first\s+|last\s+)?name\s+is|my\s+name['\u2019]s|name\s*:"
_WEAK_CUE = r"this\s+is|i\s+am|i['\u2019]?m|call\s+me"
_INTRODUCTION = re.compile(
    rf"\b(?:(?P<strong>{_STRONG_CUE})|{_WEAK_CUE})\s+(?P<name>{_WORD}(?:[ \t]+{_WORD}){{0,2}})",
    re.IGNORECASE,
)
# What may come before the name in an answer: "sure, it's Jane Doe", "hi! my name is jane", and with a
# typo, "my nmae is jane". ("It's X" introduces a name only in an answer; elsewhere it is "it's broken".)
_ANSWER_PREFIX = re.compile(
    rf"^\s*(?:(?:sure|yes|yeah|ok|okay|hi|hello|hey)\b[\s,.!]*)?"
    rf"(?:(?:{_STRONG_CUE}|{_WEAK_CUE}|it['\u2019]?s|my\s+[^\W\d_]{{2,6}}\s+is)\s+)?",
    re.IGNORECASE,
)
_ANSWER_MAX_WORDS = 4
_TRAILING = " \t.,;:!?"


class PersonRecognizer:
    entity_type = ENTITY_TYPE
    context_words: tuple[str, ...] = ()

    def __init__(self, labels: Iterable[str] = ("PERSON",)) -> None:
        self.ner_labels = frozenset(labels)

    def detect(self, text: str, context: TextContext) -> list[Detection]:
        found = [_detection(text, start, end, NER_SCORE) for start, end in entity_spans(text, context, self.ner_labels)
                 if _is_name(text[start:end])]
        found += _introductions(text)
        if ENTITY_TYPE in context.expected:
            answer = _answer(text)
            if answer is not None:
                found.append(answer)
        return found


def _detection(text: str, start: int, end: int, score: float) -> Detection:
    return Detection(start, end, ENTITY_TYPE, score, squash(text[start:end]))


def _is_name_word(word: str, strong: bool) -> bool:
    lower = word.lower()
    if lower in NOT_NAMES:
        # "My name is Will": after a strong cue a capitalised stop word is still a name.
        return strong and word[0].isupper()
    return strong or word[0].isupper() or _ORDINARY_WORD.search(lower) is None


def _introductions(text: str) -> list[Detection]:
    found = []
    for match in _INTRODUCTION.finditer(text):
        strong = match.group("strong") is not None
        end = None
        for word in _NAME_WORD.finditer(text, match.start("name"), match.end("name")):
            if not _is_name_word(word.group(), strong):
                break
            end = word.end()
        if end is not None:
            found.append(_detection(text, match.start("name"), end, INTRODUCTION_SCORE))
    return found


def _is_filler(word: str) -> bool:
    """An ordinary word, or a contraction of one ("I'd", "that's"); O'Brien stays a name."""
    lower = word.lower().replace("\u2019", "'")
    return lower in NOT_NAMES or lower.split("'")[0] in _PRONOUNS


def _answer(text: str) -> Detection | None:
    """The answer's leading name words as a name, if only filler follows them ("lukas petrova here",
    "jane doe, thanks"): a few words none of which is an ordinary word."""
    prefix = _ANSWER_PREFIX.match(text)
    start = prefix.end() if prefix else 0
    words = list(_NAME_WORD.finditer(text, start))
    if not words or text[start:words[0].start()].strip(_TRAILING):
        return None
    name: list[re.Match[str]] = []
    for word in words:
        if _is_filler(word.group()) or len(name) == _ANSWER_MAX_WORDS:
            break
        name.append(word)
    rest = text[name[-1].end():] if name else text
    if not name or not all(_is_filler(w.group()) for w in _NAME_WORD.finditer(rest)):
        return None
    if any(ch.isdigit() for ch in rest):
        return None
    return _detection(text, name[0].start(), name[-1].end(), ANSWER_SCORE)


def _is_name(span: str) -> bool:
    """False for the model's mistakes: spans with digits or '@', or made only of ordinary words ("Thanks")."""
    if any(c.isdigit() or c == "@" for c in span):
        return False
    return not all(w.lower() in NOT_NAMES for w in _NAME_WORD.findall(span))
