"""Parsing: pages, clean-up, metadata, and a clear reason for every kind of bad input."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pdfgen import (
    bomb_pdf_bytes,
    many_pages_pdf_bytes,
    nested_pages_pdf_bytes,
    pdf_bytes,
    write_encrypted_pdf,
    write_pdf,
)

from sstc_assistant.catalog import Catalog, symbol_from_name
from sstc_assistant.documents import DocumentError, read_document

HEADER = "A/RES/99/1"
RUNNING = "South-South cooperation"


def resolution_pages() -> list[list[str]]:
    return [
        [
            HEADER,
            RUNNING,
            "99/1. South-South cooperation",
            " The General Assembly,",
            " Recalling its resolution 72/237 on South-South cooperation and the coordi-",
            "nation of support with South-",
            "South partners,",
            " 1. Decides to hold a meeting of municipal and provincial governments;",
            " 2. Requests the Secretary-General to report on the matter, and to con-",
            "sider the views of",
        ],
        [
            HEADER,
            RUNNING,
            "cities in developing countries at the next session;",
            " 3. Encourages Member States to support pilots in Arab States;",
            " (a) by technology transfer;",
            " (b) by capacity development;",
        ],
        [HEADER, RUNNING, " 4. Decides to remain seized of the matter.", "2/3"],
    ]


def test_pdf_pages_are_one_based_and_cleaned(tmp_path: Path) -> None:
    doc = read_document(write_pdf(tmp_path / "A_RES_99_1.en.pdf", resolution_pages()))
    assert [p.number for p in doc.pages] == [1, 2, 3]
    page1 = doc.pages[0].text
    assert "coordination of support" in page1  # de-hyphenated
    assert "South-South partners" in page1  # a real hyphen survives the line break
    assert "\n\n1. Decides to hold a meeting" in page1  # paragraphs split at numbers
    assert "99/1. South-South cooperation" in page1
    # the running header and page marker are removed from every page
    for page in doc.pages:
        assert HEADER not in page.text.split("\n\n")[0]
        assert "2/3" not in page.text
    assert doc.pages[1].text.startswith("cities in developing countries")
    assert doc.meta.symbol == "A/RES/99/1"
    assert doc.meta.kind == "resolution"
    assert doc.meta.language == "en"


def test_text_form_feeds_start_pages(tmp_path: Path) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("First page paragraph.\n\nSecond paragraph.\fPage two text.\fPage three.", encoding="utf-8")
    doc = read_document(f)
    assert [p.number for p in doc.pages] == [1, 2, 3]
    assert doc.pages[1].text == "Page two text."
    assert not doc.pages_inferred


def test_text_pages_inferred_from_printed_markers(tmp_path: Path) -> None:
    body = []
    for n in range(1, 4):
        if n > 1:
            body += ["", "A/RES/98/7", "Some title", "", "18-00001", f"{n}/3", ""]
        body += [f"Line {i} of the text printed on page {n} of the resolution." for i in range(12)]
    f = tmp_path / "A_RES_98_7.en.txt"
    f.write_text("\n".join(body), encoding="utf-8")
    doc = read_document(f)
    assert doc.pages_inferred
    assert len(doc.pages) == 3
    for n, page in enumerate(doc.pages, 1):
        assert f"Line 0 of the text printed on page {n}" in page.text
        assert f"Line 11 of the text printed on page {n}" in page.text
        assert f"{n}/3" not in page.text


def test_one_paragraph_per_line_text(tmp_path: Path) -> None:
    long_a = "Alpha " * 40
    long_b = "Beta " * 40
    f = tmp_path / "web.txt"
    f.write_text(f"{long_a.strip()}\n{long_b.strip()}\n", encoding="utf-8")
    assert read_document(f).pages[0].text.split("\n\n") == [long_a.strip(), long_b.strip()]


def test_html_is_read_as_text(tmp_path: Path) -> None:
    f = tmp_path / "page.html"
    f.write_text(
        "<html><head><style>p{}</style><script>var x=1;</script></head><body><h1>Cities Project</h1>"
        "<p>Pilots in <b>Africa</b> &amp; Asia.</p></body></html>",
        encoding="utf-8",
    )
    text = read_document(f).pages[0].text
    assert "Cities Project" in text and "Pilots in Africa & Asia." in text
    assert "var x" not in text


def test_catalog_entry_overrides_derived_metadata(tmp_path: Path) -> None:
    f = write_pdf(tmp_path / "A_RES_99_1.en.pdf", resolution_pages())
    catalog = Catalog({"A_RES_99_1.en": {"title": "Catalogued title", "date": "2099-01-02", "kind": "other"}})
    meta = read_document(f, catalog).meta
    assert (meta.title, meta.date, meta.kind, meta.symbol) == (
        "Catalogued title",
        "2099-01-02",
        "other",
        "A/RES/99/1",
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("A_RES_72_237.en", "A/RES/72/237"),
        ("A_80_39.en", "A/80/39"),
        ("E_2025_15_Add.1.en", "E/2025/15/Add.1"),
        ("DP-FPA_2025_1.en", "DP/FPA/2025/1"),
        ("cities-project-overview", ""),
        ("UNDoc-4085123.en", ""),
    ],
)
def test_symbol_from_file_name(name: str, expected: str) -> None:
    assert symbol_from_name(name) == expected


def _reason(path: Path, **kwargs) -> str:
    with pytest.raises(DocumentError) as info:
        read_document(path, **kwargs)
    return info.value.reason


def test_bad_inputs_have_clear_reasons(tmp_path: Path) -> None:
    good = pdf_bytes([["Some text on a page."]])
    cases = {
        "empty.pdf": (b"", "empty file (0 bytes)"),
        "truncated.pdf": (good[: len(good) // 3], "corrupt or truncated PDF"),
        "html.pdf": (b"<!DOCTYPE html><html><body>Not found</body></html>", "not a PDF: the content is HTML"),
        "junk.txt": (bytes(range(256)) * 8, "binary data, not text"),
        "cyrillic-cp1251.txt": ("Сотрудничество Юг-Юг".encode("cp1251"), "undecodable bytes: not UTF-8"),
        "picture.pdf": (b"\x89PNG\r\n\x1a\n" + bytes(200), "not a PDF: the content is a PNG image"),
        "archive.pdf": (b"PK\x03\x04" + bytes(200), "not a PDF: the content is a ZIP archive"),
        "report.txt": (good, "the content is a PDF, not .txt text: rename the file to .pdf"),
        "photo.txt": (b"\xff\xd8\xff\xe0" + bytes(200), "the content is a JPEG image, not text"),
        "page.html": (
            b"PK\x03\x04" + bytes(200),
            "the content is a ZIP archive (or a .docx/.xlsx file), not text",
        ),
        "report.docx": (b"PK\x03\x04 fake", "unsupported file type '.docx'"),
        "blank.txt": (b"   \n\n  \t ", "no text in file"),
    }
    for name, (data, expected) in cases.items():
        f = tmp_path / name
        f.write_bytes(data)
        assert expected in _reason(f), name


def test_scanned_pdf_without_text_layer(tmp_path: Path) -> None:
    f = write_pdf(tmp_path / "scan.pdf", [["x"], ["y"]], text_layer=False)
    assert _reason(f) == "no extractable text — scanned? OCR is not supported yet"


def test_encrypted_pdf(tmp_path: Path) -> None:
    f = write_encrypted_pdf(tmp_path / "locked.pdf", [["Confidential text."]])
    assert "encrypted PDF" in _reason(f)


def test_error_page_saved_as_pdf(tmp_path: Path) -> None:
    f = write_pdf(
        tmp_path / "A_78_1.en.pdf",
        [
            [
                "The document you are looking for does not exist in the Official Document System (ODS).",
                "Please check the symbol.",
                "Contact Us - ODS support",
            ]
        ],
    )
    assert "error page" in _reason(f)


def test_oversize_refused_before_reading(tmp_path: Path) -> None:
    f = write_pdf(tmp_path / "big.pdf", [["word " * 200]] * 5)
    assert "over the" in _reason(f, max_bytes=100)


def test_page_limit(tmp_path: Path) -> None:
    f = write_pdf(tmp_path / "many.pdf", [["page"]] * 6)
    assert "over the 5-page limit" in _reason(f, max_pages=5)


TEXT = "Coopération Sud-Sud — l’année 2017, 5 € par ville.\n\nSecond paragraph."


@pytest.mark.parametrize(
    "encoding",
    ["utf-8", "utf-8-sig", "cp1252", "utf-16", "utf-16-le", "utf-16-be"],
)
def test_text_in_other_encodings_is_read_not_lost(tmp_path: Path, encoding: str) -> None:
    """A user's document saved by an older editor is read, not refused for its encoding."""
    f = tmp_path / "note.txt"
    f.write_bytes(TEXT.encode(encoding))
    assert read_document(f).pages[0].text == read_document_text(TEXT, tmp_path)


