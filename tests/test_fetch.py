"""`sstc fetch` against a real HTTP server on loopback that serves ../shared/un-docs the way the UN
Official Document System does (redirects, its HTML "not found" page, 404, silence, cut-off bodies)."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from odsserver import ODSServer

from sstc_assistant.fetch import Fetcher, guess_language, load_mandates, load_manifest
from sstc_assistant.references import SymbolError, cited_symbols, file_stem, normalize_symbol
from sstc_assistant.settings import Settings


@pytest.fixture
def ods(un_docs: Path):
    with ODSServer(un_docs, slow_seconds=1.5) as server:
        yield server


def fetcher_for(server: ODSServer, **overrides) -> Fetcher:
    values = dict(
        ods_url=server.url,
        fetch_interval_seconds=0.0,
        fetch_backoff_seconds=0.0,
        fetch_timeout_seconds=0.5,
        fetch_retries=2,
    )
    values.update(overrides)
    return Fetcher(Settings(**values))


def run_cli(server: ODSServer, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SSTC_ODS_URL": server.url,
        "SSTC_FETCH_INTERVAL_SECONDS": "0",
        "SSTC_FETCH_BACKOFF_SECONDS": "0",
        "SSTC_FETCH_TIMEOUT_SECONDS": "0.5",
        "SSTC_HOME": str(ROOT),
        "SSTC_INDEXES_DIR": str(tmp / "indexes"),
        "SSTC_INDEX": "fetched",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "sstc_assistant.cli", "fetch", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_issue_target_saves_the_resolution_and_names_the_refused_symbol(ods, tmp_path) -> None:
    """`sstc fetch A/RES/78/167 A/78/383 --dest DIR --no-ingest`: the resolution is saved under its
    file name; A/78/383 is ODS's error page saved as a PDF, refused by its content."""
    done = run_cli(ods, tmp_path, "A/RES/78/167", "A/78/383", "--dest", str(tmp_path / "docs"), "--no-ingest")
    assert done.returncode == 0, done.stderr
    saved = tmp_path / "docs" / "A_RES_78_167.en.pdf"
    assert saved.read_bytes() == (ods.folder / "A_RES_78_167.en.pdf").read_bytes()
    refused = [line for line in done.stderr.splitlines() if line.startswith("refused")]
    assert len(refused) == 1 and "A/78/383" in refused[0] and "error page" in refused[0]
    assert sorted(p.name for p in (tmp_path / "docs").iterdir()) == ["A_RES_78_167.en.pdf"]  # no leftovers
    assert "1 fetched, 0 present, 1 refused, 0 failed" in done.stderr


def test_nothing_fetched_exits_non_zero(ods, tmp_path) -> None:
    ods.misbehave["A/80/404"] = "404"
    done = run_cli(ods, tmp_path, "A/80/404", "A/RES/99/1", "--dest", str(tmp_path), "--no-ingest")
    assert done.returncode == 1
    assert "refused A/80/404 (en): the document system has no such document (HTTP 404)" in done.stderr
    assert "refused A/RES/99/1 (en): not a PDF: the server sent an HTML page" in done.stderr
    assert "error: nothing could be fetched" in done.stderr
    assert "Traceback" not in done.stderr


def test_refusals_name_their_reason(ods, tmp_path) -> None:
    ods.misbehave["A/RES/79/236"] = "empty"
    with fetcher_for(ods) as fetcher:
        empty = fetcher.fetch("A/RES/79/236", "en", tmp_path)
        spanish = fetcher.fetch("A/78/354", "en", tmp_path)  # mislabelled at the source: S/2023/664
        joint = fetcher.fetch("A/80/61", "en", tmp_path)  # prints E/2025/48 only: kept, with a note
        zero = fetcher.fetch("S/2025/292", "en", tmp_path)  # a zero-byte PDF behind the redirect
        french = fetcher.fetch("A/RES/78/167", "fr", tmp_path)  # no French file: ODS's HTML page
    assert (empty.status, empty.reason) == ("refused", "the server sent an empty body (0 bytes)")
    assert spanish.status == "refused"
    assert spanish.reason == "the file is in Spanish, not English; its first page names S/2023/664"
    assert joint.status == "fetched" and joint.reason == "its first page names E/2025/48, not A/80/61"
    assert zero.status == "refused" and "empty" in zero.reason
    assert french.status == "refused" and "HTML" in french.reason
    assert all(r.attempts == 1 for r in (empty, spanish, zero, french))  # refusals are not retried
    assert not list(tmp_path.glob(".*"))  # refused downloads leave nothing behind


