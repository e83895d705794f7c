"""A labeled corpus of synthetic support chats: seeded Faker values planted in multi-turn transcripts with
their exact character spans, shaped like Cognigy records (one record per turn).

It holds what sentence sets lack: answers that only the bot's question explains ("jane doe" after
"What's your name?"), lower-case names, spelled-out digits, numbers split over two turns, typos (a
mistyped card number, misspelled words around values), values the bot repeats, values in free text with
no question before them, and look-alikes that are not PII (order dates, prices, times, versions, log lines,
the last four digits of a card, store and product names). Order and tracking numbers point to one customer
(and a tracking number to a named recipient's address): they are ACCOUNT_NUMBER, as in the dev set's rules."""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import phonenumbers
from faker import Faker

Part = str | tuple[str, str]  # plain text, or (value, entity type)


class Span(msgspec.Struct, frozen=True):
    start: int
    end: int
    entity_type: str


class LabeledRecord(msgspec.Struct, frozen=True):
    """A Cognigy record and the PII in its inputText."""

    record: dict[str, Any]
    spans: list[Span]

    @property
    def text(self) -> str:
        text: str = self.record["inputText"]
        return text


ENTITY_TYPES = (
    "PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS",
    "CREDENTIAL_URL", "STREET_ADDRESS", "POSTAL_CODE", "DATE_OF_BIRTH", "LOCATION", "ACCOUNT_NUMBER",
)
ALLOW_LIST = ("Acme Retail",)
"""The company's own name, in every greeting: a deployment lists it in CA_PII_ALLOW_LIST, and every
engine scored on this corpus is given it (Presidio's `allow_list`)."""
VALIDATED_TYPES = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS")
"""Types whose recognizers are backed by a validator (syntax, libphonenumber, Luhn, mod-97, SSA ranges,
`ipaddress`): recall on them must be complete."""

_START = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_PHONE_LOCALES = {"en_US": "US", "en_GB": "GB", "de_DE": "DE", "fr_FR": "FR"}


class _Conversation:
    """Turns of one session; each turn is built from parts, so the spans of planted values are exact."""

    def __init__(self, session: str, start: datetime) -> None:
        self.session = session
        self.start = start
        self.records: list[LabeledRecord] = []

    def say(self, source: str, *parts: Part) -> None:
        text = ""
        spans = []
        for part in parts:
            if isinstance(part, str):
                text += part
            else:
                value, entity_type = part
                spans.append(Span(len(text), len(text) + len(value), entity_type))
                text += value
        index = len(self.records)
        record = {
            "id": f"{self.session}-{index:03d}",
            "sessionId": self.session,
            "source": source,
            "type": "input" if source == "user" else "output",
            "inputText": text,
            "timestamp": (self.start + timedelta(seconds=20 * index)).isoformat().replace("+00:00", "Z"),
        }
        self.records.append(LabeledRecord(record, spans))

    def bot(self, *parts: Part) -> None:
        self.say("bot", *parts)

    def user(self, *parts: Part) -> None:
        self.say("user", *parts)


class _Persona(msgspec.Struct, frozen=True):
    first: str
    last: str
    email: str
    phone: str
    phone_region: str
    card: str
    iban: str
    ssn: str
    street: str
    city: str
    state: str
    zip_code: str
    birth: date


def generate(conversations: int, seed: int = 20261005) -> list[LabeledRecord]:
    """`conversations` chats (6 to 20 turns each), the same for the same seed."""
    rng = random.Random(seed)
    fakers = {locale: Faker(locale) for locale in (*_PHONE_LOCALES, "nl_NL")}
    for offset, faker in enumerate(fakers.values()):
        faker.seed_instance(seed + offset)
    records: list[LabeledRecord] = []
    for number in range(conversations):
        chat = _Conversation(f"session-{seed}-{number:05d}", _START + timedelta(minutes=7 * number))
        persona = _persona(rng, fakers)
        chat.bot(rng.choice(_GREETINGS))
        chat.user(*_intent(rng, fakers["en_US"]))
        for topic in rng.sample(_TOPICS, k=rng.randint(2, 4)):
            topic(chat, rng, persona, fakers["en_US"])
        if rng.random() < 0.5:
            chat.user(*rng.choice(_ASIDES)(rng, persona, fakers["en_US"]))
            chat.bot(rng.choice(_ACKNOWLEDGEMENTS))
        chat.bot("Is there anything else I can help you with?")
        chat.user(rng.choice(("no thanks, bye", "that's all", "nope, thx!", "no")))
        chat.bot(rng.choice(("Thanks for contacting Acme Retail. Have a great day!", "Glad I could help. Goodbye!")))
        records += chat.records
    return records


