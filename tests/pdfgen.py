"""Writes real, minimal PDF files (Helvetica text, one content stream per page) for tests.

No PDF library needed: the bytes are the PDF format itself, so pypdf parses them as it would
any document a user drops into corpus/.
"""

from __future__ import annotations

from pathlib import Path


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_bytes(pages: list[list[str]], *, text_layer: bool = True) -> bytes:
    """Each page is a list of lines; an empty string leaves a blank line (a paragraph break)."""
    objects: list[bytes] = []
    n_pages = len(pages)
    font_id = 3 + 2 * n_pages
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    for i, lines in enumerate(pages):
        content_id = 4 + 2 * i
        objects.append(
            (
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                f"/Resources << /Font << /F1 {font_id} 0 R >> >> /Contents {content_id} 0 R >>"
            ).encode()
        )
        if text_layer:
            ops = ["BT", "/F1 10 Tf", "14 TL", "60 750 Td"]
            for line in lines:
                ops.append(f"({_escape(line)}) Tj T*" if line else "T*")
            ops.append("ET")
        else:  # a drawing only, like a scan without OCR
            ops = ["0.5 g", "60 60 400 600 re f"]
        stream = "\n".join(ops).encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    return assemble(objects)


def assemble(objects: list[bytes]) -> bytes:
    """A PDF file of numbered object bodies (object 1 is the catalog) with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def write_pdf(path: Path, pages: list[list[str]], *, text_layer: bool = True) -> Path:
    path.write_bytes(pdf_bytes(pages, text_layer=text_layer))
    return path


def write_encrypted_pdf(path: Path, pages: list[list[str]], password: str = "secret") -> Path:
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes(pages))))
    writer.encrypt(user_password=password, owner_password=password, algorithm="AES-128")
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def bomb_pdf_bytes(expanded_bytes: int) -> bytes:
    """One page whose small Flate content stream inflates to `expanded_bytes` (a zip bomb)."""
    import zlib

    stream = zlib.compress(b"BT ET\n" * (expanded_bytes // 6), 9)
    return assemble(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def nested_pages_pdf_bytes(depth: int) -> bytes:
    """A page tree `depth` levels deep with one page at the bottom (a recursion bomb)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(depth):
        n = 2 + level
        parent = b"" if level == 0 else b" /Parent %d 0 R" % (n - 1)
        objects.append(b"<< /Type /Pages /Kids [%d 0 R] /Count 1%s >>" % (n + 1, parent))
    leaf = 2 + depth
    objects.append(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] >>" % (leaf - 1))
    return assemble(objects)


def many_pages_pdf_bytes(pages: int, *, declared: int | None = None) -> bytes:
    """`pages` blank pages sharing one content stream; `/Count` says `declared` (default: the truth)."""
    kids = b" ".join(b"%d 0 R" % (4 + i) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages if declared is None else declared),
        b"<< /Length 5 >>\nstream\nBT ET\nendstream",
    ]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R >>"] * pages
    return assemble(objects)