def test_slow_server_times_out_and_retries_with_backoff(ods, tmp_path) -> None:
    ods.misbehave["A/RES/79/236"] = "slow"
    waits: list[float] = []
    with fetcher_for(ods, fetch_backoff_seconds=0.01, fetch_retries=2) as fetcher:
        fetcher.sleep = waits.append
        result = fetcher.fetch("A/RES/79/236", "en", tmp_path)
    assert result.status == "failed" and result.attempts == 3
    assert result.reason.startswith("no answer within 0.5 s") and "gave up after 3 attempts" in result.reason
    assert waits == [0.01, 0.02]  # exponential backoff between the tries
    assert not (tmp_path / "A_RES_79_236.en.pdf").exists()


def test_server_error_is_retried(ods, tmp_path) -> None:
    ods.misbehave["A/RES/79/236"] = "503-once"
    with fetcher_for(ods) as fetcher:
        result = fetcher.fetch("A/RES/79/236", "en", tmp_path)
    assert result.status == "fetched" and result.attempts == 2


def test_cut_off_body_resumes_with_a_range_request(ods, tmp_path) -> None:
    ods.misbehave["A/RES/80/156"] = "truncate-once"
    with fetcher_for(ods) as fetcher:
        result = fetcher.fetch("A/RES/80/156", "en", tmp_path)
    original = (ods.folder / "A_RES_80_156.en.pdf").read_bytes()
    assert result.status == "fetched" and result.attempts == 2
    assert (tmp_path / "A_RES_80_156.en.pdf").read_bytes() == original
    ranges = [r for _, path, r in ods.requests if path.startswith("/files/")]
    assert ranges == [None, f"bytes={len(original) // 2}-"]


