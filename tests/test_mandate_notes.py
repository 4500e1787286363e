"""An answer whose cited passage refers to a mandate the index does not hold names that mandate."""

from __future__ import annotations

from pathlib import Path

from sstc_assistant.assistant import Assistant
from sstc_assistant.ingest import ingest

RECALL = (
    "73/999. South-South cooperation\n\n"
    "The General Assembly,\n\n"
    "1. Reaffirms its resolution 33/134 of 19 December 1978, in which it endorsed the Buenos Aires "
    "Plan of Action for Promoting and Implementing Technical Cooperation among Developing Countries.\n\n"
    "2. Decides that the Global South-South Development Expo shall be held every year in a "
    "developing country that offers to host it.\n"
)
QUESTION = "Which resolution endorsed the Buenos Aires Plan of Action?"


def _assistant(make_settings, folder: Path, minilm) -> Assistant:
    settings = make_settings(corpus_dir=folder)
    assert ingest(settings).ingested_any
    return Assistant(settings)


def test_answer_names_the_mandate_it_refers_to_that_is_not_indexed(make_settings, tmp_path, minilm) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "A_RES_73_999.en.txt").write_text(RECALL, encoding="utf-8")
    answer = _assistant(make_settings, folder, minilm).ask(QUESTION)
    assert answer.answerable and "33/134" in answer.answer
    assert answer.not_indexed == ["A/RES/33/134"]
    note = answer.plain_text().splitlines()[-1]
    assert note == "The cited passages refer to A/RES/33/134, not in the index (sstc fetch A/RES/33/134)."
    from sstc_assistant.ui import render_answer

    assert render_answer(answer).endswith(f"_{note}_")  # the chat says so too


def test_no_note_once_the_mandate_is_indexed(make_settings, tmp_path, minilm) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "A_RES_73_999.en.txt").write_text(RECALL, encoding="utf-8")
    (folder / "A_RES_33_134.en.txt").write_text(
        "33/134. Buenos Aires Plan of Action for Promoting and Implementing Technical Cooperation among "
        "Developing Countries\n\nThe General Assembly endorses the Plan of Action.\n",
        encoding="utf-8",
    )
    answer = _assistant(make_settings, folder, minilm).ask(QUESTION)
    assert answer.answerable and answer.not_indexed == []
    assert "not in the index" not in answer.plain_text()
