"""What an export's PiiRules mean: which entity types are looked for, and what happens to each.

- No rules: every built-in type is tokenized.
- A rule names one type, or "ALL" for every built-in type no rule names. For a type named by several
  rules, the first one counts; a type no rule names, with no "ALL" rule, is left as it is.
- `min_length`: detections shorter than it (in characters of the original text) are left as they are.
- `pattern`: a regular expression that finds more of the rule's type; with a type that is not built in,
  it defines a custom type (its name becomes part of tokens, so upper-case letters, digits and `_`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from shared.errors import ValidationFailed
from shared.messages import PiiAction, PiiRule
from stages.sanitizer.recognizers.base import Recognizer
from stages.sanitizer.recognizers.registry import ENTITY_TYPES, build_recognizers

ALL = "ALL"
_TYPE_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
# The pattern runs over every text of an export; a long one is more likely a mistake than a need.
MAX_PATTERN_CHARS = 500


@dataclass(frozen=True)
class Policy:
    actions: dict[str, PiiAction]
    min_lengths: dict[str, int]
    recognizers: list[Recognizer]


DEFAULT_RULES = (PiiRule(entity_type=ALL, action="tokenize"),)


def build_policy(rules: Sequence[PiiRule]) -> Policy:
    """Raises ValidationFailed, naming each bad rule, if a rule cannot be applied."""
    rules = tuple(rules) or DEFAULT_RULES
    _check(rules)
    governing: dict[str, PiiRule] = {}
    for rule in rules:
        governing.setdefault(rule.entity_type, rule)
    catch_all = governing.pop(ALL, None)
    if catch_all is not None:
        for entity_type in ENTITY_TYPES:
            governing.setdefault(entity_type, catch_all)
    patterns = [(rule.entity_type, re.compile(rule.pattern)) for rule in rules if rule.pattern]
    return Policy(
        actions={name: rule.action for name, rule in governing.items()},
        min_lengths={name: rule.min_length for name, rule in governing.items() if rule.min_length > 0},
        recognizers=build_recognizers(governing, patterns),
    )


def _check(rules: Sequence[PiiRule]) -> None:
    problems: list[dict[str, str]] = []
    for index, rule in enumerate(rules):
        field = f"pii_rules[{index}]"
        for part, problem in _problems(rule):
            problems.append({"field": f"{field}.{part}", "problem": problem})
    if problems:
        raise ValidationFailed(problems)


def _problems(rule: PiiRule) -> list[tuple[str, str]]:
    """(field, problem) for each thing wrong with one rule."""
    problems = []
    if rule.min_length < 0:
        problems.append(("min_length", "must not be negative"))
    if rule.pattern is None:
        if rule.entity_type not in ENTITY_TYPES and rule.entity_type != ALL:
            known = ", ".join((*ENTITY_TYPES, ALL))
            problems.append(("entity_type", f"unknown type {rule.entity_type!r} (known: {known}); "
                                            "a custom type needs a pattern"))
    elif rule.entity_type == ALL:
        problems.append(("pattern", "a pattern finds one type, not ALL"))
    elif not _TYPE_NAME.fullmatch(rule.entity_type):
        problems.append(("entity_type", "a custom type name is upper-case letters, digits and _"))
    elif len(rule.pattern) > MAX_PATTERN_CHARS:
        problems.append(("pattern", f"over {MAX_PATTERN_CHARS} characters"))
    else:
        try:
            re.compile(rule.pattern)
        except re.error as exc:
            problems.append(("pattern", f"invalid regular expression: {exc}"))
    return problems
