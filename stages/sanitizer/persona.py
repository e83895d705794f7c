"""Names a session's bot gives itself and its company: not personal data, though NER and the name cues
take them for people ("I'm Orion, the virtual assistant", "Thank you for calling Clearpoint Energy").

The bot introduces itself and the company it speaks for in its own turns; what it says there is learnt per
session, so a tenant that never set `CA_PII_ALLOW_LIST` still keeps its persona and brand readable. Only bot
turns teach: a human agent's name after a handover is personal data, and so is anything a user says.
A self-introduction counts when an assistant word stands near it or when it is the bot's first turn."""

from __future__ import annotations

import re
from collections.abc import Iterable

_CAPITALISED = r"[^\W\d_][\w'\u2019&.-]*"
_INTRODUCTION = re.compile(
    r"\b(?:I'?m|I\s+am|my\s+name\s+is|this\s+is|ich\s+bin|ich\s+hei(?:ß|ss)e|mein\s+name\s+ist|hier\s+ist|"
    r"je\s+suis|je\s+m'appelle|soy|me\s+llamo|mi\s+nombre\s+es|le\s+atiende|sono|mi\s+chiamo|ik\s+ben|"
    r"mijn\s+naam\s+is|u\s+spreekt\s+met|jestem|nazywam\s+się|mam\s+na\s+imię)\s+"
    r"(?P<name>[A-ZÀ-ÖØ-Þ][\w'\u2019-]*(?:\s+[A-ZÀ-ÖØ-Þ][\w'\u2019-]*)?)",
    re.IGNORECASE,
)
_ASSISTANT = re.compile(
    r"\b(?:assistant|assistent|assistentin|assistante|asistente|assistente|asystent|agent|bot|chatbot|helper|"
    r"virtual|digital|digitale|virtuel|virtuelle|virtuale|wirtualn)", re.IGNORECASE)
_COMPANY = re.compile(
    r"\b(?:(?:thank\s+you|thanks)\s+for\s+(?:calling|contacting|choosing|writing\s+to|messaging)|welcome\s+to|"
    r"willkommen\s+(?:bei|im|in\s+der)|(?:danke|vielen\s+dank)\s+für\s+ihren\s+anruf\s+bei|bienvenue\s+(?:chez|à)|"
    r"merci\s+d'avoir\s+(?:appelé|contacté)|bienvenid[oa]\s+a|gracias\s+por\s+(?:llamar|contactar)\s+(?:a|con)|"
    r"benvenut[oi]\s+(?:in|a|da|nel(?:la)?)|grazie\s+per\s+aver\s+(?:chiamato|contattato)|welkom\s+bij|"
    r"bedankt\s+voor\s+het\s+bellen\s+(?:met|naar)|witamy\s+w|dziękujemy\s+za\s+kontakt\s+z)\s+"
    rf"(?P<company>{_CAPITALISED}(?:\s+(?:&\s+)?{_CAPITALISED}){{0,5}})",
    re.IGNORECASE,
)
# Words that end a company's name: "Welcome to Acme Energy, how can I help".
_AFTER_COMPANY = re.compile(r"\s+(?:how|what|wie|was|comment|que|cómo|come|hoe|jak|I|ich|je|my|mein)\b.*",
                            re.IGNORECASE)
_NO_NAMES = frozenset({"sorry", "here", "happy", "glad", "afraid", "not", "unable", "the", "your", "ihr", "ihre",
                       "votre", "su", "il", "la", "uw", "pana", "pani", "leider", "désolé", "désolée"})


def bot_names(bot_turns: Iterable[str]) -> frozenset[str]:
    """The lower-case words of the persona and company names the bot gave in `bot_turns` (in order)."""
    words: set[str] = set()
    for position, text in enumerate(bot_turns):
        for match in _INTRODUCTION.finditer(text):
            name = match.group("name")
            if name.split()[0].lower() in _NO_NAMES or not name[0].isupper():
                continue
            nearby = text[max(0, match.start() - 40): match.end() + 60]
            if position == 0 or _ASSISTANT.search(nearby):
                words.update(w.lower() for w in name.split() if w[0].isupper())
        for match in _COMPANY.finditer(text):
            company = _AFTER_COMPANY.sub("", match.group("company"))
            words.update(w.lower().strip(".") for w in company.split() if w[0].isupper())
    return frozenset(words)
