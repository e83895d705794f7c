"""Finding PII in single texts: what runs where the text is all that matters, in this process or in a
pool worker (see `pool`). NER runs over all texts of a call in one `nlp.pipe` run; then every recognizer
of the policy, context words, the score threshold, the allow-list, and the overlap rule.

Results are kept for the CACHE_SIZE texts used last: the bot's prompts are the same in every session and
on every page of an export, and are analysed once. The cache is bounded, so a long-running process does
not grow with it."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import msgspec

from shared.messages import PiiRule
from stages.sanitizer.actions import resolve_overlaps
from stages.sanitizer.hotwords import enhance
from stages.sanitizer.ner import Entities, entities

if TYPE_CHECKING:
    from spacy.language import Language
from stages.sanitizer.policy import Policy, build_policy
from stages.sanitizer.recognizers.base import Detection, TextContext, squash

MIN_SCORE = 0.5
"""Detections scoring less are dropped: weak candidates (a bare date, nine bare digits) need a context
word or the conversation to reach it."""

CACHE_SIZE = 8192
_HAS_LETTER = re.compile(r"[^\W\d_]")


class TextItem(msgspec.Struct, frozen=True):
    """One text as the recognizers see it: already-redacted spans (`redacted`) blanked to spaces, and the
    types the conversation or its inputData key says it holds."""

    text: str
    expected: frozenset[str] = frozenset()
    redacted: tuple[tuple[int, int], ...] = ()


class TextDetector:
    def __init__(self, nlp: Language | None, phone_regions: Sequence[str], allow_list: Sequence[str] = ()) -> None:
        """`allow_list`: words and phrases that are never PII, whatever finds them (the company's and its
        products' names, which NER takes for people or places), compared in lower case."""
        self._nlp = nlp
        self._phone_regions = tuple(phone_regions)
        self._allowed = frozenset(squash(phrase) for phrase in allow_list)
        self._policies: dict[tuple[PiiRule, ...], Policy] = {}
        self._cache: OrderedDict[tuple[TextItem, tuple[PiiRule, ...]], list[Detection]] = OrderedDict()

    def policy(self, rules: Sequence[PiiRule]) -> Policy:
        """The policy of `rules`, built once (every page of an export carries the same rules).
        Raises ValidationFailed if a rule cannot be applied."""
        key = tuple(rules)
        policy = self._policies.get(key)
        if policy is None:
            policy = self._policies[key] = build_policy(key, self._phone_regions)
        return policy

    def detect(self, items: Sequence[TextItem], rules: Sequence[PiiRule]) -> list[list[Detection]]:
        """For each item, its detections: non-overlapping, sorted by start, at least MIN_SCORE, none allowed,
        none shorter than its rule's min_length or touching a redacted span."""
        rules = tuple(rules)
        policy = self.policy(rules)
        new = [item for item in dict.fromkeys(items) if (item, rules) not in self._cache]
        ner = self._entities([item.text for item in new], policy)
        words: dict[str, tuple[str, ...]] = {}
        for recognizer in policy.recognizers:
            words[recognizer.entity_type] = words.get(recognizer.entity_type, ()) + recognizer.context_words
        for item in new:
            context = TextContext(item.expected, ner.get(item.text, ()))
            candidates = [d for r in policy.recognizers for d in r.detect(item.text, context)]
            candidates = enhance(item.text, candidates, words)
            self._cache[(item, rules)] = resolve_overlaps(
                d for d in candidates if d.score >= MIN_SCORE and policy.keeps(d, item.redacted)
                and squash(item.text[d.start : d.end]) not in self._allowed)
        found = []
        for item in items:
            self._cache.move_to_end((item, rules))
            found.append(self._cache[(item, rules)])
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return found

    @property
    def uses_ner(self) -> bool:
        return self._nlp is not None

    def _entities(self, texts: list[str], policy: Policy) -> dict[str, Entities]:
        if self._nlp is None or not policy.ner_labels:
            return {}
        worth = list(dict.fromkeys(t for t in texts if _HAS_LETTER.search(t)))
        return dict(zip(worth, entities(self._nlp, worth), strict=True))
