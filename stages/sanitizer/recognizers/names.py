"""What a word is, for the PERSON recognizer: a known given name, an ordinary word of a language, a
function word, or none of these (a rare surname such as "Wyssbrod" or "Stojanović").

Three lists, in every supported language (en, de, fr, es, it, nl, pl):
- given names (`data/first_names.tsv`, 52,000 names of many origins), each with the languages in which it
  is also an ordinary word: "Winter" is a name and a German, English and Dutch word, "Björn" only a name;
- ordinary words (`data/words_<lang>.txt`, about 30,000 per language, without the words that are first of
  all names);
- function words (spaCy's stop words), greetings, courtesy and yes/no words, months and weekdays, which
  are never a name however they are written ("Ich", "Danke", "Servus", "Juni").
The data files load on first use (a few tens of milliseconds each), the word list of a language only when a
text of that language needs it. See `data/README.md` for their origin and licences."""

from __future__ import annotations

import importlib.util
import unicodedata
from functools import cache, lru_cache
from pathlib import Path

from stages.sanitizer.recognizers.base import word_set

DATA = Path(__file__).resolve().parent / "data"


LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pl")

# Words that open or close a chat turn in any of the languages: never a name, even capitalised.
GREETINGS = word_set("""
hi hello hey heya hiya howdy howzit gday g'day yo morning evening afternoon night welcome bye goodbye cheers
hallo servus moin moinsen grüezi grüessech gruezi grüß gruss gott tschüss tschüs tschau ciao adieu salü
salut bonjour bonsoir coucou hola buenas buenos adiós adios saludos buongiorno buonasera salve arrivederci
hoi goedemorgen goedemiddag goedenavond doei cześć czesc witam dzień dzien dobry dobranoc namaste namaskar
namaskaram vanakkam salaam salam shalom aloha sawubona molo dumela howsit
""")
COURTESY = word_set("""
thanks thank thx ty tnx please pls plz sorry apologies pardon excuse
danke dankeschön dankeschon bitte bitteschön entschuldigung entschuldigen verzeihung gerne gern
merci désolé desole désolée pardonnez svp stp gracias perdón perdon perdone disculpe porfa grazie prego
scusi scusa scusate bedankt dankjewel dankuwel sorry alsjeblieft alstublieft dziękuję dziekuje dzięki
dzieki proszę prosze przepraszam dankie baie asseblief ngiyabonga enkosi dhanyavaad dhanyawad shukriya shukran
obrigado obrigada tack takk kiitos mahalo ta
""")
ANSWERS = word_set("""
yes yeah yea yep yup ya yah yass no nope nah ok okay okey k kk sure fine right correct exactly indeed
ja jo jep jawohl nein nee nö genau richtig stimmt klar korrekt passt super prima oui ouais non exact
exactement voilà voila bien sí si vale claro exacto correcto certo esatto giusto va bene klopt precies
tak nie dokładnie dokladnie zgadza jasne dobrze hmm hm um umm uh uhm äh ähm euh ehm eh bueno pues
lol haha hahaha omg btw idk asap thats whats its im ive dont cant wont didnt doesnt isnt wasnt youre
theyre hes shes lets
""")
# Names of documents and numbers that NER takes for people ("Aadhaar", "PAN").
DOCUMENTS = word_set("""
aadhaar aadhar pan pesel dni nie nif nino bsn ssn tfn ppsn nhs medicare iban bic swift upi imei iccid pin otp
cvv sim esim kyc rica
""")
MONTHS_AND_DAYS = word_set("""
january february march april may june july august september october november december
monday tuesday wednesday thursday friday saturday sunday
januar jänner februar feber märz april mai juni juli august september oktober november dezember
montag dienstag mittwoch donnerstag freitag samstag sonnabend sonntag
janvier février fevrier mars avril mai juin juillet août aout septembre octobre novembre décembre decembre
lundi mardi mercredi jeudi vendredi samedi dimanche
enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre diciembre
lunes martes miércoles miercoles jueves viernes sábado sabado domingo
gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre
lunedì lunedi martedì martedi mercoledì mercoledi giovedì giovedi venerdì venerdi sabato domenica
januari februari maart april mei juni juli augustus september oktober november december
maandag dinsdag woensdag donderdag vrijdag zaterdag zondag
styczeń styczen luty marzec kwiecień kwiecien maj czerwiec lipiec sierpień sierpien wrzesień wrzesien
październik pazdziernik listopad grudzień grudzien
poniedziałek poniedzialek wtorek środa sroda czwartek piątek piatek sobota niedziela
""")
# Who a conversation is with, in the contact center's words: "customer", "agent", "Kunde".
ROLES = word_set("""
customer client user member guest agent human bot assistant operator caller
kunde kundin kunden kundschaft mitarbeiter mitarbeiterin berater beraterin
cliente clienta usuario usuaria agente operatore operatrice klant klanten gebruiker medewerker klient
klientka użytkownik uzytkownik konsultant konsultantka
""")


