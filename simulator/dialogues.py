"""What the bot and the user say: one scripted support conversation per session.

A user turn is a sequence of parts; a part is plain text or `(value, entity_type)`, a planted piece of
PII, so its exact offsets are known once the parts are joined. The bot asks for the data the user
then gives, which puts each value in context the way real transcripts do. Order numbers, quantities,
prices and dates are plain text on purpose: detectors must leave them alone.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from simulator.pii_values import Persona
from simulator.vocabulary import MONTHS, PRODUCTS

EntityType = Literal["PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "STREET_ADDRESS"]
Part = str | tuple[str, EntityType]
Utterance = tuple[Part, ...]


@dataclass(frozen=True)
class Turn:
    source: Literal["bot", "user"]
    parts: Utterance
    flow: str


@dataclass(frozen=True)
class _Topic:
    flow: str
    intent: Utterance
    steps: list[tuple[str, Utterance]]  # (bot asks, user answers)
    confirmation: str


GREETINGS = (
    "Hi! I'm the Acme Retail virtual assistant. How can I help you today?",
    "Hello and welcome to Acme Retail. What can I do for you?",
    "Hi there! Ask me about orders, returns or payments.",
)
THANKS = ("great, thanks", "perfect, thank you!", "ok", "thanks a lot")
ANYTHING_ELSE = "Is there anything else I can help you with?"
CLOSINGS = ("Thanks for contacting Acme Retail. Have a great day!", "Glad I could help. Goodbye!")
SIDE_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("Do you ship to Canada?", "Yes, we ship to Canada and the UK."),
    ("What are your opening hours on Sunday?", "Our stores are open 10am to 6pm on Sundays."),
    ("can I pay with PayPal?", "Yes, PayPal is accepted at checkout."),
    ("how long do refunds take?", "Refunds reach your account within 5-7 business days."),
    ("I need 12 more of the same item, is there a bulk discount?", "Orders of 10 or more items get 10% off."),
)

NAME_QUESTIONS = (
    "What's your name?",
    "May I have your full name, please?",
    "Who am I speaking with?",
    "Could you tell me your name?",
)
EMAIL_QUESTIONS = (
    "Could you give me your email address?",
    "What's the email address on your account?",
    "Which email should I send the confirmation to?",
)
PHONE_QUESTIONS = (
    "What's the best phone number to reach you?",
    "Could you confirm a phone number for the courier?",
    "Which number should we call you back on?",
)
CARD_QUESTIONS = ("Please enter the card number you'd like to use.", "What's the number of the new card?")
ADDRESS_QUESTIONS = (
    "What's the new delivery address?",
    "Where should we ship it?",
    "Can you confirm your shipping address?",
)


def script_conversation(rng: random.Random, persona: Persona, day: date, turns: int) -> list[Turn]:
    """Exactly `turns` (4 to 12) turns, alternating bot and user, starting with the bot's greeting."""
    if not 4 <= turns <= 12:
        raise ValueError(f"turns must be between 4 and 12, got {turns}")
    topic = _pick_topic(rng, persona, day)
    script = [Turn("bot", (rng.choice(GREETINGS),), "Main"), Turn("user", topic.intent, "Main")]
    for question, answer in topic.steps:
        script += [Turn("bot", (question,), topic.flow), Turn("user", answer, topic.flow)]
    script.append(Turn("bot", (topic.confirmation,), topic.flow))
    script.append(Turn("user", (rng.choice(THANKS),), topic.flow))
    script.append(Turn("bot", (ANYTHING_ELSE,), "Main"))
    # Asked in a random order, each at most once: enough for any length up to 12 turns.
    for side_question, reply in rng.sample(SIDE_QUESTIONS, k=len(SIDE_QUESTIONS)):
        script.append(Turn("user", (side_question,), "Main"))
        script.append(Turn("bot", (f"{reply} {ANYTHING_ELSE}",), "Main"))
    script = script[:turns]
    if script[-1].source == "bot":
        # A conversation cut after a bot question would leave it unanswered; real ones end on a goodbye.
        script[-1] = Turn("bot", (rng.choice(CLOSINGS),), "Main")
    return script


