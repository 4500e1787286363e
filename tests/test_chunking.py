"""Chunking: paragraph numbers, preamble/operative, page spans, offsets and the token limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CORPUS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pdfgen import write_pdf
from test_documents import resolution_pages

from sstc_assistant.chunking import chunk_document, document_text
from sstc_assistant.documents import read_document
from sstc_assistant.types import DocumentMeta, Page, ParsedDocument


def _chunks(doc, minilm, **kw):
    return chunk_document(doc, minilm.count_tokens, min(200, minilm.max_tokens), **kw)


def test_numbered_paragraphs_parts_and_pages(tmp_path: Path, minilm) -> None:
    doc = read_document(write_pdf(tmp_path / "A_RES_99_1.en.pdf", resolution_pages()))
    chunks = _chunks(doc, minilm, min_tokens=0)
    by_para = {c.paragraph: c for c in chunks if c.paragraph}
    assert set(by_para) >= {"1", "2", "3", "3(a)", "3(b)", "4"}
    assert by_para["1"].part == "operative"
    assert "municipal and provincial governments" in by_para["1"].text
    # paragraph 2 runs over the page break: one chunk, pages 1-2
    assert by_para["2"].pages == [1, 2]
    assert by_para["2"].text.endswith("cities in developing countries at the next session;")
    assert by_para["4"].pages == [3]
    preamble = [c for c in chunks if c.part == "preamble"]
    assert any("Recalling its resolution 72/237" in c.text for c in preamble)


def test_offsets_point_into_the_document_text(tmp_path: Path, minilm) -> None:
    doc = read_document(write_pdf(tmp_path / "A_RES_99_1.en.pdf", resolution_pages()))
    text = document_text(doc)
    for c in _chunks(doc, minilm):
        first_segment = c.text.split("\n\n")[0].split(" ")[0]
        assert text[c.char_start :].startswith(first_segment)
        last_word = c.text.split()[-1]
        assert text[: c.char_end].endswith(last_word)


def test_long_paragraph_split_with_overlap_under_limit(minilm) -> None:
    sentences = [
        f"Sentence number {i} says that cities cooperate on topic {i} with partners." for i in range(120)
    ]
    doc = ParsedDocument(
        meta=DocumentMeta(doc_id="long"),
        path="x",
        sha256="0",
        pages=[Page(number=1, text="12. " + " ".join(sentences))],
    )
    chunks = _chunks(doc, minilm, overlap_tokens=30)
    assert len(chunks) > 3
    counts = minilm.count_tokens([c.text for c in chunks])
    assert max(counts) <= minilm.max_tokens == 256
    assert all(c.paragraph == "12" for c in chunks)
    # consecutive pieces share an overlapping sentence
    assert any(chunks[0].text.split(". ")[-1] in chunks[1].text for _ in [0])


def test_a_single_enormous_word_run_is_cut(minilm) -> None:
    doc = ParsedDocument(
        meta=DocumentMeta(doc_id="w"),
        path="x",
        sha256="0",
        pages=[Page(number=1, text="supercalifragilistic " * 600)],
    )
    counts = minilm.count_tokens([c.text for c in _chunks(doc, minilm)])
    assert counts and max(counts) <= 200


def test_real_corpus_chunks_fit_the_model(minilm) -> None:
    for f in sorted(CORPUS.glob("*.txt")):
        chunks = _chunks(read_document(f), minilm)
        assert chunks
        assert max(minilm.count_tokens([c.text for c in chunks])) <= minilm.max_tokens


def test_un_resolution_paragraphs_and_limits(minilm, un_docs: Path) -> None:
    doc = read_document(un_docs / "A_RES_80_156.en.pdf")
    doc.meta.kind = "resolution"
    chunks = _chunks(doc, minilm)
    assert max(minilm.count_tokens([c.text for c in chunks])) <= 200
    para3 = [c for c in chunks if c.paragraph == "3"]
    assert para3 and "twenty-second session" in para3[0].text and para3[0].part == "operative"
    assert any(c.part == "preamble" and "Reaffirming its resolution 73/291" in c.text for c in chunks)


_words = st.text(
    alphabet=st.characters(codec="utf-8", categories=["L", "N", "P", "Zs"]), min_size=1, max_size=30
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pages=st.lists(st.lists(_words, min_size=0, max_size=60).map(" ".join), min_size=1, max_size=4))
def test_chunk_invariants(pages: list[str], minilm) -> None:
    """Chunks cover every word, stay under the limit and know their pages."""
    doc = ParsedDocument(
        meta=DocumentMeta(doc_id="h"),
        path="x",
        sha256="0",
        pages=[Page(number=i + 1, text=t) for i, t in enumerate(pages)],
    )
    chunks = _chunks(doc, minilm, min_tokens=10, overlap_tokens=5)
    text = document_text(doc)
    if not text.strip():
        assert chunks == []
        return
    assert max(minilm.count_tokens([c.text for c in chunks])) <= 200
    covered = " ".join(c.text for c in chunks).split()
    for word in text.split():
        assert word in covered
    for c in chunks:
        assert 1 <= c.page_start <= c.page_end <= len(pages)
        assert 0 <= c.char_start < c.char_end <= len(text)
        # the page span is the pages the chunk's characters lie on (pages are joined by form feeds)
        assert c.page_start == text.count("\f", 0, c.char_start) + 1
        assert c.page_end == text.count("\f", 0, c.char_end - 1) + 1
        assert c.text.split()[0] in text[c.char_start : c.char_end]
    # every non-space character of the document lies inside some chunk's span: nothing is lost
    covered_chars = bytearray(len(text))
    for c in chunks:
        covered_chars[c.char_start : c.char_end] = b"\x01" * (c.char_end - c.char_start)
    lost = [i for i, ch in enumerate(text) if not ch.isspace() and not covered_chars[i]]
    assert not lost, [text[i] for i in lost[:20]]


@pytest.mark.parametrize("paragraph", ["(a)", "(iv)"])
def test_sub_items_belong_to_their_paragraph(paragraph: str, minilm) -> None:
    text = (
        f"7. Calls upon Member States:\n\n{paragraph} To support cities in the South with enough words here;"
    )
    doc = ParsedDocument(
        meta=DocumentMeta(doc_id="s", kind="resolution"),
        path="x",
        sha256="0",
        pages=[Page(number=1, text=text)],
    )
    labels = [c.paragraph for c in _chunks(doc, minilm, min_tokens=0)]
    assert labels == ["7", f"7{paragraph}"]
