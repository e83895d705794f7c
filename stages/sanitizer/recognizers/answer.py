"""Bare answers: what a user types or says right after the bot asked for personal data is that data, whether
or not any recognizer knows its shape ("obiechina", "QT-73019264", "d k five two eight", "Mthatha 5099").

The policy (documented in the README, off with `CA_PII_BARE_ANSWERS=false`): when the conversation expects a
type (`TextContext.expected`, from the bot's or agent's question), the answer's value is redacted as that
type. The value is the answer without what people put around it: a leading "yes", "sure", "it's", "my
name is", "das ist", "c'est", "mi número es" (everything up to a copula near the start), and trailing
courtesy ("thanks", "danke", "merci"). An answer that is no value is left alone: one that asks back ("why
do you need that?"), refuses or stalls ("I don't know", "moment bitte"), or one too long to be a bare
value (then the type's own recognizers decide).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from stages.sanitizer.number_words import Kind, numbers
from stages.sanitizer.recognizers.base import Detection, TextContext, squash, word_set
from stages.sanitizer.recognizers.names import is_word

ENTITY_TYPE = "ANSWER"  # the recognizer's own name: its detections carry the type that was asked for
SCORE = 0.6
MAX_WORDS = 8  # an answer without digits longer than this is a sentence, not a value
MAX_WORDS_WITH_DIGITS = 30  # spoken numbers and addresses are long: "twenty two fifteen heather glen lane ..."
MAX_WHOLE_WORDS = 4  # an answer of words this short is one value, though a recognizer found only a part
_COPULA_WITHIN = 6  # "my policy number is X": a copula among the first words ends the lead-in

# Which asked type an answer is taken for when several were asked: by whether it holds digits.
_WITH_DIGITS = ("PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "ID_DOCUMENT", "ACCOUNT_NUMBER",
                "DATE_OF_BIRTH", "POSTAL_CODE", "VEHICLE_PLATE", "STREET_ADDRESS", "EMAIL_ADDRESS", "PERSON")
# Only these hold values of words; the others' values have digits, or are codes ("QXTRMB") or spellings.
_WITHOUT_DIGITS = ("PERSON", "EMAIL_ADDRESS", "STREET_ADDRESS", "LOCATION")
_CODES = ("ACCOUNT_NUMBER", "ID_DOCUMENT", "VEHICLE_PLATE", "POSTAL_CODE")
ASKABLE = frozenset(_WITH_DIGITS) | {"LOCATION"}
_CODE = re.compile(r"(?=\w*[A-Z])[A-Z0-9-]{5,}|(?:\b\w\b[\s.,-]*){4,}")

_WORD = re.compile(r"[^\W_]+(?:['\u2019.@_-][^\W_]+)*@?|@[^\W_]+(?:[.-][^\W_]+)*")
_COPULAS = {
    "en": word_set("is its it's it\u2019s are was thats that's that\u2019s"), "de": word_set("ist lautet sind war"),
    "fr": word_set("est c'est c\u2019est"), "es": word_set("es son era"), "it": word_set("è e' sono era"),
    "nl": word_set("is zijn was"), "pl": word_set("to jest"),
}
# Words around a value that are not part of it, in every supported language (lower case).
_FILLERS = word_set("""
yes yeah yep yup ya sure ok okay k alright right so well um uh uhm er erm hmm mm hi hello hey oh ah
the a an my our his her their mine it this that and also of course i think believe guess should be
please pls thanks thank you thx ty cheers sorry here there just actually correct exactly
call reach text me at on to use try send contact via best number under unter über an auf à au al op pod
i'm im i\u2019m am here's heres go ship deliver moved move live living lives can could may will would
last month week year ago yesterday recently today
ja jo jawohl genau klar gerne also ähm äh hm mein meine meinen meiner das es der die den ich bitte danke
hallo servus moin grüezi na gut sicher natürlich richtig stimmt
oui ouais bien sûr d'accord alors euh ne n' mon ma mes le la les voilà merci bonjour allô c
sí si claro vale pues eh un una mi mis el los las gracias hola bueno vale de
sì certo allora ehm il lo mio mia miei grazie ciao buongiorno pronto dunque
jazeker zeker oké nou ik mijn het dat dank je bedankt hoi alstublieft graag
tak jasne dobrze no mój moja moje dziękuję dzień dobry proszę
""")
# Answers that hold no value: refusals, stalls, doubts. A value word among them makes it an answer again.
_NON_ANSWERS = word_set("""
no nope nah not dont don't don\u2019t know idea why what how wait moment sec second minute hold on later skip
none n/a na unknown sorry check look find can't cannot cant
nein nicht weiß weiss keine ahnung warum wieso moment sekunde später kein
non pas sais pourquoi attendez instant quoi
no sé por qué espere momento nada
non so perché aspetti momento attimo
nee niet weet waarom wacht moment even
nie wiem dlaczego chwila moment
""")
# What names a value in an answer's lead-in: "my [policy number] is", "meine [Kundennummer] lautet".
_VALUE_NAME = re.compile(
    r"(?:full|first|last|given|family|middle|(?:sur|fore)?name|vor|nach|vorname|nachname|nom|prénom|nombre|nome|cognome|naam|imię|nazwisko|"
    r"\w*(?:number|nummer|nr|no|numéro|número|numero|numer)|id|code|codice|código|reference|ref|référence|"
    r"e-?mail|mail|address|adresse|anschrift|dirección|indirizzo|adres|post\w*|zip|plz|cap|date|datum|birth|"
    r"birthday|geburtsdatum|dob|account|policy|order|booking|customer|member|phone|mobile|handy\w*|"
    r"telefon\w*|téléphone|teléfono|telefono|iban|konto|card|karte|passport|licence|license|social|security|"
    r"insurance|tax|national|driving|driver's|drivers)")
# "my nmae is", "meine Nummer lautet": after a possessive, a copula ends the lead-in whatever the noun.
_POSSESSIVES = word_set("my mine our his her their mein meine meiner unser unsere mon ma mes notre mi mis nuestro "
                      "nuestra mio mia mijn onze mój moja moje nasz nasza")
# Words that end a value of words when more words follow: what comes after is about the value.
_CONJUNCTIONS = {
    "en": word_set("or and but"), "de": word_set("oder und aber"), "fr": word_set("ou et mais"),
    "es": word_set("o y pero"), "it": word_set("o e ma"), "nl": word_set("of en maar"),
    "pl": word_set("lub albo i ale"),
}
# Words of a spelling: "o wie otto", "k as in kilo", "c comme camille", "m de madrid", "r come roma".
_SPELLING = word_set("wie as in like for comme come como de jak")
_REFUSAL_OPENERS = frozenset({"no", "nope", "nah", "nein", "non", "nee", "nie", "why", "warum", "pourquoi",
                              "por", "perché", "waarom", "dlaczego", "what", "was", "quoi", "qué", "cosa", "wat"})


class AnswerRecognizer:
    entity_type = ENTITY_TYPE
    context_words: tuple[str, ...] = ()
    ner_labels: frozenset[str] = frozenset()

    def __init__(self, entity_types: Iterable[str]) -> None:
        """`entity_types`: the types the policy looks for; an answer is redacted only as one of them."""
        self._types = frozenset(entity_types) & ASKABLE

    def detect(self, text: str, context: TextContext) -> list[Detection]:
        asked = context.expected & self._types
        if not asked or "?" in text:
            return []
        language = context.language
        words = list(_WORD.finditer(text))
        value = _value(words, language)
        if not value:
            return []
        digits = _numeric([w.group() for w in value], language)
        if _length(value) > (MAX_WORDS_WITH_DIGITS if digits else MAX_WORDS):
            return []
        if digits:
            entity_type = next(t for t in _WITH_DIGITS if t in asked)
            if not asked & _MANY_PARTS:
                value = _number_words(text, value, language)
        else:
            entity_type = next((t for t in _WITHOUT_DIGITS if t in asked), "")
            if not entity_type:
                code = next((t for t in _CODES if t in asked), "")
                if not code or not _CODE.fullmatch(text[value[0].start():value[-1].end()]):
                    return []
                entity_type = code
        start, end = value[0].start(), value[-1].end()
        # "+44 20 ...", "(02390) 051496": the sign and the bracket belong to the number.
        while start > 0 and text[start - 1] in "+(":
            start -= 1
        if text[end:end + 1] == ")":
            end += 1
        return [Detection(start, end, entity_type, SCORE, squash(text[start:end]))]


    def rest(self, text: str, context: TextContext, found: Sequence[Detection]) -> list[Detection]:
        """The answer's value less what the recognizers `found` in it: where they found all of it, nothing;
        where they left a part that is not talk ("tahnee ryan" before a birth date they found, "vikram"
        before a phone number, a spelling after a name), that part. A part of only ordinary words of the
        language ("geboren", "hab ein Foto davon") is talk."""
        answers = self.detect(text, context)
        inside = [d for d in found for a in answers if a.start < d.end and d.start < a.end]
        if not answers or not inside:
            return answers
        [answer] = answers
        words = [w.group() for w in _WORD.finditer(text, answer.start, answer.end)]
        if len(words) <= MAX_WHOLE_WORDS and not _numeric(words, context.language) \
                and answer.entity_type in {d.entity_type for d in inside}:
            return answers  # a short answer of words is one value: "heike morgen" though "morgen" is a word
        # What is left is another asked value: the name beside the birth date found, not a second e-mail.
        others = context.expected & self._types - {d.entity_type for d in inside}
        rest = []
        start = answer.start
        for detection in sorted(inside, key=lambda d: d.start):
            rest += self._informative(text, start, detection.start, context, others)
            start = max(start, detection.end)
        return rest + self._informative(text, start, answer.end, context, others)

    def _informative(self, text: str, start: int, end: int, context: TextContext,
                     types: frozenset[str]) -> list[Detection]:
        words = [w for w in _WORD.finditer(text, start, end) if _informative(w.group(), context.language)]
        if not words:
            return []
        value = text[words[0].start():words[-1].end()]
        digits = _numeric([w.group() for w in words], context.language)
        order = _WITH_DIGITS if digits else _WITHOUT_DIGITS
        entity_type = next((t for t in order if t in types), "")
        if not entity_type:
            return []
        return [Detection(words[0].start(), words[-1].end(), entity_type, SCORE, squash(value))]


def _informative(word: str, language: str) -> bool:
    """A letter, a number, a code or a rare word (a name): what an answer's value is made of."""
    lower = word.lower()
    return len(lower) == 1 or _has_digit(lower, language) or not (
        lower in _TALK or _VALUE_NAME.fullmatch(lower) or is_word(lower, language))


