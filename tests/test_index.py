"""The index folder is the unit users move around: copying or renaming it keeps its vectors."""

from __future__ import annotations

import shutil
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
