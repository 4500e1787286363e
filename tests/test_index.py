"""The index folder is the unit users move around: copying or renaming it keeps its vectors."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

from sstc_assistant.assistant import Assistant
from sstc_assistant.index import Index
from sstc_assistant.ingest import Ingestor


def test_a_copied_index_folder_keeps_its_vectors(tmp_path: Path, make_settings, minilm) -> None:
    settings = make_settings(index="original", embedder="minilm")
    Ingestor(settings, minilm).run()
    shutil.copytree(settings.index_path, settings.index_path.parent / "renamed")
    copy = Index(make_settings(index="renamed", embedder="minilm"))
    stats = copy.stats()
    assert stats["vectors"] > 0
    assert copy.vectors.count() == stats["vectors"]
    assert copy.missing_vectors() == []
    answer = Assistant(copy.settings, embedder=minilm).ask("Which services does the Cities Project provide?")
    assert answer.answerable and answer.citations


def test_queries_use_the_previous_bm25_while_it_is_rebuilt_in_the_background(make_settings, minilm) -> None:
    """A stale BM25 index (another writer moved the catalog on) is rebuilt off the query path: the
    query that finds it stale answers at once from the previous one, and no query is needed for the
    rebuild to finish."""
    settings = make_settings(embedder="minilm")
    Ingestor(settings, minilm).run()
    assistant = Assistant(settings, embedder=minilm)
    index = assistant.index
    before = assistant.search("pilot project proposals", mode="bm25")
    assert before
    with index.db:
        index.bump_generation()  # another writer moved the catalog on
    found: list = []
    with index._lexical_lock:  # hold the rebuild back: a query must not wait for it
        worker = threading.Thread(
            target=lambda: found.append(assistant.search("pilot project proposals", mode="bm25"))
        )
        worker.start()
        worker.join(timeout=60)
        assert not worker.is_alive(), "a query waited for the BM25 rebuild"
        assert index.lexical.generation != index.generation
    assert [h.chunk_id for h in found[0]] == [h.chunk_id for h in before]
    deadline = time.monotonic() + 60
    while index.lexical.generation != index.generation and time.monotonic() < deadline:
        time.sleep(0.05)  # no query: the background thread finishes on its own
    assert index.lexical.generation == index.generation
    assert [h.chunk_id for h in assistant.search("pilot project proposals", mode="bm25")] == [
        h.chunk_id for h in before
    ]


def test_uploads_are_ingested_on_a_low_priority_thread(make_settings, minilm, tmp_path: Path) -> None:
    import io
    import os

    settings = make_settings(embedder="minilm", upload_dir=tmp_path / "uploads", ingest_nice=7)
    Ingestor(settings, minilm).run()
    assistant = Assistant(settings, embedder=minilm)
    seen: list[tuple[str, int]] = []
    inner = assistant._ingest_upload

    def spy(*args):
        seen.append(
            (threading.current_thread().name, os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        )
        return inner(*args)

    assistant._ingest_upload = spy
    caller = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    body = b"The rooftop garden pilot of the twin cities was approved in 2031 by both councils."
    outcome = assistant.add_upload("garden-pilot.txt", io.BytesIO(body))
    assert outcome["status"] == "added"
    assert seen and seen[0][0].startswith("sstc-ingest")
    assert seen[0][1] == max(7, caller)  # (unprivileged, nice only goes up)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == caller  # the caller is untouched
    answer = assistant.ask("In what year was the rooftop garden pilot approved?")
    assert "2031" in answer.answer
    assistant.remove_document("garden-pilot")
    assert "garden-pilot" not in {d.doc_id for d in assistant.documents()}


def test_keyword_search_meets_inflections_and_rebuilds_a_copy_of_another_tokenizer(tmp_path) -> None:
    from sstc_assistant.index import LexicalIndex

    texts = [
        "7. Encourages developing countries to voluntarily step up their efforts.",
        "8. Requests the Secretary-General to submit a report.",
    ]
    lexical = LexicalIndex(tmp_path / "bm25")
    lexical.build(["a", "b"], texts, generation=3)
    assert lexical.search("What should developing countries be encouraged to do?", 2)[0][0] == "a"
    lexical.save()
    assert LexicalIndex(tmp_path / "bm25").load()
    ids = tmp_path / "bm25" / "ids.json"
    ids.write_text(ids.read_text().replace(LexicalIndex.TOKENIZER, "older"))
    assert not LexicalIndex(tmp_path / "bm25").load()  # read with other tokens it would misread


def test_search_without_k_returns_the_configured_top_k(corpus_assistant) -> None:
    """SSTC_TOP_K is the default number of passages of every search front end (API and CLI), not a
    number written into each of them."""
    from fastapi.testclient import TestClient

    from sstc_assistant.api import create_app

    for top_k in (2, 7):
        own = corpus_assistant.settings.model_copy(update={"top_k": top_k, "rate_limit_per_minute": 0})
        assistant = Assistant(own, embedder=corpus_assistant.embedder)
        with TestClient(create_app(assistant)) as client:
            hits = client.post("/api/search", json={"query": "Cities Project services"}).json()
        assert len(hits) == top_k, hits


def test_hnsw_settings_of_an_existing_index_are_applied_or_named(make_settings, caplog) -> None:
    """ef_search, the one HNSW parameter an existing Chroma collection can take, is set by the
    next writer; the two fixed at creation are named with what it takes to change them."""
    import logging

    from sstc_assistant.ingest import ingest

    built = make_settings(hnsw_ef_search=100)
    assert ingest(built).ingested_any
    changed = built.model_copy(update={"hnsw_ef_search": 300, "hnsw_max_neighbors": 48})
    with caplog.at_level(logging.WARNING, logger="sstc"):
        index = Index(changed)
    said = caplog.text
    assert "SSTC_HNSW_EF_SEARCH=300" in said and "has 100" in said and "`sstc ingest` applies it" in said
    assert "SSTC_HNSW_MAX_NEIGHBORS=48" in said and "rebuilt index only" in said
    with index.writer():
        pass
    index.close()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="sstc"):
        again = Index(changed)
    assert again.vectors.hnsw_differences(changed) == {"max_neighbors": (32, 48)}
    assert "EF_SEARCH" not in caplog.text
    again.close()