MAX_FRAGMENT_WORDS = 3
# Types whose second part may hold no digit: a name's surname, an e-mail's domain.
_LETTERS_CONTINUE = frozenset({"PERSON", "EMAIL_ADDRESS", "STREET_ADDRESS", "VEHICLE_PLATE", "ID_DOCUMENT",
                               "ACCOUNT_NUMBER"})


def continuation(text: str, entity_type: str, language: str = "en") -> tuple[int, int] | None:
    """The (start, end) of `text` if it is a short fragment that can continue a value of `entity_type`
    begun in the message before: a few words, no filler only, digits or '@' unless the type may go on
    without them."""
    words = list(_WORD.finditer(text))
    value = _value(words, language)
    if not value or len(value) != len(words) or len(words) > MAX_FRAGMENT_WORDS or "?" in text:
        return None
    if entity_type not in _LETTERS_CONTINUE and not (_numeric([w.group() for w in words], language) or "@" in text):
        return None
    return value[0].start(), value[-1].end()


# Types whose values have parts between commas: "Flat 3, 27 Mill Lane, Leeds".
_MANY_PARTS = frozenset({"STREET_ADDRESS", "POSTAL_CODE", "LOCATION", "PERSON"})
_CLAUSE_BREAK = re.compile(r"[,;.!]\s|\s[-\u2013]\s|\s\(")
# A time is not the number asked for: "after 5pm is best", "ab 18 Uhr".
_TIME = re.compile(r"\d{1,2}(?:[:.]\d\d)?\s*(?:am|pm|h|uhr|heures?|horas?|ore|uur)|\d{1,2}[:.]\d\d",
                   re.IGNORECASE)


