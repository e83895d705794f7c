"""Finding PII in single texts: what runs where the text is all that matters, in this process or in a
pool worker (see `pool`). NER runs over all texts of a call in one `nlp.pipe` run; then every recognizer
of the policy, context words, the score threshold, the allow-list, and the overlap rule. The texts that NER
does not read come first: with the model in a helper process (`ner_process`), they are done while it runs.

Results are kept for the CACHE_SIZE texts used last: the bot's prompts are the same in every session and
on every page of an export, and are analysed once. The cache is bounded, so a long-running process does
not grow with it."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Sequence

import msgspec

from shared.messages import PiiRule
from shared.user_patterns import MATCH_SECONDS
from stages.sanitizer.actions import resolve_overlaps
from stages.sanitizer.hotwords import enhance
from stages.sanitizer.ner import Entities, NerRunner
from stages.sanitizer.policy import Policy, build_policy
from stages.sanitizer.recognizers.base import Detection, TextContext, squash
from stages.sanitizer.recognizers.phone import DEFAULT_REGIONS
from stages.sanitizer.spoken import spoken_detections

MIN_SCORE = 0.5
"""Detections scoring less are dropped: weak candidates (a bare date, nine bare digits) need a context
word or the conversation to reach it."""

CACHE_SIZE = 8192


class TextItem(msgspec.Struct, frozen=True):
    """One text as the recognizers see it: already-redacted spans (`redacted`) blanked to spaces, the
    types the conversation or its inputData key says it holds, the conversation's language and who wrote
    it (see `TextContext`)."""

    text: str
    expected: frozenset[str] = frozenset()
    redacted: tuple[tuple[int, int], ...] = ()
    language: str = "en"
    source: str = ""


class DetectionOptions(msgspec.Struct, frozen=True):
    """How texts are read, the same in this process and in pool workers.

    `phone_regions`: where numbers without a country code are read, in order; `allow_list`: words and
    phrases that are never PII, whatever finds them (the company's and its products' names, which NER takes
    for people or places), compared in lower case; `bare_answers`: see `recognizers.answer`;
    `pattern_seconds`: the time limit of a rule's pattern on one text (see `shared.user_patterns`)."""

    phone_regions: tuple[str, ...] = DEFAULT_REGIONS
    allow_list: tuple[str, ...] = ()
    bare_answers: bool = True
    pattern_seconds: float = MATCH_SECONDS


DEFAULT_OPTIONS = DetectionOptions()
_WORD = re.compile(r"[^\W\d_]+")
_SENTENCE_START = frozenset(".!?:\"'(¿¡")


def _worth_ner(text: str) -> bool:
    """Whether the model may find something: a capital inside a sentence, not "I". In a text without one
    (speech-to-text, chat in lower case, "Great, now your birth date?") it finds next to nothing and
    costs as much; the cues, the gazetteer and the answers read those texts."""
    for word in _WORD.finditer(text):
        if word.group()[0].isupper() and word.group() != "I":
            before = text[: word.start()].rstrip()
            if before and before[-1] not in _SENTENCE_START:
                return True
    return False


class TextDetector:
    def __init__(self, models: NerRunner, options: DetectionOptions = DEFAULT_OPTIONS) -> None:
        """`models`: the NER pipeline of each language (a text of a language without one gets no entities)."""
        self.models = models
        self._options = options
        self._allowed = frozenset(squash(phrase) for phrase in options.allow_list)
        self._policies: dict[tuple[PiiRule, ...], Policy] = {}
        self._cache: OrderedDict[tuple[TextItem, tuple[PiiRule, ...]], list[Detection]] = OrderedDict()

    def policy(self, rules: Sequence[PiiRule]) -> Policy:
        """The policy of `rules`, built once (every page of an export carries the same rules).
        Raises ValidationFailed if a rule cannot be applied."""
        key = tuple(rules)
        policy = self._policies.get(key)
        if policy is None:
            policy = self._policies[key] = build_policy(key, self._options.phone_regions, self._options.bare_answers,
                                                        self._options.pattern_seconds)
        return policy

    def detect(self, items: Sequence[TextItem], rules: Sequence[PiiRule]) -> list[list[Detection]]:
        """For each item, its detections: non-overlapping, sorted by start, at least MIN_SCORE, none allowed,
        none shorter than its rule's min_length or touching a redacted span. Raises ValidationFailed if a
        rule cannot be applied, PatternTimeout if a rule's pattern runs over its time limit."""
        rules = tuple(rules)
        policy = self.policy(rules)
        new = [item for item in dict.fromkeys(items) if (item, rules) not in self._cache]
        read = self._ner_texts(new, policy)
        pending = self.models.submit(read) if read else iter(())
        words: dict[str, tuple[str, ...]] = {}
        for recognizer in policy.recognizers:
            words[recognizer.entity_type] = words.get(recognizer.entity_type, ()) + recognizer.context_words
        waiting: dict[tuple[str, str], list[TextItem]] = {
            (language, text): [] for language, texts in read.items() for text in texts}
        for item in new:
            if (item.language, item.text) in waiting:
                waiting[(item.language, item.text)].append(item)
            else:
                self._cache[(item, rules)] = self._find(item, (), policy, words)
        done = dict.fromkeys(read, 0)
        for language, entities in pending:
            texts = read[language][done[language] : done[language] + len(entities)]
            done[language] += len(entities)
            for text, ner in zip(texts, entities, strict=True):
                for item in waiting[(language, text)]:
                    self._cache[(item, rules)] = self._find(item, ner, policy, words)
        found = []
        for item in items:
            self._cache.move_to_end((item, rules))
            found.append(self._cache[(item, rules)])
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return found

    @property
    def uses_ner(self) -> bool:
        return bool(self.models.names)

    def _find(self, item: TextItem, entities: Entities, policy: Policy,
              words: dict[str, tuple[str, ...]]) -> list[Detection]:
        context = TextContext(item.expected, entities, item.language, item.source)
        candidates = [d for r in policy.recognizers for d in r.detect(item.text, context)]
        candidates += spoken_detections(item.text, context, policy.recognizers)
        kept = [d for d in enhance(item.text, candidates, words) if d.score >= MIN_SCORE]
        if policy.answers is not None:
            # The bare answer is the fallback: where the recognizers found its value, their spans stand.
            kept += policy.answers.rest(item.text, context, kept)
        return resolve_overlaps((d for d in kept if policy.keeps(d, item.redacted)
                                 and squash(item.text[d.start : d.end]) not in self._allowed), item.text)

    def _ner_texts(self, items: list[TextItem], policy: Policy) -> dict[str, list[str]]:
        """The texts the model of their language reads, per language, each once."""
        if not policy.ner_labels:
            return {}
        by_language: dict[str, dict[str, None]] = {}
        for item in items:
            if item.language in self.models.names and _worth_ner(item.text):
                by_language.setdefault(item.language, {})[item.text] = None
        return {language: list(texts) for language, texts in by_language.items()}
