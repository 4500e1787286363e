"""English glosses of questions in the other official languages (glossary.py): keyword search and
the word evidence of answerability meet English passages through them."""

from __future__ import annotations

import pytest

from sstc_assistant.answerability import QuestionView, TermWeights
from sstc_assistant.assistant import Assistant
from sstc_assistant.glossary import Glossary, gloss
from sstc_assistant.lexicons import lexicon


@pytest.mark.parametrize(
    ("question", "words"),
    [
        (
            "По какому пункту повестки дня была принята резолюция 72/237?",
            ["agenda item", "adopted", "resolution", "72/237"],
        ),
        (
            "Quel est le rôle des gouvernements infranationaux selon le Plan d'action de Buenos Aires ?",
            ["subnational", "Buenos Aires Plan of Action"],
        ),
        (
            "¿Qué pide la resolución 79/226 a las entidades del sistema de las Naciones Unidas para el desarrollo?",
            ["resolution", "79/226", "United Nations development system"],
        ),
        (
            "南南合作高级别委员会第二十二届会议何时举行？",
            ["South-South Cooperation", "twenty-second", "session"],
        ),
        (
            "ما هو عدد الدول الأعضاء التي حضرت الدورة الثانية والعشرين؟",
            ["Member States", "twenty-second", "session"],
        ),
    ],
)
def test_a_question_is_glossed_into_the_words_un_texts_use(question: str, words: list[str]) -> None:
    english = gloss(question)
    for word in words:
        assert word in english, (word, english)


def test_the_longest_and_exact_reading_wins() -> None:
    glossary = Glossary(
        [
            {"en": "countries", "fr": ["pays"]},
            {"en": "least developed countries", "fr": ["pays les moins avancés"]},
            {"en": "Australia", "es": ["Australia"]},
            {"en": "Austria", "es": ["Austria"]},
            {"en": "resolution", "fr": ["résolution"]},
        ]
    )
    assert glossary.gloss("les pays les moins avancés") == "least developed countries"
    assert glossary.gloss("Austria") == "Austria"
    assert glossary.gloss("résolutions") == "resolution"  # an inflection, accents aside
    assert glossary.gloss("rien de connu ici") == ""
    assert glossary.gloss("la résolution 78/167 du PNUD") == "resolution 78/167 PNUD"  # symbols, names kept


def test_the_shipped_glossary_is_traceable_data() -> None:
    data = lexicon("glossary")
    assert data["source"] and len(data["terms"]) > 500
    assert all(entry["en"].strip() for entry in data["terms"])


def test_a_question_in_another_language_is_weighed_in_its_english_words() -> None:
    question = "Quelles propositions de projets pilotes seront prioritaires ?"
    view = QuestionView(question, question, TermWeights.shipped())
    assert not view.english
    assert {"pilot", "project"} <= set(view.terms)


def test_keyword_search_reads_a_french_question_through_its_gloss(corpus_assistant: Assistant) -> None:
    hits = corpus_assistant.retriever.search(
        "Quelles propositions de projets pilotes seront prioritaires ?", 5
    )
    glossed = [h for h in hits if "gloss_bm25" in h.scores]
    assert glossed and any("pilot project proposals" in h.text.lower() for h in glossed)