def _persona(rng: random.Random, fakers: dict[str, Faker]) -> _Persona:
    us = fakers["en_US"]
    locale = rng.choices(list(_PHONE_LOCALES), weights=(6, 2, 1, 1))[0]
    phone = _valid_phone(fakers[locale], _PHONE_LOCALES[locale])
    first, last = us.first_name(), us.last_name()
    local = rng.choice((f"{first}.{last}", f"{first[0]}{last}", f"{first}{rng.randint(1, 99)}", f"{first}_{last}"))
    return _Persona(
        first=first, last=last, email=f"{local.lower()}@{us.free_email_domain()}", phone=phone,
        phone_region=_PHONE_LOCALES[locale], card=_card(rng, us), iban=_iban(rng, fakers), ssn=us.ssn(),
        street=us.street_address(), city=us.city(), state=us.state_abbr(include_territories=False),
        zip_code=us.zipcode(), birth=us.date_of_birth(minimum_age=18, maximum_age=85),
    )


def _valid_phone(faker: Faker, region: str) -> str:
    """A phone number as the locale writes it that libphonenumber takes as valid, without an extension."""
    while True:
        text = faker.phone_number()
        if "x" in text.lower():
            continue
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(text, region)):
                return text
        except phonenumbers.NumberParseException:
            continue


def _card(rng: random.Random, faker: Faker) -> str:
    digits = faker.credit_card_number(card_type=rng.choice(("visa16", "visa16", "mastercard", "amex")))
    # Amex is written 4-6-5, the others 4-4-4-4.
    shape = r"(\d{4})(\d{6})(\d{5})" if len(digits) == 15 else r"(\d{4})(\d{4})(\d{4})(\d{4})"
    groups = re.fullmatch(shape, digits)
    assert groups is not None, "Faker's card numbers have 15 or 16 digits"
    return rng.choice((" ", " ", "-", "")).join(groups.groups())


def _iban(rng: random.Random, fakers: dict[str, Faker]) -> str:
    iban = str(fakers[rng.choice(("de_DE", "fr_FR", "en_GB", "nl_NL"))].iban())
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if rng.random() < 0.6 else iban


def _spelled(digits: str) -> str:
    return " ".join(_DIGIT_WORDS[int(d)] for d in digits if d.isdigit())


def _mistyped(rng: random.Random, value: str) -> str:
    """`value` with one digit changed (a typo)."""
    positions = [i for i, c in enumerate(value) if c.isdigit()]
    at = rng.choice(positions[1:-1])
    wrong = rng.choice([d for d in string.digits if d != value[at]])
    return value[:at] + wrong + value[at + 1 :]


def _order_number(rng: random.Random) -> str:
    return rng.choice((f"{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}", f"ORD-{rng.randint(100000, 999999)}",
                       f"#{rng.randint(10000000, 99999999)}"))


def _recent_day(rng: random.Random) -> str:
    day = date(2026, 10, 5) - timedelta(days=rng.randint(1, 40))
    return rng.choice((day.strftime("%B %d").replace(" 0", " "), day.isoformat(), f"{day.month}/{day.day}"))


# --- What people say -----------------------------------------------------------------------------------

_GREETINGS = (
    "Hi! I'm the Acme Retail virtual assistant. How can I help you today?",
    "Hello and welcome to Acme Retail. What can I do for you?",
    "Hi there! Ask me about orders, returns or payments.",
)
_ACKNOWLEDGEMENTS = ("Thanks, I've added that to your case.", "Understood.", "Okay, noted.")
_PRODUCTS = ("AirPods Pro", "Galaxy S24", "Kindle Paperwhite", "Dyson V15", "running shoes", "USB-C cable")


