"""What an export's PiiRules mean: which entity types are looked for, and what happens to each.

- No rules: every built-in type but the opt-in ones (ORGANIZATION) is tokenized.
- A rule names one type, or "ALL" for every built-in type no rule names (opt-in types excepted). For a
  type named by several rules, the first one counts; a type no rule names, with no "ALL" rule, is left as
  it is.
- `min_length`: detections shorter than it (in characters of the original text) are left as they are.
- `mask_char`, `keep_last`: for `mask`, the character that replaces each masked one and how many
  trailing letters and digits stay visible (4 shows the last four digits of a card).
- `pattern`: a regular expression that finds more of the rule's type; with a type that is not built in,
  it defines a custom type (its name becomes part of tokens, so upper-case letters, digits and `_`).
  It is checked, and runs with a time limit per text (see `shared.user_patterns`).
- `ner_labels`: spaCy NER labels whose entities are of the rule's type: a custom type (e.g. "EVENT_NAME"
  from ["EVENT"]) or other labels for a built-in NER type (LOCATION from ["GPE"] only).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from shared.errors import ValidationFailed
from shared.messages import PiiAction, PiiRule
from shared.user_patterns import MATCH_SECONDS, UserPattern, pattern_problem
from stages.sanitizer.recognizers.answer import AnswerRecognizer
from stages.sanitizer.recognizers.base import Detection, Recognizer
from stages.sanitizer.recognizers.phone import DEFAULT_REGIONS
from stages.sanitizer.recognizers.registry import (
    DEFAULT_NER_LABELS,
    ENTITY_TYPES,
    NER_LABELS,
    OPT_IN_TYPES,
    build_recognizers,
)

ALL = "ALL"
_TYPE_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
DEFAULT_RULES = (PiiRule(entity_type=ALL, action="tokenize"),)


@dataclass(frozen=True)
class Policy:
    rules: dict[str, PiiRule]  # entity type -> the rule that governs it
    rule_index: dict[str, int | None]  # entity type -> that rule's index in the export's rules (None: default)
    recognizers: list[Recognizer]
    answers: AnswerRecognizer | None = None  # what a short answer to a question holds (see its module)

    @property
    def actions(self) -> dict[str, PiiAction]:
        return {name: rule.action for name, rule in self.rules.items()}

    @property
    def min_lengths(self) -> dict[str, int]:
        return {name: rule.min_length for name, rule in self.rules.items() if rule.min_length > 0}

    @property
    def ner_labels(self) -> frozenset[str]:
        """The NER labels some recognizer reads: without any, the model need not run."""
        return frozenset().union(*(r.ner_labels for r in self.recognizers))

    def keeps(self, detection: Detection, redacted: Sequence[tuple[int, int]]) -> bool:
        """False for detections shorter than their rule's min_length or touching an already-redacted span."""
        if detection.length < self.rules[detection.entity_type].min_length:
            return False
        return not any(detection.start < end and start < detection.end for start, end in redacted)


def build_policy(rules: Sequence[PiiRule], phone_regions: Sequence[str] = DEFAULT_REGIONS,
                 bare_answers: bool = True, pattern_seconds: float = MATCH_SECONDS) -> Policy:
    """`bare_answers`: see `recognizers.answer`; `pattern_seconds`: the time limit of each rule's pattern on
    one text (over it, detection raises PatternTimeout). Raises ValidationFailed, naming each bad rule, if a
    rule cannot be applied."""
    given = bool(rules)
    rules = tuple(rules) or DEFAULT_RULES
    _check(rules)
    governing: dict[str, int] = {}
    for index, rule in enumerate(rules):
        governing.setdefault(rule.entity_type, index)
    catch_all = governing.pop(ALL, None)
    if catch_all is not None:
        for entity_type in ENTITY_TYPES:
            if entity_type not in OPT_IN_TYPES:
                governing.setdefault(entity_type, catch_all)
    patterns = [(rule.entity_type, UserPattern(rule.pattern, f"pii_rules[{index}].pattern", pattern_seconds))
                for index, rule in enumerate(rules) if rule.pattern]
    ner_labels = {rule.entity_type: rule.ner_labels for rule in rules if rule.ner_labels}
    return Policy(
        rules={name: rules[index] for name, index in governing.items()},
        rule_index={name: index if given else None for name, index in governing.items()},
        recognizers=build_recognizers(list(governing), patterns, ner_labels, phone_regions),
        answers=AnswerRecognizer(governing) if bare_answers else None,
    )


def _check(rules: Sequence[PiiRule]) -> None:
    problems: list[dict[str, str]] = []
    for index, rule in enumerate(rules):
        for part, problem in _problems(rule):
            problems.append({"field": f"pii_rules[{index}].{part}", "problem": problem})
    if problems:
        raise ValidationFailed(problems, "PII rules")


def _problems(rule: PiiRule) -> list[tuple[str, str]]:
    """(field, problem) for each thing wrong with one rule."""
    problems = []
    if rule.min_length < 0:
        problems.append(("min_length", "must not be negative"))
    if len(rule.mask_char) != 1 or rule.mask_char.isspace() or rule.mask_char.isdigit():
        problems.append(("mask_char", "must be one character, not a space or a digit"))
    if rule.keep_last < 0:
        problems.append(("keep_last", "must not be negative"))
    elif rule.keep_last and rule.action != "mask":
        problems.append(("keep_last", "applies to the mask action only"))
    custom = rule.entity_type not in ENTITY_TYPES and rule.entity_type != ALL
    if rule.entity_type == ALL and (rule.pattern or rule.ner_labels):
        problems.append(("pattern" if rule.pattern else "ner_labels", "finds one type, not ALL"))
    elif custom and not _TYPE_NAME.fullmatch(rule.entity_type):
        problems.append(("entity_type", "a custom type name is upper-case letters, digits and _"))
    elif custom and not (rule.pattern or rule.ner_labels):
        known = ", ".join((*ENTITY_TYPES, ALL))
        problems.append(("entity_type", f"unknown type {rule.entity_type!r} (known: {known}); "
                                        "a custom type needs a pattern or ner_labels"))
    unknown = sorted(set(rule.ner_labels) - NER_LABELS)
    if unknown:
        known = ", ".join(sorted(NER_LABELS))
        problems.append(("ner_labels", f"unknown label(s) {', '.join(unknown)} (known: {known})"))
    elif rule.ner_labels and rule.entity_type in ENTITY_TYPES and rule.entity_type not in DEFAULT_NER_LABELS:
        problems.append(("ner_labels", f"{rule.entity_type} is not found by NER; use a custom type name"))
    pattern = None if rule.pattern is None else pattern_problem(rule.pattern)
    if pattern is not None:
        problems.append(("pattern", pattern))
    return problems
