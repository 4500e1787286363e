"""Writers take turns on an index: `sstc ingest` and `sstc ingest --rebuild` against another process
holding the writer lock, as a server does while it ingests an upload. Real processes, a real index."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT

from sstc_assistant.index import Index, StoreError
from sstc_assistant.launch import server_env
from sstc_assistant.settings import Settings

pytestmark = pytest.mark.slow

SSTC = [sys.executable, "-m", "sstc_assistant.cli"]
# a process that holds the writer lock, as a server does during an upload, until told to let go
HOLDER = (
    "import sys\n"
    "from sstc_assistant.index import Index\n"
    "from sstc_assistant.settings import Settings\n"
    "with Index(Settings()).writer():\n"
    "    print('held', flush=True)\n"
    "    sys.stdin.readline()\n"
)


@pytest.fixture
def built(tmp_path: Path) -> dict[str, str]:
    """The environment of a small real index (one document, MiniLM) in `tmp_path`."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "kigali-note.txt").write_text(
        "The Kigali cable-car pilot was approved in 2035 by the partnership board.\n", encoding="utf-8"
    )
    env = server_env(ROOT, tmp_path, "locked", corpus, embedder="minilm")
    run = subprocess.run([*SSTC, "ingest", "--quiet"], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return env


@contextlib.contextmanager
def _writer_held(env: dict[str, str]) -> Iterator[subprocess.Popen]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        with contextlib.suppress(OSError):
            holder.stdin.close()  # lets go of the lock
        holder.wait(timeout=60)


def _docs(env: dict[str, str]) -> list[str]:
    run = subprocess.run([*SSTC, "docs", "--json"], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return [d["doc_id"] for d in json.loads(run.stdout)]


def _settings(env: dict[str, str]) -> Settings:
    return Settings(
        home=ROOT,
        indexes_dir=env["SSTC_INDEXES_DIR"],
        index=env["SSTC_INDEX"],
        corpus_dir=env["SSTC_CORPUS_DIR"],
        embedder="minilm",
    )


def test_rebuild_refuses_while_another_process_writes(built: dict[str, str]) -> None:
    with _writer_held(built):
        started = time.monotonic()
        run = subprocess.run(
            [*SSTC, "ingest", "--rebuild", "--quiet"],
            env={**built, "SSTC_WRITER_WAIT_SECONDS": "2"},
            capture_output=True,
            text=True,
            timeout=300,
        )
        waited = time.monotonic() - started
    assert run.returncode == 2, run.stderr
    waiting, error = run.stderr.strip().splitlines()
    assert "(another process is writing)" in waiting and "up to 2 s" in waiting
    assert error.startswith("error: another process is writing index 'locked'"), run.stderr
    assert waited >= 2
    assert "Traceback" not in run.stderr
    assert _docs(built) == ["kigali-note"]  # nothing was deleted


def test_a_process_left_on_a_rebuilt_index_cannot_write_into_the_old_one(built: dict[str, str]) -> None:
    """A server still running over the index it opened before a rebuild: its next upload would go
    into a catalog that no longer exists, so it is refused with the remedy instead."""
    stale = Index(_settings(built))
    run = subprocess.run(
        [*SSTC, "ingest", "--rebuild", "--quiet"], env=built, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    with pytest.raises(StoreError, match="restart this process"), stale.writer():
        pass
    assert _docs(built) == ["kigali-note"]
    with Index(_settings(built)).writer():  # a process that opens the rebuilt index may write
        pass


def test_ingest_waits_for_the_writer_then_goes_ahead(built: dict[str, str], tmp_path: Path) -> None:
    """`sstc ingest` while a server ingests an upload: it says why it pauses, and runs once the
    lock is free, instead of failing at once."""
    corpus = Path(built["SSTC_CORPUS_DIR"])
    (corpus / "lusaka-note.txt").write_text(
        "The Lusaka bus pilot was approved in 2036 by the partnership board.\n", encoding="utf-8"
    )
    stderr = tmp_path / "ingest.err"
    with _writer_held(built) as holder, stderr.open("w") as err:
        cli = subprocess.Popen([*SSTC, "ingest", "--quiet"], env=built, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + 120
        while "waiting" not in stderr.read_text() and cli.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert cli.poll() is None, stderr.read_text()  # still there, waiting
        waiting = stderr.read_text().strip()
        assert waiting.startswith("waiting up to 60 s for index 'locked' (another process is writing)")
        time.sleep(1)
        assert cli.poll() is None, stderr.read_text()
        holder.stdin.close()  # the upload is done
        assert cli.wait(timeout=300) == 0, stderr.read_text()
    lines = stderr.read_text().strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("1 added, 0 updated, 1 unchanged"), lines
    assert _docs(built) == ["kigali-note", "lusaka-note"]
