"""English glosses of questions in the other official languages (glossary.py): keyword search and
the word evidence of answerability meet English passages through them."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import assistant_over

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


@pytest.fixture(scope="module")
def resolutions_assistant(tmp_path_factory: pytest.TempPathFactory, un_docs: Path) -> Assistant:
    """Three South-South cooperation resolutions, alike in their words and structure."""
    names = ("A_RES_72_237.en.txt", "A_RES_73_249.en.txt", "A_RES_74_239.en.txt")
    return assistant_over(tmp_path_factory, [un_docs / n for n in names], "resolutions")


@pytest.mark.parametrize(
    ("question", "doc_id"),
    [
        # "Which item does resolution 73/249 decide to include in the provisional agenda of a coming session?"
        ("ما البند الذي يقرر القرار 73/249 إدراجه في جدول الأعمال المؤقت لدورة مقبلة؟", "A_RES_73_249.en"),
        ("في جدول الأعمال المؤقت لأي دورة يقرر القرار 72/237 إدراج بند؟", "A_RES_72_237.en"),
    ],
)
def test_a_named_resolution_is_searched_in_the_english_words_of_the_question(
    resolutions_assistant: Assistant, question: str, doc_id: str
) -> None:
    """Inside the resolution a question names, its Arabic words meet nothing: the keyword search
    within it finds the passage that answers through the question's gloss ("agenda item decides
    ... session"), which lifts that passage (rank 9 without it, 7 with it, on three resolutions)."""
    hits = resolutions_assistant.search(question, k=8)
    found = [
        h for h in hits if h.doc_id == doc_id and "provisional agenda of its" in " ".join(h.text.split())
    ]
    assert found and "named_bm25" in found[0].scores, [(h.doc_id, h.text[:60]) for h in hits]
