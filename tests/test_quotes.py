"""Quotes are whole sentences: a piece that a chunk boundary cut is read on to its sentence's end."""

from __future__ import annotations

from pathlib import Path

from sstc_assistant.assistant import Assistant
from sstc_assistant.chunking import sentence_spans
from sstc_assistant.ingest import ingest
from sstc_assistant.quotes import whole_sentence

# operative paragraph 24 of a resolution is one sentence far longer than a chunk's token limit
ITEMS = ", ".join(
    f"to strengthen the {w} capacities of national and local institutions in developing countries"
    for i, w in enumerate(
        [
            "statistical",
            "technological",
            "financial",
            "institutional",
            "regulatory",
            "digital",
            "urban",
            "agricultural",
            "educational",
            "scientific",
            "health",
            "energy",
        ]
    )
)
LONG = f"24. Calls upon the United Nations development system to continue mainstreaming South-South cooperation, {ITEMS}, and to report thereon to the General Assembly at its eighty-first session."


def _long_resolution(make_settings, tmp_path: Path) -> Assistant:
    """An index of one resolution whose paragraph 24 small chunks (120 tokens) cut in three."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "long.txt").write_text(
        f"Resolution on cooperation\n\n{LONG}\n\n25. Decides to remain seized of the matter.\n"
    )
    settings = make_settings(corpus_dir=docs, chunk_max_tokens=120)
    assert ingest(settings).ingested_any
    return Assistant(settings)


def test_a_sentence_cut_by_a_chunk_boundary_is_quoted_whole(make_settings, tmp_path: Path) -> None:
    assistant = _long_resolution(make_settings, tmp_path)
    chunks = assistant.index.db.execute(
        "SELECT * FROM chunks WHERE doc_id = 'long' ORDER BY ordinal"
    ).fetchall()
    assert len(chunks) >= 3, "the long paragraph must have been split"
    first = next(c for c in chunks if c["text"].startswith("Calls upon"))
    hit = next(h for h in assistant.search(LONG[:200], k=10) if h.chunk_id == first["chunk_id"])
    spans = sentence_spans(hit.text, clauses=False)
    cut = hit.text[spans[-1][0] : spans[-1][1]].strip()
    assert not cut.endswith("."), "the first chunk ends mid-sentence"
    quote, pages = whole_sentence(assistant.index, hit, cut)
    assert quote.startswith(cut)
    assert quote.endswith("eighty-first session."), quote[-40:]
    assert quote in assistant.index.document_text("long")
    assert pages == [1]
    # a passage that ends where its sentence ends is left alone
    last = next(h for h in assistant.search("remain seized of the matter", k=10) if "remain seized" in h.text)
    assert whole_sentence(assistant.index, last, "Decides to remain seized of the matter.") is None


def test_a_sentence_whose_start_a_chunk_boundary_cut_is_read_back_to_its_start(
    make_settings, tmp_path: Path
) -> None:
    assistant = _long_resolution(make_settings, tmp_path)
    rows = assistant.index.db.execute(
        "SELECT * FROM chunks WHERE doc_id = 'long' ORDER BY ordinal"
    ).fetchall()
    later = next(c for c in rows if c["text"].startswith("to strengthen"))
    hit = next(h for h in assistant.search(later["text"][:200], k=10) if h.chunk_id == later["chunk_id"])
    spans = sentence_spans(hit.text, clauses=False)
    piece = hit.text[spans[0][0] : spans[0][1]].strip()
    assert piece.startswith("to strengthen"), "the chunk starts mid-sentence"
    quote, _ = whole_sentence(assistant.index, hit, piece)
    assert "Calls upon the United Nations development system" in quote
    assert quote.endswith("eighty-first session."), quote[-40:]  # cut at both ends: read both ways
    assert quote in assistant.index.document_text("long")
    # a passage that begins where its sentence begins is left alone
    first = next(
        h for h in assistant.search("remain seized of the matter", k=10) if "remain seized" in h.text
    )
    assert whole_sentence(assistant.index, first, "Decides to remain seized of the matter.") is None
