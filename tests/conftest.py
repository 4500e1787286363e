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

from servers import serving

from sstc_assistant.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
# the real UN documents: ../shared/un-docs beside the checkout, or where SSTC_TEST_UN_DOCS points
# (a clone made elsewhere than next to shared/)
UN_DOCS = Path(os.environ.get("SSTC_TEST_UN_DOCS") or ROOT.parent / "shared" / "un-docs")


# Markers (pyproject.toml): `pytest -m "not slow"` is the fast loop; CI runs everything.
# A test is slow when it uses one of these fixtures, directly or through another fixture
# (`item.fixturenames` is the closure): they load a model, build an index or start a server.
SLOW_FIXTURES = frozenset(
    {
        "minilm",  # loads the MiniLM embedder
        "corpus_assistant",  # builds an index of corpus/
        "served_ui",  # `sstc serve` in a child process
        "make_settings",  # every test that asks for it builds an index in it
        "committee_assistant",  # test_answering: an index of three UN documents
        "resolutions_assistant",  # test_glossary: an index of three resolutions
        "more_reports",  # test_eligibility: an index of reports
        "versions_assistant",  # test_versions: an index of translations
        "pristine",  # test_health: an index copied for every test
        "served",  # test_hostile: build_app under uvicorn over its own index
        "server",  # test_api: `sstc serve`; test_browser: served_ui
        "built",  # test_writer_lock: an index built by the CLI
        "ods",  # test_fetch: a stand-in ODS server, met by `sstc fetch` processes and time-outs
    }
)
# A test that reads ../shared/un-docs (through the `un_docs` fixture, or marked `undocs`) is
# marked `undocs`, and skipped when the folder is absent.
UNDOCS_FIXTURES = frozenset({"un_docs"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = pytest.mark.skip(
        reason=f"no UN documents at {UN_DOCS} (set SSTC_TEST_UN_DOCS): real UN documents are not available"
    )
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & SLOW_FIXTURES and item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.slow)
        if used & UNDOCS_FIXTURES and item.get_closest_marker("undocs") is None:
            item.add_marker(pytest.mark.undocs)
        if item.get_closest_marker("undocs") is not None and not UN_DOCS.is_dir():
            item.add_marker(missing)


@pytest.fixture(scope="session")
def un_docs() -> Path:
    """../shared/un-docs, the real UN documents (tests using it are marked `undocs`)."""
    if not UN_DOCS.is_dir():
        pytest.skip(
            f"no UN documents at {UN_DOCS} (set SSTC_TEST_UN_DOCS): real UN documents are not available"
        )
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


def assistant_over(tmp_path_factory: pytest.TempPathFactory, files: list[Path], index: str):
    """An assistant over an index of just `files` (real documents copied into a corpus folder)."""
    import shutil

    from sstc_assistant.assistant import Assistant
    from sstc_assistant.ingest import ingest

    folder = tmp_path_factory.mktemp(f"{index}-corpus")
    for file in files:
        shutil.copy(file, folder / file.name)
    settings = Settings(home=ROOT, indexes_dir=tmp_path_factory.mktemp("idx"), index=index, corpus_dir=folder)
    assert ingest(settings).ingested_any
    return Assistant(settings)


# `sstc serve` on the port `servers.serving` picks (its "{port}")
SSTC_SERVE = [sys.executable, "-m", "sstc_assistant.cli", "serve", "--host", "127.0.0.1", "--port", "{port}"]


@pytest.fixture(scope="module")
def served_ui(tmp_path_factory):
    """A real `sstc serve` (API + UI) on a free loopback port, over the real corpus."""
    from sstc_assistant.launch import server_env

    tmp = tmp_path_factory.mktemp("ui")
    env = server_env(ROOT, tmp, "ui", CORPUS)
    cli = [sys.executable, "-m", "sstc_assistant.cli"]
    subprocess.run([*cli, "ingest", "--quiet"], env=env, check=True, capture_output=True)
    log = tmp / "server.log"
    with serving(SSTC_SERVE, ready="/api/health", env=env, log=log, timeout=120) as url:
        yield SimpleNamespace(url=url, feedback=tmp / "feedback.jsonl", log=log)
