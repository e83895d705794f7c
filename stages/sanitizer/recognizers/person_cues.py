"""The words around a name, in en, de, fr, es, it, nl and pl: what comes before one ("my name is", "ich bin",
"Frau", "meine Tochter", "Danke,") or after it ("here", "am Apparat"). Each pattern ends where the name
would start (or, for `after`, starts where it ended); `person` decides whether the words there look like a
name. A text is read with the cues of its language and of English (English phrases turn up in every
language's chats); cues that are ordinary words elsewhere ("soy", "sono", "met", "tu") stay in their own.

Kinds of cue, by how much they say:
- `strong`: a name follows, whatever its case or whether it is a word ("my name is will", "Herr Vogel");
- `weak`: a name may follow ("I'm Jane" but "I'm tired"; "ich bin müde"): it must be a known given name or a
  capitalised word that is no ordinary word;
- `relation`: a relative or neighbour, then maybe their name ("my wife rosamund", "meiner Frau Snežana");
- `title`: Mr, Frau, Madame, señora, signora, mevrouw, pani... (the title stays outside the name);
- `vocative`: a greeting or thanks addressed to someone ("Thanks, Chiamaka", "Merci Maëlle");
- `after`: words after a name ("Genevieve here", "Urs am Apparat", "Gurvinder ji").
`self_*` cues are the writer introducing themselves: a bot doing so names its persona, not a person."""

from __future__ import annotations

import re
from collections.abc import Mapping

import msgspec

from stages.sanitizer.recognizers.base import word_set

_FLAGS = re.IGNORECASE
_APOS = "['\u2019]"


class Cues(msgspec.Struct, frozen=True):
    self_strong: str = ""
    self_weak: str = ""
    own_self_weak: str = ""  # used in the language's own texts only ("im" is German for "in the")
    strong: str = ""
    weak: str = ""
    relation_owner: str = ""
    relation: str = ""
    title: str = ""
    vocative: str = ""
    after: str = ""


