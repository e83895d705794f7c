from __future__ import annotations

import pytest

from stages.sanitizer.language import LanguageGuesser


@pytest.mark.parametrize(
    ("texts", "language"),
    [
        (["Hi, how can I help you today?", "my parcel never arrived and nobody answers"], "en"),
        (["Guten Tag, wie kann ich Ihnen helfen?", "mein Paket ist nicht angekommen"], "de"),
        (["Bonjour, comment puis-je vous aider ?", "mon colis n'est jamais arrivé"], "fr"),
        (["Hola, ¿en qué puedo ayudarle?", "mi paquete nunca llegó"], "es"),
        (["Buongiorno, come posso aiutarla?", "il mio pacco non è mai arrivato"], "it"),
        (["Goedendag, waarmee kan ik u helpen?", "mijn pakket is nooit aangekomen"], "nl"),
        (["Dzień dobry, w czym mogę pomóc?", "moja paczka nigdy nie dotarła"], "pl"),
    ],
)
def test_tells_the_language_of_a_conversation(texts: list[str], language: str) -> None:
    assert LanguageGuesser().guess(texts) == language


def test_a_conversation_too_short_to_tell_gets_the_first_language() -> None:
    assert LanguageGuesser().guess(["ok", "ja"]) == "en"
    assert LanguageGuesser(["de", "en"]).guess(["ok"]) == "de"


def test_a_single_language_needs_no_detector() -> None:
    assert LanguageGuesser(["de"]).guess(["Hello, my parcel never arrived, can you help me please?"]) == "de"


def test_unsupported_languages_are_refused() -> None:
    with pytest.raises(ValueError, match="xx"):
        LanguageGuesser(["en", "xx"])
