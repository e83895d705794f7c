"""LOCATION, the town of a person's address: a town on an address line (see `address`: after a street and a
comma, after its postal code "9020 Klagenfurt", before a state and postcode "Penrith NSW 2750"), and the town
where someone says they live: "I live in X", "new place in X", "ich wohne in X", "nach X gezogen",
"j'habite à X", "vivo en X", "abito a X", "ik woon in X", "mieszkam w X", "Wohnort: X"; and a short answer
when the conversation asked for a town (`TextContext.expected` holds LOCATION). A town named as a route, a
branch, a station, the weather or an accident place has no such context and is not found here (the NER
recognizer of LOCATION may still find it). Normalized to lower case with single spaces."""

from __future__ import annotations

import re

from stages.sanitizer.recognizers.address import is_casual, town_at
from stages.sanitizer.recognizers.address_block import address_parts
from stages.sanitizer.recognizers.base import Detection, TextContext, squash

ENTITY_TYPE = "LOCATION"
LINE_SCORE = 0.75
RESIDENCE_SCORE = 0.75
EXPECTED_SCORE = 0.8
MAX_ANSWER_WORDS = 5

# What comes right before the town where someone says where they live.
_LIVES_IN = re.compile(
    r"\b(?:"
    r"(?:live[sd]?|living|reside[sd]?|residing|moved|moving|relocated|relocating)\s+(?:(?:now|currently|still|here)\s+)?"
    r"(?:in|to)"
    r"|(?:i['\u2019]?m|i\s+am|we['\u2019]?re|we\s+are)\s+(?:now\s+)?based\s+in"
    r"|(?:place|home|house|flat|apartment)\s+in"
    r"|(?:wohne|wohnen|wohnt|wohnhaft|lebe|leben|lebt|ziehe|ziehen|zieht)(?:\s+\w+){0,3}?\s+(?:in|nach)"
    r"|(?:wohnung|haus|zuhause|daheim)\s+in"
    r"|(?:appartement|maison|domicile)\s+(?:à|a)"
    r"|(?:j['\u2019]\s?habite|habite|habitons|habitez|habitent|je\s+vis|vivons|réside|résidons|domicilié(?:e|s|es)?|"
    r"demeurant|déménagé|installée?s?)\s+(?:(?:maintenant|actuellement|toujours)\s+)?(?:à|a|au|en)"
    r"|(?:vivo|vivimos|vive|viven|resido|residimos|reside|residente|domiciliad[oa]s?|me\s+mudé|nos\s+mudamos)"
    r"\s+(?:(?:ahora|actualmente)\s+)?(?:en|a)"
    r"|(?:casa|piso|domicilio)\s+en"
    r"|(?:abito|abitiamo|abita|abitano|viviamo|risiedo|risiediamo|risiede|domiciliat[oa]|trasferit[oaie])"
    r"\s+(?:(?:ora|adesso|attualmente)\s+)?(?:a|ad|in)"
    r"|(?:casa|appartamento)\s+(?:a|ad|in)"
    r"|(?:woon|woont|wonen|woonachtig|verhuisd|verhuizen|verhuis)\s+(?:(?:nu|momenteel|sinds\s+kort)\s+)?(?:in|te|naar)"
    r"|(?:huis|woning|appartement)\s+(?:in|te)"
    r"|(?:mieszkam|mieszkamy|mieszka|mieszkają|zamieszkał[ya]|przeprowadził(?:em|am|iśmy)\s+się)"
    r"\s+(?:(?:teraz|obecnie)\s+)?(?:w|we|do)"
    r"|(?:mieszkanie|dom)\s+(?:w|we)"
    r"|(?:moro|moramos)\s+(?:em|no|na)"
    r"|(?:city|town|suburb|stadt|ort|wohnort|ville|ciudad|localidad|città|comune|plaats|woonplaats|miejscowość|"
    r"miasto)\s*:"
    r")\s+",
    re.IGNORECASE,
)
# German puts the verb last: "wir sind nach Leipzig gezogen".
_MOVED_TO = re.compile(r"\bnach\s+(?P<town>[^\W\d_][\w'\u2019-]*(?:\s+[^\W\d_][\w'\u2019-]*)?)\s+(?:um)?gezogen\b",
                       re.IGNORECASE)
_ANSWER_PREFIX = re.compile(r"\s*(?:(?:it['\u2019]?s|its|in|the\s+city\s+is|i\s+live\s+in)\s+)?", re.IGNORECASE)


class CityRecognizer:
    entity_type = ENTITY_TYPE
    context_words: tuple[str, ...] = ()
    ner_labels: frozenset[str] = frozenset()

    def detect(self, text: str, context: TextContext) -> list[Detection]:
        found = [_detection(text, p.start, p.end, LINE_SCORE) for p in address_parts(text)
                 if p.kind == "city" and p.evidence != "org"]
        casual = is_casual(text)
        for cue in _LIVES_IN.finditer(text):
            end = town_at(text, cue.end(), casual)
            if end is not None:
                found.append(_detection(text, cue.end(), end, RESIDENCE_SCORE))
        for moved in _MOVED_TO.finditer(text):
            end = town_at(text, moved.start("town"), casual)
            if end is not None:
                found.append(_detection(text, moved.start("town"), end, RESIDENCE_SCORE))
        if ENTITY_TYPE in context.expected and len(text.split()) <= MAX_ANSWER_WORDS:
            prefix = _ANSWER_PREFIX.match(text)
            start = prefix.end() if prefix else 0
            end = town_at(text, start, True)
            if end is not None:
                found.append(_detection(text, start, end, EXPECTED_SCORE))
        return found


def _detection(text: str, start: int, end: int, score: float) -> Detection:
    return Detection(start, end, ENTITY_TYPE, score, squash(text[start:end]))
