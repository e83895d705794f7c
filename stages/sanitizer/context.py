"""Conversation context: which entity types a text is likely to hold, beyond what the text itself shows.

Two signals:
- a bot turn that asks for a name, email, phone number, address, postal code, date of birth, card number,
  IBAN or SSN makes the user's next turn a strong candidate for that type ("jane doe" right after
  "What's your name?" is a name), and the short turns that follow it ("0143" after "415 555"), until
  the bot says something else; a bot turn that only asks to go on ("and the rest?") keeps the question
  open, so a value split over several user turns is one answer. A longer user turn is something else:
  it closes the question;
- an inputData value under a key such as `email`, `phone` or `firstName` is a candidate for that type.
Bot turns and, after a handover, human agents' turns ask; the user answers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

# A bot turn asks when it has a question mark or a request word; "Your email was updated." does not.
_REQUEST = re.compile(
    r"\?|\b(?:please|enter|provide|type|tell|share|give|send|confirm|need|spell|say|what|which|may|can|could|"
    r"bitte|nennen|geben|sagen|teilen|buchstabieren|brauche|benötige|wie|welche[nrs]?|"
    r"veuillez|pouvez|pourriez|indiquer|donner|dites|épeler|quel(?:le)?s?|"
    r"por\s+favor|puede|podría|indique|dígame|díga|deletree|necesito|cuál|"
    r"per\s+favore|può|potrebbe|mi\s+dica|indichi|fornisca|ho\s+bisogno|qual(?:e|è)?|"
    r"graag|kunt|wilt|geef|noem|wat\s+is|welk(?:e)?|"
    r"proszę|poproszę|prosimy|podać|poda(?:j|ć)|jaki|jaka|jakie)\b",
    re.IGNORECASE,
)


def _asks(*alternatives: str) -> re.Pattern[str]:
    # Word-prefix matching ("\bgeburtsdatum" also matches "Geburtsdatums"); alternatives end where they say.
    return re.compile(r"\b(?:" + "|".join(alternatives) + ")", re.IGNORECASE)


# What a question asks for, in every supported language: the words that name the value, not whole sentences,
# so any phrasing of the question works ("May I have your surname?", "Wie ist Ihr Nachname?", "su apellido").
_ASKS_FOR: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("PERSON", _asks(
        r"(?:your|ur|the)\s+(?:full\s+|first\s+|last\s+|given\s+|family\s+|middle\s+|maiden\s+|sur)?name\b",
        r"(?:sur|fore|nick)name\b", r"name\s+(?:please|on\s+the)\b", r"who\s+(?:am\s+i|are\s+you|is\s+calling)\b",
        r"what\s+(?:should|can|may)\s+i\s+call\s+you\b", r"speaking\s+(?:to|with)\b",
        r"(?:am\s+i|are\s+you)\s+(?:chatting|talking|speaking)\s+(?:to|with)\b",
        r"spreche\s+ich\s+mit\b", r"sind\s+sie\s+(?:herr|frau)\b", r"(?:est-ce\s+que\s+)?je\s+parle\s+(?:à|avec)\b",
        r"hablo\s+con\b", r"parlo\s+con\b", r"spreek\s+ik\s+met\b", r"rozmawiam\s+z\b",
        r"(?:vor|nach|familien|zu|mädchen|geburts)?namen?\b", r"wie\s+hei(?:ß|ss)(?:en\s+sie|t\s+du)\b",
        r"mit\s+wem\s+spreche\b",
        r"(?:votre|ton|vos|le)\s+(?:nom|prénom)", r"nom\s+(?:complet|de\s+famille)", r"prénom",
        r"comment\s+vous\s+appelez", r"à\s+qui\s+ai-je",
        r"(?:su|tu)\s+nombre", r"nombre\s+(?:completo|y\s+apellido)", r"apellidos?\b", r"cómo\s+se\s+llama",
        r"con\s+quién\s+hablo",
        r"(?:il\s+suo|il\s+tuo|suo|tuo)\s+nome", r"nome\s+e\s+cognome", r"cognome", r"come\s+si\s+chiama",
        r"con\s+chi\s+parlo",
        r"(?:uw|je|jouw)\s+(?:volledige\s+)?naam", r"(?:achter|voor|volledige\s+)naam", r"hoe\s+heet\s+u",
        r"met\s+wie\s+spreek",
        r"imi(?:ę|e)\b", r"nazwisk", r"jak\s+(?:się\s+)?(?:pan|pani|ty)?\s*(?:się\s+)?nazywa")),
    ("EMAIL_ADDRESS", _asks(r"e-?mail", r"courriel", r"correo(?:\s+electrónico)?\b", r"posta\s+elettronica",
                            r"mailadres")),
    ("PHONE_NUMBER", _asks(
        r"(?:phone|mobile|cell|telephone|landline|callback|call\s+back|contact)\s+(?:number|no)\b",
        r"phone\b", r"mobile\b", r"cell\b", r"telephone\b", r"callback\b", r"whatsapp\b",
        r"(?:reach|call|text)\s+you\b", r"(?:which|what)\s+number\b",
        r"telefon", r"handy", r"mobil(?:nummer|funknummer)", r"rückruf", r"erreichen", r"festnetz",
        r"téléphone", r"portable", r"numéro\s+de\s+(?:mobile|portable|contact)", r"joindre",
        r"teléfono", r"móvil", r"celular", r"contactar(?:le|te)",
        r"telefono", r"cellulare", r"contattar(?:la|ti)", r"recapito",
        r"telefoon", r"mobiel", r"06-nummer", r"bereiken",
        r"telefon", r"komórk", r"numer\s+kontaktowy")),
    # "address" alone, but not "email address", "IP address" or "web address".
    ("STREET_ADDRESS", _asks(
        r"(?<!mail\s)(?<!ip\s)(?<!web\s)address\b", r"where\s+do\s+you\s+live\b",
        r"where\s+(?:should|shall|can|do)\s+(?:we|i)\s+(?:ship|send|deliver|post|mail)", r"street\b",
        r"(?<!e-mail-)(?<!mail-)adresse\b", r"anschrift", r"wo\s+wohnen\s+sie", r"stra(?:ß|ss)e\s+und\s+hausnummer",
        r"adresse\s+postale", r"où\s+habitez", r"dirección(?!\s+de\s+correo)", r"domicilio", r"dónde\s+vive",
        r"indirizzo(?!\s+(?:e-?mail|di\s+posta))", r"dove\s+abita", r"(?<!mail)adres\b", r"waar\s+woont",
        r"ulic", r"gdzie\s+(?:pan|pani)\s+mieszka")),
    ("LOCATION", _asks(
        r"(?:which|what)\s+(?:city|town|suburb|village)", r"(?:city|town|suburb)\s+do\s+you\s+live",
        r"(?:in\s+)?welche[mnr]?\s+(?:ort|stadt|gemeinde)", r"wohnort", r"ville", r"ciudad", r"localidad", r"città",
        r"comune\b", r"woonplaats", r"plaats", r"miejscowo", r"miasto")),
    ("POSTAL_CODE", _asks(r"zip\s*code", r"zip\b", r"post\s*code", r"postal\s+code", r"eircode", r"pin\s*code",
                          r"plz\b", r"postleitzahl", r"code\s+postal", r"código\s+postal", r"cap\b",
                          r"codice\s+postale", r"postcode", r"kod\s+pocztowy")),
    ("DATE_OF_BIRTH", _asks(
        r"date\s+of\s+birth", r"birth\s*(?:date|day)", r"dob\b", r"d\.o\.b", r"when\s+were\s+you\s+born",
        r"born\b", r"geburts(?:dat|tag)", r"geboren", r"date\s+de\s+naissance", r"née?\s+le",
        r"fecha\s+de\s+nacimiento", r"nacid[oa]", r"data\s+di\s+nascita", r"nat[oa]\b", r"geboortedatum",
        r"urodz")),
    ("CREDIT_CARD", _asks(
        r"card\s+(?:number|no|details)\b", r"(?<!sim\s)card\b", r"credit\b", r"debit\b", r"long\s+number\s+on",
        r"(?:kredit|bank|debit|ec-)?karten(?:nummer)?\b", r"numéro\s+de\s+(?:la\s+)?carte", r"carte\s+bancaire",
        r"(?:número\s+de\s+(?:la\s+)?)?tarjeta", r"numero\s+della\s+carta", r"carta\s+di\s+credito",
        r"kaartnummer", r"(?:bank|credit)kaart", r"numer\s+karty", r"kart[ay]\s+(?:kredytow|płatnicz)")),
    ("IBAN_CODE", _asks(r"iban\b", r"bank\s+(?:account|details)", r"kontonummer", r"bankverbindung",
                        r"\brib\b", r"coordonnées\s+bancaires", r"cuenta\s+bancaria", r"número\s+de\s+cuenta",
                        r"conto\s+corrente", r"rekeningnummer", r"numer\s+konta", r"rachun")),
    ("US_SSN", _asks(r"ssn\b", r"social\s+security", r"social\s+insurance")),
    # Any number, code, reference or id the customer holds: the kinds are endless ("MPRN", "UHID", "rental
    # agreement number", "Versicherungsscheinnummer", "Bonuskarten-Nummer"), so the question's noun decides,
    # and numbers that are nobody's (flights, seats, meter readings, error codes) are taken out first.
    ("ACCOUNT_NUMBER", _asks(
        r"(?!(?:the|your|a|an|my|this|that|ur|its|their|his|her)\s)[\w&-]+\s+(?:number|no|id|code|reference|ref)\b",
        r"reference\b", r"\w*(?:nummer|-nr|nr\.?)(?=\W|$)",
        r"numéro", r"référence", r"número", r"localizador", r"referencia", r"numero", r"codice", r"riferimento",
        r"\w+code\b", r"kenmerk", r"numer\b", r"sygnatur",
        r"\bpnr\b", r"\bmpa?rn\b", r"\bmpan\b", r"\bnmi\b", r"\biccid\b", r"\bimei\b", r"\bupi\b", r"\butr\b",
        r"\bawb\b", r"sort\s+code", r"\bbsb\b", r"track\s*(?:&|and)\s*trace", r"aktenz")),
    ("ID_DOCUMENT", _asks(
        r"passport", r"(?:driv(?:ing|er'?s)\s+)?licen[cs]e\s+(?:number|no)", r"driv(?:ing|er'?s)\s+licen[cs]e",
        r"id\s+(?:card|number|document)", r"identity\s+(?:card|number|document)", r"national\s+(?:insurance|id)",
        r"\bnino\b", r"\bnhs\s+number", r"tax\s+(?:file\s+)?(?:id|number)", r"\btfn\b", r"\bpan\b", r"aadhaa?r",
        r"\bpps\b", r"\bppsn\b", r"\bbsn\b", r"\bsin\b", r"\bcrn\b", r"medicare", r"health\s+card",
        r"reisepass", r"(?:personal)?ausweis", r"führerschein", r"steuer-?id", r"steuer(?:identifikations)?nummer",
        r"sozialversicherungsnummer", r"versicherungsnummer",
        r"passeport", r"permis\s+de\s+conduire", r"carte\s+d'identité", r"numéro\s+fiscal", r"sécurité\s+sociale",
        r"pasaporte", r"\bdni\b", r"\bnie\b", r"documento\s+de\s+identidad", r"carnet\s+de\s+conducir",
        r"passaporto", r"patente", r"carta\s+d'identità", r"codice\s+fiscale",
        r"paspoort", r"rijbewijs", r"identiteitskaart", r"burgerservicenummer",
        r"paszport", r"prawo\s+jazdy", r"dowód\s+osobisty", r"dowodu", r"\bpesel\b")),
    ("VEHICLE_PLATE", _asks(
        r"(?:number|licen[cs]e|registration|reg)\s+plate", r"registration\b", r"\breg\b(?:\s+number)?", r"\bplate",
        r"kennzeichen", r"nummernschild", r"plaque", r"immatriculation", r"matrícula", r"targa",
        r"kenteken", r"tablic", r"rejestracyjn")),
)
_ANY_NUMBER = "ACCOUNT_NUMBER"
_ASKS_FOR_NUMBER = dict(_ASKS_FOR)[_ANY_NUMBER]
# A bot turn that asks the user to go on with the answer they started.
_GO_ON = re.compile(
    r"\b(?:go\s+on|continue|keep\s+going|and\s+the\s+rest|rest\s+of\s+(?:it|the)|remaining|next\s+(?:part|digits)|"
    r"try\s+again|once\s+more|say\s+(?:it|that)\s+again|repeat|"
    r"weiter|den\s+rest|nochmal|noch\s+einmal|wiederholen|continuez|la\s+suite|encore|répéter|"
    r"continúe|el\s+resto|otra\s+vez|repita|continui|il\s+resto|ancora|ripeta|ga\s+door|de\s+rest|nog\s+een\s+keer|"
    r"herhaal|dalej|resztę|jeszcze\s+raz|powtórz)\b",
    re.IGNORECASE,
)

# inputData keys (lower case, without separators) that name what their value holds.
_KEY_TYPES: dict[str, str] = {
    **dict.fromkeys(
        ("name", "firstname", "lastname", "fullname", "surname", "givenname", "familyname", "middlename",
         "customername", "contactname", "displayname", "nickname"), "PERSON"),
    **dict.fromkeys(("email", "emailaddress", "mail", "useremail", "contactemail"), "EMAIL_ADDRESS"),
    **dict.fromkeys(
        ("phone", "phonenumber", "mobile", "mobilenumber", "cell", "cellphone", "telephone", "tel", "msisdn"),
        "PHONE_NUMBER"),
    **dict.fromkeys(
        ("address", "street", "streetaddress", "address1", "address2", "addressline1", "addressline2",
         "homeaddress", "shippingaddress", "billingaddress"), "STREET_ADDRESS"),
    **dict.fromkeys(
        ("card", "cardnumber", "creditcard", "creditcardnumber", "ccnumber", "pan"), "CREDIT_CARD"),
}
_KEY_SEPARATORS = re.compile(r"[\s_.-]")

_NOTHING: frozenset[str] = frozenset()
CONTINUATION_WORDS = 4  # at most this many words: a later user turn still answers the question


class Expectation(msgspec.Struct, frozen=True):
    """What a user turn is expected to hold, and which bot turn (record index) asked for it: turns that
    answer the same question may hold one value between them."""

    types: frozenset[str] = _NOTHING
    question: int | None = None


_NONE = Expectation()


# Numbers that identify no one: a question for one of these asks for no personal data.
_NOBODYS_NUMBER = re.compile(
    r"\b(?:flight|train|seat|gate|terminal|platform|room|table|row|model|version|error|fault|promo|voucher|"
    r"discount|coupon|meter\s+reading|reading)\s+(?:number|no|code|nummer|numéro|número|numero|numer)\b"
    r"|\b(?:flug|zug|sitz(?:platz)?|gleis|modell|fehler|gutschein|rabatt|aktions|vlucht|stoel|perron|fout|kortings)"
    r"(?:nummer|code)\b"
    r"|\b(?:numéro|número|numero|numer|code|código|codice)\s+(?:de\s+|di\s+|du\s+|del\s+)?(?:vol|vuelo|volo|lotu|"
    r"siège|asiento|posto|miejsca|train|tren|treno|pociągu|modèle|modelo|modello|promo|promocional|erreur|error|"
    r"errore|błędu)\b"
    r"|\b(?:meter\s+reading|zählerstand|relevé|lectura|lettura|meterstand|odczyt)",
    re.IGNORECASE)


def asked_types(bot_text: str) -> frozenset[str]:
    """The entity types a bot turn asks the user for."""
    if not _REQUEST.search(bot_text):
        return _NOTHING
    text = _NOBODYS_NUMBER.sub(" ", bot_text)
    asked = {entity for entity, pattern in _ASKS_FOR if entity != _ANY_NUMBER and pattern.search(text)}
    # "phone number", "ZIP code": what names another type names no account number.
    for entity, pattern in _ASKS_FOR:
        if entity in asked:
            text = pattern.sub(" ", text)
    if _ASKS_FOR_NUMBER.search(text):
        asked.add(_ANY_NUMBER)
    return frozenset(asked)


def key_types(key: str) -> frozenset[str]:
    """The entity type an inputData key announces for its value, if any."""
    entity = _KEY_TYPES.get(_KEY_SEPARATORS.sub("", key.lower()))
    return frozenset((entity,)) if entity else _NOTHING


def expectations(records: Sequence[Mapping[str, Any]]) -> list[Expectation]:
    """For each record (in the given order), what its inputText is expected to hold: for user turns, what
    the bot's latest turns of the same session asked for (consecutive bot turns add up; one that asks
    nothing and does not ask to go on closes the question); nothing for others. Records are read per
    session in timestamp order, whatever order they come in.

    A session cut across pages keeps its question only if the records before the break are given first
    (the fetcher carries them over with the page: `RawPage.context`)."""
    result = [_NONE] * len(records)
    asked: dict[Any, Expectation] = {}
    asker_spoke_last: dict[Any, str] = {}  # session -> "bot" or "agent" while one of them spoke last
    answered: set[Any] = set()  # sessions whose user has answered the open question at least once
    for index in sorted(range(len(records)), key=lambda i: _session_order(records[i], i)):
        record = records[index]
        session = record.get("sessionId")
        source = record.get("source")
        if source in ("bot", "agent"):
            text = record.get("inputText")
            text = text if isinstance(text, str) else ""
            types = asked_types(text)
            previous = asked.get(session, _NONE)
            if types:
                answered.discard(session)
            if asker_spoke_last.get(session) == source:
                # Consecutive turns of one speaker are one reply: what they ask adds up to one question.
                if types:
                    asked[session] = Expectation(
                        previous.types | types, index if previous.question is None else previous.question)
            elif types:
                asked[session] = Expectation(types, index)
            elif not _GO_ON.search(text):
                asked.pop(session, None)
            asker_spoke_last[session] = source
        elif source == "user":
            text = record.get("inputText")
            if session in answered and len(str(text).split()) > CONTINUATION_WORDS:
                asked.pop(session, None)
            result[index] = asked.get(session, _NONE)
            answered.add(session)
            asker_spoke_last.pop(session, None)
    return result



def _session_order(record: Mapping[str, Any], index: int) -> tuple[str, bool, float, int]:
    # Unparseable timestamps sort after parseable ones, in the order the records came.
    instant = _instant(record.get("timestamp"))
    return (str(record.get("sessionId")), instant is None, instant or 0.0, index)


def _instant(value: Any) -> float | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    moment: datetime = value if value.tzinfo else value.replace(tzinfo=UTC)
    return moment.timestamp()