def test_latin1_without_windows_characters(tmp_path: Path) -> None:
    f = tmp_path / "latin1.txt"
    f.write_bytes("Coopération Sud-Sud, année 2017.".encode("latin-1"))
    assert read_document(f).pages[0].text == "Coopération Sud-Sud, année 2017."


def read_document_text(text: str, tmp_path: Path) -> str:
    ref = tmp_path / "reference.txt"
    ref.write_text(text, encoding="utf-8")
    return read_document(ref).pages[0].text


def test_pdf_declaring_too_many_pages_is_refused_before_the_walk(tmp_path: Path) -> None:
    f = tmp_path / "many.pdf"
    f.write_bytes(many_pages_pdf_bytes(20_000))
    started = time.perf_counter()
    assert _reason(f, max_pages=3000) == "PDF declares 20000 pages, over the 3000-page limit"
    assert time.perf_counter() - started < 2


def test_pdf_lying_about_its_page_count_is_counted(tmp_path: Path) -> None:
    f = tmp_path / "lying.pdf"
    f.write_bytes(many_pages_pdf_bytes(400, declared=1))
    assert _reason(f, max_pages=300) == "PDF has 400 pages, over the 300-page limit"


@pytest.mark.slow  # inflates 200 MB (~1.5 s)
def test_decompression_bomb_is_refused_in_bounded_time(tmp_path: Path) -> None:
    f = tmp_path / "bomb.pdf"
    f.write_bytes(bomb_pdf_bytes(200_000_000))  # 0.3 MB on disk, 200 MB inflated
    assert f.stat().st_size < 1_000_000
    started = time.perf_counter()
    assert "page 1 inflates beyond the reader's safety limit" in _reason(f)
    assert time.perf_counter() - started < 5


def test_deeply_nested_page_tree_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "nested.pdf"
    f.write_bytes(nested_pages_pdf_bytes(5000))
    assert "PDF structure over a safety limit" in _reason(f)
