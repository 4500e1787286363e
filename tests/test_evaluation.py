"""Benchmark metrics on hand-made cases with known values, and a real end-to-end run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT, UN_DOCS, assistant_over

from sstc_assistant.dataset import GoldSource, QuestionResult, load_dataset
from sstc_assistant.evaluation import EvalConfig, derive_index, summarize
from sstc_assistant.index import Index
from sstc_assistant.metrics import CitationJudge, answer_recall, hit_matches, ndcg, token_f1
from sstc_assistant.types import Answer, Citation, Location, Source

SURVEY = (
    "In 2024, the project team completed six online needs surveys to understand development priorities needs, "
    "capacity development demands, and collaboration interests among cities and institutional partners."
)
START = (
    "In 2017, the United Nations Office for South-South Cooperation (UNOSSC) initiated the SSTC among "
    "Maritime-Continental Silk Road Cities for Sustainable Development Project (Cities Project) with the "
    "support of the Government of China."
)


def test_token_f1_and_answer_recall() -> None:
    assert token_f1("In 2017 UNOSSC initiated it", "2017") == pytest.approx(
        2 * (1 / 5) * 1 / (1 / 5 + 1)
    )  # P = 1/5, R = 1
    assert token_f1("The 2017", "2017") == 1.0  # articles and punctuation are normalised away
    assert token_f1("nothing here", "2017") == 0.0
    assert answer_recall("It began in 2017, with China.", "2017") == 1.0
    assert answer_recall("It began in 2018.", "2017") == 0.0
    assert answer_recall("Omar Hilale of Morocco presided", "Omar Hilale (Morocco)") == 1.0


def test_ndcg_and_hit_matching() -> None:
    assert ndcg([True, False, False], 1) == 1.0
    assert ndcg([False, True], 1) == pytest.approx(1 / __import__("math").log2(3))
    assert ndcg([False] * 10, 2) == 0.0
    gold = [GoldSource(doc_id="A", pages=[4])]
    assert hit_matches(Source(doc_id="A", pages=[3, 4], text="x", chunk_id="c"), gold)
    assert not hit_matches(Source(doc_id="A", pages=[5], text="x", chunk_id="c"), gold)
    # a passage stored once but stated in the gold document too counts
    also = Source(doc_id="B", pages=[1], text="x", chunk_id="c", also_in=[Location(doc_id="A", pages=[4])])
    assert hit_matches(also, gold)
    assert hit_matches(
        Source(doc_id="T", pages=[1], text="x", chunk_id="c"), [GoldSource(doc_id="T", pages=[])]
    )


def _answer(text: str, cites: list[tuple[int, str]], passages: dict[str, str]) -> Answer:
    return Answer(
        question="q",
        answer=text,
        answerable=True,
        citations=[
            Citation(n=n, doc_id="d", pages=[1], quote=passages[cid][:60], chunk_id=cid) for n, cid in cites
        ],
        sources=[Source(doc_id="d", pages=[1], text=t, chunk_id=cid) for cid, t in passages.items()],
    )


@pytest.fixture(scope="module")
def judge(corpus_assistant) -> CitationJudge:
    return CitationJudge(corpus_assistant)


def test_alce_citations_right_wrong_and_missing(judge: CitationJudge) -> None:
    passages = {"s": SURVEY, "t": START}
    right = _answer(f"{START} [1]", [(1, "t")], passages)
    assert judge.score(right) == (1, 1, 1, 1)  # supported, its one citation needed
    wrong = _answer(f"{START} [1]", [(1, "s")], passages)
    assert judge.score(wrong) == (1, 0, 1, 0)  # cites a passage that does not support it
    missing = _answer(f"{START}", [], passages)
    assert judge.score(missing) == (1, 0, 0, 0)  # a sentence without citation is not supported
    extra = _answer(f"{START} [1] [2]", [(1, "t"), (2, "s")], passages)
    # supported by [1]; [2] alone does not support it and removing it leaves support: irrelevant
    assert judge.score(extra) == (1, 1, 2, 1)


def _result(qid: str, gold: bool, answered: bool) -> QuestionResult:
    return QuestionResult(
        id=qid,
        kind="factoid",
        lang="en",
        question="q",
        gold_answerable=gold,
        answerable=answered,
        answer="",
        confidence=0.5,
        retrieved=[],
        first_relevant_rank=1 if gold else None,
        recall_at={"1": 1.0, "3": 1.0, "5": 1.0, "10": 1.0},
        ndcg10=1.0,
        token_f1=None,
        answer_recall=None,
        sentences=0,
        supported_sentences=0,
        citations=0,
        relevant_citations=0,
        citation_correct_doc=0,
        latency_ms=10.0,
        failures=[],
    )


def test_abstention_precision_and_recall(corpus_assistant) -> None:
    results = [
        _result("a", gold=False, answered=False),  # correct abstention
        _result("b", gold=False, answered=True),  # answered an unanswerable one
        _result("c", gold=True, answered=False),  # wrong abstention
        _result("d", gold=True, answered=True),
    ]
    m = summarize(results, corpus_assistant, EvalConfig(name="t"))
    assert m["abstention.precision"] == 0.5 and m["abstention.recall"] == 0.5
    assert set(m) >= {
        "n",
        "retrieval.recall@1",
        "retrieval.recall@5",
        "retrieval.recall@10",
        "retrieval.mrr@10",
        "retrieval.ndcg@10",
        "answer.token_f1",
        "answer.answer_recall",
        "citations.precision",
        "citations.recall",
        "abstention.precision",
        "abstention.recall",
        "latency_ms.p50",
        "latency_ms.p95",
        "config",
    }


def test_dataset_is_valid() -> None:
    questions = load_dataset(ROOT / "eval" / "questions.jsonl")
    assert len(questions) >= 80
    assert sum(not q.answerable for q in questions) >= 20
    assert sum(q.lang != "en" for q in questions) >= 10
    assert len({q.id for q in questions}) == len(questions)


@pytest.mark.slow  # reads every gold page of the dataset
def test_gold_sources_hold_their_evidence() -> None:
    """Every gold page really contains the answer's key terms (the dataset's own checker)."""
    run = subprocess.run(
        [sys.executable, str(ROOT / "eval" / "check_dataset.py"), str(ROOT / "eval" / "questions.jsonl")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if "not found" in run.stdout + run.stderr and not UN_DOCS.is_dir():
        pytest.skip(f"no UN documents at {UN_DOCS} (set SSTC_TEST_UN_DOCS)")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]


def test_eval_end_to_end(tmp_path: Path, corpus_assistant) -> None:
    data = tmp_path / "q.jsonl"
    rows = [
        {
            "id": "a1",
            "question": "In what year did UNOSSC initiate the Cities Project?",
            "answers": ["2017"],
            "sources": [
                {"doc_id": "cities-project-2024-highlights", "pages": []},
                {"doc_id": "cities-project-overview", "pages": []},
            ],
            "answerable": True,
            "kind": "factoid",
            "lang": "en",
        },
        {
            "id": "u1",
            "question": "What is a good recipe for chocolate chip cookies?",
            "answers": [],
            "sources": [],
            "answerable": False,
            "kind": "unanswerable",
            "lang": "en",
        },
    ]
    data.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    out = tmp_path / "out"
    env = {
        "SSTC_HOME": str(ROOT),
        "SSTC_INDEXES_DIR": str(corpus_assistant.settings.indexes_dir),
        "SSTC_INDEX": corpus_assistant.settings.index,
    }
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "eval" / "run_benchmark.py"),
            "--dataset",
            str(data),
            "--out",
            str(out),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, **env},
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n"] == 2
    assert metrics["retrieval.recall@5"] == 1.0 and metrics["answer.answer_recall"] == 1.0
    assert metrics["abstention.recall"] == 1.0 and metrics["citations.precision"] == 1.0
    assert len((out / "results.jsonl").read_text().splitlines()) == 2
    assert "recall@5" in (out / "report.md").read_text()
    assert "data:image/png;base64," in (out / "report.html").read_text()


def _judged(qid: str, question: str, gold_answerable: bool, confidence: float):
    return QuestionResult(
        id=qid, kind="factoid", lang="en", question=question, gold_answerable=gold_answerable,
        answerable=confidence >= 0, answer="", confidence=confidence, retrieved=[],
        first_relevant_rank=None, recall_at={}, ndcg10=0.0, token_f1=None, answer_recall=None,
        sentences=0, supported_sentences=0, citations=0, relevant_citations=0,
        citation_correct_doc=0, latency_ms=0.0, failures=[],
    )  # fmt: skip


@pytest.mark.slow  # cross-validation sweeps every pair of thresholds (~5 s)
def test_calibration_moves_each_languages_threshold_on_its_own() -> None:
    """Other languages' threshold is swept without touching the English one, and the held-out
    figures of a set the thresholds separate perfectly are perfect."""
    from sstc_assistant.evaluation import calibrate, cross_validate

    results = [
        _judged("e1", "What did the resolution request?", True, 0.20),
        _judged("e2", "Who won the 2022 World Cup?", False, -0.30),
        _judged("o1", "¿Qué pidió la resolución a la UNCTAD?", True, -0.02),  # just under: answerable
        _judged("o2", "¿Quién ganó la Copa Mundial de 2022?", False, -0.05),
    ]
    other = {round(t, 3): (p, r, kept) for t, p, r, kept in calibrate(results, "other")}
    assert other[0.0] == (0.667, 1.0, 0.5)  # o1 abstains wrongly at the current threshold
    assert other[-0.02] == (1.0, 1.0, 1.0)  # 0.02 lower: o1 answered, o2 still abstains
    assert other[-0.06] == (1.0, 0.5, 1.0)  # too low: o2 answered too
    english = {round(t, 2): (p, r, kept) for t, p, r, kept in calibrate(results, "english")}
    assert english[-0.3] == (0.5, 0.5, 0.5)  # e2 answered; o1 still abstains wrongly: only English moved
    many = [
        _judged(f"{lang}{i}", q, answerable, conf)
        for i in range(10)
        for lang, q, answerable, conf in [
            ("e", "What did the resolution request?", True, 0.2),
            ("e", "Who won the 2022 World Cup?", False, -0.3),
            ("o", "¿Qué pidió la resolución?", True, -0.02),
            ("o", "¿Quién ganó la Copa Mundial?", False, -0.05),
        ]
    ]
    cv = cross_validate(many)
    assert (cv["precision"], cv["recall"]) == (1.0, 1.0)
    assert all(-0.05 < other_shift <= -0.02 for _, other_shift in cv["shifts"])


def test_ranks_count_retrieved_passages_not_the_neighbours_read_with_them(
    corpus_assistant, judge, monkeypatch
) -> None:
    """A list question also reads the passage after each strong hit; recall@k and MRR measure the
    retriever's ranking, so those added passages neither take a rank nor push a gold one down."""
    from sstc_assistant.dataset import EvalQuestion
    from sstc_assistant.evaluation import _one

    q = EvalQuestion(id="n", question="What services does the Cities Project offer to cities?")
    monkeypatch.setattr(corpus_assistant.settings, "answer_list_neighbours", 3)
    config = EvalConfig(name="t")
    answer = corpus_assistant.ask(q.question, k=config.k)
    added = [s for s in answer.sources if s.follows]
    assert added, "a list question should read at least one neighbour passage"
    result = _one(corpus_assistant, judge, q, config)
    assert len(result.retrieved) == len(answer.sources) - len(added)
    assert {r["doc_id"] for r in result.retrieved} <= {s.doc_id for s in answer.sources}


@pytest.mark.slow
def test_a_left_out_index_is_derived_once_and_stale_copies_are_removed(tmp_path_factory) -> None:
    source = assistant_over(tmp_path_factory, sorted(CORPUS.glob("*.txt")), "src").settings
    index = Index(source)
    docs = sorted(r["doc_id"] for r in index.db.execute("SELECT DISTINCT doc_id FROM chunks"))
    index.close()
    assert len(docs) == 2
    first = derive_index(source, {docs[0]})
    derived = Index(first)
    assert [r["doc_id"] for r in derived.db.execute("SELECT DISTINCT doc_id FROM chunks")] == [docs[1]]
    derived.close()
    assert derive_index(source, {docs[0]}).index_path == first.index_path  # the same set: reused
    unrelated = source.index_path.parent / "src-without-mine"  # a user's folder, not a derived copy
    unrelated.mkdir()
    second = derive_index(source, {docs[1]})
    assert second.index_path.is_dir() and not first.index_path.exists()
    assert unrelated.is_dir() and source.index_path.is_dir()
