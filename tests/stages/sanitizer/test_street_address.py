from __future__ import annotations

import pytest

from stages.sanitizer.recognizers.base import TextContext
from stages.sanitizer.recognizers.street_address import StreetAddressRecognizer

from .recognizing import kept

NO_CONTEXT = TextContext()
ASKED = TextContext(expected=frozenset({"STREET_ADDRESS"}))
RECOGNIZER = StreetAddressRecognizer()


def found(text: str, context: TextContext = NO_CONTEXT) -> list[str]:
    return [value for value, _ in kept(RECOGNIZER, text, context)]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        # English: the number first, the street type last.
        ("I live at 42 Elm Street.", "42 Elm Street"),
        ("ship to 1600 Pennsylvania Ave NW", "1600 Pennsylvania Ave NW"),
        ("221B Baker St", "221B Baker St"),
        ("send it to 7 oak ln please", "7 oak ln"),
        ("new address: Flat 7, 15 Rosemary Gardens", "Flat 7, 15 Rosemary Gardens"),
        ("Unit 2, 88 Banksia Parade", "Unit 2, 88 Banksia Parade"),
        ("5/31 Grevillea Ave", "5/31 Grevillea Ave"),
        ("1610 W Birch Blvd, Apt 12C", "1610 W Birch Blvd, Apt 12C"),
        ("3310 Juan de Fuca Ave", "3310 Juan de Fuca Ave"),
        ("Apartment 9, The Old Granary, Mill Lane", "Apartment 9, The Old Granary, Mill Lane"),
        ("Rose Cottage, 2 Church Row", "Rose Cottage, 2 Church Row"),
        ("602 Willow Bend", "602 Willow Bend"),  # a weak type, in capitals
        ("no. 7, 3rd cross road", "no. 7, 3rd cross road"),
        ("flat 12 lotus residency 4th main road", "flat 12 lotus residency 4th main road"),
        ("Plot 9, Road No. 4", "Plot 9, Road No. 4"),
        # German, Austrian, Swiss, Dutch: the number after the street.
        ("Lindenstraße 14", "Lindenstraße 14"),
        ("bitte an mozartstraße 17 schicken", "mozartstraße 17"),
        ("Weberstr. 27", "Weberstr. 27"),
        ("Kastanienweg 3a", "Kastanienweg 3a"),
        ("Linzer Straße 45/3/9", "Linzer Straße 45/3/9"),
        ("Maria-Theresia-Straße 8", "Maria-Theresia-Straße 8"),
        ("Obere Bachgasse 12, Stiege 2, Top 7", "Obere Bachgasse 12, Stiege 2, Top 7"),
        ("Seefeldstrasse 101", "Seefeldstrasse 101"),
        ("ik woon op Molenstraat 27-b", "Molenstraat 27-b"),
        ("Nieuwe Binnenweg 140", "Nieuwe Binnenweg 140"),
        # French: the number, then the street type.
        ("j'habite 12 impasse des Tilleuls", "12 impasse des Tilleuls"),
        ("8 bis rue des Écoles", "8 bis rue des Écoles"),
        ("mail it to 15 rue saint denis in montreal", "15 rue saint denis"),
        # Spanish, Italian, Polish: the street type first, the number last.
        ("Calle Mayor 15, 3º A", "Calle Mayor 15, 3º A"),
        ("vivo en la Avenida de América 21", "Avenida de América 21"),
        ("abito in Via Garibaldi 7", "Via Garibaldi 7"),
        ("Piazza della Libertà 3", "Piazza della Libertà 3"),
        ("ul. Słoneczna 5 m. 12", "ul. Słoneczna 5 m. 12"),
        ("al. Niepodległości 45", "al. Niepodległości 45"),
    ],
)
def test_finds_streets_by_their_shape(text: str, address: str) -> None:
    assert found(text) == [address]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("350 Fifth Avenue, New York, NY 10118", "350 Fifth Avenue, New York, NY 10118"),
        ("12 W 34th St, Apt 5B, Salem, IL 62704-1234", "12 W 34th St, Apt 5B, Salem, IL 62704-1234"),
        ("Still at 4 Banksia Parade, Penrith NSW 2750?", "4 Banksia Parade, Penrith NSW 2750"),
        ("Flat 2, 9 Heron Close, Bristol, BS3 4QT. Correct?", "Flat 2, 9 Heron Close, Bristol, BS3 4QT"),
        ("flat 2, 9 heron close, bristol, bs3 4qt", "flat 2, 9 heron close, bristol, bs3 4qt"),
        ("12 banksia crescent port lincoln 5606", "12 banksia crescent port lincoln 5606"),
        ("Mozartstraße 17, 80336 München", "Mozartstraße 17, 80336 München"),
        ("Rosenhang 4, 8045 Graz", "Rosenhang 4, 8045 Graz"),  # no street type, but a line with its town
        ("Distelkamp 9, 22089 Hamburg", "Distelkamp 9, 22089 Hamburg"),
        ("Am Eichenhang 11, 50859 Köln", "Am Eichenhang 11, 50859 Köln"),
        ("Molenstraat 27, 3512 JK Utrecht", "Molenstraat 27, 3512 JK Utrecht"),
        ("27 rue des Acacias, 69003 Lyon", "27 rue des Acacias, 69003 Lyon"),
        ("Calle Mayor 15, 3º A, 28013 Madrid", "Calle Mayor 15, 3º A, 28013 Madrid"),
        ("ul. Słoneczna 5 m. 12, 30-001 Kraków", "ul. Słoneczna 5 m. 12, 30-001 Kraków"),
        ("17 Vilakazi Raod, Soweto, 1804", "17 Vilakazi Raod, Soweto, 1804"),  # a typo, but a postal code
    ],
)
def test_takes_the_rest_of_the_address_line(text: str, address: str) -> None:
    assert found(text) == [address]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("meine Adresse ist Am Lindenhof 4", "Am Lindenhof 4"),
        ("ich wohne Auf der Heide 3", "Auf der Heide 3"),
        ("Am Eichenhang 11 ist meine Anschrift", "Am Eichenhang 11"),
        ("we're at number 12", "number 12"),
        ("my address is 12 rose hill", "12 rose hill"),
        ("j'habite au 4 place du marché", "4 place du marché"),
        ("mieszkam przy ul. Polnej 3", "ul. Polnej 3"),
    ],
)
def test_a_shape_that_is_also_ordinary_text_needs_a_cue(text: str, address: str) -> None:
    assert found(text) == [address]


