"""Synthetic personal data: one consistent persona per conversation, in the formats people type.

Phone numbers come from ranges reserved for fiction (US 555-01xx, UK 020 7946 0xxx, Berlin 030 23125xxx,
Hamburg 040 66969xxx, Paris 01 99 00 xx xx) that libphonenumber still accepts as valid; card numbers use
well-known test prefixes and pass the Luhn check.
"""

from __future__ import annotations

import random
import unicodedata

import msgspec

from simulator.vocabulary import (
    CITIES,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    STREET_NAMES,
    STREET_SUFFIXES,
    UNITS,
    US_AREA_CODES,
)


class Persona(msgspec.Struct, frozen=True, kw_only=True):
    first_name: str
    last_name: str
    email: str
    phone: str
    card: str
    address: str


def make_persona(rng: random.Random) -> Persona:
    first = rng.choice(FIRST_NAMES)
    last = rng.choice(LAST_NAMES)
    return Persona(
        first_name=first,
        last_name=last,
        email=_email(rng, first, last),
        phone=_phone(rng),
        card=_card(rng),
        address=_address(rng),
    )


def luhn_valid(number: str) -> bool:
    """True if the digits of `number` (separators ignored) pass the Luhn check."""
    digits = [int(c) for c in number if c.isdigit()]
    if not digits:
        return False
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _ascii_fold(text: str) -> str:
    """Müller -> muller, O'Brien -> obrien: what people actually type into an email address."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and c.isalnum()).lower()


def _email(rng: random.Random, first: str, last: str) -> str:
    f, la = _ascii_fold(first), _ascii_fold(last)
    local = rng.choice((
        f"{f}.{la}",
        f"{f}{la}{rng.randint(1, 99)}",
        f"{f[0]}.{la}",
        f"{f}_{la}",
        f"{f}{rng.randint(70, 99)}",
    ))
    return f"{local}@{rng.choice(EMAIL_DOMAINS)}"


def _phone(rng: random.Random) -> str:
    if rng.random() < 0.8:
        area, exchange, line = rng.choice(US_AREA_CODES), "555", f"01{rng.randint(0, 99):02d}"
        pattern = rng.choice((
            "({a}) {e}-{l}", "{a}-{e}-{l}", "{a}.{e}.{l}", "+1 {a} {e} {l}", "+1-{a}-{e}-{l}", "{a}{e}{l}",
        ))
        return pattern.format(a=area, e=exchange, l=line)
    country = rng.choice(("uk", "de", "fr"))
    tail = f"{rng.randint(0, 999):03d}"
    if country == "uk":
        pattern = rng.choice(("+44 20 7946 0{t}", "+44 (0)20 7946 0{t}", "+442079460{t}"))
    elif country == "de":
        city, block = rng.choice((("30", "23125"), ("40", "66969")))
        pattern = rng.choice(("+49 {c} {b}{t}", "+49 (0){c} {b} {t}", "+49-{c}-{b}{t}"))
        pattern = pattern.replace("{c}", city).replace("{b}", block)
    else:
        tail = f"{rng.randint(0, 99):02d} {rng.randint(0, 99):02d}"
        pattern = rng.choice(("+33 1 99 00 {t}", "+33 (0)1 99 00 {t}"))
    return pattern.replace("{t}", tail)


def _card(rng: random.Random) -> str:
    brand = rng.choice(("visa", "visa", "mastercard", "amex"))
    groups: tuple[int, ...]
    if brand == "amex":
        prefix, length, groups = rng.choice(("34", "37")), 15, (4, 6, 5)
    elif brand == "mastercard":
        prefix, length, groups = str(rng.randint(51, 55)), 16, (4, 4, 4, 4)
    else:
        prefix, length, groups = "4", 16, (4, 4, 4, 4)
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(length - len(prefix) - 1))
    digits = body + _luhn_check_digit(body)
    separator = rng.choice((" ", " ", "-", ""))
    parts, position = [], 0
    for size in groups:
        parts.append(digits[position : position + size])
        position += size
    return separator.join(parts)


def _luhn_check_digit(body: str) -> str:
    for candidate in "0123456789":
        if luhn_valid(body + candidate):
            return candidate
    raise AssertionError("unreachable: one of ten check digits always fits")


def _address(rng: random.Random) -> str:
    number = rng.choice((rng.randint(1, 99), rng.randint(100, 9999)))
    street = f"{number} {rng.choice(STREET_NAMES)} {rng.choice(STREET_SUFFIXES)}"
    if rng.random() < 0.2:
        street += f" {rng.choice(UNITS)}"
    city, state, zip_code = rng.choice(CITIES)
    address = rng.choice((f"{street}, {city}, {state} {zip_code}", f"{street}, {city} {state} {zip_code}"))
    return address.lower() if rng.random() < 0.15 else address