def _pick_topic(rng: random.Random, persona: Persona, day: date) -> _Topic:
    builders: list[tuple[Callable[[random.Random, Persona, date], _Topic], int]] = [
        (_order_status, 3),
        (_product_question, 3),
        (_store_hours, 2),
        (_return_item, 2),
        (_update_card, 1),
        (_change_address, 1),
        (_callback, 1),
        (_account_access, 1),
    ]
    builder = rng.choices([b for b, _ in builders], weights=[w for _, w in builders])[0]
    return builder(rng, persona, day)


def _order_status(rng: random.Random, persona: Persona, day: date) -> _Topic:
    order = _order_number(rng)
    order_answer: Utterance = rng.choice(((f"it's {order}",), (f"order #{order}",), (order,)))
    intent = rng.choice((
        ("Where is my order?",),
        (f"I want to check on order {order}",),
        (f"my order from {_spoken_date(rng, day - timedelta(days=rng.randint(3, 20)))} hasn't arrived yet",),
    ))
    shipped = _spoken_date(rng, day - timedelta(days=rng.randint(1, 2)))
    return _Topic(
        flow="Orders",
        intent=intent,
        steps=[
            ("Sure. What's the order number?", order_answer),
            (rng.choice(EMAIL_QUESTIONS), _email_answer(rng, persona)),
        ],
        confirmation=f"Thanks! Order {order} shipped on {shipped} and should arrive in 2-3 business days.",
    )


def _return_item(rng: random.Random, persona: Persona, day: date) -> _Topic:
    ordered = rng.randint(2, 6)
    product = rng.choice(PRODUCTS)
    bought = _spoken_date(rng, day - timedelta(days=rng.randint(3, 25)))
    return _Topic(
        flow="Orders",
        intent=(f"I want to return {ordered - 1} of the {ordered} {product} I ordered on {bought}",),
        steps=[
            ("Sorry to hear that. What's the order number?", (f"order no. {_order_number(rng)}",)),
            (rng.choice(EMAIL_QUESTIONS), _email_answer(rng, persona)),
        ],
        confirmation="I've emailed you a prepaid return label.",
    )


def _update_card(rng: random.Random, persona: Persona, day: date) -> _Topic:
    last_four = "".join(c for c in persona.card if c.isdigit())[-4:]
    return _Topic(
        flow="Payments",
        intent=rng.choice((("My payment keeps failing",), ("I want to update my card",))),
        steps=[
            (rng.choice(NAME_QUESTIONS), _name_answer(rng, persona)),
            (rng.choice(CARD_QUESTIONS), _card_answer(rng, persona)),
        ],
        # The last four digits alone are not a card number: a look-alike detectors must not flag.
        confirmation=f"Thanks, the card ending in {last_four} has been saved.",
    )


def _change_address(rng: random.Random, persona: Persona, day: date) -> _Topic:
    return _Topic(
        flow="Account",
        intent=rng.choice((
            ("I need to change my delivery address",),
            (f"I moved, can you update the address for order {_order_number(rng)}?",),
        )),
        steps=[
            (rng.choice(NAME_QUESTIONS), _name_answer(rng, persona)),
            (rng.choice(ADDRESS_QUESTIONS), _address_answer(rng, persona)),
            (rng.choice(PHONE_QUESTIONS), _phone_answer(rng, persona)),
        ],
        confirmation="Done! The courier will use the new address.",
    )