@pytest.mark.parametrize(
    "text",
    [
        "I have 3 dogs in the way",
        "it took 2 days to drive",
        "Baker Street is nice",
        "walk 5 minutes down the road",
        "order 12345 arrived",
        "I bought 2 external hard drive",
        "we need 3 place settings",
        "Fußweg 5 Minuten",
        "Am Montag 12 Uhr passt",
        "Ihr Zug fährt von Bahnsteig 4",
        "Sitzplatz 12 ist frei",
        "Gleis 3",
        "sent via email 3 times",
        "om 3 uur",
        "a las 10:15",
        "we walked 12 rose hill trails",  # a weak type in lower case, without a cue
        "Am Lindenhof 4",
        "number 12",
    ],
)
def test_ignores_other_text(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "You can collect it at our branch at 10 High Street.",
        "Die Filiale in der Bahnhofstraße 5 hat bis 18 Uhr offen.",
        "Die Praxis ist in der Lindenallee 3, 2. OG.",
        "Abholstation Graz-Lend, Annenstraße 20",
        "Le point relais est au 4 rue du Port.",
        "La oficina de la Calle Mayor 3 abre a las 9.",
        "la nostra sede in Via Roma 10",
        "ons kantoor aan de Kerkstraat 8",
        "nasz oddział przy ul. Długiej 5",
        "Musterfirma GmbH, Industriestraße 12, 70565 Stuttgart",
    ],
)
def test_a_companys_address_is_no_personal_data(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        # A building number before a street that has a number of its own.
        ("please send it to 3318 27 Wexford Crescent", "3318 27 Wexford Crescent"),
        ("Lieferadresse: 77 Kornblumenweg 12", "77 Kornblumenweg 12"),
        ("ship it to Suite 40 5127 Alder Way", "Suite 40 5127 Alder Way"),
        # Street types of more countries.
        ("send it to 2201 Gullbergsvägen 14", "2201 Gullbergsvägen 14"),
        ("Keskuskatu 21", "Keskuskatu 21"),
        ("Karl Johans vei 8", "Karl Johans vei 8"),
        ("Hringbraut 54", "Hringbraut 54"),
        ("Váci utca 19.", "Váci utca 19"),
        ("Rue de la Loi 16", "Rue de la Loi 16"),  # Belgium: the number after the street
        ("Rúa do Vilar 30", "Rúa do Vilar 30"),
        ("Λεωφόρος Κηφισίας 44", "Λεωφόρος Κηφισίας 44"),
        ("409 Larchmont Heights East", "409 Larchmont Heights East"),
        ("86 Cedar Springs", "86 Cedar Springs"),
        # A street without a type word right after an address cue, in every language.
        ("she lives at Lipová 7", "Lipová 7"),
        ("my address is 52 Bramblehurst 9", "52 Bramblehurst 9"),
        ("ich wohne in der Sonnleiten 3", "Sonnleiten 3"),
        ("j'habite au Clos Fleuri 8", "Clos Fleuri 8"),
        ("vivo en Los Almendros 14", "Los Almendros 14"),
        ("abito in Belvedere 12", "Belvedere 12"),
        ("ik woon op Hoogvliet 23", "Hoogvliet 23"),
        ("mieszkam przy Kwiatowej 8", "Kwiatowej 8"),
        ("my flat is at 204 Radlická 11", "204 Radlická 11"),
        ("Moravská 18 Apt. 4", "Moravská 18 Apt. 4"),  # a flat after it says it is a street
        # Post-office boxes.
        ("P.O. Box 4417", "P.O. Box 4417"),
        ("PO Box 12, Reno, NV 89501", "PO Box 12, Reno, NV 89501"),
        ("Postfach 1234", "Postfach 1234"),
        ("Postbus 2510", "Postbus 2510"),
        ("Casella postale 88", "Casella postale 88"),
        ("Apartado de Correos 112", "Apartado de Correos 112"),
        ("Boîte postale 34", "Boîte postale 34"),
        ("Skrytka pocztowa 15", "Skrytka pocztowa 15"),
        # Two streets that meet.
        ("we live on the corner of Maple Avenue and 3rd Street", "the corner of Maple Avenue and 3rd Street"),
        ("wir wohnen Ecke Bergstraße und Talweg", "Ecke Bergstraße und Talweg"),
        ("Address: Hollis and 40 Quarry Lane", "Hollis and 40 Quarry Lane"),
        # A flat, then the town without a comma.
        ("sent to 14 Orchard Road Apt. 3 Millbrook", "14 Orchard Road Apt. 3 Millbrook"),
    ],
)
def test_finds_streets_of_general_text(text: str, address: str) -> None:
    assert found(text) == [address]