_CUES: Mapping[str, Cues] = {
    "en": Cues(
        self_strong=rf"my\s+(?:full\s+|first\s+|last\s+|given\s+|family\s+|sur)?name\s*(?:is|{_APOS}?s|:)",
        self_weak=rf"i\s+am|i{_APOS}m|this\s+is|call\s+me|it{_APOS}s\s+me"
                  rf"|you{_APOS}?re\s+(?:chatting|speaking|talking|through)\s+(?:to|with)"
                  r"|you\s+are\s+(?:chatting|speaking|talking|through)\s+(?:to|with)",
        own_self_weak=r"im",
        strong=rf"(?<!my\s)(?:(?:full|first|last|given|family|maiden)\s+|sur)?names?"
               rf"(?:\s+on\s+(?:the|my|his|her|your)\s+[^\W\d_]+)?\s*(?:is|was|{_APOS}s|:)"
               rf"|(?<!my\s)names|(?:in|under|on)\s+the\s+name\s+(?:of\s+)?|registered\s+to|booked\s+(?:for|under)"
               rf"|rented\s+(?:by|to)|insured\s+(?:to|under)|issued\s+to",
        weak=r"(?:speak|speaking|spoke|talk|talking|talked|chat|chatting|chatted)\s+(?:to|with)|is\s+this|are\s+you"
             r"|(?<!ve\s)(?<!have\s)(?<!has\s)(?<!you\s)called|named|(?:account\s+|card\s+)?holder|recipient"
             r"|addressee|driver|passenger|patient|witness|beneficiary|payee|contact\s+person",
        relation_owner=rf"my|our|his|her|their|your|a|[^\W\d_]+{_APOS}s",
        relation=r"wife|husband|hubby|spouse|partner|fianc[eé]e?|boyfriend|girlfriend|son|daughter|child|kid|baby"
                 r"|mum|mom|mother|mam|dad|father|brother|sister|sibling|twin|grandma|grandmother|granny|nan|nana"
                 r"|grandpa|grandfather|grandson|granddaughter|aunt|auntie|uncle|cousin|nephew|niece"
                 r"|stepson|stepdaughter|stepmother|stepfather|mother-in-law|father-in-law|son-in-law"
                 r"|daughter-in-law|friend|mate|buddy|flatmate|roommate|housemate|neighbou?r|colleague|coworker"
                 r"|co-worker|boss|manager|landlord|landlady|tenant|lodger|carer|caregiver|nurse|doctor|gp"
                 r"|lawyer|solicitor|accountant|assistant",
        title=r"mr|mrs|ms|mx|miss|dr|doctor|prof|professor|sir|dame|lady|lord|mister|missus|rev|reverend",
        vocative=r"hi|hello|hey|hiya|dear|thanks|thank\s+you|thx|cheers|bye|goodbye|welcome(?:\s+back)?"
                 r"|good\s+(?:morning|afternoon|evening)|see\s+you|take\s+care",
        after=r"here|speaking",
    ),
    "de": Cues(
        self_strong=r"ich\s+hei(?:ß|ss)e|mein\s+(?:vor|nach|familien|voller\s+|ganzer\s+)?name\s+(?:ist|lautet|:)",

        self_weak=r"ich\s+bin(?:\s+(?:der|die))?|i\s+bin(?:\s+(?:der|die|d))?|hier\s+(?:ist|spricht|isch)"
                  r"(?:\s+(?:der|die))?|(?:es|das)\s+ist(?:\s+(?:der|die))?|sie\s+sprechen\s+mit|du\s+sprichst\s+mit",
        strong=r"(?:sein|ihr|dein|der|deren|dessen)\s+(?:vor|nach|familien)?name\s+(?:ist|lautet|:)"
               r"|(?:er|sie)\s+hei(?:ß|ss)t|hei(?:ß|ss)t\s+(?:er|sie)|namens|mit\s+namen|auf\s+(?:den\s+)?namen(?:\s+von)?"
               r"|versichert\s+auf|gemietet\s+von|zugelassen\s+auf|ausgestellt\s+auf|gebucht\s+auf",
        weak=r"spreche\s+ich\s+mit|sprechen\s+wir\s+mit|bin\s+ich\s+mit|sind\s+sie|bist\s+du|genannt"
             r"|(?:konto)?inhaber(?:in)?|empfänger(?:in)?|absender(?:in)?|fahrer(?:in)?|halter(?:in)?|zeug(?:e|in)"
             r"|patient(?:in)?|versicherungsnehmer(?:in)?|ansprechpartner(?:in)?|begünstigte[r]?|mieter(?:in)?",
        relation_owner=r"mein|meine|meinen|meinem|meiner|unser|unsere|unseren|unserem|unserer|sein|seine|seinen"
                       r"|seinem|seiner|ihr|ihre|ihren|ihrem|ihrer|dein|deine|deinen|deinem|deiner",
        relation=r"frau|mann|ehemann|ehefrau|gatte|gattin|sohn|tochter|kind|kleine|kleiner|partner|partnerin"
                 r"|lebensgefährte|lebensgefährtin|freund|freundin|verlobte|verlobter|mutter|mama|mutti|vater|papa"
                 r"|bruder|schwester|oma|opa|großmutter|grossmutter|großvater|grossvater|enkel|enkelin|tante|onkel"
                 r"|cousin|cousine|neffe|nichte|schwiegermutter|schwiegervater|schwiegersohn|schwiegertochter"
                 r"|schwager|schwägerin|nachbar|nachbarin|kollege|kollegin|chef|chefin|vermieter|vermieterin"
                 r"|mitbewohner|mitbewohnerin|betreuer|betreuerin|pfleger|pflegerin|hausarzt|hausärztin",
        title=r"herr|herrn|frau|fräulein|dr|doktor|prof|professor|familie|fam",
        vocative=r"danke(?:\s+schön|schön)?|vielen\s+dank|hallo|hi|liebe|lieber|liebes|guten\s+(?:tag|morgen|abend)"
                 r"|servus|moin|grüezi|grüß\s+gott|grüss\s+gott|tschüss|tschüs|ciao|sehr\s+geehrte[r]?"
                 r"|auf\s+wieder(?:sehen|hören)|bis\s+bald",
        after=r"hier|am\s+apparat|am\s+telefon",
    ),
    "fr": Cues(
        self_strong=rf"je\s+m{_APOS}\s?appelle|mon\s+(?:pré)?nom\s+(?:de\s+famille\s+)?(?:est|c{_APOS}est|:)",

        self_weak=rf"je\s+suis|c{_APOS}est|moi\s+c{_APOS}est|ici|vous\s+(?:parlez|discutez)\s+avec",
        strong=rf"(?:il|elle)\s+s{_APOS}\s?appelle|s{_APOS}\s?appelle|(?:son|leur)\s+(?:pré)?nom\s+(?:est|c{_APOS}est)"
               r"|au\s+nom\s+(?:de|d')",
        weak=r"je\s+parle\s+(?:à|avec)|(?:êtes|etes)[- ]vous|nommée?|(?<!avez\s)(?<!as\s)(?<!ai\s)appelée?"
             r"|titulaire|destinataire|expéditeur"
             r"|expéditrice|conducteur|conductrice|passager|passagère|patiente?|témoin|bénéficiaire",
        relation_owner=r"mon|ma|mes|notre|nos|son|sa|ses|leur|votre|ton|ta",
        relation=r"mari|époux|epoux|femme|épouse|epouse|conjoint|conjointe|compagnon|compagne|copain|copine"
                 r"|ami|amie|fiancée?|fils|fille|enfant|bébé|mère|mere|maman|père|pere|papa|frère|frere|sœur|soeur"
                 r"|grand-mère|grand-mere|grand-père|grand-pere|mamie|papi|oncle|tante|cousin|cousine|neveu|nièce"
                 r"|niece|belle-mère|beau-père|voisin|voisine|collègue|collegue|patron|patronne|propriétaire"
                 r"|colocataire|coloc",
        title=r"m(?=\.)|mm(?=\.)|mme|mmes|mlle|monsieur|messieurs|madame|mesdames|mademoiselle|docteur|dr|maître|professeur",
        vocative=r"merci(?:\s+beaucoup)?|bonjour|bonsoir|salut|coucou|au\s+revoir|cher|chère|bonne\s+journée"
                 r"|bonne\s+soirée|à\s+bientôt",
        after=rf"à\s+l{_APOS}appareil",
    ),
    "es": Cues(
        self_strong=r"me\s+llamo|mi\s+(?:nombre|apellido)\s+(?:completo\s+)?es",
        self_weak=r"soy|habla|le\s+habla|te\s+habla|(?:está|estás)\s+hablando\s+con",
        strong=r"se\s+llama|su\s+(?:nombre|apellido)\s+es|a\s+nombre\s+de",
        weak=r"hablo\s+con|hablé\s+con|(?:es|eres)\s+usted|(?<!ha\s)(?<!has\s)llamad[oa]|titular|destinatari[oa]|remitente"
             r"|conductor(?:a)?|pasajer[oa]|paciente|testigo|beneficiari[oa]",
        relation_owner=r"mi|mis|nuestro|nuestra|su|sus|tu|tus",
        relation=r"esposa|esposo|mujer|marido|pareja|novio|novia|prometid[oa]|hij[oa]|niñ[oa]|beb[eé]|madre|mamá"
                 r"|mama|padre|papá|papa|herman[oa]|abuel[oa]|tí[oa]|ti[oa]|prim[oa]|sobrin[oa]|suegr[oa]"
                 r"|cuñad[oa]|vecin[oa]|amig[oa]|compañer[oa]|colega|jef[ea]|caser[oa]",
        title=r"sr|sra|srta|señor|señora|señorita|don|doña|dña|dr|dra|doctor|doctora",
        vocative=r"gracias|muchas\s+gracias|hola|buen[oa]s\s+(?:días|dias|tardes|noches)|querid[oa]|estimad[oa]"
                 r"|adiós|adios|hasta\s+luego",
        after=r"al\s+habla|al\s+aparato",
    ),
    "it": Cues(
        self_strong=r"mi\s+chiamo|il\s+mio\s+(?:nome|cognome)\s+(?:è|e'|:)",
        self_weak=r"sono|(?:qui\s+)?parla|(?:sta|stai)\s+parlando\s+con",
        strong=r"si\s+chiama|(?:il\s+suo|il\s+loro)\s+(?:nome|cognome)\s+(?:è|e')|a\s+nome\s+d[ie]|intestat[oa]\s+a",
        weak=r"parlo\s+con|ho\s+parlato\s+con|(?:è|e')\s+lei|(?<!ha\s)(?<!hai\s)(?<!ho\s)chiamat[oa]|titolare|destinatari[oa]|mittente"
             r"|conducente|passegger[oa]|paziente|testimone|beneficiari[oa]",
        relation_owner=r"mia|mio|mie|miei|nostra|nostro|sua|suo|tua|tuo",
        relation=r"moglie|marito|compagn[oa]|fidanzat[oa]|figli[oa]|bambin[oa]|madre|mamma|padre|papà|papa"
                 r"|fratello|sorella|nonn[oa]|zi[oa]|cugin[oa]|nipote|suocer[oa]|cognat[oa]|vicin[oa]|amic[oa]"
                 r"|collega|capo|coinquilin[oa]",
        title=r"sig|sig\.ra|sigg|signor|signore|signora|signorina|dott|dott\.ssa|dottor|dottore|dottoressa"
              r"|avv|avvocato|ing|prof|professore|professoressa",
        vocative=r"grazie(?:\s+mille)?|ciao|buongiorno|buonasera|salve|gentile|car[oa]|arrivederci",
        after=r"al\s+telefono",
    ),
    "nl": Cues(
        self_strong=r"ik\s+heet|mijn\s+(?:voor|achter|volledige\s+)?naam\s+is",
        self_weak=r"ik\s+ben|met|u\s+spreekt\s+met|je\s+spreekt\s+met|dit\s+is",
        strong=r"(?:hij|zij|ze)\s+heet|heet\s+(?:hij|zij|ze)|(?:zijn|haar|hun)\s+naam\s+is|op\s+(?:de\s+)?naam\s+van",
        weak=r"spreek\s+ik\s+met|gesproken\s+met|bent\s+u|genaamd|(?:rekening)?houder|ontvanger|afzender|bestuurder"
             r"|passagier|patiënt|patient|getuige|begunstigde",
        relation_owner=r"mijn|m'n|onze|ons|zijn|z'n|haar|hun|uw|je",
        relation=r"vrouw|man|echtgenote|echtgenoot|partner|vriend|vriendin|verloofde|zoon|dochter|kind|baby"
                 r"|moeder|mama|mam|vader|papa|pap|broer|zus|zuster|oma|opa|kleinzoon|kleindochter|tante|oom"
                 r"|neef|nicht|schoonmoeder|schoonvader|zwager|schoonzus|buurman|buurvrouw|buurmeisje|buurjongen"
                 r"|collega|baas|huisbaas|huisgenoot|huisgenote",
        title=r"meneer|mijnheer|mevrouw|juffrouw|dhr|mevr|mw|dr|dokter|familie|fam",
        vocative=r"dank\s+(?:je|u)(?:\s+wel)?|bedankt|hallo|hoi|hey|beste|goedemorgen|goedemiddag|goedenavond"
                 r"|fijne\s+dag|tot\s+ziens",
        after=r"hier|aan\s+de\s+lijn",
    ),
    "pl": Cues(
        self_strong=r"nazywam\s+się|mam\s+na\s+imię|na\s+imię\s+mi|moje\s+(?:imię|nazwisko)\s+(?:to|:)",

        self_weak=r"jestem|tu|to\s+ja|rozmawiasz\s+z|rozmawia\s+pan(?:i)?\s+z",
        strong=r"nazywa\s+się|ma\s+na\s+imię|(?:jego|jej|ich)\s+(?:imię|nazwisko)\s+to|na\s+nazwisko",
        weak=r"rozmawiam\s+z|rozmawiałe[mś]\s+z|rozmawiałam\s+z|czy\s+to|właściciel(?:ka)?|odbiorca|nadawca"
             r"|kierowca|pasażer(?:ka)?|pacjent(?:ka)?|świadek|posiadacz(?:ka)?",
        relation_owner=r"mój|moja|moje|mojego|mojej|mojemu|moim|moją|nasz|nasza|naszego|naszej|jego|jej|twój|twoja",
        relation=r"żona|żony|żonie|żoną|mąż|męża|mężem|mężowi|syn|syna|synem|córka|córki|córką|córce|dziecko"
                 r"|partner|partnerka|chłopak|dziewczyna|narzeczon[ya]|mama|mamy|matka|tata|taty|ojciec"
                 r"|brat|brata|siostra|siostry|babcia|dziadek|ciocia|wujek|kuzyn|kuzynka|sąsiad|sąsiadka"
                 r"|sąsiada|sąsiadki|kolega|koleżanka|przyjaciel|przyjaciółka|szef|szefowa|współlokator"
                 r"|współlokatorka|właściciel",
        title=r"pan|pana|panu|panem|panie|pani|panią|państwo|państwa|dr|doktor|doktorze|prof|mgr|inż",
        vocative=r"dziękuję|dziekuje|dzięki|cześć|czesc|dzień\s+dobry|witam|drogi|droga|do\s+widzenia"
                 r"|miłego\s+dnia",
        after=r"z\s+tej\s+strony|przy\s+telefonie",
    ),
}
# Titles that are ordinary words when written in lower case ("I miss Berlin", "don't"): a name after them
# needs the title capitalised.
CAPITAL_ONLY_TITLES = frozenset({"miss", "don", "sir", "dame", "lady", "lord", "ing"})
# A "Frau" or "Herr" after an article or possessive is a woman or a man, not a title ("die Frau am Schalter",
# "meine Frau Anna" is a relation).
NOT_TITLE_AFTER = re.compile(
    r"\b(?:der|die|das|den|dem|des|ein|eine|einer|einem|einen|jede|jeder|diese|dieser|welche|welcher|keine"
    r"|mein|meine|meiner|meinem|meinen|dein|deine|sein|seine|seiner|ihr|ihre|ihrer|ihrem|unser|unsere|alte"
    r"|junge|nette|nettes)\s+$",
    re.IGNORECASE,
)
# What may stand between a relation word and the name: "my sister, Kavya", "my husband also, Deepak".
RELATION_GAP = re.compile(
    r"(?:\s*[,:\u2013\u2014-]\s*|\s+)(?:(?:also|too|is|called|named|auch|ist|namens|heißt|aussi|est|también|es"
    r"|anche|è|ook|też|to)(?:\s*[,:]\s*|\s+))?",
    re.IGNORECASE,
)
# What may stand between a name and its spelling: "tremblay t r e m b l a y", "carys, that's c a r y s".
SPELLING_GAP = re.compile(
    rf"(?:[\s,.:;\u2013-]+|\s*\b(?:that{_APOS}?s|that\s+is|thats|spelt|spelled|spelling|i\.e\.|also|das\s+ist"
    rf"|geschrieben|buchstabiert|c{_APOS}est|ça\s+s{_APOS}écrit|se\s+escribe|si\s+scrive|dat\s+is|czyli|to\s+jest"
    rf"|like)\b[\s,.:;-]*)+",
    re.IGNORECASE,
)
# A run of two or more spelled letters: "t r e m b l a y", "b wie berta u wie ulrich", "k as in kilo".
_LETTER = r"(?<![^\W\d_])[^\W\d_](?![^\W\d_]|['\u2019])"
_AS_IN = r"(?:\s+(?:wie|as\s+in|for|like|comme|come|como|jak|voor|van|de)\s+[^\W\d_]+)?"
SPELLED = re.compile(rf"{_LETTER}{_AS_IN}(?:[\s,.\u2013-]+{_LETTER}{_AS_IN})+", re.IGNORECASE)
# Words before a place rather than a person: a lone name after them ("from Sydney", "nach Siena") is
# more likely a town.
PLACE_BEFORE = re.compile(
    r"(?<![^\W\d_])(?:from|in|at|near|via|nach|aus|ab|à|en|desde|hasta|naar|uit|w|we|do)\s+$", re.IGNORECASE)