def _spacy_stop_words(language: str) -> frozenset[str]:
    """spaCy's stop words of `language`, read from their module alone: importing `spacy.lang.fr` the usual
    way would load its tokenizer exceptions too, two seconds at process start for a list of 500 words."""
    spacy = importlib.util.find_spec("spacy")
    if spacy is None or spacy.origin is None:
        return frozenset()
    path = Path(spacy.origin).parent / "lang" / language / "stop_words.py"
    spec = importlib.util.spec_from_file_location(f"_spacy_stop_words_{language}", path)
    if spec is None or spec.loader is None:
        return frozenset()
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return frozenset(module.STOP_WORDS)


_STOP_WORDS = {language: _spacy_stop_words(language) for language in LANGUAGES}
EN_STOP = _STOP_WORDS["en"]
NEVER_NAMES = GREETINGS | COURTESY | ANSWERS | MONTHS_AND_DAYS | ROLES | DOCUMENTS
NOT_NAMES = frozenset().union(*_STOP_WORDS.values()) | NEVER_NAMES
"""Every language's function words and the words above, in lower case: what a found name's parts are not."""

_FOLD = str.maketrans({"ß": "ss", "ł": "l", "\u0131": "i", "ø": "o", "đ": "d", "æ": "ae", "œ": "oe", "þ": "th"})
_APOSTROPHES = "'\u2019"


@lru_cache(maxsize=1 << 16)
def fold(word: str) -> str:
    """Lower case without diacritics, as the name list is keyed ("Björn" -> "bjorn", "Yildiz" -> "yildiz")."""
    decomposed = unicodedata.normalize("NFKD", word.lower().translate(_FOLD))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def bare(word: str) -> str:
    """The word in lower case without a possessive: "Hannah's" -> "hannah"."""
    lower = word.lower()
    for apostrophe in _APOSTROPHES:
        if lower.endswith(apostrophe + "s"):
            return lower[:-2]
    return lower


def is_stop(word: str, language: str) -> bool:
    """A function word of the text's language or of English, or a greeting, courtesy, yes/no word, month or
    weekday of any language."""
    lower = word.lower().replace("\u2019", "'")
    return (lower in NEVER_NAMES or lower in EN_STOP or lower in _STOP_WORDS.get(language, frozenset())
            or lower.split("'")[0] in ("i", "you", "we", "they", "he", "she", "it", "that", "there", "let"))


def is_first_name(word: str, language: str) -> bool:
    """A known given name that is no function word: "Björn", "rosamund", "Winter" (also a word: see
    `is_ambiguous`), or one in the genitive ("Hannahs", "Hannah's")."""
    return _name_key(word, language) in _first_names() and not is_stop(word, language)


def is_possessive(word: str, language: str) -> bool:
    """A name in the genitive or with a possessive: "Hannahs", "Hannah's" (it ends the name it is part of)."""
    return bare(word) != word.lower() or _name_key(word, language) != fold(word)


def _name_key(word: str, language: str) -> str:
    """The name list's key of `word`, without a possessive or a genitive "s" that the word list does not know
    ("Hannahs" -> "hannah", but "Thomas" and "Bills" stay)."""
    key = fold(bare(word))
    names = _first_names()
    if key not in names and key.endswith("s") and key[:-1] in names and not is_word(word, language):
        return key[:-1]
    return key


def is_ambiguous(word: str, language: str) -> bool:
    """A given name that is also an ordinary word of the text's language or of English: "summer", "hope",
    "Winter" (in lower case it needs a cue; see `capital_tells`)."""
    languages = _first_names().get(_name_key(word, language), frozenset())
    return language in languages or "en" in languages


def capital_tells(word: str, language: str) -> bool:
    """Whether a capital shows that `word` is meant as a name: "Summer" and "Frank" mid-sentence are names,
    but German capitalises its nouns, so a German "Winter" may be the season."""
    return language != "de" or language not in _first_names().get(_name_key(word, language), frozenset())


def is_word(word: str, language: str) -> bool:
    """An ordinary word of the text's language or of English (any case): "müde", "Lehrer", "désolé", or a
    function word."""
    lower = bare(word)
    return is_stop(word, language) or lower in _words("en") or (language in LANGUAGES and lower in _words(language))


@cache
def _first_names() -> dict[str, frozenset[str]]:
    # One frozenset per distinct list of languages (most names have none, a few dozen lists cover the others):
    # three times faster to load than one per name.
    languages: dict[str, frozenset[str]] = {}
    names = {}
    for line in (DATA / "first_names.tsv").read_text(encoding="utf-8").splitlines():
        name, _, codes = line.partition("\t")
        shared = languages.get(codes)
        if shared is None:
            shared = languages[codes] = frozenset(codes.split())
        names[name] = shared
    return names


@cache
def _words(language: str) -> frozenset[str]:
    return frozenset((DATA / f"words_{language}.txt").read_text(encoding="utf-8").split())
