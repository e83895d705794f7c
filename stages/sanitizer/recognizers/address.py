"""The parts of a postal address as people write them in the countries the sanitizer serves: the street
with its house number and flat ("42 Elm Street", "Flat 5, 14 Abbeydale Mews", "Keplerstraße 17",
"Hietzinger Straße 64/1/7", "5 impasse des Mimosas", "Calle de Toledo 52, 2º C", "ul. Brzozowa 11 m. 4"),
the postal code and the town. They are read together because each is the others' best evidence: "9020"
alone is a number and "Klagenfurt" alone a place, "Lerchenfeldgasse 14, 9020 Klagenfurt" is someone's address.

`address_parts(text)` serves the street, postal code and city recognizers and is computed once per text.
Every part carries its evidence (`Evidence`); the recognizers turn it into a score.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Literal

import msgspec

Evidence = Literal["line", "shape", "weak", "org"]
"""line: part of an address line (a street followed by a postal code or town, a postal code followed by
its town, a town before its state and postcode); shape: a street whose own words say so ("... Road",
"...straße", "rue ..."); weak: a shape that needs a cue word or the bot's question ("Am Eichenhang 11",
"house number 5"); org: the address of a company (a branch, store or pick-up point named just before it),
which is no personal data."""

Kind = Literal["street", "postal", "city"]


class Part(msgspec.Struct, frozen=True):
    """`text[start:end]`. A street's span runs to the end of its address line: "Keplerstraße 17, 93047
    Regensburg" is one street part, its postal code and town are parts of their own as well."""

    start: int
    end: int
    kind: Kind
    evidence: Evidence


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that are never part of a street or town name (function words and chat words of each language,
# numbers, dates, units), so that a name ends where the sentence goes on: "14 rue saint ambroise in quebec".
_FUNCTION_WORDS = _words("""
    a an the and or but if of to in on at by for from with without into onto over under near about as is are
    was were be been am i i'm im you he she we they it its it's my your his her our their me him us them this
    that these those there here yes yeah no not please pls plz thanks thank thx ok okay so then also too just
    now still since until till when where which who what how can could would should will shall may might must
    do does did have has had get got go going send sent ship shipped deliver delivered delivery moved move
    live lives living lived stay staying next opposite behind left right hard flash usb external test tennis one
    two three four five six seven eight nine ten uk us usa eu tv pc id pm ya yea yep yup nope hi hey hello
    flight flug vol vuelo volo vlucht lot fear hope peace harmony luxury poverty denial misery style comfort
    und oder aber der die das den dem des ein eine einen einem einer eines im in am an auf aus bei beim mit nach
    von vom zu zur zum für über unter vor hinter neben ist sind war waren bin bist sein hat haben habe ich du er
    sie es wir ihr ihre ihren mein meine meinen meinem meiner dein deine seine unser unsere bitte danke ja nein
    nicht kein keine auch noch schon jetzt dort hier wo wie was wer wann gegenüber seit bis inzwischen depuis
    desde sinds
    et ou mais le la les l un une des du de d au aux à en dans sur pour par avec sans chez est suis sont je j tu
    il elle nous vous ils elles mon ma mes ton ta tes son sa ses notre nos votre vos oui non merci svp près
    y o pero el los las lo unos unas del al a con sin por para soy son está estoy yo tú él ella mi mis su sus
    sí gracias cerca
    e ma lo gli uno di della dello dei degli delle dal dalla da è sono io lui lei noi mio mia miei tuo tua suo
    sua grazie vicino
    of maar het een van op aan met voor naar bij uit ben zijn ik jij hij zij wij mijn uw je nee niet dank
    bedankt alstublieft graag
    lub ale w we z ze na do od po za dla jest jestem są ja ty on ona mój moja moje tak nie dziękuję proszę
""")
_DATE_WORDS = _words("""
    january february march april june july august september october november december monday tuesday
    wednesday thursday friday saturday sunday today tomorrow yesterday
    januar jänner februar märz mai juni juli oktober dezember montag dienstag mittwoch donnerstag freitag
    samstag sonntag heute morgen gestern jahr
    janvier février mars avril juin juillet août septembre octobre novembre décembre lundi mardi mercredi
    jeudi vendredi samedi dimanche
    enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre lunes martes
    miércoles jueves viernes sábado domingo
    gennaio febbraio aprile maggio giugno luglio settembre ottobre dicembre lunedì martedì mercoledì giovedì
    venerdì sabato
    januari februari maart mei augustus maandag dinsdag woensdag donderdag vrijdag zaterdag zondag
    stycznia lutego marca kwietnia maja czerwca lipca sierpnia września października listopada grudnia
""")
_UNIT_WORDS = _words("""
    % min mins minute minutes minuten std stunde stunden hour hours hrs h uhr km kg g l ml euro euros eur chf
    franken fr usd dollar dollars gbp pound pounds pfund zł zloty złotych kr kronen rs inr rupees mal times x
    stück pcs items units tage days day jahre years year weeks wochen monate months gb mb tb kb ps kw kwh
    punkte points prozent percent cent cents
""")
# Words that say the address is someone's: they never belong to the name either.
_ADDRESS_WORDS = _words("""
    address adresse anschrift lieferadresse rechnungsadresse postanschrift wohnadresse dirección direccion
    domicilio indirizzo adres adresu wohnort wohnhaft wohne wohnen wohnt habite habitons vivo vivimos abito
    abitiamo woon woont wonen mieszkam mieszkamy resido risiedo hausnummer huisnummer
    phone telephone tel telefon mobile handy fax email e-mail mail iban account konto
    postcode zip plz pin eircode
""")
# A company's place: an address right after one of these is the company's (negative), not the customer's.
_ORG_WORDS = _words("""
    branch branches store shop office depot surgery clinic practice hospital pharmacy station locker hub
    warehouse showroom outlet headquarters hq counter desk mall airport terminal agency reception point
    filiale geschäft laden praxis büro geschäftsstelle niederlassung standort annahmestelle abholstation
    packstation paketshop rathaus bürgeramt amt kundencenter servicecenter zentrale klinik krankenhaus kiosk
    apotheke werkstatt firmensitz
    agence boutique magasin relais bureau cabinet clinique mairie guichet siège pharmacie
    sucursal oficina tienda agencia clínica consulta sede ayuntamiento farmacia taller
    negozio ufficio sportello ambulatorio clinica studio officina
    vestiging winkel kantoor filiaal afhaalpunt praktijk balie apotheek
    oddział oddziale sklep biuro placówka placówce punkt paczkomat przychodnia apteka
    gmbh ag kg ohg ltd limited inc llc plc sarl srl spa bv nv located situated headquartered befindet situé
    située situada situado ubicada ubicado situata situato gevestigd siedziba
""")
# German and Dutch compounds naming a company's place ("Abholstation", "Servicecenter", "Sparkasse").
_ORG_ENDINGS = ("station", "filiale", "shop", "stelle", "zentrum", "center", "centre", "büro", "amt", "praxis",
                "klinik", "kasse", "bank", "winkel", "kantoor")
STOP_WORDS = _FUNCTION_WORDS | _DATE_WORDS | _UNIT_WORDS | _ADDRESS_WORDS
"""Lower-case words that are never part of a street or town name. (A company's place may be: "Station
Road", "Airport Drive".)"""


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_STOP = rf"(?:{_alternation(STOP_WORDS)})(?![\w'\u2019-])"
_L = r"[^\W\d_]"
_NAME = rf"{_L}[\w'\u2019]*(?:-{_L}[\w'\u2019]*)*"  # one word of a name: "O'Connell", "Saint-Ambroise"
_NAME_WORD = rf"(?!{_STOP}){_NAME}"
_CAP_WORD = rf"(?!{_STOP})(?-i:[A-ZÀ-ÞĀ-Ž]){_NAME}"  # a name word written with a capital

# A house number: "42", "221B", "14a", "5/31", "64/1/7", "58-b", "2203-41", "3 bis".
_END = r"(?![\w'\u2019])"  # the end of a word ("O'Brien" is one word)
_HOUSE = rf"\d{{1,5}}(?:[a-z]{_END})?(?:\s?[-/]\s?(?:\d{{1,4}}[a-z]?|[a-z]){_END})*(?:\s(?:bis|ter))?{_END}"
# A number followed by a unit is an amount, not a house number: "Fußweg 5 Minuten", "Platz 3 %".
_NOT_AMOUNT = rf"(?!\s*(?:[%€$£]|[.,:]\d|(?:{_alternation(_UNIT_WORDS)})(?!\w)))"
# Flat, staircase, floor after the street: ", Apt 3F", " apartment b", " Stiege 2, Top 14", " m. 6", ", 4º B".
_UNIT_WORD = (r"apt|apartment|appt|appartement|unit|suite|ste|flat|fl|floor|level|lvl|room|rm|#|no|nr|"
              r"section|block|blk|building|bldg|tower|stiege|stg|stock|top|tür|whg|wohnung|etage|bâtiment|bât|"
              r"escalier|esc|étage|porte|piso|puerta|pta|planta|portal|bloque|scala|sc|interno|int|piano|lok|"
              r"lokal|mieszkanie|kl|klatka|bus|verdieping")
_UNIT_VALUE = r"#?\s?(?:\d[\w/-]{0,4}|[a-z])(?![\w'\u2019])"
_UNIT_AFTER = (rf"(?:,?\s*(?:(?:{_UNIT_WORD})\.?|m\.)\s*{_UNIT_VALUE}"
               r"|,?\s*\d{1,2}\s?[º°ª]\s?(?:(?:izq|izda|dcha|der|centro)\w*\.?|[a-z](?![\w'\u2019]))?"
               r"|,\s*\d{1,2}\.\s?(?:og|stock|etage|eg|dg)(?!\w))")
_UNITS_AFTER = rf"(?:{_UNIT_AFTER}){{0,3}}"
# A flat or a building before the street: "Flat 3, ", "Unit 8, Acacia Park Estate, ", "Erf 3918, ".
_UNIT_BEFORE = (r"(?:(?:flat|unit|apartment|apt|suite|ste|erf|plot|lot|shop|villa|block|level|room|studio)\.?"
                rf"\s*{_UNIT_VALUE},?\s+(?:(?:The\s+)?{_CAP_WORD}(?:\s+{_CAP_WORD}){{0,3}},\s+)?)")
_HOUSE_NAME = (rf"(?:{_CAP_WORD}\s+(?-i:Cottage|House|Farm|Lodge|Manor|Barn|Hall|Mill|Villa|Mansions|Apartments|"
               r"Flats|Residency|Heights|Towers?|Chambers|Estate),\s+)")
_NUMBER_WORD = r"(?:house\s+number|number|no\.?|nr\.?|door\s+no\.?|h\.?\s?no\.?|#)"


# Number first, street type last (English, also Indian English): "42 Elm Street", "Flat 5, 14 Abbeydale
# Mews", "2415 NW 63rd St, Apt 310", "Apartment 2, The Old Brewery, Mill Street", "no. 7, 3rd cross road".
_EN_TYPES = _words("""
    street st avenue ave av road rd lane ln drive dr drv boulevard blvd bvd court ct crescent cres terrace tce
    terr mews parkway pkwy circle cir highway hwy square sq close cl grove gr gardens gdns place pl way wy row
    parade pde esplanade promenade alley trail trl bend loop cove wharf quay causeway crossing heights hts
    expressway freeway pike turnpike nagar colony marg salai enclave residency layout chowk bagh
""")
# Types that are ordinary words too: an address by shape only when written with capitals.
_EN_WEAK_TYPES = _words("""
    hill view vale green park gate end walk rise point ridge field fields meadow meadows common yard circus
    grange glen dale drift chase mount hollow brae wynd path run pass spur track estate main cross stage phase
    sector extension extn
""")
_DIRECTION = r"(?:(?-i:N|S|E|W|NE|NW|SE|SW)|north|south|east|west)(?![\w'\u2019])"
# Lower-case links inside a name: "Juan de Fuca Ave", "Bay of Islands Road".
_EN_WORD = (rf"(?:(?-i:[NSEW]|NE|NW|SE|SW)\.?|\d+(?:st|nd|rd|th)|(?-i:de|del|la|le|van|von|der|du|des|di|da|of)"
            rf"|{_NAME_WORD})")
_EN = re.compile(
    rf"(?<![\w/.,'\u2019-])(?:{_UNIT_BEFORE}(?:(?:{_NUMBER_WORD}\s*)?{_HOUSE},?\s+)?"
    rf"|{_HOUSE_NAME}?(?:{_NUMBER_WORD}\s*)?{_HOUSE},?\s+)"
    rf"(?P<name>(?:{_EN_WORD}\s+){{1,5}})(?P<type>{_alternation(_EN_TYPES | _EN_WEAK_TYPES)})(?![\w'\u2019])\.?"
    rf"(?:\s+{_DIRECTION})?{_UNITS_AFTER}",
    re.IGNORECASE,
)
# "Road No. 4", "Plot 9, Road No. 4" (Indian cities number their roads).
_ROAD_NUMBER = re.compile(
    rf"(?<![\w'\u2019-]){_UNIT_BEFORE}?(?:road|street|lane|cross|main|sector|block|phase)\s+no\.?\s*\d{{1,4}}(?!\w)",
    re.IGNORECASE,
)
# Number first, street type next (French): "5 impasse des Mimosas", "14 rue Saint-Ambroise".
_FR_TYPES = _words("""
    rue impasse imp allée allee chemin quai boulevard bd bld bvd avenue av faubourg fbg ruelle lieu-dit
    rond-point montée sentier chaussée
""")
_FR_WEAK_TYPES = _words("""
    place pl cours route rte passage square sq voie cité villa résidence hameau parvis traverse promenade
    esplanade lotissement clos mail
""")
_FR_LINK = r"(?:de\s+la|de\s+l['\u2019]|du|des|de|d['\u2019]|la|le|les|l['\u2019])"
_FR = re.compile(
    rf"(?<![\w/.,'\u2019-]){_HOUSE},?\s+(?P<type>{_alternation(_FR_TYPES | _FR_WEAK_TYPES)})\.?\s+"
    rf"(?:{_FR_LINK}\s*)?(?P<name>{_NAME_WORD}(?:[\s-]+(?:(?:{_FR_LINK}|sur|aux?|et)\s*)?{_NAME_WORD}){{0,3}})"
    rf"{_UNITS_AFTER}",
    re.IGNORECASE,
)
# Street type first, number last (Spanish, Italian, Portuguese, Polish): "Calle de Toledo 52, 2º C",
# "Via Roma 12", "ul. Brzozowa 11 m. 4", "Avenida da Liberdade 110".
_TYPE_FIRST_TYPES = _words("""
    calle c/ avenida avda. paseo plaza pza. glorieta rambla travesía travesia carrer viale piazza piazzale vicolo
    lungomare rua travessa praça praca ulica ul. ul aleja osiedle plac rondo bulwar
""")
_TYPE_FIRST_WEAK_TYPES = _words("""
    via strada corso largo borgo salita contrada camino carretera ctra. ronda estrada av. al. os. pl. r.
""")
_TYPE_FIRST_LINK = (r"(?:de\s+la|de\s+los|de\s+las|del|de|di|della|dello|dei|degli|delle|dell['\u2019]|da|do|dos|das"
                    r"|d['\u2019])")
_TYPE_FIRST = re.compile(
    rf"(?<![\w/.'\u2019-])(?P<type>{_alternation(_TYPE_FIRST_TYPES | _TYPE_FIRST_WEAK_TYPES)})"
    rf"\s*(?:{_TYPE_FIRST_LINK}\s*)?"
    rf"(?P<name>{_NAME_WORD}(?:\s+(?:{_TYPE_FIRST_LINK}\s+)?{_NAME_WORD}){{0,3}}),?\s+"
    rf"(?:(?:n|nº|n°|no|nr|núm|num)\.?\s*)?{_HOUSE}{_NOT_AMOUNT}{_UNITS_AFTER}",
    re.IGNORECASE,
)
# Number after the street (German, Austrian, Swiss, Dutch, Danish...): "Keplerstraße 17", "Lindenstr. 27",
# "Max-Planck-Straße 23", "Hietzinger Straße 64/1/7", "Lange Nieuwstraat 58-b". The words before
# a compound are adjectives ("Alte Landstraße", "Hallesche Str."), not "Passt Zieglergasse 37".
_DE_TYPES = _words("""
    straße strasse str. gasse gässli weg allee damm ufer chaussee pfad stieg zeile gürtel promenade twiete lände
    straat laan gracht kade dijk singel steeg dreef plein vej gade stræde gatan vägen veien gata
""")
_DE_WEAK_TYPES = _words("""
    platz ring markt kamp berg hof graben wall kai brücke feld garten park anger heide siedlung höhe bogen
    winkel steig pad wal haven torv matt rain acker wiese leite koppel horst weide
""")
_DE_SEPARATE = "au"  # "Pradler Au": only as a word of its own (a compound "-au" is "Frau", "blau")
_DE = re.compile(
    rf"(?<![\w'\u2019-])(?:(?:{_CAP_WORD}(?<=[ersn])\s+){{0,2}}"
    rf"(?P<compound>{_L}[\w'\u2019-]*?(?:{_alternation(_DE_TYPES | _DE_WEAK_TYPES)}))"
    rf"|(?:{_NAME_WORD}\s+){{1,2}}(?P<word>{_alternation(_DE_TYPES | _DE_WEAK_TYPES | {_DE_SEPARATE})}))"
    rf"(?:(?<=\.)|(?![\w'\u2019]))\s*(?:nr\.?\s*)?{_HOUSE}{_NOT_AMOUNT}{_UNITS_AFTER}",
    re.IGNORECASE,
)
# German and Dutch streets named with a preposition: "Am Eichenhang 11", "Auf der Heide 3", "Op de Berg 2".
_PREPOSITIONAL = re.compile(
    r"(?<![\w'\u2019-])(?-i:Am|An der|An den|An dem|Auf der|Auf dem|Auf den|Im|In der|In den|Hinter der|Hinter dem|"
    r"Unter den|Vor dem|Zum|Zur|Beim|Bei der|Op de|Aan de|In de|Achter de|Bij de|Over de)"
    rf"\s+{_CAP_WORD}(?:[\s-]{_CAP_WORD})?\s+{_HOUSE}{_NOT_AMOUNT}{_UNITS_AFTER}",
    re.IGNORECASE,
)
# A house number or a flat on its own: "number 5", "nummer 23", "Hausnummer 12a", "Apartment 8", "Top 7"
# (a correction of an address, or where a parcel was left).
_HOUSE_NUMBER = re.compile(
    r"(?<![\w'\u2019-])(?:house\s+number|hausnummer|huisnummer|number|nummer|numéro|número|numero|numer|no\.|nr\.?"
    r"|apartment|apt\.?|flat|unit|suite|wohnung|whg\.?|top|appartement|appt\.?|piso|mieszkanie|lokal)"
    rf"\s*{_HOUSE}{_NOT_AMOUNT}",
    re.IGNORECASE,
)
# A street without a type (or with a typo in it), kept only if its line has a postal code:
# "17 Vilakazi Raod, Soweto, 1804", "Kohlmarkt 14, 9020 Klagenfurt".
_UNTYPED_STREET = re.compile(rf"(?<![\w/.,'\u2019-]){_HOUSE}\s+{_CAP_WORD}(?:\s+{_CAP_WORD}){{0,2}}{_END}",
                             re.IGNORECASE)
_UNTYPED_STREET_BEFORE = re.compile(rf"(?:{_CAP_WORD}\s+){{0,2}}{_CAP_WORD}\s+{_HOUSE},?\s*$", re.IGNORECASE)

# Postal codes: UK, Canada, Ireland (Eircode), and numeric ones (US ZIP+4, 4 to 6 digits, "560 034",
# "1234 AB", "61-245", Portugal's "1100-053"), with an optional country prefix ("D-93047", "CH-3011").
_UK = r"[a-z]{1,2}\d[a-z\d]?\s?\d[a-z]{2}"
_CA = r"[a-z]\d[a-z]\s?\d[a-z]\d"
_IE = r"(?:[ac-fhknprtv-y]\d{2}|d6w)\s?[\dac-fhknprtv-y]{4}"
_NUMERIC = (rf"\d{{5}}(?:-\d{{4}})?|\d{{4}}(?:\s?(?!{_STOP})[a-z]{{2}}{_END})?|\d{{3}}\s?\d{{3}}|\d{{2}}-\d{{3}}"
            r"|\d{4}-\d{3}")
# Not followed by more digits: "0341 44..." is a phone number.
_POSTAL = re.compile(rf"(?:[a-z]{{1,2}}-)?(?:{_UK}|{_CA}|{_IE}|{_NUMERIC})(?![\w'\u2019-]|\s\d)", re.IGNORECASE)
POSTAL_SHAPE = re.compile(
    rf"(?<![\w'\u2019-])(?:{_UK}|{_CA}|{_IE}|\d{{5}}-\d{{4}}|[1-9]\d{{3}}\s?(?!{_STOP}|[ns][ew](?!\w))[a-z]{{2}})"
    r"(?![\w'\u2019-])", re.IGNORECASE)
"""Postal codes with a shape of their own (UK, Canada, Ireland, US ZIP+4, the Netherlands): codes even
without a town, where written in capitals. Dutch letters NE, NW, SE, SW are left out: "2415 NW 63rd St"."""
_POSTAL_COMPACT = re.compile(rf"{_UK}|{_CA}|{_IE}|\d{{4,6}}|\d{{4}}[a-z]{{2}}", re.IGNORECASE)
# A code said or typed one character at a time: "r g 1 3 j x", "2 4 4 4" (after spoken digits are read).
_SPELLED_TOKEN = re.compile(r"[a-z\d]{1,2}(?![\w'\u2019])", re.IGNORECASE)
_SPELLED_GAP = re.compile(r"[ \t]+")
_MAX_SPELLED_TOKENS = 8
_US_STATES = ("AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|"
              "ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY")
_AU_STATES = "NSW|VIC|QLD|SA|WA|TAS|NT|ACT"
_CA_PROVINCES = "ON|QC|BC|AB|MB|SK|NS|NB|NL|PE|NU|YT"
_STATE = re.compile(rf"(?-i:{_US_STATES}|{_AU_STATES}|{_CA_PROVINCES})(?![\w'\u2019])")
# A postal code then its town, where an address line starts: "22083 Hamburg", "A-9020 Klagenfurt", "1234 AB Utrecht".
_POSTAL_THEN_TOWN = re.compile(
    rf"(?<![\w.,:/+'\u2019-])(?:[A-Z]{{1,2}}-)?(?:\d{{5}}|\d{{4}}(?:\s?(?!(?i:{_STOP}))[A-Z]{{2}}{_END})?"
    r"|\d{2}-\d{3})"
    r"(?![\w'\u2019-]|[.,]\d)(?=[ \t]+[^\W\d_])"
)
# A state and its postcode: "NSW 2750", "IL 62704-1234", "ON K2P 1L4".
_STATE_POSTAL = re.compile(
    rf"(?<![\w'\u2019-])(?-i:(?:{_US_STATES})\s+(?P<zip>\d{{5}}(?:-\d{{4}})?)|(?:{_AU_STATES})\s+(?P<au>\d{{4}})"
    rf"|(?:{_CA_PROVINCES})\s+(?P<ca>[A-Z]\d[A-Z]\s?\d[A-Z]\d))(?![\w'\u2019-]|\s\d)"
)
# Codes in capitals, or an Indian PIN, after their town: "Leeds LS7 4RJ", "Ottawa K2P 1L4", "Kolkata 700029".
_SHAPED_POSTAL = re.compile(
    rf"(?<![\w'\u2019-])(?-i:{_UK.replace('[a-z', '[A-Z')}|{_CA.replace('[a-z', '[A-Z')}"
    r"|(?:[AC-FHKNPRTV-Y]\d{2}|D6W)\s?[\dAC-FHKNPRTV-Y]{4}|[1-8]\d{2}\s?\d{3})(?![\w'\u2019-]|\s\d)"
)

# Said between a town and its code: "ennis eircode v 9 5 k p 2 7".
_POSTAL_LABEL = re.compile(
    r"(?:post\s*code|postal\s+code|zip(?:\s*code)?|eircode|plz|pin\s*code|pincode)(?:\s+is)?\s*:?[ \t]+", re.IGNORECASE)
_SEPARATOR = re.compile(r"[ \t]*,[ \t]*|[ \t]+[-\u2013][ \t]+|[ \t]+")
_TOWN_PREPOSITION = re.compile(r"(?:in|à|a|en|w|te)[ \t]+", re.IGNORECASE)  # "... rue saint ambroise in quebec"
_TOWN_WORD = re.compile(rf"(?:st|mt|ft)\.|{_NAME}", re.IGNORECASE)
_TOWN_GAP = re.compile(r"[ \t]+")
# Lower-case words inside a town's name: "Frankfurt am Main", "Kingston upon Thames", "Bergen op Zoom".
_TOWN_LINKS = _words("am an der den im upon on sur en de del di la le op aan ob bei")
# Words that start a street, never a town: "ich wohne in der Hafenstraße", "abito in via Roma".
_STREET_STARTS = frozenset(
    t.rstrip(".") for t in _TYPE_FIRST_TYPES | _TYPE_FIRST_WEAK_TYPES | _FR_TYPES)
_MAX_TOWN_WORDS = 4
# Before a postal code and town, where an address line may start.
_LINE_START = re.compile(
    r"(?:^|[,;:(\n]|\b(?:in|aus|nach|from|to|at|à|en|w|we|te|uit|bei|chez))[ \t]*$", re.IGNORECASE)
# After a town: where its name may end ("Klagenfurt.", "Leeds, LS7 4RJ", "Köln und"), unlike "Ford F-250".
_TOWN_END = re.compile(rf"[ \t]*(?:$|[,.;:!?)\n]|{_STOP}|(?:{_NUMERIC})(?![\w'\u2019-]))", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)|\n")
_WORD = re.compile(rf"{_L}+")
_ORG_WINDOW = 4  # words before an address where a company's place is named ("our branch at", "Filiale")
_ABBREVIATION = 4  # letters at most in an abbreviation ending with a dot ("Blvd.")
_WORD_CASE_SHARE = 0.25  # fewer capitalised words than this: text typed in lower case, names too


@lru_cache(maxsize=512)  # the street, postal code and city recognizers read the same text one after another
def address_parts(text: str) -> tuple[Part, ...]:
    """Every address part in `text`, sorted by start; streets do not overlap each other."""
    casual = is_casual(text)
    parts: list[Part] = []
    lines: list[tuple[int, int]] = []
    for start, end, evidence, untyped in _streets(text, casual):
        if lines and start < lines[-1][1]:  # "3011 Bern" in "Laupenstrasse 27, 3011 Bern"
            continue
        line_end, tail = _tail(text, end, casual)
        if untyped and not any(kind == "postal" for _, _, kind in tail):
            continue
        line: Evidence = "org" if _is_org(text, start) else "line" if tail else evidence
        parts.append(Part(start, line_end, "street", line))
        parts += [Part(s, e, kind, "org" if line == "org" else "line") for s, e, kind in tail]
        lines.append((start, line_end))
    parts += _towns_with_postal_codes(text, casual, lines)
    return tuple(sorted(parts, key=lambda p: (p.start, -p.end)))


def is_casual(text: str) -> bool:
    """Whether `text` is typed in lower case (names too), so that a lower-case word may be a name."""
    words: list[str] = _WORD.findall(text)
    return sum(w[0].isupper() for w in words) < _WORD_CASE_SHARE * len(words)


_DIGIT = re.compile(r"\d")


def _letters(types: frozenset[str]) -> frozenset[str]:
    """The words of `types` as `_WORD` finds them in a text: "ul." is "ul", "lieu-dit" is "lieu"."""
    return frozenset(w for t in types for w in _WORD.findall(t)[:1])


_DE_ENDINGS = tuple(_letters(_DE_TYPES | _DE_WEAK_TYPES | {_DE_SEPARATE}))
# The patterns with a street type word: the pattern, the type words as a text's words, the weak types.
_TYPED = tuple((pattern, _letters(types | weak), weak) for pattern, types, weak in (
    (_EN, _EN_TYPES, _EN_WEAK_TYPES), (_FR, _FR_TYPES, _FR_WEAK_TYPES),
    (_TYPE_FIRST, _TYPE_FIRST_TYPES, _TYPE_FIRST_WEAK_TYPES)))
_Street = tuple[int, int, Evidence, bool]  # start, end, evidence, whether it has no street type


def _streets(text: str, casual: bool) -> list[_Street]:
    """The streets (with house number and flat), sorted, the longest kept where they overlap; untyped
    ones count only on a line with a postal code."""
    if not _DIGIT.search(text):
        return []
    # Each pattern runs only where its words occur: most texts hold no street at all.
    words = frozenset(w.lower() for w in _WORD.findall(text))
    candidates: list[_Street] = []
    for pattern, type_words, weak_types in _TYPED:
        if words.isdisjoint(type_words):
            continue
        for m in pattern.finditer(text):
            weak = m.group("type").lower() in weak_types and not _capitalized(m.group("name"))
            candidates.append((m.start(), _trimmed(text, m.start(), m.end()), "weak" if weak else "shape", False))
    if any(w.endswith(_DE_ENDINGS) for w in words):
        for m in _DE.finditer(text):
            kind = (m.group("compound") or m.group("word")).lower()
            weak = kind.endswith(tuple(_DE_WEAK_TYPES)) or kind == _DE_SEPARATE
            candidates.append((m.start(), _trimmed(text, m.start(), m.end()), "weak" if weak else "shape", False))
    candidates += [(m.start(), _trimmed(text, m.start(), m.end()), "shape", False)
                   for m in _ROAD_NUMBER.finditer(text)]
    for pattern in (_PREPOSITIONAL, _HOUSE_NUMBER):
        candidates += [(m.start(), _trimmed(text, m.start(), m.end()), "weak", False) for m in pattern.finditer(text)]
    if not casual:
        candidates += [(m.start(), m.end(), "shape", True) for m in _UNTYPED_STREET.finditer(text)]
    kept: list[_Street] = []
    for candidate in sorted(candidates, key=lambda c: (c[3], c[0] - c[1], c[2] == "weak", c[0])):
        if all(candidate[1] <= k[0] or k[1] <= candidate[0] for k in kept):
            kept.append(candidate)
    return sorted(kept)


def _capitalized(name: str) -> bool:
    return all(w[0].isupper() or w.lower() in _TOWN_LINKS for w in _WORD.findall(name))


def _trimmed(text: str, start: int, end: int) -> int:
    """`end` without trailing punctuation; the dot of an abbreviation ("St.", "Str.") stays."""
    while end > start and text[end - 1] in " \t,;:":
        end -= 1
    if text.endswith(".", start, end):
        word = _WORD.findall(text, start, end - 1)
        if not word or len(word[-1]) > _ABBREVIATION:
            end -= 1
    return end


_Tail = list[tuple[int, int, Kind]]


def _tail(text: str, end: int, casual: bool) -> tuple[int, _Tail]:
    """What follows a street on its address line: ", 93047 Regensburg", ", Leeds, LS7 4RJ", " Penrith NSW
    2750", " apex north carolina 27502", ", Durham", " in 9020 Klagenfurt". Returns the line's end and the tail's
    parts; no parts if what follows is not clearly an address (a town with neither comma nor postal code)."""
    separator = _SEPARATOR.match(text, end)
    if separator is None:
        return end, []
    comma = "," in separator.group()
    position = separator.end()
    preposition = None if comma else _TOWN_PREPOSITION.match(text, position)
    if preposition:
        position = preposition.end()
    postal_end = postal_at(text, position)
    if postal_end is not None:  # the European order: postal code, then town
        gap = _TOWN_GAP.match(text, postal_end)
        town_end = town_at(text, gap.end(), casual) if gap else None
        if gap and town_end is not None:
            return town_end, [(position, postal_end, "postal"), (gap.end(), town_end, "city")]
        if comma:  # "Hallesche Str. 61, 04159"; without a comma "Numer 512 784 093" is a phone number
            return postal_end, [(position, postal_end, "postal")]
        return end, []
    parts: _Tail = []
    line_end = end
    for _ in range(2):  # a suburb and its city: "Jubilee Hills, Hyderabad"
        town_end = town_at(text, position, casual)
        if town_end is None:
            break
        parts.append((position, town_end, "city"))
        line_end = town_end
        separator = _SEPARATOR.match(text, line_end)
        if separator is None:
            break
        position = separator.end()
    if not parts:
        return end, []
    state = _STATE.match(text, position) if separator else None
    if state:
        line_end = state.end()
        separator = _SEPARATOR.match(text, line_end)
        position = separator.end() if separator else line_end
    label = _POSTAL_LABEL.match(text, position) if separator else None
    if label:
        position = label.end()
    postal_end = postal_at(text, position) if separator else None
    if postal_end is not None:
        parts.append((position, postal_end, "postal"))
        return postal_end, parts
    # Without a postal code, a second town must end where a name may end: "New Farm, NBN location ID".
    kept = parts[:1] + [p for p in parts[1:] if _TOWN_END.match(text, p[1])]
    if not kept or not (comma or state or (preposition and not casual)):
        return end, []
    if len(kept) < len(parts):
        line_end = kept[-1][1]
    return line_end, kept


def postal_at(text: str, position: int) -> int | None:
    """The end of a postal code starting at `position`, typed or spelled, or None."""
    match = _POSTAL.match(text, position)
    if match:
        return match.end()
    tokens: list[re.Match[str]] = []
    while len(tokens) < _MAX_SPELLED_TOKENS:
        token = _SPELLED_TOKEN.match(text, position)
        if token is None:
            break
        tokens.append(token)
        gap = _SPELLED_GAP.match(text, token.end())
        if gap is None:
            break
        position = gap.end()
    for count in range(len(tokens), 1, -1):
        spelled = [t.group() for t in tokens[:count]]
        compact = "".join(spelled)
        # One character at a time, mostly: "60 113" is a grouped number, not a spelled code.
        if (2 * sum(len(t) == 1 for t in spelled) >= count and _POSTAL_COMPACT.fullmatch(compact)
                and sum(c.isdigit() for c in compact) >= 2):
            return tokens[count - 1].end()
    return None


def town_at(text: str, position: int, casual: bool) -> int | None:
    """The end of a town's name starting at `position` (up to _MAX_TOWN_WORDS words, capitalised unless
    the text is `casual`, see `is_casual`), or None."""
    end = None
    count = 0
    while count < _MAX_TOWN_WORDS:
        if postal_at(text, position) is not None or _STATE.match(text, position):
            break
        word = _TOWN_WORD.match(text, position)
        if word is None:
            break
        lower = word.group().lower()
        if count == 0:
            if lower in _STREET_STARTS:
                break
            casual = casual and not word.group()[0].isupper()  # "Leipzig gezogen": a name in capitals ends
        linked = count > 0 and not casual and lower in _TOWN_LINKS
        if not linked and (lower in STOP_WORDS or not (casual or word.group()[0].isupper())):
            break
        if not linked:
            end = word.end()
        count += 1
        gap = _TOWN_GAP.match(text, word.end())
        if gap is None:
            break
        position = gap.end()
    return end


def _town_before(text: str, end: int, casual: bool) -> int | None:
    """The start of a town's name that ends at `end` (before a comma or a space), or None. In casual text
    the town must start a line or follow a comma or "in": "flight canceled QF 2043" has no town."""
    words = [m for m in _TOWN_WORD.finditer(text, max(0, end - 60), end) if m.end() <= end]
    start = None
    boundary = end
    for word in reversed(words[-_MAX_TOWN_WORDS:]):
        between = text[word.end():boundary]
        if between.strip(" \t") if boundary < end else between.strip(" \t,-\u2013"):
            break
        lower = word.group().lower()
        if lower in STOP_WORDS or not (casual or word.group()[0].isupper()):
            break
        start = boundary = word.start()
    if start is not None and casual and not _LINE_START.search(text[max(0, start - 20):start]):
        return None
    return start


def _towns_with_postal_codes(text: str, casual: bool, lines: list[tuple[int, int]]) -> list[Part]:
    """Address lines without a street found: "22083 Hamburg", "Penrith NSW 2750", "Leeds LS7 4RJ"."""
    parts: list[Part] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or e <= start for s, e in lines)

    for m in _POSTAL_THEN_TOWN.finditer(text):
        gap = _TOWN_GAP.match(text, m.end())
        town_end = town_at(text, gap.end(), casual) if gap else None
        if gap is None or town_end is None or not free(m.start(), town_end) or not _TOWN_END.match(text, town_end):
            continue
        before = text[max(0, m.start() - 80):m.start()]
        street = _UNTYPED_STREET_BEFORE.search(before)
        if street is None and not _LINE_START.search(before):
            continue
        start = m.start() - len(before) + street.start() if street else m.start()
        evidence: Evidence = "org" if _is_org(text, start) else "line"
        if street:
            parts.append(Part(start, town_end, "street", evidence))
        parts += [Part(m.start(), m.end(), "postal", evidence), Part(gap.end(), town_end, "city", evidence)]
        lines.append((start, town_end))
    for m in [*_STATE_POSTAL.finditer(text), *_SHAPED_POSTAL.finditer(text)]:
        if not free(m.start(), m.end()):
            continue
        by_state = m.re is _STATE_POSTAL
        town_start = _town_before(text, m.start(), casual)
        if town_start is None or not (by_state or _LINE_START.search(text[max(0, town_start - 20):town_start])):
            continue
        evidence = "org" if _is_org(text, town_start) else "line"
        postal = next(m.span(g) for g in ("zip", "au", "ca") if m.group(g)) if by_state else m.span()
        parts += [Part(town_start, _trimmed(text, town_start, m.start()), "city", evidence),
                  Part(*postal, "postal", evidence)]
        lines.append((town_start, m.end()))
    return parts


def _is_org(text: str, start: int) -> bool:
    """Whether a company's place is named among the few words before `start` in the same sentence, or
    starts the address itself ("Postfiliale Hauptstraße 10")."""
    before = text[max(0, start - 80):start]
    ends = list(_SENTENCE_END.finditer(before))
    if ends:
        before = before[ends[-1].end():]
    first = _WORD.match(text, start)
    words = [w.lower() for w in [*_WORD.findall(before)[-_ORG_WINDOW:], *([first.group()] if first else [])]]
    return any(w in _ORG_WORDS or w.endswith(_ORG_ENDINGS) for w in words)