def _intent(rng: random.Random, faker: Faker) -> tuple[Part, ...]:
    choices: list[tuple[Part, ...]] = [
        ("Where is my order ", (_order_number(rng), "ACCOUNT_NUMBER"), "?"),
        (f"my order from {_recent_day(rng)} hasn't arrived yet",),
        (f"I was charged ${rng.randint(10, 400)}.{rng.choice(('00', '49', '99'))} twice for the "
         f"{rng.choice(_PRODUCTS)}",),
        ("tracking number ", (f"1Z{rng.randint(100, 999)}AA{rng.randint(10**9, 10**10 - 1)}", "ACCOUNT_NUMBER"),
         f" shows no update since {rng.randint(1, 12)}:{rng.randint(10, 59)}"),
        ("i cant loggin to my acount, it says ERROR 403 at "
         f"2026-10-0{rng.randint(1, 4)}T{rng.randint(10, 23)}:{rng.randint(10, 59)}:0{rng.randint(0, 9)}Z",),
        (f"I want to return {rng.randint(2, 5)} of the {rng.choice(_PRODUCTS)}",),
        (f"the app v{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)} keeps crashing on checkout",),
        ("I need to update my payment details",),
        ("Can someone call me back?",),
    ]
    return rng.choice(choices)


def _ask_name(chat: _Conversation, rng: random.Random, p: _Persona, faker: Faker) -> None:
    full = f"{p.first} {p.last}"
    chat.bot(rng.choice(("What's your name?", "May I have your full name, please?", "Who am I speaking with?",
                         "For verification, could you tell me your name?")))
    chat.user(*rng.choice((
        ((full, "PERSON"),),
        ((full.lower(), "PERSON"),),
        ("My name is ", (full, "PERSON")),
        ("my nmae is ", (full.lower(), "PERSON")),  # a typo in the cue: only the question says it's a name
        ("it's ", (p.first.lower(), "PERSON")),
        ((full.lower(), "PERSON"), " here"),
        ("this is ", (full, "PERSON"), ", hi"),
        ("I'm ", (p.first, "PERSON")),
    )))
    chat.bot(*rng.choice((("Thanks, ", (p.first, "PERSON"), "!"), ("Nice to meet you, ", (p.first, "PERSON"), "."),
                         ("Thank you.",))))


def _ask_email(chat: _Conversation, rng: random.Random, p: _Persona, faker: Faker) -> None:
    local, domain = p.email.split("@")
    spelled = f"{local.replace('.', ' dot ')} at {domain.replace('.', ' dot ')}"
    mistyped_domain = domain.replace("gmail", "gmial").replace("yahoo", "yaho").replace("hotmail", "hotmial")
    chat.bot(rng.choice(("Could you give me your email address?", "What's the email address on your account?",
                         "Which email should I send the confirmation to?")))
    chat.user(*rng.choice((
        ((p.email, "EMAIL_ADDRESS"),),
        ("sure, ", (p.email.upper(), "EMAIL_ADDRESS")),
        ("it's ", (spelled, "EMAIL_ADDRESS")),
        ("My email is ", (f"{local}@{mistyped_domain}", "EMAIL_ADDRESS"), " thanks"),
        ("you can reach me at ", (p.email, "EMAIL_ADDRESS")),
    )))
    if rng.random() < 0.5:
        chat.bot("Great, I sent a confirmation to ", (p.email, "EMAIL_ADDRESS"), ".")


def _ask_phone(chat: _Conversation, rng: random.Random, p: _Persona, faker: Faker) -> None:
    chat.bot(rng.choice(("What's the best phone number to reach you?", "Which number should we call you back on?",
                         "Could you confirm a phone number for the courier?")))
    digits = "".join(c for c in p.phone if c.isdigit())
    style = rng.random()
    if style < 0.15 and p.phone_region == "US":
        national = digits[-10:]
        chat.user(((_spelled(national)), "PHONE_NUMBER"))
    elif style < 0.3:
        cut = len(p.phone) * 2 // 3
        while not p.phone[cut - 1].isdigit():
            cut -= 1
        head, tail = p.phone[:cut], p.phone[cut:].lstrip(" -.)")
        chat.user("it's ", (head, "PHONE_NUMBER"))
        if rng.random() < 0.5:
            chat.bot(rng.choice(("Go on.", "And the rest?")))
        chat.user((tail, "PHONE_NUMBER"))
    else:
        chat.user(*rng.choice((
            ("call me at ", (p.phone, "PHONE_NUMBER")),
            ((p.phone, "PHONE_NUMBER"),),
            ("my number is ", (p.phone, "PHONE_NUMBER"), ", after 5pm is best"),
        )))