@pytest.mark.parametrize(
    ("text", "addresses"),
    [
        ("Ines Caldeira\n\n412 Vinohradská 1180\n Apt. 7\n Kolín\n Czech Republic 28002",
         ["412 Vinohradská 1180", "Apt. 7"]),
        ("Ines Caldeira\\n\\n412 Vinohradská 1180\\n Apt. 7\\n Kolín\\n\\n Czech Republic 28002",
         ["412 Vinohradská 1180", "Apt. 7"]),  # lines broken by backslash and n, as some exports write them
        ("Flat 2\n17 Acacia Avenue\nLeeds LS1 4AB", ["Flat 2", "17 Acacia Avenue"]),
        ("Address:\n>> 93 Sjöviksvägen 4\n>> Suite 12\n>> Nacka", ["93 Sjöviksvägen 4", "Suite 12"]),
        ("Billing address: Tomás Ferrer\n   57 Ægisíða 12 Apt. 3\n   Reykjavík\n   107", ["57 Ægisíða 12 Apt. 3"]),
        ("PSC 4120, Box 2231\nAPO AE 09012", ["PSC 4120, Box 2231"]),
        ("USNS Mercy\nFPO AP 96678", ["USNS Mercy"]),
    ],
)
def test_reads_addresses_over_several_lines(text: str, addresses: list[str]) -> None:
    assert found(text) == addresses


@pytest.mark.parametrize(
    "text",
    [
        "The flight is at Gate 12",
        "the meeting is on Level 3",
        "we moved to Windows 11 last year",
        "During 2019, Acme Ltd grew fast",
        "BP 130/85 this morning",
        "Apartado 3 del contrato",
        "the committee 5 members voted",
        "I need 2 new cards pls",
        "Svépomoc 219",  # a street without a type word, and nothing else says it is one
        "Release notes\nVersion 12\nFixed bugs",
        "Order 5512\nQuantity 3\nTotal 40",
    ],
)
def test_ignores_other_text_of_general_text(text: str) -> None:
    assert found(text) == []


def test_normalizes_case_and_spaces() -> None:
    [detection] = RECOGNIZER.detect("42  ELM   Street", NO_CONTEXT)
    assert detection.normalized == "42 elm street"


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("sure, it's 12 baker, london NW1 6XE.", "12 baker, london NW1 6XE"),
        ("number 4", "number 4"),
        ("Am Lindenhof 4", "Am Lindenhof 4"),
        ("Apartment 3", "Apartment 3"),
    ],
)
def test_when_asked_an_answer_is_an_address(text: str, address: str) -> None:
    assert found(text) == []
    assert address in found(text, ASKED)
