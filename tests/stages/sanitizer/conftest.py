"""Engines and the NER model, built once per test session: loading spaCy takes most of a second."""

from __future__ import annotations

import pytest
from spacy.language import Language

from stages.sanitizer.engine import PiiEngine
from stages.sanitizer.ner import load_ner

KEY = b"test-tokenization-key-0123456789abcdef"
OTHER_KEY = b"another-tokenization-key-fedcba9876543210"


@pytest.fixture(scope="session")
def nlp() -> Language:
    model = load_ner("auto")
    if model is None:
        pytest.skip("no spaCy English model installed")
    return model


@pytest.fixture(scope="session")
def ner_engine(nlp: Language) -> PiiEngine:
    return PiiEngine(KEY, "k1", model="auto")


@pytest.fixture(scope="session")
def engine() -> PiiEngine:
    """Without NER: regex, validators and context rules only."""
    return PiiEngine(KEY, "k1", model="none")