def _callback(rng: random.Random, persona: Persona, day: date) -> _Topic:
    return _Topic(
        flow="Main",
        intent=rng.choice((("Can someone call me back?",), ("I'd rather talk to someone on the phone",))),
        steps=[
            (rng.choice(NAME_QUESTIONS), _name_answer(rng, persona)),
            (rng.choice(PHONE_QUESTIONS), _phone_answer(rng, persona)),
        ],
        confirmation="A colleague will call you within 24 hours.",
    )


def _account_access(rng: random.Random, persona: Persona, day: date) -> _Topic:
    return _Topic(
        flow="Account",
        intent=rng.choice((("I can't log in to my account",), ("I forgot my password",))),
        steps=[
            (rng.choice(EMAIL_QUESTIONS), _email_answer(rng, persona)),
            ("For verification, " + rng.choice(NAME_QUESTIONS).lower(), _name_answer(rng, persona)),
        ],
        confirmation="I've sent a password reset link to your inbox.",
    )


def _product_question(rng: random.Random, persona: Persona, day: date) -> _Topic:
    product = rng.choice(PRODUCTS)
    wanted = rng.randint(2, 15)
    price = f"{wanted * rng.randint(9, 120)}.{rng.choice(('00', '49', '99'))}"
    return _Topic(
        flow="Main",
        intent=(f"Are the {product} on page {rng.randint(12, 96)} of the catalog still available?",),
        steps=[
            ("Which color are you looking for?", (rng.choice(("the blue one", "black", "any color")),)),
            ("How many would you like?", (f"{wanted}, please",)),
        ],
        confirmation=f"Good news: {wanted} are in stock. The total is ${price}.",
    )


def _store_hours(rng: random.Random, persona: Persona, day: date) -> _Topic:
    return _Topic(
        flow="Main",
        intent=("What time does the Springfield store close?",),
        steps=[("Is that for today?", (rng.choice(("yes, today", f"no, for {MONTHS[day.month - 1]} 24")),))],
        confirmation="The Springfield store on Main Street closes at 9pm.",
    )


def _name_answer(rng: random.Random, persona: Persona) -> Utterance:
    full = f"{persona.first_name} {persona.last_name}"
    return rng.choice((
        ("My name is ", (full, "PERSON")),
        ("this is ", (full.lower(), "PERSON")),
        ((full, "PERSON"),),
        ("It's ", (full, "PERSON"), "."),
        ("I'm ", (persona.first_name, "PERSON")),
        ((full.lower(), "PERSON"), " here"),
    ))


def _email_answer(rng: random.Random, persona: Persona) -> Utterance:
    email: Part = (persona.email, "EMAIL_ADDRESS")
    return rng.choice((
        ("sure, ", email),
        (email,),
        ("it's ", email),
        ("you can reach me at ", email),
        ("My email is ", email, " thanks"),
    ))


def _phone_answer(rng: random.Random, persona: Persona) -> Utterance:
    phone: Part = (persona.phone, "PHONE_NUMBER")
    return rng.choice((
        ("call me at ", phone),
        (phone,),
        ("my number is ", phone),
        ("it's ", phone, ", after 5pm is best"),
    ))


def _card_answer(rng: random.Random, persona: Persona) -> Utterance:
    card: Part = (persona.card, "CREDIT_CARD")
    expiry = f"{rng.randint(1, 12):02d}/{rng.randint(26, 31)}"
    return rng.choice(((card,), ("card number is ", card), ("here you go: ", card, f" exp {expiry}")))


def _address_answer(rng: random.Random, persona: Persona) -> Utterance:
    address: Part = (persona.address, "STREET_ADDRESS")
    return rng.choice((
        ("It's ", address),
        (address,),
        ("please ship to ", address),
        ("my new address is ", address),
        ("I moved to ", address, " last month"),
    ))


def _order_number(rng: random.Random) -> str:
    return f"{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"


def _spoken_date(rng: random.Random, day: date) -> str:
    return rng.choice((f"{MONTHS[day.month - 1]} {day.day}", day.isoformat(), f"{day.month}/{day.day}"))
