"""CREDIT_CARD: 13 to 19 digits, contiguous or in groups split by single spaces or dashes, that pass the
Luhn check. Normalized to the digits alone. Spoken numbers ("four one one one ...") reach it typed (see
`spoken`)."""

from __future__ import annotations

import re

from stages.sanitizer.recognizers.base import Detection, TextContext

ENTITY_TYPE = "CREDIT_CARD"
SCORE = 0.9
EXPECTED_SCORE = 1.0
# A user who mistypes a card number still gives most of it away, so when a card number was asked for, a
# digit run of card length counts even if the Luhn check fails.
UNCHECKED_SCORE = 0.5
MIN_DIGITS = 13
MAX_DIGITS = 19

# A run of digit groups: the card may be any consecutive groups of it ("visa13 4222222222222",
# "4111 1111 1111 1111 2027").
_RUN = re.compile(r"(?<![\d-])\d+(?:[ -]\d+)*")
_GROUP = re.compile(r"\d+")


class CreditCardRecognizer:
    entity_type = ENTITY_TYPE
    context_words = ("card", "credit", "debit", "visa", "mastercard", "amex", "cc", "payment", "kart", "kredit",
                     "cart", "crédit", "tarjeta", "crédito", "credito", "kaart", "płat")
    ner_labels: frozenset[str] = frozenset()

    def detect(self, text: str, context: TextContext) -> list[Detection]:
        expected = ENTITY_TYPE in context.expected
        found = []
        for run in _RUN.finditer(text):
            if sum(c.isdigit() for c in run.group()) < MIN_DIGITS:
                continue
            groups = list(_GROUP.finditer(text, run.start(), run.end()))
            cards = _luhn_valid_cards(groups)
            score = EXPECTED_SCORE if expected else SCORE
            if not cards and expected:
                cards, score = _longest_card_length_run(groups), UNCHECKED_SCORE
            found += [Detection(start, end, ENTITY_TYPE, score, digits) for start, end, digits in cards]
        return found


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card_length_runs(groups: list[re.Match[str]], first: int) -> list[tuple[int, int, str]]:
    """(start, end, digits) of the consecutive groups starting at `first` that hold 13 to 19 digits,
    longest first."""
    runs = []
    digits = ""
    for group in groups[first:]:
        digits += group.group()
        if len(digits) > MAX_DIGITS:
            break
        if len(digits) >= MIN_DIGITS:
            runs.append((groups[first].start(), group.end(), digits))
    return runs[::-1]


def _luhn_valid_cards(groups: list[re.Match[str]]) -> list[tuple[int, int, str]]:
    """Left to right, the longest card-length run of groups that passes Luhn from each start."""
    cards = []
    index = 0
    while index < len(groups):
        card = next((r for r in _card_length_runs(groups, index) if _plausible(r[2])), None)
        if card is None:
            index += 1
            continue
        cards.append(card)
        while index < len(groups) and groups[index].start() < card[1]:
            index += 1
    return cards


def _longest_card_length_run(groups: list[re.Match[str]]) -> list[tuple[int, int, str]]:
    runs = [r for index in range(len(groups)) for r in _card_length_runs(groups, index)]
    return [max(runs, key=lambda r: len(r[2]))] if runs else []


def _plausible(digits: str) -> bool:
    # 0000 0000 0000 0000 passes Luhn but is a placeholder.
    return luhn_valid(digits) and len(set(digits)) > 1