def test_partial_file_is_kept_and_resumed_by_the_next_run(ods, tmp_path) -> None:
    ods.misbehave["A/RES/79/214"] = "truncate"
    with fetcher_for(ods, fetch_retries=0) as fetcher:
        failed = fetcher.fetch("A/RES/79/214", "en", tmp_path)
    assert failed.status == "failed" and "partial download is kept" in failed.reason
    part = tmp_path / ".A_RES_79_214.en.part.pdf"
    original = (ods.folder / "A_RES_79_214.en.pdf").read_bytes()
    assert part.read_bytes() == original[: len(original) // 2]
    del ods.misbehave["A/RES/79/214"]
    with fetcher_for(ods) as fetcher:
        resumed = fetcher.fetch("A/RES/79/214", "en", tmp_path)
    assert resumed.status == "fetched" and (tmp_path / "A_RES_79_214.en.pdf").read_bytes() == original
    assert ods.requests[-1][2] == f"bytes={len(original) // 2}-" and not part.exists()


def test_server_without_ranges_starts_over(ods, tmp_path) -> None:
    original = (ods.folder / "A_RES_78_167.en.pdf").read_bytes()
    (tmp_path / ".A_RES_78_167.en.part.pdf").write_bytes(original[:1000])
    ods.misbehave["A/RES/78/167"] = "no-range"
    with fetcher_for(ods) as fetcher:
        result = fetcher.fetch("A/RES/78/167", "en", tmp_path)
    assert result.status == "fetched" and (tmp_path / "A_RES_78_167.en.pdf").read_bytes() == original


def test_present_files_are_skipped_without_a_request(ods, tmp_path) -> None:
    (tmp_path / "A_RES_73_291.en.txt").write_text("the Buenos Aires outcome document", encoding="utf-8")
    with fetcher_for(ods) as fetcher:
        first = fetcher.fetch("A/RES/78/167", "en", tmp_path)
        again = fetcher.fetch("A_RES_78_167", "en", tmp_path)  # the file-name form of the symbol
        text = fetcher.fetch("A/RES/73/291", "en", tmp_path)  # a .txt of the same document counts
    assert first.status == "fetched" and again.status == "present" and text.status == "present"
    assert len(ods.access_requests()) == 1


def test_requests_are_spaced_politely(ods, tmp_path) -> None:
    with fetcher_for(ods, fetch_interval_seconds=0.3) as fetcher:
        results = fetcher.fetch_all(["A/RES/78/167", "A/RES/79/236", "A/RES/99/9"], ["en"], tmp_path)
    assert [r.status for r in results] == ["fetched", "fetched", "refused"]
    times = [t for t, _, _ in ods.access_requests()]
    assert all(later - earlier >= 0.29 for earlier, later in itertools.pairwise(times))


def test_cited_by_fetches_what_a_resolution_recalls(ods, tmp_path) -> None:
    done = run_cli(ods, tmp_path, "--cited-by", "A/RES/80/156", "--dest", str(tmp_path / "d"), "--no-ingest")
    assert done.returncode == 0, done.stderr
    names = {p.name for p in (tmp_path / "d").iterdir()}
    assert {"A_RES_80_156.en.pdf", "A_RES_79_236.en.pdf", "A_RES_78_167.en.pdf"} <= names
    assert "A/RES/80/156 cites" in done.stderr and "A/RES/33/134" in done.stderr
    assert "refused A/RES/33/134 (en)" in done.stderr  # not on this server: named, not fatal


@pytest.mark.slow
def test_fetch_then_ingest(ods, tmp_path) -> None:
    done = run_cli(ods, tmp_path, "A/RES/78/167", "--dest", str(tmp_path / "d"), "--quiet")
    assert done.returncode == 0, done.stderr
    assert "1 added" in done.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "sstc_assistant.cli", "docs", "--json"],
        env={
            **os.environ,
            "SSTC_HOME": str(ROOT),
            "SSTC_INDEXES_DIR": str(tmp_path / "indexes"),
            "SSTC_INDEX": "fetched",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert '"symbol": "A/RES/78/167"' in listed.stdout


# --- symbols, references and the mandates manifest (no server needed) ---------------------------


def test_symbols_are_normalised_or_refused() -> None:
    assert normalize_symbol(" a/RES/79/236 ") == "A/RES/79/236"
    assert normalize_symbol("A_AC.109_2025_L.2") == "A/AC.109/2025/L.2"
    assert normalize_symbol("A/RES/57/270 B") == "A/RES/57/270B"
    assert file_stem("A/RES/79/236", "fr") == "A_RES_79_236.fr"
    for bad in ("", "hello", "A/../etc", "A/RES/79/236; rm -rf /", "<script>"):
        with pytest.raises(SymbolError):
            normalize_symbol(bad)


def test_cited_symbols_reads_recalls_and_footnotes() -> None:
    text = (
        "Reaffirming its resolution 64/222 of 21 December 2009, Recalling its resolutions 57/270 B of "
        "23 June 2003, 60/212 of 22 December 2005 and 71/244 of 21 December 2016, Recalling UN-Habitat "
        "Governing Council resolution 26/8 of 12 May 2017, and decision 19/1, Takes note of the report "
        "of the Secretary-General,5 ... 5 A/74/336. 6 Supplement No. 39 (A/71/39), chap. I. "
        "7 SSC/19/2. A/RES/74/239 Page 2"
    )
    assert cited_symbols(text, exclude=["A/RES/74/239"]) == [
        "A/RES/64/222",
        "A/RES/57/270B",
        "A/RES/60/212",
        "A/RES/71/244",
        "A/74/336",
        "A/71/39",
        "SSC/19/2",
    ]


def test_language_guess() -> None:
    assert guess_language("The General Assembly, recalling its resolutions on the matter, " * 10) == "en"
    assert (
        guess_language("L'Assemblée générale, rappelant ses résolutions sur la coopération et les " * 10)
        == "fr"
    )
    assert (
        guess_language("La Asamblea General, recordando sus resoluciones sobre la cooperación y los " * 10)
        == "es"
    )
    assert guess_language("Генеральная Ассамблея, ссылаясь на свои резолюции " * 10) == "ru"
    assert guess_language("too short") is None


def test_mandates_manifest_is_shipped_and_ignored_by_ingest() -> None:
    from sstc_assistant.documents import iter_corpus_files

    manifest = ROOT / "corpus" / "mandates.toml"
    mandates = load_mandates(manifest)
    symbols = [m.symbol for m in mandates]
    assert len(symbols) == len(set(symbols))
    for needed in ("A/RES/33/134", "A/RES/64/222", "A/RES/73/291", "A/RES/79/236", "A/RES/80/156", "A/80/39"):
        assert needed in symbols
    kinds = {m.kind for m in mandates}
    assert {"resolution", "hlc-report", "sg-report"} <= kinds
    assert all(m.mandates and 1978 <= m.year <= 2025 for m in mandates)
    assert load_manifest(manifest) == symbols
    assert manifest not in iter_corpus_files([ROOT / "corpus"])


def test_text_manifest(tmp_path) -> None:
    listing = tmp_path / "wanted.txt"
    listing.write_text("# mandates\nA/RES/79/236\n\nA_RES_80_156  # the latest\n", encoding="utf-8")
    assert load_manifest(listing) == ["A/RES/79/236", "A/RES/80/156"]
    listing.write_text("not a symbol\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a UN document symbol"):
        load_manifest(listing)
