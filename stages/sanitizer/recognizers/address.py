"""The parts of a postal address as people write them in the countries the sanitizer serves: the street
with its house number and flat ("42 Elm Street", "Flat 5, 14 Abbeydale Mews", "Keplerstraße 17",
"Hietzinger Straße 64/1/7", "5 impasse des Mimosas", "Calle de Toledo 52, 2º C", "ul. Brzozowa 11 m. 4"),
the postal code and the town. They are read together because each is the others' best evidence: "9020"
alone is a number and "Klagenfurt" alone a place, "Lerchenfeldgasse 14, 9020 Klagenfurt" is someone's address.
Also: a building number before a street with its own number ("475 2 Elm Road"), post-office boxes ("P.O. Box
63", "Postfach 1234"), US military addresses ("PSC 1234, Box 5678, APO AE 09012"), two streets that meet ("the
corner of Elm Street and 5th Avenue"), and a street without a type word right after an address cue ("lives at
Lipová 7", "Adresse: ...", "vivo en ..."). `address_block` adds the lines of addresses written over several lines.

`address_parts(text)` serves the street, postal code and city recognizers and is computed once per text.
Every part carries its evidence (`Evidence`); the recognizers turn it into a score.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Literal

import msgspec

from stages.sanitizer.recognizers.base import word_set

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


# Words that are never part of a street or town name (function words and chat words of each language,
# numbers, dates, units), so that a name ends where the sentence goes on: "14 rue saint ambroise in quebec".
_FUNCTION_WORDS = word_set("""
    a an the and or but if of to in on at by for from with without into onto over under near about as is are
    was were be been am i i'm im you he she we they it its it's my your his her our their me him us them this
    that these those there here yes yeah no not please pls plz thanks thank thx ok okay so then also too just
    now still since until till when where which who what how can could would should will shall may might must
    during between among around against within across along towards toward beyond despite except
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
_DATE_WORDS = word_set("""
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
_UNIT_WORDS = word_set("""
    % min mins minute minutes minuten std stunde stunden hour hours hrs h uhr km kg g l ml euro euros eur chf
    franken fr usd dollar dollars gbp pound pounds pfund zł zloty złotych kr kronen rs inr rupees mal times x
    stück pcs items units tage days day jahre years year weeks wochen monate months gb mb tb kb ps kw kwh
    punkte points prozent percent cent cents
""")
# Words that say the address is someone's: they never belong to the name either.
_ADDRESS_WORDS = word_set("""
    address adresse anschrift lieferadresse rechnungsadresse postanschrift wohnadresse dirección direccion
    domicilio indirizzo adres adresu wohnort wohnhaft wohne wohnen wohnt habite habitons vivo vivimos abito
    abitiamo woon woont wonen mieszkam mieszkamy resido risiedo hausnummer huisnummer
    phone telephone tel telefon mobile handy fax email e-mail mail iban account konto
    postcode zip plz pin eircode
""")
# A company's place: an address right after one of these is the company's (negative), not the customer's.
_ORG_WORDS = word_set("""
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
    gmbh ag kg ohg ltd limited inc llc plc sarl srl spa bv nv corp headquartered gevestigd siedziba
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
_UNIT_AFTER = (rf"(?:,?[ \t]*(?:(?:{_UNIT_WORD})\.?|m\.)\s*{_UNIT_VALUE}"
               r"|,?[ \t]*\d{1,2}\s?[º°ª]\s?(?:(?:izq|izda|dcha|der|centro)\w*\.?|[a-z](?![\w'\u2019]))?"
               r"|,[ \t]*\d{1,2}\.\s?(?:og|stock|etage|eg|dg)(?!\w))")  # on the same line
_UNITS_AFTER = rf"(?:{_UNIT_AFTER}){{0,3}}"
# A flat or a building before the street: "Flat 3, ", "Unit 8, Acacia Park Estate, ", "Erf 3918, ".
_UNIT_BEFORE = (r"(?:(?:flat|unit|apartment|apt|suite|ste|erf|plot|lot|shop|villa|block|level|room|studio)\.?"
                rf"\s*{_UNIT_VALUE},?\s+(?:(?:The\s+)?{_CAP_WORD}(?:\s+{_CAP_WORD}){{0,3}},\s+)?)")
_HOUSE_NAME = (rf"(?:{_CAP_WORD}\s+(?-i:Cottage|House|Farm|Lodge|Manor|Barn|Hall|Mill|Villa|Mansions|Apartments|"
               r"Flats|Residency|Heights|Towers?|Chambers|Estate),\s+)")
_NUMBER_WORD = r"(?:house\s+number|number|no\.?|nr\.?|door\s+no\.?|h\.?\s?no\.?|#)"


# Number first, street type last (English, also Indian English): "42 Elm Street", "Flat 5, 14 Abbeydale
# Mews", "2415 NW 63rd St, Apt 310", "Apartment 2, The Old Brewery, Mill Street", "no. 7, 3rd cross road".
_EN_TYPES = word_set("""
    street st avenue ave av road rd lane ln drive dr drv boulevard blvd bvd court ct crescent cres terrace tce
    terr mews parkway pkwy circle cir highway hwy square sq close cl grove gr gardens gdns place pl way wy row
    parade pde esplanade promenade alley trail trl bend loop cove wharf quay causeway crossing heights hts
    expressway freeway pike turnpike nagar colony marg salai enclave residency layout chowk bagh str
""")
# Types that are ordinary words too: an address by shape only when written with capitals. Most are the
# street suffixes of the US Postal Service (Publication 28, appendix C1), plural forms included.
_EN_WEAK_TYPES = word_set("""
    hill view vale green park gate end walk rise point ridge field fields meadow meadows common yard circus
    grange glen dale drift chase mount hollow brae wynd path run pass spur track estate main cross stage phase
    sector extension extn
    views greens parks walks points ridges commons glens dales paths estates burgs
    bayou beach bluff bluffs brook brooks burg bypass canyon cape cliff cliffs corner corners creek crest curve
    divide falls ferry flats forest forge fork forks gateway harbor harbour haven inlet island islands isle
    junction junctions knoll knolls lake lakes landing manor mill mills motorway mountain mountains neck orchard
    oval overpass pines plaza prairie radial ranch rapids river route shoal shoals shore shores skyway spring
    springs squares stream streams summit throughway tunnel underpass valley viaduct village villages ville
    vista well wells ways
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
_FR_TYPES = word_set("""
    rue impasse imp allée allee chemin quai boulevard bd bld bvd avenue av faubourg fbg ruelle lieu-dit
    rond-point montée sentier chaussée
""")
_FR_WEAK_TYPES = word_set("""
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
# Street type first, number last (Spanish, Italian, Portuguese, Polish, Greek, the French of Belgium and
# Switzerland): "Calle de Toledo 52, 2º C", "Via Roma 12", "ul. Brzozowa 11 m. 4", "Avenida da Liberdade 110",
# "Rue de la Loi 16".
_TYPE_FIRST_TYPES = word_set("""
    calle c/ avenida avda. paseo plaza pza. glorieta rambla travesía travesia carrer viale piazza piazzale vicolo
    lungomare rua rúa travessa praça praca ulica ul. ul aleja osiedle plac rondo bulwar λεωφόρος οδός πλατεία
    náměstí nábřeží
""")
_TYPE_FIRST_WEAK_TYPES = word_set("""
    via strada corso largo borgo salita contrada camino carretera ctra. ronda estrada av. al. os. pl. r. r
""")
_TYPE_FIRST_LINK = (r"(?:de\s+la|de\s+los|de\s+las|de\s+l['\u2019]|del|de|di|della|dello|dei|degli|delle|dell['\u2019]"
                    r"|da|do|dos|das|du|des|d['\u2019])")
_TYPE_FIRST = re.compile(
    rf"(?<![\w/.'\u2019-])(?P<type>{_alternation(_TYPE_FIRST_TYPES | _FR_TYPES | _TYPE_FIRST_WEAK_TYPES)})"
    rf"(?:(?<=[./])\s*|\s+)(?:{_TYPE_FIRST_LINK}\s*)?"  # "ul.Polna", "c/Mayor", not "Avt"
    rf"(?P<name>{_NAME_WORD}(?:\s+(?:{_TYPE_FIRST_LINK}\s+)?{_NAME_WORD}){{0,3}})"
    r"(?:,(?!\s*\d{4,5}\s+[^\W\d_])|\s)\s*"  # after a comma, four or five digits and a town are a postal code
    rf"(?:(?:n|nº|n°|no|nr|núm|num)\.?\s*)?{_HOUSE}{_NOT_AMOUNT}{_UNITS_AFTER}",
    re.IGNORECASE,
)
# Number after the street (German, Austrian, Swiss, Dutch, Danish...): "Keplerstraße 17", "Lindenstr. 27",
# "Max-Planck-Straße 23", "Hietzinger Straße 64/1/7", "Lange Nieuwstraat 58-b". The words before
# a compound are adjectives ("Alte Landstraße", "Hallesche Str."), not "Passt Zieglergasse 37".
_DE_TYPES = word_set("""
    straße strasse str. gasse gässli weg allee damm ufer chaussee pfad stieg zeile gürtel promenade twiete lände
    straat laan gracht kade dijk singel steeg dreef plein vej gade stræde gatan vägen veien gata
    vegur vegen veg vei gränd allé alléen stígur stíg braut gerði katu kuja polku kaari põik puiestee maantee
    utca út útja körút cesta ulica
""")
_DE_WEAK_TYPES = word_set("""
    platz ring markt kamp berg hof graben wall kai brücke feld garten park anger heide siedlung höhe bogen
    winkel steig pad wal haven torv matt rain acker wiese leite koppel horst weide plads plaats tie
""")
# Only as a word of their own: "Pradler Au", "Luite tee" (a compound "-au" is "Frau", "-tee" is "committee").
_DE_SEPARATE = frozenset({"au", "tee"})
_DE = re.compile(
    rf"(?<![\w'\u2019-])(?:(?:{_CAP_WORD}(?<=[ersn])\s+){{0,2}}"
    rf"(?P<compound>{_L}[\w'\u2019-]*?(?:{_alternation(_DE_TYPES | _DE_WEAK_TYPES)}))"
    rf"|(?:{_NAME_WORD}\s+){{1,2}}(?P<word>{_alternation(_DE_TYPES | _DE_WEAK_TYPES | _DE_SEPARATE)}))"
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
_UNTYPED_STREET_BEFORE = re.compile(rf"(?:{_CAP_WORD}[ \t]+){{0,2}}{_CAP_WORD}[ \t]+{_HOUSE},?[ \t]*\Z",
                                    re.IGNORECASE)
# A post-office box: "P.O. Box 63", "GPO Box 12", "Postfach 12 34", "Postbus 301", "Casella postale 12", "Apartado
# de Correos 45", "Boîte postale 12", "Skrytka pocztowa 7", "Caixa Postal 9", "Private Bag 9". "BP 12" and "Apartado
# 45" are ordinary words too (a blood pressure, a section of a contract): weak.
_PO_BOX = re.compile(
    r"(?<![\w'\u2019-])(?:(?P<weak>(?-i:BP|B\.P\.)|apartado|apdo\.?)"
    r"|(?:p\.?\s?o\.?|g\.?p\.?o\.?|post(?:\s+office)?)\s*box|postfach|postbus|postboks|casella\s+postale"
    r"|apartado\s+de\s+correos|bo[iî]te\s+postale|skrytka\s+pocztowa"
    r"|caixa\s+postal|private\s+bag|locked\s+bag)\s*(?:no\.?|nr\.?|n[º°]\.?)?\s*\d{1,6}(?:\s\d{2,4})?"
    rf"(?![\w'\u2019-]|[.,]\d){_UNITS_AFTER}",
    re.IGNORECASE,
)
_PO_BOX_WORDS = word_set("box postfach postbus postboks casella apartado apdo boîte boite skrytka caixa bag bp")
# A US military or diplomatic address, the unit or ship and the "town" with its ZIP code: "PSC 1234, Box 5678 /
# APO AE 09012", "Unit 2050 Box 4190 / DPO AP 96522", "USNS Comfort / FPO AA 34090".
_MILITARY = re.compile(
    rf"(?:(?P<unit>(?<![\w'\u2019-])(?:(?:PSC|CMR|Unit)\s+\d{{1,5}},?\s+Box\s+\d{{1,5}}|(?:USS|USNS|USNV|USCGC|USAV)"
    rf"\s+{_NAME}(?:\s+{_NAME})?))[ \t]*,?\s*)?"
    r"(?<![\w'\u2019-])(?P<town>(?:APO|FPO|DPO)\s+(?:AA|AE|AP))\s+(?P<zip>\d{5}(?:-\d{4})?)(?![\w'\u2019-])"
)
# A building number, a flat or both before a street that carries a number of its own: "475 2 Lamphey Road",
# "Apt. 918 61990 Violvägen 64", "Suite 5 Rua Augusta 12".
_BEFORE_STREET = re.compile(
    rf"(?<![\w/.,:+#'\u2019-])(?:(?:(?:apt|apartment|suite|ste|unit|flat|room|studio)\.?\s*{_UNIT_VALUE},?[ \t]+)?"
    rf"\d{{1,5}}[a-z]?|(?:apt|apartment|suite|ste|unit|flat|room|studio)\.?\s*{_UNIT_VALUE}),?[ \t]+\Z",
    re.IGNORECASE,
)
# Lower-case links inside a street's name without a type: "Treinta y Tres", "Fuente del Gallo", "Bystré u Policky".
_LINK = r"(?-i:y|e|i|à|a|u|de|del|della|di|da|do|dos|das|la|le|van|von|der|den|du|des|of|the|nad|pod|na)"
# Articles that start a name, capitalised: "Los Almendros", "La Cabrera", "Den Haag", "O Saviñao", "Le Havre".
_ARTICLES = ("La", "Las", "Los", "El", "Le", "Les", "Den", "De", "Het", "O", "Il", "Lo")
_UNTYPED_NAME = rf"(?:(?-i:{'|'.join(_ARTICLES)})[ \t]+)?{_NAME_WORD}(?:[ \t]+(?:{_LINK}[ \t]+)?{_NAME_WORD}){{0,3}}"
# A street with no type word, where an address cue names it one: "Fitjabraut 87", "788 Strojírenská 1006",
# "Treinta y Tres 2070, Durazno", "12 Baker".
_UNTYPED_AT = re.compile(
    rf"(?:{_CAP_WORD}[ \t]+(?:and|&|und|et|y|e|en|i)[ \t]+)?"  # the first of two streets that meet: "Main and ..."
    rf"(?:{_HOUSE}[ \t]+)?(?P<name>{_UNTYPED_NAME})[ \t]+{_HOUSE}\.?{_NOT_AMOUNT}{_UNITS_AFTER}"
    rf"|{_HOUSE}[ \t]+(?P<name_after>{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,2}}){_END}",
    re.IGNORECASE,
)
# A street with no type word before its flat: "Aasa 43 Apt. 651", "Hlavní 12 Suite 3".
_BEFORE_UNIT_WORDS = frozenset({"apt", "apartment", "suite", "ste", "flat", "unit"})
_UNTYPED_BEFORE_UNIT = re.compile(
    rf"(?<![\w/.,'\u2019-])(?:{_HOUSE}[ \t]+)?(?P<name>{_UNTYPED_NAME})[ \t]+{_HOUSE}\.?"
    rf"(?=,?[ \t]+(?:apt|apartment|suite|ste|flat|unit)\.?[ \t]*\d){_UNITS_AFTER}",
    re.IGNORECASE,
)
# A street with no type word, named one by the word after its number: "Dobrovského 1394 street", "Marmaris 9 St.".
_CALLED_WORDS = frozenset({"street", "st", "road", "rd", "avenue", "ave", "straße", "strasse", "str"})
_CALLED_STREET = re.compile(
    rf"(?<![\w/.,'\u2019-])(?:{_HOUSE}[ \t]+)?(?P<name>{_UNTYPED_NAME})[ \t]+{_HOUSE}(?=\.?[ \t]+"
    r"(?:street|st\.|road|rd\.|avenue|ave\.|straße|strasse|str\.)(?![\w'\u2019]))",
    re.IGNORECASE,
)
UNIT_LINE = re.compile(rf"(?:(?:{_UNIT_WORD})\.?\s*{_UNIT_VALUE}[ \t,]*)+", re.IGNORECASE)
"""A flat, suite or floor written as a line of its own: "Apt. 559", "Suite 026", "Flat 2", "Top 7", "Piso 3"."""
_UNTYPED_LINE_END = re.compile(
    rf"(?<![\w/.,'\u2019-])(?:(?:{_UNIT_WORD})\.?\s*{_UNIT_VALUE}[ \t]+)?(?:{_HOUSE}[ \t]+)?(?P<name>{_UNTYPED_NAME})"
    rf"[ \t]+{_HOUSE}\.?(?:{_UNIT_AFTER})*\Z",
    re.IGNORECASE,
)
# Words that start a name and a number that are no street: "Gate 12", "Terminal 2", "Windows 11", "Season 3".
_NOT_STREETS = word_set("""
    gate gates terminal platform track gleis bahnsteig flight flug vol vuelo volo vlucht room zimmer seat sitz
    sitzplatz level channel kanal version windows iphone android galaxy pixel page seite chapter kapitel table
    tisch row reihe bus line linie tram exit ausgang hall halle stand booth box counter schalter desk window
    order bestellung ticket invoice rechnung account konto item artikel size größe model modell series serie
    step schritt option tarif plan week woche day tag season staffel episode folge part teil grade klasse class
    year jahr case fall claim policy parcel paket package lot batch code pin zone
""")
# Right before an address: "lives at", "my address is", "Address:", "sent to", "meet me at", "wohne in der",
# "j'habite au", "vivo en", "abito in", "woon op", "mieszkam przy". An address-word cue may be a few words away
# ("my addresses, here they are: ..."); the others are right before the address.
_ADDRESS_WORD_CUE = re.compile(
    r"\b(?:address(?:es)?|adresse[n]?|anschrift|lieferadresse|dirección|direccion|domicilio|indirizzo|adres|adresu)\b",
    re.IGNORECASE,
)
_ADDRESS_CUE = re.compile(
    r"\b(?:(?:lives?|lived|living|resides?|resided|residing|located|situated|staying)\s+(?:at|on|in)"
    r"(?:\s+the\s+(?:north|south|east|west|other|far)\w*\s+(?:side|end)\s+of)?"
    r"|(?:sent|send|ship|shipped|deliver|delivered|forward|forwarded|mail|mailed|post|posted|return|returned"
    r"|moved|move|taxi|drive|take\s+me)(?:\s+(?:it|this|them|that|one|everything|me|us|him|her|a\s+new\s+one))?\s+to"
    r"|(?:meet|see)(?:\s+(?:me|you|us))?\s+at|stop\s+at|drops?\s+(?:me|you|us|him|her)\s+off\s+at|arrived\s+at"
    r"|(?:wohne|wohnst|wohnt|wohnen|wohnhaft|lebe|lebt)(?:\s+(?:jetzt|nun|inzwischen))?"
    r"(?-i:\s+(?:in\s+der|im|am|an\s+der|auf\s+der|in))?"
    r"|(?:schicken|senden|liefern|schickt|sendet|liefert|geht)(?:\s+\w+)?\s+an(?:\s+die)?"
    r"|(?:befindet\s+sich|liegt)\s+(?:in\s+der|im|am|an\s+der)"
    r"|(?:j['\u2019]\s?habite|habite|habitons|habitez|domiciliée?|situé(?:e|s|es)?|se\s+trouve)"
    r"(?:\s+(?:au|à\s+la|à|a))?"
    r"|(?:envoyer|envoyez|livrer|livrez|expédier|expédiez)(?:\s+\w+)?\s+(?:au|à|a)"
    r"|(?:vivo|vive|vivimos|viven|resido|reside|situad[oa]|ubicad[oa]|queda)\s+en"
    r"|(?:enviar|envíen|envíe|envíenlo|mandar|mándenlo|entregar)(?:lo|la)?\s+(?:a|en)"
    r"|(?:abito|abita|abitiamo|vivo|vive|risiedo|risiede|situat[oa]|si\s+trova)\s+(?:in|a|al|alla)"
    r"|(?:spedire|inviare|consegnare|mandare|spedite|inviate)(?:lo|la)?\s+(?:a|in|al|alla)"
    r"|(?:woon|woont|wonen|gevestigd|ligt)\s+(?:op|aan|in|te)|(?:sturen|opsturen|bezorgen|leveren)\s+(?:naar|op|aan)"
    r"|(?:mieszkam|mieszka|mieszkamy|mieszkają|zamieszkał[ay]?)\s+(?:przy|na|w)"
    r"|(?:wysłać|wyślij|wyślijcie|dostarczyć|dostarczcie)\s+(?:na|pod)|znajduje\s+się\s+(?:przy|na))(?![\w'\u2019])",
    re.IGNORECASE,
)
_PLACE_CUE = re.compile(
    r"\b(?:is|are|was|were|['\u2019]s|ist|est|está|è|zit)\s+(?:at|on|in|an|à|en|op)(?![\w'\u2019])", re.IGNORECASE)
# A building number, then a street with its own number: "7848 Puolakantie 38".
_BUILDING_AND_STREET = re.compile(
    rf"{_HOUSE}[ \t]+(?P<name>{_UNTYPED_NAME})[ \t]+{_HOUSE}\.?{_NOT_AMOUNT}{_UNITS_AFTER}",
    re.IGNORECASE)
_ADDRESS_CUE_WORDS = 4  # words at most between an address word and the address ("address to the same: ...")
_CUE_GAP = re.compile(r"[ \t]*[,-]?[ \t]*|[ \t]*:\s*")  # after a colon the address may be on the next line
# Two streets that meet: "the corner of Elm Street and 5th Avenue", "Ecke Kantstraße und Uhlandstraße", "au coin
# de la rue X et de la rue Y", "esquina de X con Y", "all'angolo tra X e Y", "hoek van X en Y", "róg X i Y".
_CORNER = re.compile(
    r"\b(?:(?:the|der|la|el|het|de)\s+)?(?:corner\s+of|intersection\s+of|junction\s+of|ecke(?:\s+(?:von|der))?"
    r"|kreuzung(?:\s+(?:von|der))?"
    r"|(?:coin|angle)\s+(?:de\s+la|de\s+l['\u2019]|du|des|de)|esquina\s+(?:de\s+la|del|de|entre)|esquina"
    r"|(?:angolo|incrocio)(?:\s+(?:tra|fra|di|con))?|(?:hoek|kruising)\s+van|rogu?|skrzyżowaniu?)[ \t]+",
    re.IGNORECASE,
)
_ORDINAL = r"\d{1,3}(?:st|nd|rd|th|e|er|ème|º|ª|\.)(?![\w'\u2019])"  # "3rd Street", "5e Avenue", "2. Straße"
_CORNER_SIDE = re.compile(
    rf"(?:{_PO_BOX.pattern}|{_ORDINAL}|{_HOUSE}\.?|{_NAME_WORD}\.?)"
    rf"(?:[ \t]+(?:{_LINK}[ \t]+)?(?:{_ORDINAL}|{_HOUSE}\.?|{_NAME_WORD}\.?)){{0,6}}",
    re.IGNORECASE,
)
_CORNER_AND = re.compile(r"[ \t]+(?:and|&|und|et|y|e|con|en|i|z|with)[ \t]+(?:(?:de\s+la|du|des|de)[ \t]+)?",
                         re.IGNORECASE)
# The first street of two that meet, where an address is expected: "Main and 12 Elm Street" after "address:".
_AND_END = re.compile(r"[ \t](?:and|&|und|et|y|e|en|i)[ \t]+\Z", re.IGNORECASE)
_AND_BEFORE = re.compile(rf"(?:{_CAP_WORD}[ \t]+){{0,2}}{_CAP_WORD}[ \t]+(?:and|&|und|et|y|e|en|i)[ \t]+\Z",
                         re.IGNORECASE)

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
TOWN_LINKS = word_set("am an der den im upon on sur en de del di la le op aan ob bei")
_TOWN_ARTICLES = frozenset(_ARTICLES)
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
_LOWER_WORD_NEXT = re.compile(r"[ \t]+(?-i:[a-zß-öø-ÿ])")
_WORD = re.compile(rf"{_L}+")
_ORG_WINDOW = 4  # words before an address where a company's place is named ("our branch at", "Filiale")
_ABBREVIATION = 4  # letters at most in an abbreviation ending with a dot ("Blvd.")
_WORD_CASE_SHARE = 0.25  # fewer capitalised words than this: text typed in lower case, names too


@lru_cache(maxsize=512)  # the street, postal code and city recognizers read the same text one after another
def address_parts(text: str) -> tuple[Part, ...]:
    """Every address part in `text`, sorted by start; streets do not overlap each other."""
    text = readable(text)
    casual = is_casual(text)
    cues = _cue_ends(text) if _DIGIT.search(text) else []
    parts: list[Part] = []
    lines: list[tuple[int, int]] = []
    for start, end, evidence, untyped in _streets(text, casual, cues):
        if lines and start < lines[-1][1]:  # "3011 Bern" in "Laupenstrasse 27, 3011 Bern"
            continue
        start = _street_start(text, start, lines[-1][1] if lines else 0, cues)
        line_end, tail = _tail(text, end, casual, _ENDS_WITH_UNIT.search(text, start, end) is not None)
        if untyped and not any(kind == "postal" for _, _, kind in tail):
            continue
        line: Evidence = "org" if is_org(text, start) else "line" if tail else evidence
        parts.append(Part(start, line_end, "street", line))
        parts += [Part(s, e, kind, "org" if line == "org" else "line") for s, e, kind in tail]
        lines.append((start, line_end))
    parts += _military(text) if "PO " in text else []
    parts += _towns_with_postal_codes(text, casual, lines)
    return tuple(sorted(parts, key=lambda p: (p.start, -p.end)))


def readable(text: str) -> str:
    """`text` with the two characters backslash and n, as some exports write a line break, read as a line
    break (a space and a newline: the offsets stay)."""
    return text.replace("\\n", " \n")


def is_casual(text: str) -> bool:
    """Whether `text` is typed in lower case (names too), so that a lower-case word may be a name."""
    words: list[str] = _WORD.findall(text)
    return sum(w[0].isupper() for w in words) < _WORD_CASE_SHARE * len(words)


_DIGIT = re.compile(r"\d")


def _letters(types: frozenset[str]) -> frozenset[str]:
    """The words of `types` as `_WORD` finds them in a text: "ul." is "ul", "lieu-dit" is "lieu"."""
    return frozenset(w for t in types for w in _WORD.findall(t)[:1])


_DE_ENDINGS = tuple(_letters(_DE_TYPES | _DE_WEAK_TYPES | _DE_SEPARATE))
# The patterns with a street type word: the pattern, the type words as a text's words, the weak types.
_TYPED = tuple((pattern, _letters(types | weak), weak) for pattern, types, weak in (
    (_EN, _EN_TYPES, _EN_WEAK_TYPES), (_FR, _FR_TYPES, _FR_WEAK_TYPES),
    (_TYPE_FIRST, _TYPE_FIRST_TYPES | _FR_TYPES, _TYPE_FIRST_WEAK_TYPES)))
_Street = tuple[int, int, Evidence, bool]  # start, end, evidence, whether it has no street type
_ALL_TYPE_WORDS = _letters(_EN_TYPES | _EN_WEAK_TYPES | _FR_TYPES | _FR_WEAK_TYPES | _TYPE_FIRST_TYPES
                           | _TYPE_FIRST_WEAK_TYPES | _DE_TYPES | _DE_WEAK_TYPES | _DE_SEPARATE)
_ENDS_WITH_UNIT = re.compile(rf"(?:{_UNIT_WORD})\.?\s*{_UNIT_VALUE}\Z", re.IGNORECASE)
_WORD_START = re.compile(r"(?<![\w'\u2019-])[^\W_]")
_CUE_REACH = 60  # characters after a cue where its address may start
_BEFORE_REACH = 40  # characters before a street where its building number and flat may start


def _streets(text: str, casual: bool, cues: list[_Cue]) -> list[_Street]:
    """The streets (with house number and flat), sorted, the longest kept where they overlap; untyped
    ones count only on a line with a postal code or right after an address cue (`cues`)."""
    if not _DIGIT.search(text):
        return _corners(text)  # "the corner of Elm Street and Main Street"
    # Each pattern runs only where its words occur: most texts hold no street at all.
    words = frozenset(w.lower() for w in _WORD.findall(text))
    lines = _line_spans(text)
    candidates: list[_Street] = []
    for pattern, type_words, weak_types in _TYPED:
        if words.isdisjoint(type_words):
            continue
        for m in _matches(pattern, text, lines):
            weak = m.group("type").lower() in weak_types and not _capitalized(m.group("name"))
            candidates.append((m.start(), _trimmed(text, m.start(), m.end()), "weak" if weak else "shape", False))
    if any(w.endswith(_DE_ENDINGS) for w in words):
        for m in _matches(_DE, text, lines):
            kind = (m.group("compound") or m.group("word")).lower()
            if m.group("compound") and kind in STOP_WORDS:  # "During 2000, ..."
                continue
            weak = kind.endswith(tuple(_DE_WEAK_TYPES)) or kind in _DE_SEPARATE
            candidates.append((m.start(), _trimmed(text, m.start(), m.end()), "weak" if weak else "shape", False))
    candidates += [(m.start(), _trimmed(text, m.start(), m.end()), "shape", False)
                   for m in _matches(_ROAD_NUMBER, text, lines)]
    for pattern in (_PREPOSITIONAL, _HOUSE_NUMBER):
        candidates += [(m.start(), _trimmed(text, m.start(), m.end()), "weak", False)
                       for m in _matches(pattern, text, lines)]
    if not words.isdisjoint(_PO_BOX_WORDS):
        candidates += [(m.start(), _trimmed(text, m.start(), m.end()), "weak" if m.group("weak") else "shape", False)
                       for m in _matches(_PO_BOX, text, lines)]
    candidates += _corners(text)
    for pattern, pattern_words in ((_CALLED_STREET, _CALLED_WORDS), (_UNTYPED_BEFORE_UNIT, _BEFORE_UNIT_WORDS)):
        if not words.isdisjoint(pattern_words):
            candidates += [(m.start(), _trimmed(text, m.start(), m.end()), "shape", False)
                           for m in _matches(pattern, text, lines) if _street_name(m.group("name"), casual)]
    candidates += _cued_streets(text, casual, cues)
    if not casual:
        candidates += [(m.start(), m.end(), "shape", True) for m in _matches(_UNTYPED_STREET, text, lines)]
    # With a building number or flat before it ("475 2 Lamphey Road"); on one line; a shape right after a cue.
    candidates = [(_with_building(text, start), end, "shape" if _after_cue(text, start, cues) else evidence, untyped)
                  for start, end, evidence, untyped in candidates if "\n" not in text[start:end]]
    # Shapes that overlap are one street ("Plot 4, Road No. 12" and "No. 12, Banjara Hills"); a weak or untyped
    # one counts only where no shape is, the longest first.
    kept: list[_Street] = []
    for start, end, evidence, untyped in sorted(c for c in candidates if c[2] == "shape" and not c[3]):
        if kept and start < kept[-1][1]:
            start, end = kept[-1][0], max(end, kept.pop()[1])
        kept.append((start, end, evidence, untyped))
    for candidate in sorted((c for c in candidates if c[2] != "shape" or c[3]), key=lambda c: (c[3], c[0] - c[1])):
        if all(candidate[1] <= k[0] or k[1] <= candidate[0] for k in kept):
            kept.append(candidate)
    return sorted(kept)


def _line_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    start = 0
    for line in text.split("\n"):
        spans.append((start, start + len(line)))
        start += len(line) + 1
    return spans


def _matches(pattern: re.Pattern[str], text: str, lines: list[tuple[int, int]]) -> Iterator[re.Match[str]]:
    """The matches of `pattern` line by line: no street runs over a line break."""
    for start, end in lines:
        yield from pattern.finditer(text, start, end)


def _capitalized(name: str) -> bool:
    return all(w[0].isupper() or w.lower() in TOWN_LINKS for w in _WORD.findall(name))


CueKind = Literal["word", "phrase", "place"]
_Cue = tuple[int, int, CueKind]  # start, end, kind (see `_cue_ends`)


def _cue_ends(text: str) -> list[_Cue]:
    """The address cues in `text`: address words ("address", "Anschrift"), which the address may follow a few
    words on; phrases ("lives at", "sent to"), right before it; "is at", right before a building number, name and
    number ("is at 12 Hlavní 3"), the only shape it makes an address of ("is at Gate 12" is none)."""
    cues: list[_Cue] = [(m.start(), m.end(), "word") for m in _ADDRESS_WORD_CUE.finditer(text)]
    cues += [(m.start(), m.end(), "phrase") for m in _ADDRESS_CUE.finditer(text)]
    cues += [(m.start(), m.end(), "place") for m in _PLACE_CUE.finditer(text)]
    return sorted(cues)


def _after_cue(text: str, position: int, cues: list[_Cue]) -> bool:
    """Whether an address cue ends right before `position`, or an address word a few words before it in the
    same sentence."""
    for _, end, kind in cues:
        if end > position:
            break
        gap = text[end:position]
        if _CUE_GAP.fullmatch(gap) or (kind == "word" and len(gap.split()) <= _ADDRESS_CUE_WORDS
                                       and not _SENTENCE_END.search(gap)):
            return True
    return False


def untyped_street_ending(text: str, start: int, end: int, casual: bool) -> int | None:
    """The start of a street without a type word that ends at `end`, within `text[start:end]` ("637 Strojírenská
    1006", "Apt. 9 Treinta y Tres 2070"), or None. Only its address's other lines can tell that it is one."""
    m = _UNTYPED_LINE_END.search(text, start, end)
    return m.start() if m and _street_name(m.group("name"), casual) else None


def _street_name(name: str, casual: bool) -> bool:
    """Whether the words before a number may name a street without a type word: "Fitjabraut 87" may, "Gate 12"
    may not."""
    first = name.split()[0]
    return (casual or first[0].isupper()) and first.lower() not in _NOT_STREETS


def _cued_streets(text: str, casual: bool, cues: list[_Cue]) -> list[_Street]:
    """Streets without a type word right after an address cue: "lives at 788 Fitjabraut 87"."""
    streets: list[_Street] = []
    for _, end, kind in cues:
        # After an address word the street may come a few words on: "my new address is now ...".
        starts = [m.start() for m in _WORD_START.finditer(text, end, end + _CUE_REACH)][:_ADDRESS_CUE_WORDS + 1]
        for start in starts if kind == "word" else starts[:1]:
            m = (_BUILDING_AND_STREET if kind == "place" else _UNTYPED_AT).match(text, start)
            if not _after_cue(text, start, [(0, end, kind)]):
                break
            if m and _street_name(m.group("name") or m.group("name_after"), casual):  # a name before or after
                streets.append((m.start(), _trimmed(text, m.start(), m.end()), "shape", False))
                break
    return streets


def _corners(text: str) -> list[_Street]:
    """Two streets that meet, as one street with the words that say so: "the corner of Elm Street and 5th
    Avenue"; a shape when one of them has a number or a street type, else weak ("the corner of Smith and Jones")."""
    streets: list[_Street] = []
    for corner in _CORNER.finditer(text):
        first = _CORNER_SIDE.match(text, corner.end())
        conjunction = _CORNER_AND.match(text, first.end()) if first else None
        second = _CORNER_SIDE.match(text, conjunction.end()) if conjunction else None
        if first is None or second is None:
            continue
        words = [w.lower() for w in _WORD.findall(text, first.start(), second.end())]
        shaped = _DIGIT.search(text, first.start(), second.end()) or any(
            w in _ALL_TYPE_WORDS or w.endswith(_DE_ENDINGS) for w in words)
        streets.append((corner.start(), _trimmed(text, first.start(), second.end()), "shape" if shaped else "weak",
                        False))
    return streets


def _with_building(text: str, start: int) -> int:
    """Where a street found at `start` begins with the building number or flat before it ("475 2 Lamphey Road",
    "Apt. 918 61990 Violvägen 64")."""
    before = _BEFORE_STREET.search(text, max(0, start - _BEFORE_REACH), start)
    return before.start() if before else start


def _street_start(text: str, start: int, floor: int, cues: list[_Cue]) -> int:
    """Where a street found at `start` begins, not before `floor`, with the first of two streets that meet where
    an address is expected ("Address: Main and 12 Elm Street")."""
    crossing = _AND_BEFORE.search(text, max(floor, start - 60), start) if _AND_END.search(text, floor, start) else None
    if crossing and (_after_cue(text, crossing.start(), cues) or _starts_line(text, crossing.start())):
        start = crossing.start()
    return start


def _starts_line(text: str, position: int) -> bool:
    return not text[text.rfind("\n", 0, position) + 1:position].strip()


def _military(text: str) -> list[Part]:
    """US military and diplomatic addresses: the unit or ship (a street), "APO AE" (its town), the ZIP code."""
    parts: list[Part] = []
    for m in _MILITARY.finditer(text):
        evidence: Evidence = "org" if is_org(text, m.start()) else "line"
        if m.group("unit"):
            parts.append(Part(*m.span("unit"), "street", evidence))
        parts += [Part(*m.span("town"), "city", evidence), Part(*m.span("zip"), "postal", evidence)]
    return parts


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


def _tail(text: str, end: int, casual: bool, after_unit: bool) -> tuple[int, _Tail]:
    """What follows a street on its address line: ", 93047 Regensburg", ", Leeds, LS7 4RJ", " Penrith NSW
    2750", " apex north carolina 27502", ", Durham", " in 9020 Klagenfurt", " Apt. 4 Springfield" (`after_unit`: the
    street ends with its flat). Returns the line's end and the tail's parts; no parts if what follows is not
    clearly an address (a town with neither comma nor postal code nor a flat before it)."""
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
    # After a flat, a town needs no comma where its name ends as a name may end ("Apt. 4 Springfield, IL", "Apt. 4
    # Springfield last week").
    after_unit = after_unit and not casual and (_TOWN_END.match(text, kept[0][1]) is not None
                                                or _LOWER_WORD_NEXT.match(text, kept[0][1]) is not None)
    if not kept or not (comma or state or (preposition and not casual) or after_unit):
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
        linked = not casual and (lower in TOWN_LINKS if count else word.group() in _TOWN_ARTICLES)
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
        evidence: Evidence = "org" if is_org(text, start) else "line"
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
        evidence = "org" if is_org(text, town_start) else "line"
        postal = next(m.span(g) for g in ("zip", "au", "ca") if m.group(g)) if by_state else m.span()
        parts += [Part(town_start, _trimmed(text, town_start, m.start()), "city", evidence),
                  Part(*postal, "postal", evidence)]
        lines.append((town_start, m.end()))
    return parts


def is_org(text: str, start: int) -> bool:
    """Whether a company's place is named among the few words before `start` in the same sentence, or
    starts the address itself ("Postfiliale Hauptstraße 10")."""
    before = text[max(0, start - 80):start]
    ends = list(_SENTENCE_END.finditer(before))
    if ends:
        before = before[ends[-1].end():]
    first = _WORD.match(text, start)
    words = [w.lower() for w in [*_WORD.findall(before)[-_ORG_WINDOW:], *([first.group()] if first else [])]]
    return any(w in _ORG_WORDS or w.endswith(_ORG_ENDINGS) for w in words)
