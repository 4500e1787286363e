"""The REST API over real HTTP: a real `sstc serve` process on a free port, over an index of a
temporary copy of corpus/ (so uploads and deletes never touch the repository)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from conftest import CORPUS, ROOT, SSTC_SERVE
from pdfgen import pdf_bytes, write_pdf
from servers import serving

API_KEY = "test-key-9f2c1e"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
CORPUS_DOCS = {"cities-project-overview", "cities-project-2024-highlights"}
CITIES_QUESTION = "In what year did UNOSSC initiate the Cities Project?"
ZANZIBAR_FACT = "The Zanzibar pilot on solar ferries was approved in 2031."
ZANZIBAR_QUESTION = "In what year was the Zanzibar pilot on solar ferries approved?"

pytestmark = pytest.mark.slow


def _env(base: Path, corpus: Path, feedback: Path) -> dict[str, str]:
    # no SSTC_* setting of the caller's shell may leak in (generator, extra corpus dirs, ...)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSTC_")}
    env.update(
        SSTC_HOME=str(ROOT),
        SSTC_INDEXES_DIR=str(base / "indexes"),
        SSTC_INDEX="apitest",
        SSTC_CORPUS_DIR=str(corpus),
        SSTC_API_KEY=API_KEY,
        SSTC_FEEDBACK_PATH=str(feedback),
        HF_HUB_OFFLINE="1",
        GRADIO_ANALYTICS_ENABLED="False",
        ANONYMIZED_TELEMETRY="False",
    )
    return env


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("api")
    corpus = base / "corpus"
    shutil.copytree(CORPUS, corpus)
    feedback = base / "feedback" / "feedback.jsonl"
    env = _env(base, corpus, feedback)
    cli = [sys.executable, "-m", "sstc_assistant.cli"]

    ingest = subprocess.run(
        [*cli, "ingest", "--quiet"], env=env, cwd=base, capture_output=True, text=True, timeout=300
    )
    assert ingest.returncode == 0, f"ingest failed:\n{ingest.stdout}\n{ingest.stderr}"

    log = base / "server.log"
    with serving(SSTC_SERVE, ready="/api/health", env=env, cwd=base, log=log) as url:
        yield SimpleNamespace(url=url, base=base, corpus=corpus, feedback=feedback, log=log)


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=120) as c:
        yield c


def _message(response: httpx.Response) -> str:
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"message"}, body
    assert isinstance(body["message"], str) and body["message"].strip()
    return body["message"]


def _upload(client: httpx.Client, name: str, content: bytes, *, headers=AUTH, mime="application/pdf"):
    return client.post("/api/documents", files={"file": (name, content, mime)}, headers=headers)


def _doc_ids(client: httpx.Client) -> set[str]:
    r = client.get("/api/documents")
    assert r.status_code == 200
    return {d["doc_id"] for d in r.json()}


def _ask(client: httpx.Client, question: str, **extra) -> dict:
    r = client.post("/api/ask", json={"question": question, **extra})
    assert r.status_code == 200, r.text
    return r.json()


# --- health and answers ---------------------------------------------------------------------------


def test_health(client):
    r = client.get("/api/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok", body
    assert body["documents"] == 2
    assert body["chunks"] > 0
    assert body["embedder"] == "e5"
    assert body["index"] == "apitest"
    assert body["generator"] == "extractive"
    assert body["problems"] == []


def test_ask_answers_with_citation(client):
    answer = _ask(client, CITIES_QUESTION)
    assert answer["question"] == CITIES_QUESTION
    assert answer["answerable"] is True, answer["answer"]
    assert "[1]" in answer["answer"]
    assert "2017" in answer["answer"]
    citations = answer["citations"]
    assert citations, answer
    assert [c["n"] for c in citations] == list(range(1, len(citations) + 1))
    for c in citations:
        assert c["pages"] == [1]
        assert c["chunk_id"]
        assert f"[{c['n']}]" in answer["answer"]
    first = citations[0]
    assert first["doc_id"].startswith("cities-project")
    assert "2017" in first["quote"]
    # the quote is verbatim document text (a reader finds it with Ctrl-F)
    source_text = (CORPUS / f"{first['doc_id']}.txt").read_text(encoding="utf-8")
    assert " ".join(first["quote"].split()) in " ".join(source_text.split())
    assert set(answer["timings_ms"]) >= {"retrieve", "generate", "total"}
    assert all(v >= 0 for v in answer["timings_ms"].values())
    assert answer["timings_ms"]["total"] >= answer["timings_ms"]["retrieve"]
    assert answer["generator"] == "extractive"
    assert answer["sources"]


def test_ask_out_of_scope_abstains(client):
    answer = _ask(client, "What is a good recipe for chocolate chip cookies?")
    assert answer["answerable"] is False
    assert answer["citations"] == []
    assert answer["sources"], "the nearest passages are offered as sources"
    assert "[1]" not in answer["answer"]
    assert answer["answer"].strip()
    for s in answer["sources"]:
        assert s["doc_id"] in CORPUS_DOCS
        assert s["text"]


def test_briefing_says_what_the_documents_do_not_mention(client):
    profile = {
        "region": "Latin America and the Caribbean",
        "entity_type": "academia",
        "themes": ["knowledge sharing"],
    }
    r = client.post("/api/briefing", json=profile)
    assert r.status_code == 200, r.text
    sections = {s["title"]: s for s in r.json()["sections"]}
    region = sections["Partners from your region"]
    assert region["said"] is False and region["not_mentioned"] == ["Latin America and the Caribbean"]
    assert region["note"].endswith("[1]; they do not mention Latin America and the Caribbean."), region[
        "note"
    ]
    assert [c["doc_id"] for c in region["answer"]["citations"]] == ["cities-project-overview"]
    steps = sections["Next steps the documents mention"]
    assert steps["said"] is False and steps["answer"]["citations"] == []
    for s in sections.values():  # every quote is the documents' own text
        for c in s["answer"]["citations"]:
            source_text = (CORPUS / f"{c['doc_id']}.txt").read_text(encoding="utf-8")
            assert " ".join(c["quote"].split()) in " ".join(source_text.split())
    assert client.post("/api/briefing", json={**profile, "region": "Mars"}).status_code == 422


def test_ask_with_filters_and_k(client):
    answer = _ask(client, CITIES_QUESTION, k=2, filters={"doc_ids": ["cities-project-2024-highlights"]})
    assert len(answer["sources"]) <= 2
    assert {s["doc_id"] for s in answer["sources"]} == {"cities-project-2024-highlights"}
    assert all(c["doc_id"] == "cities-project-2024-highlights" for c in answer["citations"])


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"question": ""}, id="empty"),
        pytest.param({"question": "   \n\t "}, id="whitespace"),
        pytest.param({"question": "\u0000\u0001"}, id="control-chars-only"),
        pytest.param({}, id="missing-question"),
        pytest.param({"question": 123}, id="question-not-a-string"),
        pytest.param({"question": None}, id="question-null"),
        pytest.param({"question": "Cities Project?", "colour": "blue"}, id="unknown-field"),
        pytest.param({"question": "Cities Project?", "k": 0}, id="k-zero"),
        pytest.param({"question": "Cities Project?", "k": 51}, id="k-too-large"),
        pytest.param({"question": "Cities Project?", "k": "many"}, id="k-not-int"),
        pytest.param({"question": "Cities Project?", "filters": "cities"}, id="filters-not-object"),
        pytest.param({"question": "Cities Project?", "filters": {"year_from": 1066}}, id="filters-year"),
        pytest.param({"question": "Cities Project?", "filters": {"decade": 1}}, id="filters-unknown-key"),
        pytest.param({"question": "Cities Project?", "filters": {"doc_ids": "x"}}, id="filters-doc-ids-str"),
        pytest.param(
            {"question": "Cities Project?", "history": [{"role": "system", "content": "x"}]},
            id="history-role",
        ),
        pytest.param({"question": "x" * 100_000}, id="100kB-question"),
    ],
)
def test_ask_rejects_invalid_requests(client, body):
    r = client.post("/api/ask", json=body)
    assert r.status_code == 422, r.text
    assert "invalid request" in _message(r)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"not json at all", id="not-json"),
        pytest.param(b'["a list"]', id="json-list"),
        pytest.param(b"", id="empty-body"),
    ],
)
def test_ask_rejects_malformed_bodies(client, content):
    r = client.post("/api/ask", content=content, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    _message(r)


def test_ask_stream_sends_sentences_then_answer(client):
    events: list[tuple[str, str]] = []
    with client.stream("POST", "/api/ask/stream", json={"question": CITIES_QUESTION}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        text = r.read().decode("utf-8")
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], fields["data"]))
    names = [e for e, _ in events]
    assert names[-1] == "answer"
    assert names[:-1] and set(names[:-1]) == {"sentence"}
    answer = json.loads(events[-1][1])
    assert answer["answerable"] is True
    assert answer["citations"][0]["doc_id"].startswith("cities-project")
    # the sentences put back together are the answer text
    sentences = [json.loads(d)["text"] for e, d in events if e == "sentence"]
    assert " ".join(sentences).split() == answer["answer"].split()


def test_ask_stream_validates_like_ask(client):
    r = client.post("/api/ask/stream", json={"question": "  "})
    assert r.status_code == 422
    _message(r)


# --- search and documents ------------------------------------------------------------------------


def test_search(client):
    r = client.post("/api/search", json={"query": "sub-national level", "k": 3})
    assert r.status_code == 200, r.text
    hits = r.json()
    assert 1 <= len(hits) <= 3
    for h in hits:
        assert h["doc_id"] in CORPUS_DOCS
        assert h["pages"] and all(isinstance(p, int) and p >= 1 for p in h["pages"])
        assert isinstance(h["score"], float)
        assert h["text"]
    assert any("sub-national" in h["text"] for h in hits)
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_search_modes_and_validation(client):
    r = client.post("/api/search", json={"query": "Cities Project 2017", "k": 2, "mode": "bm25"})
    assert r.status_code == 200
    assert 1 <= len(r.json()) <= 2
    for bad in ({"query": "x", "mode": "magic"}, {"query": ""}, {"query": "x", "k": 0}, {"k": 3}):
        r = client.post("/api/search", json=bad)
        assert r.status_code == 422, (bad, r.text)
        _message(r)


def test_documents_list(client):
    r = client.get("/api/documents")
    assert r.status_code == 200
    docs = {d["doc_id"]: d for d in r.json()}
    assert set(docs) >= CORPUS_DOCS
    for doc_id in CORPUS_DOCS:
        assert docs[doc_id]["pages"] >= 1
        assert docs[doc_id]["chunks"] >= 1
        assert docs[doc_id]["kind"] == "project-report"
    assert (
        docs["cities-project-2024-highlights"]["title"]
        == "UNOSSC Cities Project 2024 Highlights (opening sections)"
    )


def test_document_detail_page_and_file(client, server):
    r = client.get("/api/documents/cities-project-overview")
    assert r.status_code == 200
    doc = r.json()
    assert doc["doc_id"] == "cities-project-overview"
    assert doc["pages"] >= 1
    assert doc["chunks"] >= 1
    assert doc["date"] == "2018"
    assert "Cities Project" in doc["title"]
    assert doc["source"].startswith("UNOSSC Cities Project web pages")

    r = client.get("/api/documents/cities-project-overview/pages/1")
    assert r.status_code == 200
    page = r.json()
    assert page["doc_id"] == "cities-project-overview"
    assert page["page"] == 1
    assert page["pages"] == doc["pages"]
    assert "Cities Project" in page["text"]

    r = client.get("/api/documents/cities-project-overview/pages/99")
    assert r.status_code == 404
    assert "99" in _message(r)

    r = client.get("/api/documents/cities-project-overview/pages/one")
    assert r.status_code == 422
    _message(r)

    r = client.get("/api/documents/cities-project-overview/file")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert r.content == (server.corpus / "cities-project-overview.txt").read_bytes()


def test_unknown_document_is_404(client):
    for path in (
        "/api/documents/no-such-doc",
        "/api/documents/no-such-doc/pages/1",
        "/api/documents/no-such-doc/file",
    ):
        r = client.get(path)
        assert r.status_code == 404, path
        assert "no-such-doc" in _message(r)


# --- corpus changes --------------------------------------------------------------------------------


def test_upload_needs_key(client, server):
    content = pdf_bytes([["A document nobody may add without the key."]])
    r = _upload(client, "nokey.pdf", content, headers={})
    assert r.status_code == 401
    assert "Authorization: Bearer" in _message(r)
    r = _upload(client, "nokey.pdf", content, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401
    _message(r)
    r = _upload(client, "nokey.pdf", content, headers={"Authorization": API_KEY})
    assert r.status_code == 401
    assert not (server.corpus / "nokey.pdf").exists()
    assert "nokey" not in _doc_ids(client)


def test_upload_then_ask_cites_it(client, server, tmp_path):
    pdf = write_pdf(
        tmp_path / "zanzibar-ferries.pdf",
        [
            [
                "Solar Ferries Pilot: decision record",
                "",
                ZANZIBAR_FACT,
                "The pilot connects Stone Town with Pemba and is financed by a city-to-city partnership.",
            ]
        ],
    )
    r = _upload(client, "zanzibar-ferries.pdf", pdf.read_bytes())
    assert r.status_code == 201, r.text
    outcome = r.json()
    assert outcome["status"] == "added", outcome
    assert (server.corpus / "zanzibar-ferries.pdf").read_bytes() == pdf.read_bytes()
    assert "zanzibar-ferries" in _doc_ids(client)

    doc = client.get("/api/documents/zanzibar-ferries").json()
    assert doc["pages"] == 1
    page = client.get("/api/documents/zanzibar-ferries/pages/1").json()
    assert "approved in 2031" in page["text"]
    r = client.get("/api/documents/zanzibar-ferries/file")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.content == pdf.read_bytes()

    answer = _ask(client, ZANZIBAR_QUESTION)
    assert answer["answerable"] is True, answer
    assert "2031" in answer["answer"]
    cited = [c for c in answer["citations"] if c["doc_id"] == "zanzibar-ferries"]
    assert cited, answer["citations"]
    assert "2031" in cited[0]["quote"]
    assert cited[0]["pages"] == [1]

    # the same name again is refused, not silently replaced
    r = _upload(client, "zanzibar-ferries.pdf", pdf.read_bytes())
    assert r.status_code == 400
    assert "exists already" in _message(r)


def test_upload_unsupported_type_is_400(client, server):
    r = _upload(
        client,
        "minutes.docx",
        b"PK\x03\x04 not really a word document",
        mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    assert r.status_code == 400, r.text
    assert "unsupported file type '.docx'" in _message(r)
    assert not any(server.corpus.glob("minutes*"))


def test_upload_empty_pdf_is_400(client, server):
    r = _upload(client, "empty.pdf", b"")
    assert r.status_code == 400, r.text
    assert "empty" in _message(r)
    assert not (server.corpus / "empty.pdf").exists()
    assert not list(server.corpus.glob(".upload-*")), "no temporary file is left behind"
    assert "empty" not in _doc_ids(client)


def test_upload_pdf_without_text_is_400(client, server):
    r = _upload(client, "scan.pdf", pdf_bytes([["invisible"]], text_layer=False))
    assert r.status_code == 400, r.text
    assert "no extractable text" in _message(r)
    assert not (server.corpus / "scan.pdf").exists()
    assert not list(server.corpus.glob(".upload-*"))


def test_upload_missing_file_field_is_422(client):
    r = client.post("/api/documents", data={"other": "x"}, headers=AUTH)
    assert r.status_code == 422, r.text
    _message(r)


def test_upload_path_traversal_is_contained(client, server):
    before = {p for p in server.base.parent.rglob("*") if not p.is_relative_to(server.base)}
    content = pdf_bytes([["An escape attempt: this file must stay inside the corpus folder."]])
    r = _upload(client, "../../evil.pdf", content)
    assert r.status_code == 201, r.text
    saved = Path(r.json()["path"]).resolve()
    assert saved.is_relative_to(server.corpus.resolve())
    assert saved == (server.corpus / "evil.pdf").resolve()
    assert saved.read_bytes() == content
    # nothing was written outside the corpus copy
    assert not (server.corpus.parent / "evil.pdf").exists()
    assert not (server.corpus.parent.parent / "evil.pdf").exists()
    assert not (ROOT / "evil.pdf").exists() and not (ROOT / "corpus" / "evil.pdf").exists()
    after = {p for p in server.base.parent.rglob("*") if not p.is_relative_to(server.base)}
    assert after == before
    assert "evil" in _doc_ids(client)

    r = _upload(client, "..\\..\\windows-evil.pdf", pdf_bytes([["Backslash escape attempt."]]))
    assert r.status_code == 201, r.text
    assert Path(r.json()["path"]).resolve() == (server.corpus / "windows-evil.pdf").resolve()


def test_delete_document(client, server):
    content = pdf_bytes([["The Kigali bus corridor pilot on electric minibuses was approved in 2033."]])
    r = _upload(client, "kigali-buses.pdf", content)
    assert r.status_code == 201, r.text
    question = "In what year was the Kigali bus corridor pilot on electric minibuses approved?"
    answer = _ask(client, question)
    assert any(c["doc_id"] == "kigali-buses" for c in answer["citations"]), answer

    r = client.delete("/api/documents/kigali-buses")
    assert r.status_code == 401
    _message(r)
    assert "kigali-buses" in _doc_ids(client)

    r = client.delete("/api/documents/kigali-buses", headers=AUTH)
    assert r.status_code == 200, r.text
    assert "kigali-buses" in _message(r)
    assert "kigali-buses" not in _doc_ids(client)
    assert client.get("/api/documents/kigali-buses").status_code == 404
    # the file leaves the corpus folder (kept in .deleted/, so nothing is lost)
    assert not (server.corpus / "kigali-buses.pdf").exists()
    assert [p.read_bytes() for p in (server.corpus / ".deleted").glob("*kigali-buses.pdf")] == [content]

    answer = _ask(client, question)
    assert all(c["doc_id"] != "kigali-buses" for c in answer["citations"])
    assert all(s["doc_id"] != "kigali-buses" for s in answer["sources"])
    assert "2033" not in answer["answer"]
    hits = client.post("/api/search", json={"query": "Kigali electric minibuses", "k": 10}).json()
    assert all(h["doc_id"] != "kigali-buses" for h in hits)

    r = client.delete("/api/documents/kigali-buses", headers=AUTH)
    assert r.status_code == 404
    _message(r)
    health = client.get("/api/health").json()
    assert health["status"] == "ok", health


def test_corpus_changes_forbidden_without_configured_key(tmp_path):
    from fastapi.testclient import TestClient

    from sstc_assistant.api import create_app
    from sstc_assistant.assistant import Assistant
    from sstc_assistant.settings import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    settings = Settings(
        home=ROOT, indexes_dir=tmp_path / "indexes", index="nokey", corpus_dir=corpus, api_key=None
    )
    with TestClient(create_app(Assistant(settings))) as c:
        content = pdf_bytes([["Nobody may add this."]])
        for headers in ({}, {"Authorization": "Bearer anything"}):
            r = c.post(
                "/api/documents", files={"file": ("x.pdf", content, "application/pdf")}, headers=headers
            )
            assert r.status_code == 403
            message = _message(r)
            assert "SSTC_API_KEY" in message
            assert "Authorization: Bearer" in message
            r = c.delete("/api/documents/cities-project-overview", headers=headers)
            assert r.status_code == 403
            assert "SSTC_API_KEY" in _message(r)
    assert list(corpus.iterdir()) == []


# --- feedback and UI -------------------------------------------------------------------------------


def test_feedback_appends_json_line(client, server):
    record = {
        "question": CITIES_QUESTION,
        "answer": "In 2017, ... [1]",
        "rating": "up",
        "comment": "précis — merci",
        "citations": [{"n": 1, "doc_id": "cities-project-2024-highlights"}],
    }
    r = client.post("/api/feedback", json=record)
    assert r.status_code == 201, r.text
    _message(r)
    r = client.post("/api/feedback", json={**record, "rating": "down", "comment": ""})
    assert r.status_code == 201
    lines = server.feedback.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert {k: first[k] for k in record} == record
    assert first["time"]
    assert second["rating"] == "down"

    r = client.post("/api/feedback", json={**record, "rating": "meh"})
    assert r.status_code == 422
    _message(r)
    assert len(server.feedback.read_text(encoding="utf-8").splitlines()) == 2


def test_citation_link_opens_the_page(client):
    quote = "Pilot project proposals focusing on facilitating South-South technology"
    view = client.get("/api/documents/cities-project-overview/open", params={"page": 1, "q": quote})
    assert view.status_code == 200 and view.headers["content-type"].startswith("text/html")
    assert f"<mark id='quote'>{quote}</mark>" in view.text
    assert client.get("/api/documents/cities-project-overview/open", params={"page": 9}).status_code == 404
    pdf = client.get("/api/documents/zanzibar-ferries/open", params={"page": 1}, follow_redirects=False)
    assert pdf.status_code == 307 and pdf.headers["location"] == "/api/documents/zanzibar-ferries/file#page=1"


def test_openapi_served(client):
    r = client.get("/api/openapi.json")
    assert r.status_code == 200
    assert "/api/ask" in r.json()["paths"]
    # the stream is declared as one, its errors as JSON (what a client generator reads)
    stream = r.json()["paths"]["/api/ask/stream"]["post"]["responses"]
    assert list(stream["200"]["content"]) == ["text/event-stream"]
    assert all(list(stream[code]["content"]) == ["application/json"] for code in ("400", "422", "429"))


def test_ui_root_serves_html(client):
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "<html" in r.text.lower()
    assert "gradio" in r.text.lower()


def test_server_log_has_no_tracebacks(client, server):
    # runs last: nothing above may have crashed a request handler
    assert client.get("/api/health").json()["status"] == "ok"
    log = server.log.read_text(errors="replace")
    assert "Traceback" not in log, log