# Name parts that are not capitalised in a full name: "van der Westhuizen", "de la Cruz", "Ó Ceallacháin";
# articles only after another particle ("van der", "de la"): a German "der" or "des" ends a name.
PARTICLES = word_set("""
van de del della dei degli di da do dos du ten ter te von vom zu zur zum bin ibn bint al el ó ní nic mac
mc ap
""")
PARTICLE_ARTICLES = word_set("der den dem des la le las los lo")
# Words that make a capitalised pair a company, product or place, not a person ("Victoria Station", "Juniper
# Energy"), in lower case.
ORGANISATION_WORDS = word_set("""
bank banking air airways airlines airline airport aviation energy power electric electricity gas water
utilities utility mobile telecom telco wireless broadband fiber fibre net network networks insurance
assurance mutual group services service solutions systems health healthcare medical clinic hospital
pharmacy surgery dental centre center street st road rd avenue ave lane ln drive dr way close court ct place
square sq station terminal hub mall plaza hotel hotels homes rental rentals hire car cars motors auto
express parcels parcel post postal couriers courier logistics delivery freight shop store stores market
fashion fashions council department office ministry agency authority university college school ltd limited
llc inc corp plc co company gmbh ag kg ohg mbh sa sas sarl spa srl bv nv llp credit union federal national
international direct online digital tech technologies travel tours cover capital finance financial trust
holdings partners ventures studio media foods cafe café restaurant bar pub gym fitness pay card cards
straße strasse str weg gasse platz allee ring damm ufer markt bahnhof hauptbahnhof flughafen klinik klinikum
krankenhaus praxis apotheke versicherung versicherungen sparkasse volksbank stadtwerke werke energie verlag
zentrum rathaus amt stadt gemeinde kreis paket
rue boulevard bd quai chemin allée impasse gare aéroport banque assurances mutuelle société hôpital clinique
pharmacie mairie préfecture poste
calle avenida avda paseo carretera camino estación aeropuerto banco seguros clínica farmacia ayuntamiento
via viale piazza corso vicolo largo stazione aeroporto banca assicurazioni ospedale clinica farmacia comune
straat laan plein gracht kade singel luchthaven verzekeringen verzekering ziekenhuis apotheek gemeente
ulica ul aleja plac osiedle dworzec lotnisko ubezpieczenia szpital apteka urząd
""")