def _ask_card(chat: _Conversation, rng: random.Random, p: _Persona, faker: Faker) -> None:
    chat.bot(rng.choice(("Please enter the card number you'd like to use.", "What's the number of the new card?")))
    style = rng.random()
    if style < 0.15:
        chat.user((_mistyped(rng, p.card), "CREDIT_CARD"))  # fails the Luhn check: only the question tells
    elif style < 0.25:
        chat.user(((_spelled(p.card)), "CREDIT_CARD"))
    else:
        expiry = f"{rng.randint(1, 12):02d}/{rng.randint(27, 31)}"
        chat.user(*rng.choice((((p.card, "CREDIT_CARD"),), ("card number is ", (p.card, "CREDIT_CARD")),
                               ("here you go: ", (p.card, "CREDIT_CARD"), f" exp {expiry}"))))
    last_four = "".join(c for c in p.card if c.isdigit())[-4:]
    chat.bot(f"Thanks, the card ending in {last_four} has been saved.")


def _ask_iban(chat: _Conversation, rng: random.Random, p: _Persona, faker: Faker) -> None:
    chat.bot("We'll refund you by bank transfer. What's your IBAN?")
    chat.user(*rng.choice((((p.iban, "IBAN_CODE"),), ("sure: ", (p.iban, "IBAN_CODE")),
                           ("it's ", (p.iban.lower(), "IBAN_CODE"), " (checking account)"))))
    chat.bot(f"Thanks. The refund of ${rng.randint(10, 300)}.00 will arrive in 3-5 business days.")


def _ask_ssn(chat: _Conversation, rng: random.Random, p: _Persona, faker: Faker) -> None:
    bare = p.ssn.replace("-", "")
    if rng.random() < 0.5:
        chat.bot("To open the store card account I need your social security number.")
        chat.user(*rng.choice((((p.ssn, "US_SSN"),), ((bare, "US_SSN"),), ("ok it's ", (p.ssn, "US_SSN")))))
    else:
        chat.user(*rng.choice((("my SSN is ", (bare, "US_SSN"), " if you need it"),
                               ("social security number ", (p.ssn, "US_SSN")))))
    chat.bot("Thank you, your application is being processed.")


def _ask_address(chat: _Conversation, rng: random.Random, p: _Persona, faker: Faker) -> None:
    address = f"{p.street}, {p.city}, {p.state} {p.zip_code}"
    chat.bot(rng.choice(("What's the new delivery address?", "Where should we ship it?",
                         "Can you confirm your shipping address?")))
    chat.user(*rng.choice((
        ((address, "STREET_ADDRESS"),),
        ("It's ", (address.lower(), "STREET_ADDRESS")),
        ("please ship to ", (address, "STREET_ADDRESS")),
        ("I moved to ", (address, "STREET_ADDRESS"), " last month"),
    )))
    chat.bot("Done! The courier will use the new address.")


def _ask_postal_code(chat: _Conversation, rng: random.Random, p: _Persona, faker: Faker) -> None:
    chat.bot("To find your nearest store, what's your ZIP or postcode?")
    code = p.zip_code if rng.random() < 0.7 else rng.choice(("SW1A 1AA", "M1 1AE", "EH1 2NG", "B33 8TH", "CR2 6XH"))
    chat.user(*rng.choice((((code, "POSTAL_CODE"),), ("it's ", (code, "POSTAL_CODE")))))
    chat.bot(f"The nearest store is {rng.randint(2, 30)} miles away and open until 9pm.")


