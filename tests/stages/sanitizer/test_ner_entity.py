from __future__ import annotations

import pytest
from spacy.language import Language

from stages.sanitizer.ner import entities
from stages.sanitizer.recognizers.base import TextContext
from stages.sanitizer.recognizers.ner_entity import NerEntityRecognizer

LOCATION = NerEntityRecognizer("LOCATION", ("GPE", "LOC", "FAC"))


@pytest.mark.parametrize(
    ("text", "found"),
    [("I moved to Chicago last year", "Chicago"), ("we're driving through France's south", "France")],
)
def test_takes_entities_of_its_labels(nlp: Language, text: str, found: str) -> None:
    [ents] = entities(nlp, [text])
    detections = LOCATION.detect(text, TextContext(entities=ents))
    assert found in [text[d.start : d.end] for d in detections]
    assert all(d.entity_type == "LOCATION" for d in detections)


def test_trims_and_drops_the_models_mistakes() -> None:
    text = "Visit 'Paris', 42, jane@x.io"
    context = TextContext(entities=((6, 13, "GPE"), (15, 17, "GPE"), (19, 28, "GPE"), (0, 5, "PERSON")))
    assert [(text[d.start : d.end], d.normalized) for d in LOCATION.detect(text, context)] == [("Paris", "paris")]
