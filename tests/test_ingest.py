"""Ingestion into a real index with the real model: idempotency, duplicates, bad files, crashes."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT
from pdfgen import write_pdf
from servers import serving

from sstc_assistant.assistant import Assistant
from sstc_assistant.documents import doc_id_for, iter_corpus_files
from sstc_assistant.index import Index, StoreError
from sstc_assistant.ingest import ingest

SSTC = [sys.executable, "-m", "sstc_assistant.cli"]


def test_corpus_is_indexed_and_searchable(corpus_assistant: Assistant) -> None:
    docs = {d.doc_id: d for d in corpus_assistant.documents()}
    expected = {doc_id_for(f) for f in iter_corpus_files([CORPUS])}
    assert expected == {"cities-project-overview", "cities-project-2024-highlights"}
    assert set(docs) == expected
    assert docs["cities-project-overview"].kind == "project-report"
    hits = corpus_assistant.search("subnational governments South-South cooperation", k=3)
    assert any(
        h.doc_id == "cities-project-overview" and "municipal and provincial governments" in h.text
        for h in hits
    )


def test_second_ingest_writes_nothing(corpus_assistant: Assistant) -> None:
    before = corpus_assistant.index.stats()
    report = ingest(corpus_assistant.settings)
    assert report.chunks_added == 0 and report.vectors_added == 0
    assert len(report.by_status("unchanged")) == len(corpus_assistant.documents())
    assert corpus_assistant.index.stats() == before


def test_verbatim_repeats_are_stored_once(corpus_assistant: Assistant) -> None:
    stats = corpus_assistant.index.stats()
    assert stats["vectors"] < stats["chunks"]  # the overview repeats passages verbatim
    hits = corpus_assistant.search("A/73/383 number of actors expanded subnational entities", k=5)
    texts = [h.text for h in hits]
    assert len(texts) == len(set(texts))
    assert any(h.also_in for h in hits)


def test_near_duplicates_across_documents_keep_every_location(tmp_path: Path, make_settings) -> None:
    base = (
        "The Cities Project is designed to provide streamlined services and support which include demand-driven "
        "needs assessment, capacity development, advisory and advocacy, knowledge and technology transfer, "
        "expertise exchange, and implementation and co-financing."
    )
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "first.txt").write_text(base + "\n", encoding="utf-8")
    (corpus / "second.txt").write_text(base.replace("support which", "support that") + "\n", encoding="utf-8")
    (corpus / "third.txt").write_text(
        "Pilot proposals on trade and investment will be prioritized.\n", encoding="utf-8"
    )
    settings = make_settings(corpus_dir=corpus)
    report = ingest(settings)
    assert report.chunks_added == 3 and report.vectors_added == 2 and report.duplicates_merged == 1
    hit = Assistant(settings).search("streamlined services co-financing", k=3)[0]
    assert {hit.doc_id, *(loc.doc_id for loc in hit.also_in)} == {"first", "second"}


def test_changed_and_removed_files(tmp_path: Path, make_settings) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Cities in Africa joined the network in 2018.\n", encoding="utf-8")
    (corpus / "b.txt").write_text(
        "Pilot projects on technology transfer are prioritised.\n", encoding="utf-8"
    )
    settings = make_settings(corpus_dir=corpus)
    ingest(settings)
    (corpus / "a.txt").write_text("Cities in the Arab States joined the network in 2019.\n", encoding="utf-8")
    (corpus / "b.txt").unlink()
    report = ingest(settings)
    assert [f.doc_id for f in report.by_status("updated")] == ["a"]
    assert [f.doc_id for f in report.by_status("removed")] == ["b"]
    index = Index(settings)
    assert [d.doc_id for d in index.documents()] == ["a"]
    assert index.stats() == {"documents": 1, "chunks": 1, "vectors": 1}
    assert index.vectors.count() == 1  # old vectors of a and b were deleted from Chroma too
    hits = Assistant(settings).search("Arab States", k=5)
    assert [h.text for h in hits] == ["Cities in the Arab States joined the network in 2019."]


def test_bad_files_are_reported_and_the_run_goes_on(tmp_path: Path, make_settings) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    write_pdf(corpus / "good.pdf", [["Municipal governments cooperate across the South."]])
    (corpus / "zero.pdf").write_bytes(b"")
    (corpus / "junk.txt").write_bytes(bytes(range(256)) * 4)
    (corpus / "notes.docx").write_bytes(b"PK\x03\x04")
    write_pdf(corpus / "scan.pdf", [["x"]], text_layer=False)
    report = ingest(make_settings(corpus_dir=corpus))
    assert [f.doc_id for f in report.by_status("added")] == ["good"]
    reasons = {f.doc_id: f.reason for f in report.by_status("skipped")}
    assert reasons == {
        "zero": "empty file (0 bytes)",
        "junk": "binary data, not text (wrong file extension?)",
        "notes": "unsupported file type '.docx' (supported: .htm, .html, .markdown, .md, .pdf, .text, .txt)",
        "scan": "no extractable text — scanned? OCR is not supported yet",
    }


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ, SSTC_HOME=str(ROOT), SSTC_INDEXES_DIR=str(tmp_path / "indexes"), SSTC_INDEX="cli")
    env.update(extra)
    return env


@pytest.mark.slow  # `sstc ingest` processes build an index
def test_cli_exit_status_and_summary(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "zero.pdf").write_bytes(b"")
    run = subprocess.run(
        [*SSTC, "ingest", "--quiet", str(bad)], env=_env(tmp_path), capture_output=True, text=True
    )
    assert run.returncode == 1
    assert "zero.pdf: empty file (0 bytes)" in run.stderr
    assert "nothing could be ingested" in run.stderr
    assert "Traceback" not in run.stderr
    good = subprocess.run([*SSTC, "ingest", "--quiet"], env=_env(tmp_path), capture_output=True, text=True)
    assert good.returncode == 0, good.stderr
    assert "2 added" in good.stderr


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    run = subprocess.run(
        [*SSTC, "search", "x", "--index", "missing"], env=_env(tmp_path), capture_output=True, text=True
    )
    assert run.returncode == 2
    assert run.stderr.strip().startswith("error: no index 'missing'")
    assert "sstc ingest --index missing" in run.stderr and "Traceback" not in run.stderr


def test_index_refuses_a_different_embedder(corpus_assistant: Assistant) -> None:
    index = corpus_assistant.index
    with pytest.raises(StoreError, match=r"built with embedder e5, settings say minilm.*--rebuild"):
        index.check_embedder("minilm", claim=False)


def _consistent(settings) -> tuple[int, int]:
    index = Index(settings)
    db = index.db
    assert db.execute("SELECT COUNT(*) FROM documents WHERE status != 'complete'").fetchone()[0] == 0
    chunk_vectors = {r[0] for r in db.execute("SELECT DISTINCT vector_id FROM chunks")}
    table_vectors = {r[0] for r in db.execute("SELECT vector_id FROM vectors")}
    assert chunk_vectors == table_vectors == index.vectors.ids()  # no orphans, nothing missing
    ids = [r[0] for r in db.execute("SELECT chunk_id FROM chunks")]
    assert len(ids) == len(set(ids))
    return index.stats()["documents"], index.stats()["chunks"]


def test_kill_minus_nine_mid_ingest_then_resume(tmp_path: Path, make_settings) -> None:
    corpus = tmp_path / "many"
    corpus.mkdir()
    for i in range(40):
        paras = [
            f"{j}. Paragraph {j} of document {i} asks cities in region {i % 5} to cooperate on theme {j} "
            f"through South-South exchanges, pilots number {i * 100 + j} and shared training."
            for j in range(1, 25)
        ]
        (corpus / f"doc{i:02d}.txt").write_text("\n\n".join(paras), encoding="utf-8")
    env = _env(tmp_path, SSTC_INDEX="crash")
    proc = subprocess.Popen(
        [*SSTC, "ingest", "--quiet", str(corpus)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    db_path = tmp_path / "indexes" / "crash" / "catalog.sqlite"
    deadline = time.time() + 240
    done = 0
    while time.time() < deadline and proc.poll() is None:
        if db_path.exists():
            try:
                with sqlite3.connect(db_path, timeout=1) as db:
                    done = db.execute("SELECT COUNT(*) FROM documents WHERE status='complete'").fetchone()[0]
            except sqlite3.Error:
                done = 0
            if done >= 5:
                break
        time.sleep(0.05)
    assert proc.poll() is None, "ingest finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 5 <= done < 40
    settings = make_settings(index="crash")
    report = ingest(settings, [corpus])
    assert len(report.by_status("unchanged")) >= 5
    assert _consistent(settings) == (40, 40 * 24)


def test_chroma_server_mode(tmp_path: Path, make_settings) -> None:
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    command = [chroma, "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", "{port}"]
    with serving(command, ready="/api/v2/heartbeat", timeout=60) as url:
        settings = make_settings(chroma_url=url, index="served")
        report = ingest(settings)
        assert report.vectors_added > 0
        assert not (settings.index_path / "chroma").exists()  # vectors live on the server
        hits = Assistant(settings).search("When did UNOSSC initiate the Cities Project?", k=3)
        assert any("2017" in h.text for h in hits)
        assert _consistent(settings)[0] == 2