def _ask_birth_date(chat: _Conversation, rng: random.Random, p: _Persona, faker: Faker) -> None:
    b = p.birth
    written = rng.choice((b.strftime("%m/%d/%Y"), b.isoformat(), f"{b:%B} {b.day}, {b.year}",
                          f"{b.day} {b:%B} {b.year}", b.strftime("%d.%m.%Y")))
    if rng.random() < 0.6:
        chat.bot("For verification, what's your date of birth?")
        chat.user(*rng.choice((((written, "DATE_OF_BIRTH"),), ("it's ", (written, "DATE_OF_BIRTH")))))
    else:
        chat.user("I was born on ", (written, "DATE_OF_BIRTH"), ", does that matter for the age check?")
    chat.bot(f"Thanks, you're verified. Your order from {_recent_day(rng)} can now be changed.")


def _ask_location(chat: _Conversation, rng: random.Random, p: _Persona, faker: Faker) -> None:
    chat.user(*rng.choice((("I'm in ", (p.city, "LOCATION"), " this week, can I pick it up there?"),
                           # A branch's town says where the branch is, not where anyone lives: not PII.
                           (f"do you have a store near {p.city}?",))))
    chat.bot("Let me check the stores in your area.")


_TOPICS: tuple[Callable[[_Conversation, random.Random, _Persona, Faker], None], ...] = (
    _ask_name, _ask_name, _ask_email, _ask_email, _ask_phone, _ask_phone, _ask_card, _ask_iban, _ask_ssn,
    _ask_address, _ask_postal_code, _ask_birth_date, _ask_location,
)


def _url_aside(rng: random.Random, p: _Persona, faker: Faker) -> tuple[Part, ...]:
    token = "".join(rng.choices(string.ascii_letters + string.digits, k=rng.randint(20, 40)))
    url = rng.choice((
        f"https://www.acme-retail.com/account/reset?token={token}",
        f"https://acme-retail.com/orders/{rng.randint(10**6, 10**7)}?session_id={token}&lang=en",
        f"https://{p.first.lower()}:{faker.password(length=12, special_chars=False)}@files.acme-retail.com/receipt.pdf",
        f"https://api.acme-retail.com/v2/invoices?api_key={token}",
    ))
    return ("the link ", (url, "CREDENTIAL_URL"), " doesn't work for me")


def _ip_aside(rng: random.Random, p: _Persona, faker: Faker) -> tuple[Part, ...]:
    address = faker.ipv4_public() if rng.random() < 0.7 else faker.ipv6()
    return rng.choice((("your site blocks me, my IP is ", (address, "IP_ADDRESS")),
                       ("there was a login from ", (address, "IP_ADDRESS"), " that wasn't me")))


def _name_aside(rng: random.Random, p: _Persona, faker: Faker) -> tuple[Part, ...]:
    other = f"{faker.first_name()} {faker.last_name()}"
    return rng.choice((("I spoke with ", (other, "PERSON"), " yesterday and she said it was shipped"),
                       ("the parcel was signed for by ", (other, "PERSON"), ", who is that?"),
                       ("my husband ", (other.split()[0].lower(), "PERSON"), " placed the order, not me")))


def _negative_aside(rng: random.Random, p: _Persona, faker: Faker) -> tuple[Part, ...]:
    return rng.choice((
        (f"I got error E{rng.randint(1000, 9999)} and the log says: WARN 2026-09-{rng.randint(10, 28)} "
         f"{rng.randint(10, 23)}:{rng.randint(10, 59)}:{rng.randint(10, 59)} worker-{rng.randint(1, 9)} "
         f"timeout after {rng.randint(1, 60) * 1000} ms",),
        ("Order ", (_order_number(rng), "ACCOUNT_NUMBER"),
         f" was {rng.randint(2, 9)} items, total ${rng.randint(20, 900)}.99"),
        (f"Is the {rng.choice(_PRODUCTS)} still {rng.randint(10, 40)}% off until {_recent_day(rng)}?",),
        (f"I need {rng.randint(10, 99)} units for our office, can Acme Retail invoice Globex Corporation?",),
    ))


_ASIDES: tuple[Callable[[random.Random, _Persona, Faker], tuple[Part, ...]], ...] = (
    _url_aside, _ip_aside, _name_aside, _negative_aside, _negative_aside,
)


def records_of(labeled: Sequence[LabeledRecord]) -> list[dict[str, Any]]:
    return [item.record for item in labeled]
