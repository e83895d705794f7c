"""What only the conversation shows: answers explained by the bot's question, spelled-out digits, values
split across turns, values the session repeats."""

from __future__ import annotations

from typing import Any

import pytest

from shared.messages import PiiRule, RedactionCount
from stages.sanitizer.engine import PiiEngine

from .conversation import dialogue

REDACT = [PiiRule(entity_type="ALL", action="redact")]


def texts(engine: PiiEngine, records: list[dict[str, Any]], rules: list[PiiRule] = REDACT) -> list[str]:
    sanitized, _ = engine.sanitize_records(records, rules)
    return [r["inputText"] for r in sanitized]


@pytest.mark.parametrize(
    ("question", "answer", "redacted"),
    [
        ("What's the best phone number to reach you?", "four one five, five five five, zero one four three",
         "[PHONE_NUMBER]"),
        ("Please enter the card number.", "four one one one" + " one one one one" * 3, "[CREDIT_CARD]"),
        ("What's your date of birth?", "it's 14 March 1985", "it's [DATE_OF_BIRTH]"),
        ("And your ZIP code?", "94105", "[POSTAL_CODE]"),
        ("What's your social security number?", "536221234", "[US_SSN]"),
        ("What's your IBAN?", "de89 3704 0044 0532 0130 00", "[IBAN_CODE]"),
        ("Who am I speaking with?", "my nmae is jane doe", "my nmae is [PERSON]"),
    ],
)
def test_an_answer_explained_by_the_question(engine: PiiEngine, question: str, answer: str, redacted: str) -> None:
    assert texts(engine, dialogue(("bot", question), ("user", answer.strip())))[1] == redacted


@pytest.mark.parametrize("go_on", [None, "And the rest?"])
def test_a_number_split_across_turns_is_one_value(engine: PiiEngine, go_on: str | None) -> None:
    turns = [("bot", "Which number should we call you back on?"), ("user", "it's +1 (415) 555")]
    turns += [("bot", go_on)] if go_on else []
    turns += [("user", "0143"), ("bot", "Thanks!"), ("user", "ok 2 more things")]
    records = dialogue(*turns)
    sanitized, _ = engine.sanitize_records(records, [])
    answers = [r["inputText"] for r in sanitized if r["source"] == "user"]
    whole, _ = engine.sanitize_records(dialogue(("user", "call me on +1 415 555 0143")), [])
    token = whole[0]["inputText"].removeprefix("call me on ")
    assert answers == [f"it's {token}", token, "ok 2 more things"]  # both parts: the whole number's token


def test_a_long_unrelated_turn_after_the_answer_is_not_part_of_it(engine: PiiEngine) -> None:
    records = dialogue(("bot", "What's your phone number?"), ("user", "+1 415 555 0143"),
                       # An order number is an ACCOUNT_NUMBER now; what this test needs is digits that are none.
                       ("user", "also the parcel had 4 items, total $460.99, 2 missing"))
    assert texts(engine, records)[2] == records[2]["inputText"]


def test_every_record_carries_its_summary(engine: PiiEngine) -> None:
    records = dialogue(("bot", "What's your name?"), ("user", "jane doe"), ("bot", "Thanks jane!"),
                       ("user", "mail jane@example.com"))
    rules = [PiiRule(entity_type="EMAIL_ADDRESS", action="encrypt"), PiiRule(entity_type="ALL")]
    result = engine.sanitize_page(records, rules)
    contact = RedactionCount(entity_type="CONTACT_ID", action="tokenize", count=1)
    person = RedactionCount(entity_type="PERSON", action="tokenize", count=1, rule=1)
    email = RedactionCount(entity_type="EMAIL_ADDRESS", action="encrypt", count=1, rule=0)
    assert result.per_record == [[contact], [contact, person], [contact, person], [contact, email]]
    assert result.totals == [RedactionCount(entity_type="CONTACT_ID", action="tokenize", count=4), email,
                             RedactionCount(entity_type="PERSON", action="tokenize", count=2, rule=1)]