class LanguageCues(msgspec.Struct, frozen=True):
    """The compiled cues of one language (together with English's): each matches up to where a name starts,
    except `after`, which starts where one ended."""

    self_strong: re.Pattern[str]
    self_weak: re.Pattern[str]
    strong: re.Pattern[str]
    weak: re.Pattern[str]
    relation: re.Pattern[str]
    title: re.Pattern[str]
    vocative: re.Pattern[str]
    after: re.Pattern[str]


def _before(alternatives: list[str]) -> re.Pattern[str]:
    """A cue that ends before a name: the name starts after its spaces, colon or comma."""
    joined = "|".join(f"(?:{a})" for a in alternatives if a)
    return re.compile(rf"(?<![^\W\d_])(?:{joined})(?:\s*[:,]\s*|\s+)", _FLAGS)


def _compile(cues: list[Cues]) -> LanguageCues:
    owners = "|".join(c.relation_owner for c in cues if c.relation_owner)
    relations = "|".join(c.relation for c in cues if c.relation)
    titles = "|".join(c.title for c in cues if c.title)
    afters = "|".join(c.after for c in cues if c.after)
    return LanguageCues(
        self_strong=_before([c.self_strong for c in cues]),
        self_weak=_before([c.self_weak for c in cues] + [cues[0].own_self_weak]),
        strong=_before([c.strong for c in cues] + [rf"(?:{NAME_LABEL})\s*:"]),
        weak=_before([c.weak for c in cues]),
        # The name follows after RELATION_GAP, which `person` matches itself.
        relation=re.compile(rf"(?<![^\W\d_])(?:{owners})\s+(?:{relations})(?![^\W\d_])", _FLAGS),
        title=re.compile(rf"(?<![^\W\d_])(?P<title>{titles})(?:\.\s*|\s+)", _FLAGS),
        vocative=_before([c.vocative for c in cues]),
        after=re.compile(rf"\s*,?\s+(?:{afters})(?![^\W\d_])", _FLAGS),
    )


TITLE_WORDS = frozenset(word for cues in _CUES.values() for word in cues.title.split("|") if word.isalpha())
"""The titles that are plain words ("frau", "mevrouw"): never part of the name they introduce."""
RELATION_WORDS = frozenset(word for cues in _CUES.values() for word in cues.relation.split("|") if word.isalpha())
"""The relations that are plain words ("oma", "husband"): never a name, though some are names elsewhere."""

# "Name: Jane Doe", "Nachname: Brunnhuber", "nom : Dupont": a form's label, in any of the languages.
NAME_LABEL = (r"(?:(?:full|first|last|given|family|sur|customer|registered|passenger|account)\s*)?name|vorname"
              r"|nachname|familienname|nom|prénom|nombre|apellidos?|nome|cognome|naam|voornaam|achternaam|imię"
              r"|nazwisko")

_BY_LANGUAGE = {language: _compile([cues] if language == "en" else [cues, _CUES["en"]])
                for language, cues in _CUES.items()}


def cues_for(language: str) -> LanguageCues:
    """The cues of `language` and English; English's alone for a language without cues of its own."""
    return _BY_LANGUAGE.get(language, _BY_LANGUAGE["en"])
