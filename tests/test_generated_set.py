"""The generated evaluation set (eval/generated): the build's checks, the split by document, the
left-out documents, and the committed dev/test files against eval/check_dataset.py. No models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GEN = ROOT / "eval" / "generated"
sys.path.insert(0, str(GEN))

import build  # noqa: E402  (eval/generated/build.py)

PAGE = (
    "Requests the Secretary-General to submit to the General Assembly at its eighty-first session "
    "a report on the implementation of the present resolution;\n\n"
    "Decides to include in the provisional agenda of its eighty-first session the sub-item entitled "
    "“South-South cooperation for development”."
)


def _library() -> build.Library:
    docs = {
        "A_RES_80_156.en": build.Doc(
            "A_RES_80_156.en", "/x/A_RES_80_156.en.pdf", ["Title page", PAGE], False
        ),
        "S_2025_1.en": build.Doc(
            "S_2025_1.en", "/x/S_2025_1.en.pdf", ["The Council met on 3 May 2025."], False
        ),
    }
    return build.Library(docs)


def _written(**over) -> dict:
    rec = {
        "question": "What does resolution 80/156 ask the Secretary-General to submit?",
        "lang": "en",
        "kind": "factoid",
        "answerable": True,
        "answers": ["a report on the implementation of the present resolution"],
        "doc_id": "A_RES_80_156.en",
        "page": 2,
        "evidence": "at its eighty-first session a report on the implementation of the present resolution",
        "history": [],
        "method": "agent",
    }
    rec.update(over)
    return rec


def _records() -> list[dict]:
    out = []
    for split in ("dev", "test"):
        path = GEN / f"{split}.jsonl"
        if not path.is_file():
            pytest.skip(f"{path} not built yet (python eval/generated/build.py)")
        out += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return out


def test_written_question_that_checks_is_kept():
    item, why = build.check_written(_written(), _library(), set())
    assert item is not None, why
    assert item.spans == [("A_RES_80_156.en", 2, _written()["evidence"])]
    assert item.origin == {"doc_id": "A_RES_80_156.en", "page": 2}


def test_written_question_with_several_passages():
    lib = _library()
    second = {"doc_id": "S_2025_1.en", "page": 1, "evidence": "The Council met on 3 May 2025."}
    rec = _written(
        kind="multi-doc", sources=[{k: _written()[k] for k in ("doc_id", "page", "evidence")}, second]
    )
    item, why = build.check_written(rec, lib, set())
    assert item is not None, why
    assert [d for d, _, _ in item.spans] == ["A_RES_80_156.en", "S_2025_1.en"]
    bad = {**second, "page": 2}
    item, why = build.check_written(_written(sources=[second, bad]), lib, set())
    assert item is None and "page 2" in why


@pytest.mark.parametrize(
    ("over", "reason"),
    [
        ({"answers": ["a report on financing"]}, "not verbatim in the evidence"),
        ({"page": 1}, "evidence not on page 1"),
        ({"doc_id": "A_RES_99_1.en"}, "not in the library"),
        ({"evidence": "too short"}, "characters"),
        ({"kind": "multi-doc"}, "two documents"),
        ({"kind": "unanswerable", "answerable": False}, "no answers"),
        ({"answerable": False}, "contradicts kind"),
        ({"lang": "de"}, "lang"),
    ],
)
def test_written_question_that_does_not_check_is_dropped(over, reason):
    item, why = build.check_written(_written(**over), _library(), set())
    assert item is None
    assert reason in why


def test_answerable_question_from_a_left_out_document_is_dropped():
    item, why = build.check_written(_written(), _library(), {"A_RES_80_156.en"})
    assert item is None and "left-out document" in why
    item, why = build.check_written(
        _written(kind="unanswerable", answerable=False, answers=[]), _library(), {"A_RES_80_156.en"}
    )
    assert item is None and "left-out document" in why
    left = _written(kind="left-out-document", answerable=False)
    item, why = build.check_written(left, _library(), {"A_RES_80_156.en"})
    assert item is not None, why
    rec = item.record(_library().docs, "dev")
    assert rec["answerable"] is False and rec["answers"] == [] and rec["sources"] == []
    assert rec["origin"]["evidence"] == left["evidence"]
    item, why = build.check_written(left, _library(), set())
    assert item is None and "left_out.json" in why


def test_answer_span_is_a_short_verbatim_clause():
    start = PAGE.index("submit")
    s, e = build.answer_span(PAGE, start)
    answer = PAGE[s:e]
    assert answer == "submit to the General Assembly at its eighty-first session a report"
    assert len(answer.split()) <= 12


def test_perturbed_resolution_number_appears_nowhere():
    lib = _library()
    item, _ = build.check_written(_written(), lib, set())
    assert item is not None
    out = build.perturb([item], lib, 1)
    assert len(out) == 1
    q = out[0]
    assert q.kind == "unanswerable" and q.method == "perturbed" and q.origin == item.origin
    assert "80/156" not in q.question
    fake = q.question.split("resolution ")[1].split()[0]
    assert fake.startswith("80/9") and fake not in lib.all_text


def test_splits_keep_existing_assignments(tmp_path: Path):
    path = tmp_path / "splits.json"
    path.write_text(json.dumps({"documents": {"A_80_39.en": "test", "S_2025_1.en": "test"}}))
    ids = ["A_80_39.en", "A_RES_80_156.en", "S_2025_1.en", "S_2025_2.en", "S_2025_3.en", "S_2025_4.en"]
    first = build.load_splits(ids, path)
    assert first["A_80_39.en"] == "test" and first["S_2025_1.en"] == "test"
    assert set(first) == set(ids) and set(first.values()) == {"dev", "test"}
    assert build.load_splits([*ids, "S_2025_5.en"], path).items() >= first.items()


def test_committed_splits_are_by_document():
    records = _records()
    splits = json.loads((GEN / "splits.json").read_text(encoding="utf-8"))["documents"]
    seen: dict[str, set[str]] = {}
    for r in records:
        docs = {s["doc_id"] for s in r["sources"]} | ({r["origin"]["doc_id"]} if r["origin"] else set())
        for d in docs:
            seen.setdefault(d, set()).add(r["split"])
            assert splits[d] == r["split"], (r["id"], d)
    assert not [d for d, s in seen.items() if len(s) > 1]
    assert {r["split"] for r in records} == {"dev", "test"}


def test_committed_left_out_questions_match_left_out_json():
    records = _records()
    left_out = set(json.loads((GEN / "left_out.json").read_text(encoding="utf-8"))["doc_ids"])
    for r in records:
        if r["kind"] == "left-out-document":
            assert r["origin"]["doc_id"] in left_out, r["id"]
        if r["answerable"]:
            assert not {s["doc_id"] for s in r["sources"]} & left_out, r["id"]
            assert r["origin"]["doc_id"] not in left_out, r["id"]


@pytest.mark.slow
@pytest.mark.undocs
@pytest.mark.parametrize("split", ["dev", "test"])
def test_committed_files_pass_check_dataset(split):
    _records()
    result = subprocess.run(
        [sys.executable, str(ROOT / "eval" / "check_dataset.py"), str(GEN / f"{split}.jsonl"), "--quiet"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:]
