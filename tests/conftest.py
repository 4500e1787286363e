from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
sys.path.insert(0, str(Path(__file__).parent))

from sstc_assistant.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
UN_DOCS = ROOT.parent / "shared" / "un-docs"


def un_docs_or_skip() -> Path:
    if not UN_DOCS.is_dir():
        pytest.skip(f"../shared/un-docs not present at {UN_DOCS}: real UN documents are not available")
    return UN_DOCS


@pytest.fixture
def make_settings(tmp_path: Path):
    """Settings for an index in a temporary folder, with the real corpus as default source."""

    def make(**overrides) -> Settings:
        base = dict(home=ROOT, indexes_dir=tmp_path / "indexes", index="test", corpus_dir=CORPUS)
        base.update(overrides)
        return Settings(**base)

    return make


@pytest.fixture(scope="session")
def minilm():
    from sstc_assistant.embeddings import get_embedder

    return get_embedder("minilm")


@pytest.fixture(scope="session")
def corpus_assistant(tmp_path_factory: pytest.TempPathFactory):
    """One index of the real corpus/ for the whole session (read-only users only)."""
    from sstc_assistant.assistant import Assistant
    from sstc_assistant.ingest import ingest

    settings = Settings(
        home=ROOT, indexes_dir=tmp_path_factory.mktemp("idx"), index="corpus", corpus_dir=CORPUS
    )
    report = ingest(settings)
    assert report.ingested_any
    return Assistant(settings)


@pytest.fixture(scope="module")
def served_ui(tmp_path_factory):
    """A real `sstc serve` (API + UI) on a free loopback port, over the real corpus."""
    from sstc_assistant.launch import LaunchError, serve, server_env

    tmp = tmp_path_factory.mktemp("ui")
    env = server_env(ROOT, tmp, "ui", CORPUS)
    cli = [sys.executable, "-m", "sstc_assistant.cli"]
    subprocess.run([*cli, "ingest", "--quiet"], env=env, check=True, capture_output=True)
    try:
        server = serve(env, tmp / "server.log", timeout=120)
    except LaunchError as exc:
        pytest.fail(f"server did not start: {exc}")
    yield SimpleNamespace(url=server.url, feedback=tmp / "feedback.jsonl", log=server.log)
    server.stop()