def _number_words(text: str, value: list[re.Match[str]], language: str) -> list[re.Match[str]]:
    """The part of a numeric answer from its first to its last number ("have it here, its four eight two",
    "0161 496 0000, after 5pm is best"): what stands around the number is talk. A letter or a code next to
    the number is part of it ("k r m five one", "KA 05 MJ 2718")."""
    lower = [w.group().lower() for w in value]
    numeric = [_is_number(w.group(), value[i + 1].group() if i + 1 < len(value) else "", language)
               for i, w in enumerate(value)]
    for index, word in enumerate(lower):
        if not numeric[index] and _near(numeric, index) and (
                _CODE.fullmatch(value[index].group()) or (len(word) <= 3 and word not in _TALK)):
            numeric[index] = True
    marked = [i for i, n in enumerate(numeric) if n]
    return value[marked[0]:marked[-1] + 1] if marked else value


def _near(numeric: list[bool], index: int) -> bool:
    # A run of letters before a number: "b t p two": look past other single letters.
    return any(numeric[index + 1:index + 4]) or (index > 0 and numeric[index - 1])


def _is_number(word: str, following: str, language: str) -> bool:
    if not any(ch.isdigit() for ch in word):
        return _number_word(word, language) or "@" in word
    return not (_TIME.fullmatch(word) or _TIME.fullmatch(f"{word} {following}"))


