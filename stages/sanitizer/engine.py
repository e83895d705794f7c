"""The PII engine: finds PII in a page of Cognigy records (`analyzer`) and replaces it per the export's
PiiRules (`actions`), counting what it replaced per record and per page. The contactId is always
tokenized. Nothing here logs a text or a value, and counts never hold one."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from shared.errors import ConfigError
from shared.messages import PiiAction, PiiRule, RedactionCount
from shared.settings import Settings, env_name
from stages.sanitizer.actions import Pseudonymizer
from stages.sanitizer.already_redacted import is_redacted
from stages.sanitizer.analyzer import PiiAnalyzer
from stages.sanitizer.fields import CONTACT_ID, Path, with_texts
from stages.sanitizer.language import LANGUAGES, LanguageGuesser
from stages.sanitizer.ner import AUTO, NerRunner
from stages.sanitizer.pool import worker_count
from stages.sanitizer.recognizers.phone import DEFAULT_REGIONS

_Key = tuple[str, PiiAction, int | None]  # entity type, action, rule index


class SanitizedRecords(msgspec.Struct, frozen=True):
    records: list[dict[str, Any]]
    per_record: list[list[RedactionCount]]  # in the order of `records`
    totals: list[RedactionCount]


class PiiEngine:
    def __init__(self, key: bytes, key_id: str, model: str = AUTO, workers: int = 1,
                 phone_regions: Sequence[str] = DEFAULT_REGIONS, allow_list: Sequence[str] = (),
                 languages: Sequence[str] = LANGUAGES, bare_answers: bool = True, ner: NerRunner | None = None) -> None:
        """`key`: the secret for tokens and encryption (at least 16 bytes); `key_id`: its name in tokens;
        `model`: "auto", "none" or spaCy packages (see `ner.resolve_models`); `workers`: processes that
        find PII (1: this process); `phone_regions`: where numbers without a country code are read;
        `allow_list`: words and phrases that are never PII; `languages`: those conversations may be in;
        `bare_answers`: see `recognizers.answer`; `ner`: see `PiiAnalyzer`."""
        self._pseudonymizer = Pseudonymizer(key, key_id)
        self.analyzer = PiiAnalyzer(model, workers, phone_regions, allow_list, languages, bare_answers, ner)

    @classmethod
    def from_settings(cls, settings: Settings, key: bytes, key_id: str | None = None, model: str | None = None,
                      workers: int | None = None, ner: NerRunner | None = None) -> PiiEngine:
        """The engine the settings describe; the arguments given override them. Raises ConfigError."""
        try:
            languages = LanguageGuesser(settings.pii.language_list).languages
        except ValueError as exc:
            raise ConfigError(f"{env_name('pii.languages')}: {exc}") from None
        return cls(key, key_id or settings.pii.tokenization_key_id, model or settings.pii.spacy_model,
                   worker_count(settings.pii.workers if workers is None else workers),
                   settings.pii.phone_region_list, settings.pii.allow_phrases, languages, settings.pii.bare_answers,
                   ner)

    @property
    def uses_ner(self) -> bool:
        return self.analyzer.uses_ner

    def sanitize_page(self, records: list[dict[str, Any]], rules: Sequence[PiiRule],
                      context: Sequence[Mapping[str, Any]] = ()) -> SanitizedRecords:
        """New records, in the same order, with PII replaced per `rules` (see `policy`) and `contactId`
        always tokenized, and how many values of each type got each action, per record and in all.
        `records` are left as they are. `context`: the records just before these (the end of the previous
        page), read only for what the conversation asked for. Raises ValidationFailed if a rule cannot be
        applied."""
        policy = self.analyzer.policy(rules)
        counts: list[Counter[_Key]] = [Counter() for _ in records]
        replaced: defaultdict[int, dict[Path, str]] = defaultdict(dict)
        for finding in self.analyzer.analyze_records(records, rules, context):
            if finding.detections:
                replaced[finding.record][finding.leaf.path] = self._pseudonymizer.rewrite(
                    finding.leaf.text, finding.detections, policy.rules)
                counts[finding.record].update(
                    (d.entity_type, policy.rules[d.entity_type].action, policy.rule_index[d.entity_type])
                    for d in finding.detections)
        sanitized = []
        for index, record in enumerate(records):
            copy = with_texts(record, replaced.get(index, {}))
            contact = record.get("contactId")
            if contact is not None and contact != "" and not is_redacted(str(contact)):
                copy["contactId"] = self._pseudonymizer.token(CONTACT_ID, str(contact))
                counts[index][(CONTACT_ID, "tokenize", None)] += 1
            sanitized.append(copy)
        return SanitizedRecords(sanitized, [_summary(c) for c in counts], _summary(sum(counts, Counter())))

    def sanitize_records(
        self, records: list[dict[str, Any]], rules: Sequence[PiiRule]
    ) -> tuple[list[dict[str, Any]], list[RedactionCount]]:
        """`sanitize_page` without the per-record counts."""
        result = self.sanitize_page(records, rules)
        return result.records, result.totals

    def close(self) -> None:
        """Stops the worker processes, if any."""
        self.analyzer.close()


def _summary(counts: Counter[_Key]) -> list[RedactionCount]:
    return [RedactionCount(entity_type=t, action=a, count=n, rule=r)
            for (t, a, r), n in sorted(counts.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] or -1))]
