"""Word lists and fixed project metadata the synthetic dataset draws from.

Bundled rather than taken from Faker so that a seed gives byte-identical records whatever library
versions are installed. Names mix origins (and a few non-ASCII or apostrophe spellings) because
detectors are weakest on exactly those.
"""

from __future__ import annotations

FIRST_NAMES: tuple[str, ...] = (
    "Jane", "John", "Maria", "James", "Priya", "Wei", "Olga", "Carlos", "Aisha", "Liam",
    "Sophie", "Mateo", "Hannah", "Daniel", "Fatima", "Lukas", "Emily", "Noah", "Chloe", "Ethan",
    "Yuki", "Omar", "Isabella", "Lucas", "Mohammed", "Elena", "David", "Sarah", "Michael", "Laura",
    "Thomas", "Anna", "Kevin", "Rachel", "Brian", "Nina", "Samuel", "Julia", "Patrick", "Ingrid",
    "Kwame", "Siobhan", "Rafael", "Mei", "Dmitri", "Zoe", "Andre", "Leila", "Hiroshi", "Grace",
)

LAST_NAMES: tuple[str, ...] = (
    "Doe", "Smith", "Johnson", "Garcia", "Patel", "Chen", "Novak", "Rodriguez", "Okafor", "Murphy",
    "Martin", "Fernandez", "Schmidt", "Nguyen", "Khan", "Weber", "Brown", "Kowalski", "Dubois", "Walker",
    "Tanaka", "Haddad", "Rossi", "Silva", "Ahmed", "Petrova", "Miller", "Cohen", "Anderson", "Becker",
    "Müller", "O'Brien", "García", "Lindqvist", "Mensah", "Gallagher", "Moreno", "Kim", "Sato", "Ivanov",
)

EMAIL_DOMAINS: tuple[str, ...] = (
    "gmail.com", "outlook.com", "yahoo.com", "icloud.com", "example.com", "web.de", "proton.me",
)

STREET_NAMES: tuple[str, ...] = (
    "Elm", "Oak", "Maple", "Pine", "Cedar", "Main", "Washington", "Lake", "Hill", "Park",
    "Sunset", "Highland", "Walnut", "Chestnut", "River", "Church", "Mill", "Spring", "Lincoln", "Willow",
)

STREET_SUFFIXES: tuple[str, ...] = (
    "Street", "Avenue", "Road", "Lane", "Drive", "Boulevard", "Court", "Way", "St", "Ave", "Rd",
)

UNITS: tuple[str, ...] = ("Apt 4B", "Apt 12", "Suite 210", "Unit 3", "#5")

# (city, state, ZIP) triples that belong together, so addresses survive a validating detector.
CITIES: tuple[tuple[str, str, str], ...] = (
    ("Springfield", "IL", "62704"), ("Austin", "TX", "78701"), ("Portland", "OR", "97205"),
    ("Denver", "CO", "80202"), ("Columbus", "OH", "43215"), ("Madison", "WI", "53703"),
    ("Raleigh", "NC", "27601"), ("Boise", "ID", "83702"), ("Tucson", "AZ", "85701"),
    ("Albany", "NY", "12207"), ("Sacramento", "CA", "95814"), ("Nashville", "TN", "37203"),
    ("Richmond", "VA", "23219"), ("Omaha", "NE", "68102"), ("Burlington", "VT", "05401"),
)

# Area codes for US numbers; the 555-01xx block keeps every number fictional yet valid.
US_AREA_CODES: tuple[str, ...] = ("212", "312", "415", "617", "646", "702", "206", "303", "512", "404")

PRODUCTS: tuple[str, ...] = (
    "mugs", "desk lamps", "office chairs", "rain jackets", "running shoes", "throw pillows",
    "bookshelves", "water bottles", "backpacks", "bath towels",
)

MONTHS: tuple[str, ...] = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)

ORGANISATION = "acme-retail"
PROJECT_ID = "65a1f3c29b7e4d0012c4a8e1"
PROJECT_NAME = "Acme Retail Support"
SNAPSHOT_ID = "65f0b7a41c2d3e0012aa9f07"
SNAPSHOT_NAME = "Support Bot Release 3.4"
LOCALE_REFERENCE_ID = "7eff993c-b801-4556-b111-1c319e8577cf"

# flowName -> flowParentId
FLOWS: dict[str, str] = {
    "Main": "5e33b160e6236da3aa54221461a53f04",
    "Orders": "8c1d0e5fa2b34c7d9e6f1a2b3c4d5e6f",
    "Payments": "a4b9c2d17e3f40589a6b7c8d9e0f1a2b",
    "Account": "0f9e8d7c6b5a49382716a5b4c3d2e1f0",
}

# channel -> (endpointName, endpointUrlToken)
CHANNELS: dict[str, tuple[str, str]] = {
    "webchat3": ("Webchat", "ea30b8f2c1d94e7fb0a6d5c4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4"),
    "whatsapp": ("WhatsApp", "3c7e91a0b5d24f68a1c3e5f7092b4d6f8a0c2e4f6a8b0d2f4a6c8e0a2c4e6a8b"),
    "voiceGateway2": ("Voice Gateway", "9b2d4f6a8c0e1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a"),
}
