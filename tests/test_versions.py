"""Official translations as language versions of one document, with small generated documents in
English, French and Spanish (no official translations are available offline)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sstc_assistant.assistant import Assistant
from sstc_assistant.ingest import ingest
from sstc_assistant.versions import question_language

EN = (
    "United Nations A/RES/90/1\n\nGeneral Assembly\n\nDistr.: General 20 December 2035\n\n"
    "90/1. South-South cooperation for urban resilience\n\nThe General Assembly,\n\n"
    "1. Decides to establish a South-South fund for urban resilience, to be administered by the "
    "United Nations Office for South-South Cooperation;\n\n"
    "2. Requests the Secretary-General to report on the implementation of the present resolution "
    "at its ninety-second session;\n"
    "\f"
    "3. Invites Member States to contribute to the fund for urban resilience, in particular to "
    "support coastal cities facing rising sea levels;\n\n"
    "4. Decides to convene a high-level dialogue on urban resilience in Nairobi in 2037.\n"
)
FR = (
    "Nations Unies A/RES/90/1\n\nAssemblée générale\n\nDistr. générale 20 décembre 2035\n\n"
    "90/1. Coopération Sud-Sud pour la résilience urbaine\n\nL'Assemblée générale,\n\n"
    "1. Décide de créer un fonds Sud-Sud pour la résilience urbaine, qui sera administré par le "
    "Bureau des Nations Unies pour la coopération Sud-Sud ;\n\n"
    "2. Prie le Secrétaire général de lui faire rapport sur l'application de la présente résolution "
    "à sa quatre-vingt-douzième session ;\n"
    "\f"
    "3. Invite les États Membres à contribuer au fonds pour la résilience urbaine, en particulier "
    "pour soutenir les villes côtières confrontées à l'élévation du niveau de la mer ;\n\n"
    "4. Décide de convoquer un dialogue de haut niveau sur la résilience urbaine à Nairobi en 2037.\n"
)
ES = (
    "Naciones Unidas A/RES/90/1\n\nAsamblea General\n\nDistr. general 20 de diciembre de 2035\n\n"
    "90/1. Cooperación Sur-Sur para la resiliencia urbana\n\nLa Asamblea General,\n\n"
    "1. Decide establecer un fondo Sur-Sur para la resiliencia urbana, que será administrado por la "
    "Oficina de las Naciones Unidas para la Cooperación Sur-Sur;\n\n"
    "2. Solicita al Secretario General que le presente un informe sobre la aplicación de la presente "
    "resolución en su nonagésimo segundo período de sesiones;\n"
    "\f"
    "3. Invita a los Estados Miembros a contribuir al fondo para la resiliencia urbana, en particular "
    "para apoyar a las ciudades costeras afectadas por la subida del nivel del mar;\n\n"
    "4. Decide convocar un diálogo de alto nivel sobre la resiliencia urbana en Nairobi en 2037.\n"
)
EXPO = (
    "United Nations A/RES/90/2\n\nGeneral Assembly\n\n90/2. Global South-South Development Expo\n\n"
    "The General Assembly,\n\n"
    "1. Decides that the Global South-South Development Expo shall be held every two years, hosted by "
    "a developing country that offers to host it;\n\n"
    "2. Encourages the private sector to take part in the Expo and to showcase solutions for "
    "renewable energy in rural areas.\n"
)

WHEN = {
    "en": "When will the high-level dialogue on urban resilience be convened?",
    "fr": "Quand se tiendra le dialogue de haut niveau sur la résilience urbaine ?",
    "es": "¿Cuándo se celebrará el diálogo de alto nivel sobre la resiliencia urbana?",
}


@pytest.fixture(scope="module")
def versions_assistant(tmp_path_factory) -> Assistant:
    from sstc_assistant.settings import Settings

    tmp = tmp_path_factory.mktemp("versions")
    docs = tmp / "docs"
    docs.mkdir()
    for name, text in {
        "A_RES_90_1.en.txt": EN,
        "A_RES_90_1.fr.txt": FR,
        "A_RES_90_1.es.txt": ES,
        "A_RES_90_2.en.txt": EXPO,
    }.items():
        (docs / name).write_text(text, encoding="utf-8")
    settings = Settings(
        home=Path(__file__).resolve().parents[1], indexes_dir=tmp / "idx", index="v", corpus_dir=docs
    )
    assert ingest(settings).ingested_any
    return Assistant(settings)


def test_question_language() -> None:
    assert [question_language(q) for q in WHEN.values()] == ["en", "fr", "es"]
    assert question_language("Когда была принята резолюция?") == "ru"
    assert question_language("متى اعتمد القرار؟") == "ar"
    assert question_language("决议是什么时候通过的？") == "zh"
    assert question_language("2037") is None


@pytest.mark.parametrize("lang", ["fr", "es", "en"])
def test_question_is_answered_from_the_version_in_its_language(versions_assistant, lang) -> None:
    answer = versions_assistant.ask(WHEN[lang])
    assert answer.answerable, answer.answer
    cited = answer.citations[0]
    assert cited.doc_id == f"A_RES_90_1.{lang}" and cited.language == lang
    assert (cited.symbol, cited.paragraph, cited.pages) == ("A/RES/90/1", "4", [2])
    assert "Nairobi" in answer.answer and "2037" in answer.answer
    assert {"fr": "Décide de convoquer", "es": "Decide convocar", "en": "Decides to convene"}[
        lang
    ] in answer.answer
    others = {v.language: v for v in cited.versions}
    assert set(others) == {"en", "fr", "es"} - {lang}
    for v in others.values():  # the same paragraph, one click away in each other language
        assert (v.doc_id, v.paragraph, v.pages) == (f"A_RES_90_1.{v.language}", "4", [2])
    assert cited.versions[0].language == ("en" if lang != "en" else "es")  # English first


def test_keyword_search_stays_in_the_question_language(versions_assistant) -> None:
    hits = versions_assistant.search("élévation du niveau de la mer villes côtières", k=3, mode="bm25")
    assert hits[0].doc_id == "A_RES_90_1.fr" and hits[0].paragraph == "3"
    assert not {h.doc_id for h in hits} & {"A_RES_90_1.en", "A_RES_90_1.es"}


def test_documents_without_a_version_in_the_language_are_found_across_languages(versions_assistant) -> None:
    """90/2 has no French version: its English text still answers a French question's meaning (dense,
    today's cross-lingual path), while 90/1 is read in French only."""
    question = "À quelle fréquence l'Exposition mondiale sur le développement Sud-Sud a-t-elle lieu ?"
    dense = versions_assistant.search(question, k=3, mode="dense")
    assert dense[0].doc_id == "A_RES_90_2.en" and dense[0].paragraph == "1"
    hybrid = versions_assistant.search(question, k=6)
    assert "A_RES_90_2.en" in {h.doc_id for h in hybrid}
    assert not {h.doc_id for h in dense + hybrid} & {"A_RES_90_1.en", "A_RES_90_1.es"}


def test_ui_links_the_other_versions(versions_assistant) -> None:
    from sstc_assistant.ui import render_sources

    html = render_sources(versions_assistant.ask(WHEN["fr"]))
    assert "/api/documents/A_RES_90_1.en/open?page=2" in html and ">en p. 2</a>" in html
