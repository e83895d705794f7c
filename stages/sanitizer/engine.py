"""The PII engine: finds PII in the texts of a batch of Cognigy records and replaces it per PiiRules.

One call handles a whole page: every text goes through NER in one `nlp.pipe` run, identical texts (bot
prompts repeat in every session) are analysed once, and context is read across the page's sessions.
Nothing here logs a text or a value.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from shared.messages import PiiAction, PiiRule, RedactionCount
from stages.sanitizer.actions import Pseudonymizer, resolve_overlaps
from stages.sanitizer.already_redacted import blank, is_redacted, overlaps, redacted_spans
from stages.sanitizer.context import expected_types, key_types
from stages.sanitizer.echoes import Echoes
from stages.sanitizer.fields import Leaf, Path, text_leaves, with_texts
from stages.sanitizer.ner import AUTO, Entities, entities, load_ner
from stages.sanitizer.policy import Policy, build_policy
from stages.sanitizer.recognizers.base import Detection, TextContext
from stages.sanitizer.recognizers.registry import NER_ENTITY_TYPES

CONTACT_ID = "CONTACT_ID"
_HAS_LETTER = re.compile(r"[^\W\d_]")
_NOTHING: frozenset[str] = frozenset()


class _Text(msgspec.Struct, frozen=True):
    """One text leaf of one record, as the recognizers see it."""

    record: int
    leaf: Leaf
    scanned: str  # the text with already-redacted spans blanked
    redacted: list[tuple[int, int]]
    expected: frozenset[str]


class PiiEngine:
    def __init__(self, key: bytes, key_id: str, model: str = AUTO) -> None:
        """`key`: the secret for tokens and encryption (at least 16 bytes); `key_id`: its name in tokens;
        `model`: "auto", "none" or a spaCy package name (see `ner.load_ner`)."""
        self._pseudonymizer = Pseudonymizer(key, key_id)
        self._nlp = load_ner(model)
        self._policies: dict[tuple[PiiRule, ...], Policy] = {}

    @property
    def uses_ner(self) -> bool:
        return self._nlp is not None

    def sanitize_records(
        self, records: list[dict[str, Any]], rules: list[PiiRule]
    ) -> tuple[list[dict[str, Any]], list[RedactionCount]]:
        """New records, in the same order, with PII replaced per `rules` (see `policy`) and `contactId`
        always tokenized; and how many values of each type got each action. `records` are left as they are.
        Raises ValidationFailed if a rule cannot be applied."""
        policy = self._policy(rules)
        texts = _texts(records)
        found = self._detect(texts, policy)
        found = _with_echoes(records, texts, found, policy)
        counts: Counter[tuple[str, PiiAction]] = Counter()
        replaced: defaultdict[int, dict[Path, str]] = defaultdict(dict)
        for text, detections in zip(texts, found, strict=True):
            if detections:
                replaced[text.record][text.leaf.path] = self._pseudonymizer.rewrite(
                    text.leaf.text, detections, policy.actions)
                counts.update((d.entity_type, policy.actions[d.entity_type]) for d in detections)
        sanitized = []
        for index, record in enumerate(records):
            copy = with_texts(record, replaced.get(index, {}))
            contact = record.get("contactId")
            if contact is not None and contact != "" and not is_redacted(str(contact)):
                copy["contactId"] = self._pseudonymizer.token(CONTACT_ID, str(contact))
                counts[(CONTACT_ID, "tokenize")] += 1
            sanitized.append(copy)
        summary = [RedactionCount(entity_type=t, action=a, count=n) for (t, a), n in sorted(counts.items())]
        return sanitized, summary

    def _policy(self, rules: Sequence[PiiRule]) -> Policy:
        # Every page of an export carries the same rules: build their recognizers once.
        key = tuple(rules)
        policy = self._policies.get(key)
        if policy is None:
            policy = self._policies[key] = build_policy(key)
        return policy

    def _detect(self, texts: list[_Text], policy: Policy) -> list[list[Detection]]:
        """The detections of each text, non-overlapping, those shorter than their type's min_length or on
        already-redacted spans left out."""
        analysed: dict[tuple[str, frozenset[str]], list[Detection]] = {}
        ner = self._entities(list({t.scanned for t in texts}), policy)
        found = []
        for text in texts:
            key = (text.scanned, text.expected)
            detections = analysed.get(key)
            if detections is None:
                context = TextContext(text.expected, ner.get(text.scanned, ()))
                detections = [d for r in policy.recognizers for d in r.detect(text.scanned, context)]
                analysed[key] = detections
            found.append(resolve_overlaps(_kept(detections, text, policy)))
        return found

    def _entities(self, texts: list[str], policy: Policy) -> dict[str, Entities]:
        if self._nlp is None or not any(r.entity_type in NER_ENTITY_TYPES for r in policy.recognizers):
            return {}
        worth = [t for t in texts if _HAS_LETTER.search(t)]
        return dict(zip(worth, entities(self._nlp, worth), strict=True))


def _texts(records: Sequence[Mapping[str, Any]]) -> list[_Text]:
    asked = expected_types(records)
    texts = []
    for index, record in enumerate(records):
        for leaf in text_leaves(record):
            if leaf.key is not None:
                expected = key_types(leaf.key)
            elif leaf.path == ("inputText",):
                expected = asked[index]
            else:
                expected = _NOTHING
            spans = redacted_spans(leaf.text)
            texts.append(_Text(index, leaf, blank(leaf.text, spans), spans, expected))
    return texts


def _kept(detections: list[Detection], text: _Text, policy: Policy) -> list[Detection]:
    return [
        d
        for d in detections
        if d.length >= policy.min_lengths.get(d.entity_type, 0)
        and not overlaps(d.start, d.end, text.redacted)
    ]


def _with_echoes(
    records: Sequence[Mapping[str, Any]], texts: list[_Text], found: list[list[Detection]], policy: Policy
) -> list[list[Detection]]:
    by_session: defaultdict[Any, list[int]] = defaultdict(list)
    for position, text in enumerate(texts):
        by_session[records[text.record].get("sessionId")].append(position)
    result = list(found)
    for positions in by_session.values():
        echoes = Echoes((texts[p].leaf.text, d) for p in positions for d in found[p])
        for p in positions:
            extra = _kept(echoes.find(texts[p].scanned), texts[p], policy)
            if extra:
                result[p] = resolve_overlaps([*found[p], *extra])
    return result