def test_mask_with_a_visible_tail(engine: PiiEngine) -> None:
    rules = [PiiRule(entity_type="CREDIT_CARD", action="mask", keep_last=4, mask_char="#")]
    masked = texts(engine, dialogue(("user", "card 4111-1111-1111-1111 please")), rules)[0]
    assert masked == "card ###############1111 please"


def test_the_allow_list_keeps_brand_names(ner_engine: PiiEngine) -> None:
    from .conftest import KEY

    allowing = PiiEngine(KEY, "k1", model="auto", allow_list=["Acme Retail"])
    text = "Your Acme Retail order ships today, Jane Smith."
    assert "Acme Retail" not in texts(ner_engine, dialogue(("bot", text)))[0]
    assert texts(allowing, dialogue(("bot", text)))[0] == "Your Acme Retail order ships today, [PERSON]."


def test_the_bot_teaches_its_own_and_its_companys_names(ner_engine: PiiEngine) -> None:
    records = dialogue(("bot", "Thanks for contacting Acme Retail! I'm Orion, the virtual assistant."),
                       ("user", "hi orion, is Acme Retail open on sunday? this is Jane Smith"),
                       ("bot", "Yes, Jane Smith, Acme Retail opens at 10."))
    assert texts(ner_engine, records) == [
        "Thanks for contacting Acme Retail! I'm Orion, the virtual assistant.",
        "hi orion, is Acme Retail open on sunday? this is [PERSON]",
        "Yes, [PERSON], Acme Retail opens at 10."]


def test_locations_by_default_and_organisations_on_request(ner_engine: PiiEngine) -> None:
    records = dialogue(("user", "I moved from Chicago to work at Microsoft"))
    assert texts(ner_engine, records)[0] == "I moved from [LOCATION] to work at Microsoft"
    org = [PiiRule(entity_type="ORGANIZATION", action="redact")]
    sanitized, _ = ner_engine.sanitize_records(records, org)
    assert sanitized[0]["inputText"] == "I moved from Chicago to work at [ORGANIZATION]"


def test_the_string_store_does_not_grow(ner_engine: PiiEngine) -> None:
    nlp = ner_engine.analyzer._local.models.get("en")
    assert nlp is not None
    ner_engine.sanitize_records(dialogue(("user", "warm up with Jane Smith")), [])
    before = len(nlp.vocab.strings)
    for batch in range(5):
        novel = [("user", f"Zyx{batch}qw{i} met Qorvath{batch}{i} Blenkins in Plovdivia{i}") for i in range(50)]
        ner_engine.sanitize_records(dialogue(*novel), [])
    assert len(nlp.vocab.strings) == before


def test_a_question_before_the_page_break_covers_the_answer_after_it(engine: PiiEngine) -> None:
    """The records just before a page break come as context: read for the question, not sanitized or
    returned (the fetcher carries them over, see stages/fetcher/pages.py)."""
    records = dialogue(("user", "I need to change my booking"), ("bot", "Sure. What's your full name?"),
                       ("user", "jane doe"))
    before, page = records[:2], records[2:]
    assert texts(engine, page) == ["jane doe"]  # alone, a lower-case name is just two words
    result = engine.sanitize_page(page, REDACT, before)
    assert [r["inputText"] for r in result.records] == ["[PERSON]"] and len(result.per_record) == 1


@pytest.mark.parametrize(
    ("first", "second"),
    [("you can mail me at noor.h", "@example.org"), ("call me on 0176", "2345 6789"), ("the reg is KT71", "XWD")],
)
def test_a_value_typed_over_two_messages_in_a_row_is_found_in_both(engine: PiiEngine, first: str,
                                                                    second: str) -> None:
    records = dialogue(("bot", "How can I help?"), ("user", first), ("user", second))
    first_out, second_out = texts(engine, records)[1:]
    assert second_out.startswith("[") and second_out.endswith("]") and first_out.endswith("]")
    assert first_out.split("[")[0] == first[: len(first_out.split("[")[0])]  # the words before it stay
