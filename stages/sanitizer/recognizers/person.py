"""PERSON: names in any language and case, from these sources:
- PERSON entities of the text's language's NER model, when there is one (English and French today); the
  model's slips ("Kiosk", "rental", "Harbour Living") are dropped;
- cues before or after a name, in the text's language and English (`person_cues`): introductions ("my name
  is", "ich heiße", "je suis"; not in the bot's own turns, where they name its persona), third persons ("her
  name is", "er heißt"), titles ("Frau Brunnhuber", "mrs tregarthen"), relations ("my wife rosamund", "meiner Frau
  Snežana"), greetings and thanks ("Danke, Anouk!"), "Genevieve here";
- full names without a cue: a capitalised known given name and a capitalised surname ("Emre Kaplan",
  "Uwe Fuchs"; in English one that is no ordinary word, so "Summer Sale" stays), with particles ("van der
  Westhuizen", "Ó Ceallacháin"); a capitalised known given name alone that is no word ("Hat Jonas schon");
- the answer to a bot question that asked for a name ("urs aebischer", "yes faith nwosu");
- letters spelled right after a name or in a name answer ("tremblay t r e m b l a y", "b wie berta u wie ulrich").
Whether the words at a cue look like a name is `names`' call: a known given name (52,000 of many origins), or
a word that is no ordinary word of the language; names that are also words ("Summer", "Frank", "Will") need
a capital or a cue, and function words, greetings, months and weekdays are never names. Normalized to lower
case with single spaces, so "Jane Doe" and "jane  doe" share a token."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from enum import Enum

from stages.sanitizer.recognizers import names
from stages.sanitizer.recognizers.base import Detection, TextContext, squash
from stages.sanitizer.recognizers.ner_entity import entity_spans
from stages.sanitizer.recognizers.person_cues import (
    CAPITAL_ONLY_TITLES,
    NOT_TITLE_AFTER,
    ORGANISATION_WORDS,
    PARTICLE_ARTICLES,
    PARTICLES,
    PLACE_BEFORE,
    RELATION_GAP,
    RELATION_WORDS,
    SPELLED,
    SPELLING_GAP,
    TITLE_WORDS,
    LanguageCues,
    cues_for,
)

ENTITY_TYPE = "PERSON"
NOT_NAMES = names.NOT_NAMES
NEVER_NAMES = names.NEVER_NAMES
NER_SCORE = 0.85
STRONG_SCORE = 0.85  # "my name is", "Frau", "his name is"
ANSWER_SCORE = 0.8
CUE_SCORE = 0.75  # "I'm", "my wife", "Thanks,", "here"
SPELLED_SCORE = 0.8
FULL_NAME_SCORE = 0.7
LONE_NAME_SCORE = 0.6
BARE_NAME_SCORE = 0.7
MAX_WORDS = 4  # words of one name, particles not counted
_ANSWER_SKIP = 4  # leading filler words of an answer ("yes, sure, it's ...")

_TOKEN = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")
_SPACES = re.compile(r"[ \t]+")
_AFTER_VOCATIVE = re.compile(r"\s*(?:$|[^\w\s,'\u2019-])")
_TRAILING_VOCATIVE = re.compile(r",\s*(?=[^\W\d_])")
_HONORIFIC = re.compile(r"[ \t]+(?:ji|sahab|saheb)(?![^\W\d_])", re.IGNORECASE)
_DIGIT_NEXT = re.compile(r"-?\d")
_TRAILING = " \t.,;:!?*"
# "my nmae is jane", "mein name ist": a possessive, a short word and "is" open an answer, typo or not.
_ANSWER_LEAD = re.compile(
    r"\W*(?:[^\W\d_]+\W+){0,3}?(?:my|mein|mon|ma|mi|il\s+mio|mijn|moje|moja)\s+[^\W\d_]{2,8}\s*"
    r"(?:is|ist|lautet|est|es|è|e'|to|jest|:)\s+", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?:^|[.!?:;\n])[\s\"'(*]*$")


class _Cue(Enum):
    """What is known of the words about to be read as a name."""

    STRONG = "strong"  # a name follows: any word but a function word ("my name is will")
    TITLE = "title"  # as STRONG ("Herr Fuchs", "mrs tregarthen")
    WEAK = "weak"  # a known given name, or a capitalised word that is no ordinary word
    RELATION = "relation"  # a known given name, or any word that is no ordinary word ("my son arjun")
    VOCATIVE = "vocative"  # as WEAK
    ANSWER = "answer"  # as RELATION
    FULL = "full"  # no cue: a capitalised known given name, then a capitalised surname that is no word


class PersonRecognizer:
    entity_type = ENTITY_TYPE
    context_words: tuple[str, ...] = ()

    def __init__(self, labels: Iterable[str] = ("PERSON",)) -> None:
        self.ner_labels = frozenset(labels)

    def detect(self, text: str, context: TextContext) -> list[Detection]:
        reader = _Reader(text, context.language)
        cues = cues_for(context.language)
        spans = [(start, end, NER_SCORE) for start, end in entity_spans(text, context, self.ner_labels)
                 if reader.is_name(text[start:end])]
        persona_starts: set[int] = set()
        persona_ends: set[int] = set()
        if context.source == "bot":
            # The bot introducing itself names its persona ("I'm Orion", "hier ist Lina von Strahlnetz", "Rowan
            # here"): nothing that starts or ends there is a person's name, whichever rule reads it.
            persona_starts = {m.end() for cue in (cues.self_strong, cues.self_weak) for m in cue.finditer(text)}
            persona_ends = {m.start() for m in cues.after.finditer(text)}
        else:
            spans += reader.after_cue(cues.self_strong, _Cue.STRONG, STRONG_SCORE)
            spans += reader.after_cue(cues.self_weak, _Cue.WEAK, CUE_SCORE)
            spans += reader.before_cue(cues.after)
        spans += reader.after_cue(cues.strong, _Cue.STRONG, STRONG_SCORE)
        spans += reader.after_cue(cues.weak, _Cue.WEAK, CUE_SCORE)
        spans += reader.after_cue(cues.vocative, _Cue.VOCATIVE, CUE_SCORE)
        spans += reader.before_cue(_HONORIFIC)
        spans += reader.titled(cues)
        spans += reader.related(cues)
        spans += reader.trailing_vocatives()
        spans += reader.full_names()
        spans += reader.lone_names()
        if ENTITY_TYPE in context.expected:
            spans += reader.answer()
        elif context.source != "bot":
            spans += reader.bare_name()
        spans += reader.spellings([end for _, end, _ in spans], ENTITY_TYPE in context.expected)
        spans += reader.spelled_words()
        best: dict[tuple[int, int], float] = {}
        for start, end, score in spans:
            if start in persona_starts or end in persona_ends or reader.organisation_follows(end):
                continue
            best[(start, end)] = max(score, best.get((start, end), 0.0))
        return [Detection(start, end, ENTITY_TYPE, score, squash(text[start:end]))
                for (start, end), score in best.items()]


_Span = tuple[int, int, float]


def _is_label(lower: str) -> bool:
    """A single letter, or a word that names a company, place, title or relation rather than a person."""
    return len(lower) < 2 or lower in ORGANISATION_WORDS or lower in TITLE_WORDS or lower in RELATION_WORDS


class _Reader:
    """One text's words, and the ways of reading a name out of them."""

    def __init__(self, text: str, language: str) -> None:
        self.text = text
        self.language = language
        self.words = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
        self._starts = [start for start, _ in self.words]

    def word(self, index: int) -> str:
        start, end = self.words[index]
        return self.text[start:end]

    def at(self, position: int) -> int | None:
        """The index of the word that starts at `position`, after spaces at most."""
        index = bisect_left(self._starts, position)
        if index < len(self.words) and not self.text[position:self.words[index][0]].strip():
            return index
        return None

    def joined(self, left: int, right: int) -> bool:
        """Whether only spaces stand between word `left` and word `right`."""
        return _SPACES.fullmatch(self.text, self.words[left][1], self.words[right][0]) is not None

    # -- rules ---------------------------------------------------------------------------------------

    def after_cue(self, cue: re.Pattern[str], kind: _Cue, score: float) -> list[_Span]:
        return self._names_at((m.end() for m in cue.finditer(self.text)), kind, score)

    def _names_at(self, positions: Iterable[int], kind: _Cue, score: float) -> list[_Span]:
        """The names that start at `positions` (after spaces)."""
        found = []
        for position in positions:
            index = self.at(position)
            span = None if index is None else self._name_from(index, kind, score)
            if span is not None:
                found.append(span)
        return found

    def before_cue(self, cue: re.Pattern[str]) -> list[_Span]:
        """Names that end where `cue` starts ("Genevieve here", "Gurvinder ji")."""
        found = []
        for match in cue.finditer(self.text):
            index = bisect_left(self._starts, match.start()) - 1
            if index < 0 or self.words[index][1] != match.start():
                continue
            first = index
            while (first > 0 and index - first < MAX_WORDS - 1 and self.joined(first - 1, first)
                   and self._continues(first - 1, capitalised=True)):
                first -= 1
            while first < index and not self._starts_name(first, _Cue.WEAK):
                first += 1
            if self._starts_name(first, _Cue.WEAK):
                found.append((self.words[first][0], self.words[index][1], CUE_SCORE))
        return found

    def titled(self, cues: LanguageCues) -> list[_Span]:
        return self._names_at((m.end() for m in cues.title.finditer(self.text) if self._is_title(m)),
                              _Cue.TITLE, STRONG_SCORE)

    def _is_title(self, match: re.Match[str]) -> bool:
        title = match.group("title")
        lower = title.lower()
        if lower in CAPITAL_ONLY_TITLES and not title[0].isupper():
            return False
        return lower not in ("frau", "herr", "herrn") or not NOT_TITLE_AFTER.search(self.text, 0, match.start())

    def related(self, cues: LanguageCues) -> list[_Span]:
        ends = []
        for match in cues.relation.finditer(self.text):
            gap = RELATION_GAP.match(self.text, match.end())
            ends.append(gap.end() if gap else match.end())
        return self._names_at(ends, _Cue.RELATION, CUE_SCORE)

    def trailing_vocatives(self) -> list[_Span]:
        """A known given name between a comma and the end of a sentence: "Fijne avond, Anouk!"."""
        found = []
        for match in _TRAILING_VOCATIVE.finditer(self.text):
            index = self.at(match.end())
            if index is None or not names.is_first_name(self.word(index), self.language):
                continue
            span = self._name_from(index, _Cue.VOCATIVE, CUE_SCORE)
            if span is not None and _AFTER_VOCATIVE.match(self.text, span[1]):
                found.append(span)
        return found

    def full_names(self) -> list[_Span]:
        # Only a capitalised word starts a name without a cue (see `_starts_name`): the others are not tried.
        spans = (self._name_from(index, _Cue.FULL, FULL_NAME_SCORE) for index in range(len(self.words) - 1)
                 if self.text[self.words[index][0]].isupper())
        return [span for span in spans if span is not None]

    def lone_names(self) -> list[_Span]:
        """A capitalised known given name on its own ("Hat Jonas schon ...", "leave it with Declan"): one
        that is no ordinary word, not part of a longer proper noun ("Carter Glazing", "Seat Leon": the
        full-name rule reads those), and not after a word that leads to a place ("from Sydney")."""
        found = []
        for index in range(len(self.words)):
            word = self.word(index)
            start, end = self.words[index]
            if (word[0].isupper() and not word.isupper() and not _is_label(word.lower())
                    and names.is_first_name(word, self.language)
                    and not names.is_ambiguous(word, self.language) and not names.is_word(word, self.language)
                    and not _DIGIT_NEXT.match(self.text, end) and not self._capitalised_neighbour(index)
                    and not PLACE_BEFORE.search(self.text, max(0, start - 8), start)):
                found.append((start, end, LONE_NAME_SCORE))
        return found

    def _capitalised_neighbour(self, index: int) -> bool:
        """Whether a capitalised word that makes a proper noun with word `index` stands next to it: not one
        capitalised for starting a sentence, "I", or (in German) a noun. What follows a genitive is what the
        person has ("Hannahs Versichertenkarte")."""
        after = () if names.is_possessive(self.word(index), self.language) else (index + 1,)
        for other in (index - 1, *after):
            if not (0 <= other < len(self.words) and self.joined(min(index, other), max(index, other))):
                continue
            word = self.word(other)
            if (word[0].isupper() and word != "I" and not self._opens_sentence(other)
                    and not (self.language == "de" and names.is_word(word, "de"))):
                return True
        return False

    def _opens_sentence(self, index: int) -> bool:
        return _SENTENCE_END.search(self.text, 0, self.words[index][0]) is not None

    def answer(self) -> list[_Span]:
        """The name in an answer to "What's your name?": its first words that look like a name, after a few
        words of filler ("yes", "sure, it's", "ja klopt,")."""
        lead = _ANSWER_LEAD.match(self.text)
        first = 0 if lead is None else bisect_left(self._starts, lead.end())
        for index in range(first, min(len(self.words), first + _ANSWER_SKIP + 1)):
            span = self._name_from(index, _Cue.ANSWER, ANSWER_SCORE)
            if span is not None:
                return [span]
            surname = self._after_particles(index)
            if surname > index and self._continues(surname, capitalised=False, declared=True):
                # A surname with its particles: "van der berg", "de la cruz".
                return [(self.words[index][0], self.words[surname][1], ANSWER_SCORE)]
            if not names.is_stop(self.word(index), self.language):
                return []
        return []

    def bare_name(self) -> list[_Span]:
        """A turn that is nothing but a name, as answers are when the question went unrecognised ("urs
        aebischer", "ana belén moreno quintana"): two to MAX_WORDS words, a known given name first, then words
        none of which is a function word and one of which at least is a given name or no ordinary word."""
        count = len(self.words)
        if not 2 <= count <= MAX_WORDS or self.text[self.words[-1][1]:].strip(_TRAILING) or self.text[
                :self.words[0][0]].strip(_TRAILING) or not self._starts_name(0, _Cue.WEAK):
            return []
        rest = range(1, count)
        if not all(self.joined(i - 1, i) and not names.is_stop(self.word(i), self.language) for i in rest):
            return []
        if not any(self._continues(i, capitalised=False) for i in rest):
            return []
        return [(self.words[0][0], self.words[-1][1], BARE_NAME_SCORE)]

    def spellings(self, name_ends: list[int], asked: bool) -> list[_Span]:
        """Letters spelled right after a name, or anywhere in a name answer."""
        found = []
        for end in name_ends:
            gap = SPELLING_GAP.match(self.text, end)
            spelled = SPELLED.match(self.text, gap.end()) if gap else None
            if spelled:
                found.append((spelled.start(), spelled.end(), SPELLED_SCORE))
        if asked:
            found += [(m.start(), m.end(), SPELLED_SCORE) for m in SPELLED.finditer(self.text)]
        return found

    def spelled_words(self) -> list[_Span]:
        """A word spelled out letter by letter in the same text is a name, and so is its spelling: people
        spell their names, not their words ("grewal g r e w a l", "elif yilmaz also y i l m a z")."""
        found = []
        for match in SPELLED.finditer(self.text):
            letters = "".join(ch for ch in match.group() if ch.isalpha())
            for index in range(len(self.words)):
                if self.word(index).lower() == letters.lower() and len(letters) > 2:
                    first = last = index
                    while first > 0 and self.joined(first - 1, first) and self._continues(first - 1, False):
                        first -= 1
                    while (last + 1 < len(self.words) and self.words[last + 1][0] < match.start()
                           and self.joined(last, last + 1) and self._continues(last + 1, False)):
                        last += 1
                    found += [(self.words[first][0], self.words[last][1], SPELLED_SCORE),
                              (match.start(), match.end(), SPELLED_SCORE)]
                    break
        return found

    def is_name(self, span: str) -> bool:
        """False for the NER model's slips: spans with digits or '@', with a company or place word, or made
        only of ordinary words ("Thanks", "rental", "Neuen Rathaus")."""
        if any(c.isdigit() or c == "@" for c in span):
            return False
        words = _TOKEN.findall(span)
        if any(w.lower() in ORGANISATION_WORDS for w in words):
            return False
        return any(names.is_first_name(w, self.language) or not names.is_word(w, self.language) for w in words)

    # -- words ---------------------------------------------------------------------------------------

    def _name_from(self, index: int, kind: _Cue, score: float) -> _Span | None:
        """The name that starts at word `index`, if that word may start one after `kind`."""
        if not self._starts_name(index, kind):
            return None
        capitalised = self.word(index)[0].isupper()
        # After "my name is" or in an answer, a known given name is followed by the surname, whatever it is
        # ("gerd müller", "petra lang").
        declared = kind in (_Cue.STRONG, _Cue.ANSWER) and names.is_first_name(self.word(index), self.language)
        last = index
        count = 1
        position = index + 1
        while (position < len(self.words) and count < MAX_WORDS and self.joined(position - 1, position)
               and not names.is_possessive(self.word(last), self.language)):
            following = self._after_particles(position)
            if not self._continues(following, capitalised, strict=kind is _Cue.FULL, declared=declared):
                break
            last = following
            count += 1
            position = following + 1
        end = self.words[last][1]
        if self.word(last).lower().endswith(("'s", "\u2019s")):
            end -= 2  # "Sarah Connor's order": the possessive is no part of the name
        return self.words[index][0], end, score

    def _starts_name(self, index: int, kind: _Cue) -> bool:
        word = self.word(index)
        lower = word.lower()
        language = self.language
        if _is_label(lower) or _DIGIT_NEXT.match(self.text, self.words[index][1]):
            return False
        if names.is_stop(word, language):
            # "My name is Will": after a strong cue, a capitalised function word is a name.
            return kind is _Cue.STRONG and word[0].isupper() and lower not in NEVER_NAMES
        capital = word[0].isupper()
        known = names.is_first_name(word, language)
        ordinary = names.is_word(word, language)
        if kind in (_Cue.STRONG, _Cue.TITLE):
            return capital or known or not ordinary
        if kind in (_Cue.RELATION, _Cue.ANSWER):
            return known or not ordinary
        telling_capital = capital and names.capital_tells(word, language)
        if kind is _Cue.FULL:
            if (not (known and capital) or names.is_possessive(word, language) or index + 1 >= len(self.words)
                    or not self.joined(index, index + 1)):
                return False
            following = self._after_particles(index + 1)
            if word.isupper() and not self.word(following).isupper():
                return False  # "IBAN des Kontos": a capitalised acronym, unless the whole name is in capitals
            ambiguous = names.is_ambiguous(word, language) and not telling_capital
            return (not ambiguous or not names.is_word(self.word(following), language)) and self._continues(
                following, capitalised=True, strict=True)
        if known:
            # "i'm jane", but not "i'm frank with you": after "I'm", a lower-case name that is also a word
            # stands alone or before a surname.
            return telling_capital or not names.is_ambiguous(word, language) or (
                kind is _Cue.WEAK and self._stands_alone(index))
        return capital and not ordinary

    def _stands_alone(self, index: int) -> bool:
        """Whether word `index` ends its sentence or clause, or a lower-case surname follows it."""
        if _AFTER_VOCATIVE.match(self.text, self.words[index][1]) or self.text.startswith(",", self.words[index][1]):
            return True
        following = index + 1
        return following < len(self.words) and self.joined(index, following) and self._continues(following, False)

    def _after_particles(self, index: int) -> int:
        """The first word from `index` on that is no name particle ("van der", "de la", "Ó"), if particles
        joined to it lead there; else `index`."""
        following = index
        while (following < len(self.words) - 1 and following - index < 3 and self.joined(following, following + 1)
               and (self.word(following).lower() in PARTICLES
                    or (following > index and self.word(following).lower() in PARTICLE_ARTICLES))):
            following += 1
        return following

    def organisation_follows(self, end: int) -> bool:
        """Whether a company or place word follows right after `end` ("Shree Krishna Auto", "Kestrel Air")."""
        index = self.at(end)
        return (index is not None and self.words[index][0] > end
                and self.word(index).lower() in ORGANISATION_WORDS and self.word(index)[0].isupper())

    def _continues(self, index: int, capitalised: bool, strict: bool = False, declared: bool = False) -> bool:
        """Whether word `index` goes on a name: after a capitalised start, a capitalised word (for an English
        name without a cue, `strict`, one that is a given name or no ordinary word); after a lower-case start,
        a word that is a given name or no ordinary word, or any word once the text `declared` a name."""
        word = self.word(index)
        lower = word.lower()
        language = self.language
        if _is_label(lower) or names.is_stop(word, language) or _DIGIT_NEXT.match(self.text, self.words[index][1]):
            return False
        if capitalised and not word[0].isupper():
            return False
        # A capitalised word after a given name is a surname, even where it is a word too ("Uwe Fuchs",
        # "Matteo Lupi"); English is the exception, with its product and company names ("Summer Sale",
        # "Grace Period") and a NER model to find its people.
        if (capitalised and not (strict and language == "en")) or declared:
            return True
        return names.is_first_name(word, language) or not names.is_word(word, language)
