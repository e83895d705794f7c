from __future__ import annotations

import pytest

from stages.sanitizer.persona import bot_names


@pytest.mark.parametrize(
    ("turns", "names"),
    [
        (["Hi, I'm Orion, your virtual assistant. How can I help?"], {"orion"}),
        (["Thank you for calling Clearpoint Energy. How can I help?"], {"clearpoint", "energy"}),
        (["Guten Tag, ich bin Mila, Ihre digitale Assistentin bei der Küstenwind Versicherung."], {"mila"}),
        (["Willkommen bei Stadtwerke Ahrtal! Wie kann ich helfen?"], {"stadtwerke", "ahrtal"}),
        (["Bonjour, je suis Théo, l'assistant virtuel."], {"théo"}),
        (["Bienvenue chez Colibri Télécom, comment puis-je vous aider ?"], {"colibri", "télécom"}),
        (["Hola, soy Luna, tu asistente virtual."], {"luna"}),
        (["Buongiorno, sono Chiara, l'assistente digitale."], {"chiara"}),
        (["Welkom bij Polderstroom! Ik ben Sanne, de digitale assistent."], {"polderstroom", "sanne"}),
        (["Dzień dobry, jestem Ola, wirtualna asystentka."], {"ola"}),
        # Later turns count only with an assistant word near the introduction.
        (["How can I help?", "I'm Rex, the assistant here."], {"rex"}),
    ],
)
def test_learns_the_bots_own_names(turns: list[str], names: set[str]) -> None:
    assert bot_names(turns) >= names


@pytest.mark.parametrize(
    "turns",
    [
        ["How can I help?", "I'm sorry to hear that, Daniel."],
        ["How can I help?", "This is Daniel's account, right?"],
        ["Wie kann ich helfen?", "Ich bin leider nicht sicher, Frau Berger."],
        ["Comment puis-je aider ?", "Je suis désolé, Madame Roux."],
        ["¿En qué puedo ayudarle?", "Soy consciente del problema, señor Ruiz."],
        ["How can I help?", "I am transferring you to Priya now."],
    ],
)
def test_names_the_bot_only_mentions_are_not_its_own(turns: list[str]) -> None:
    assert not bot_names(turns) & {"daniel", "berger", "roux", "ruiz", "priya"}