def _number_word(word: str, language: str) -> bool:
    found = numbers(language).lookup(word.lower())
    return found is not None and found.kind is not Kind.CONNECTOR


def _value(words: list[re.Match[str]], language: str) -> list[re.Match[str]]:
    """The words of the answer's value, or none if the answer holds no value."""
    lower = [w.group().lower() for w in words]
    if not lower or (lower[0] in _REFUSAL_OPENERS and len(lower) > 1 and not _numeric(lower, language)):
        return []
    copulas = _COPULAS.get(language, frozenset())
    start = _lead_in(lower, copulas)
    while start < len(lower) and (lower[start] in _FILLERS or _VALUE_NAME.fullmatch(lower[start])) \
            and not _starts_number(lower, start, language):
        start += 1
    numeric = _numeric(lower[start:], language)
    end = len(lower) if numeric else _end_of_words(lower, start, copulas | _CONJUNCTIONS.get(language, frozenset()))
    # After a number, "second" is an ordinal ("may twenty second"), not a stall.
    trailing = _FILLERS if numeric else _FILLERS | _NON_ANSWERS
    while end > start and lower[end - 1] in trailing and not _has_digit(lower[end - 1], language) \
            and not _spelled(lower, end - 1):
        end -= 1
    value = lower[start:end]
    if not value or all(w in _TALK for w in value):
        return []
    return words[start:end]


def _lead_in(words: list[str], copulas: frozenset[str]) -> int:
    """Where the value starts after "my policy number is", "c'est", "mein Name ist": after a copula near the
    start that only fillers and the names of values come before (in "jane doe that's j a n e", the copula
    comes after the value)."""
    for index, word in enumerate(words[:_COPULA_WITHIN]):
        if word in copulas and (words[0] in _POSSESSIVES
                                or all(w in _FILLERS or _VALUE_NAME.fullmatch(w) for w in words[:index])):
            return index + 1
    return 0


def _end_of_words(words: list[str], start: int, breaks: frozenset[str]) -> int:
    """The end of a value of words: before a copula or conjunction that follows it ("meenakshi rajan or my daughter",
    "vreni aeschbacher das ist meine nachbarin"), unless only a spelling follows ("grewal g r e w a l")."""
    for index in range(start + 1, len(words)):
        if words[index] in breaks:
            rest = words[index + 1:]
            return len(words) if rest and all(len(w) == 1 or w in _SPELLING for w in rest) else index
    return len(words)


def _spelled(words: list[str], index: int) -> bool:
    # "g r e w a l": a single letter after another is spelt, not the article "a".
    return len(words[index]) == 1 and index > 0 and len(words[index - 1]) == 1


def _length(words: list[re.Match[str]]) -> int:
    """Words, counting a spelling ("o wie otto", "k as in kilo", "c a r y s") as one."""
    lower = [w.group().lower() for w in words]
    return sum(1 for w in lower if len(w) > 1 and w not in _SPELLING) + (1 if any(len(w) == 1 for w in lower) else 0)


def _numeric(words: list[str], language: str) -> bool:
    """A digit, or two number words: one "un" or "one" alone is an article or a pronoun."""
    return any(ch.isdigit() for w in words for ch in w) or sum(_number_word(w, language) for w in words) >= 2


def _has_digit(word: str, language: str) -> bool:
    return any(ch.isdigit() for ch in word) or _number_word(word, language)


def _starts_number(words: list[str], index: int, language: str) -> bool:
    # "oh four three", "un deux trois": a filler that is also a number word starts a number a digit follows.
    return (_number_word(words[index], language) or words[index] == "o") and index + 1 < len(words) \
        and _has_digit(words[index + 1], language)


# Short words that are talk, not part of a code next to a number ("its 0161", but "KX 4410", "qx 88").
_TALK = _FILLERS | _NON_ANSWERS | frozenset().union(*_COPULAS.values(), *_CONJUNCTIONS.values())
