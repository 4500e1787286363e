"""The QA benchmark: retrieval, answer, citation (ALCE-style) and abstention metrics over a
question set (DESIGN.md format), with per-question results and a report people can read."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from .assistant import Assistant
from .dataset import EvalQuestion, QuestionResult
from .metrics import (
    JUDGE,
    CitationJudge,
    answer_recall,
    hit_matches,
    keypoint_recall,
    ndcg,
    percentile,
    strip_markers,
    token_f1,
)
from .questions import is_english
from .settings import Settings

K_VALUES = (1, 3, 5, 10)


# --- the run -------------------------------------------------------------------------------------


class EvalConfig(BaseModel):
    name: str
    retrieval: Literal["bm25", "dense", "hybrid", "hybrid+rerank"] = "hybrid"
    generator: str = "extractive"
    k: int = 10


def evaluate(
    assistant: Assistant,
    questions: Sequence[EvalQuestion],
    config: EvalConfig,
    progress: Callable[[int, int], None] | None = None,
    left_out: Assistant | None = None,
) -> tuple[dict, list[QuestionResult]]:
    """`left_out`: the assistant over the index without the documents of the `left-out-document`
    questions (`derive_index`); those questions are asked there, every other one of `assistant`."""
    judge = CitationJudge(assistant)
    results: list[QuestionResult] = []
    assistant.search("warm-up", k=1)  # load models and indexes before timing
    if left_out is not None:
        left_out.search("warm-up", k=1)
    for n, q in enumerate(questions):
        if progress:
            progress(n, len(questions))
        asked = left_out if left_out is not None and q.kind == "left-out-document" else assistant
        results.append(_one(asked, judge, q, config))
    if progress:
        progress(len(questions), len(questions))
    return summarize(results, assistant, config), results


def left_out_documents(questions: Sequence[EvalQuestion]) -> set[str]:
    """The documents `left-out-document` questions were made from: absent from their index."""
    return {
        q.origin.doc_id
        for q in questions
        if q.kind == "left-out-document" and q.origin is not None and q.origin.doc_id
    }


def derive_index(settings: Settings, without: set[str]) -> Settings:
    """Settings of a copy of the index with the documents `without` removed (made once, and again
    only when the source index or the set changes): the "second index" that left-out-document
    questions run against. Copying and deleting takes seconds; re-embedding would take minutes."""
    import hashlib
    import shutil

    from .index import Index

    source = Index(settings)
    generation = source.generation
    source.close()
    tag = hashlib.sha1("\n".join(sorted(without)).encode()).hexdigest()[:8]
    derived = settings.model_copy(update={"index": f"{settings.index}-without-{tag}"})
    marker = derived.index_path / "derived.json"
    wanted = {"source": settings.index, "generation": generation, "without": sorted(without)}
    if marker.is_file() and json.loads(marker.read_text(encoding="utf-8")) == wanted:
        return derived
    if derived.index_path.exists():
        shutil.rmtree(derived.index_path)
    shutil.copytree(settings.index_path, derived.index_path, ignore=shutil.ignore_patterns(".writer.lock"))
    index = Index(derived)
    with index.writer():
        for doc_id in sorted(without):
            index.remove_document(doc_id)
        index.collect_garbage()
        index.refresh_lexical(save=True)
    index.close()
    marker.write_text(json.dumps(wanted), encoding="utf-8")
    _prune_derived(settings, keep=derived.index_path)
    return derived


def _prune_derived(settings: Settings, keep: Path) -> None:
    """Remove the copies derived from this index for other left-out sets: each is as large as the
    index, and a new set (the dataset changed) would otherwise leave one more behind every time.
    Only folders that say they were derived from it (their `derived.json`) are touched."""
    import shutil

    for folder in settings.index_path.parent.glob(f"{settings.index}-without-*"):
        marker = folder / "derived.json"
        if folder == keep or not marker.is_file():
            continue
        try:
            source = json.loads(marker.read_text(encoding="utf-8")).get("source")
        except ValueError:
            continue
        if source == settings.index:
            shutil.rmtree(folder, ignore_errors=True)


def _one(assistant: Assistant, judge: CitationJudge, q: EvalQuestion, config: EvalConfig) -> QuestionResult:
    t0 = time.perf_counter()
    answer = assistant.ask(q.question, history=q.history, mode=config.retrieval, k=config.k)
    latency = (time.perf_counter() - t0) * 1000
    hits = answer.sources
    # A passage read as the neighbour of a strong hit rides with it: ranks count retrieved passages only.
    ranked = [h for h in hits if h.follows is None]
    relevant = [hit_matches(h, q.sources) for h in ranked]
    first = next((i + 1 for i, r in enumerate(relevant) if r), None)
    recall_at = {str(k): float(first is not None and first <= k) for k in K_VALUES}
    text = strip_markers(answer.answer) if answer.answerable else ""
    f1 = ar = None
    if q.answerable and q.answers:
        f1 = max(token_f1(text, g) for g in q.answers)
        ar = max(answer_recall(text, g) for g in q.answers)
    sentences = supported = n_cit = rel_cit = 0
    if answer.answerable:
        sentences, supported, n_cit, rel_cit = judge.score(answer)
    gold_docs = {s.doc_id for s in q.sources}
    correct_doc = sum(
        1 for c in answer.citations if c.doc_id in gold_docs or any(a.doc_id in gold_docs for a in c.also_in)
    )
    right = (bool(ar) and correct_doc > 0) if q.answerable and q.answers else None
    kp_answer = keypoint_recall(q.keypoints, text) if q.keypoints else None
    kp_passages = keypoint_recall(q.keypoints, " ".join(h.text for h in hits)) if q.keypoints else None
    failures = []
    if q.answerable and not answer.answerable:
        failures.append("abstained on an answerable question")
    if not q.answerable and answer.answerable:
        failures.append("answered an unanswerable question")
    if q.answerable and first is None:
        failures.append("no gold passage in the top 10")
    elif q.answerable and first and first > 5:
        failures.append(f"first gold passage at rank {first}")
    if q.answerable and answer.answerable and ar == 0.0:
        failures.append("answer lacks the gold answer's words")
    if sentences and supported < sentences:
        failures.append(f"{sentences - supported} answer sentence(s) unsupported by their citations")
    if answer.answerable and answer.citations and correct_doc == 0 and q.answerable:
        failures.append("no citation names a gold document")
    return QuestionResult(
        id=q.id,
        kind=q.kind,
        lang=q.lang,
        domain=q.domain,
        right_answer=right,
        keypoint_recall=kp_answer,
        keypoint_recall_passages=kp_passages,
        question=q.question,
        gold_answerable=q.answerable,
        answerable=answer.answerable,
        answer=answer.answer,
        confidence=answer.confidence,
        retrieved=[
            {"doc_id": h.doc_id, "pages": h.pages, "paragraph": h.paragraph, "score": h.score, "relevant": r}
            for h, r in zip(ranked, relevant, strict=True)
        ],
        first_relevant_rank=first,
        recall_at=recall_at,
        ndcg10=ndcg(relevant, len(q.sources)) if q.answerable else 0.0,
        token_f1=f1,
        answer_recall=ar,
        sentences=sentences,
        supported_sentences=supported,
        citations=n_cit,
        relevant_citations=rel_cit,
        citation_correct_doc=correct_doc,
        latency_ms=round(latency, 1),
        failures=failures,
    )


def _mean(values: Sequence[float]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


def _pct(values: Sequence[float], p: float) -> float:
    return round(percentile(values, p), 1) if values else 0.0


def summarize(results: Sequence[QuestionResult], assistant: Assistant, config: EvalConfig) -> dict:
    ans = [r for r in results if r.gold_answerable]
    answered = [r for r in results if r.answerable]
    abstained = [r for r in results if not r.answerable]
    unans = [r for r in results if not r.gold_answerable]
    sentences = sum(r.sentences for r in results)
    citations = sum(r.citations for r in results)
    s = assistant.settings
    metrics = {
        "n": len(results),
        **{f"retrieval.recall@{k}": _mean([r.recall_at[str(k)] for r in ans]) for k in (1, 5, 10)},
        "retrieval.mrr@10": _mean([1 / r.first_relevant_rank if r.first_relevant_rank else 0.0 for r in ans]),
        "retrieval.ndcg@10": _mean([r.ndcg10 for r in ans]),
        "answer.token_f1": _mean([r.token_f1 or 0.0 for r in ans if r.token_f1 is not None]),
        "answer.answer_recall": _mean([r.answer_recall or 0.0 for r in ans if r.answer_recall is not None]),
        "citations.precision": round(sum(r.relevant_citations for r in results) / citations, 4)
        if citations
        else 0.0,
        "citations.recall": round(sum(r.supported_sentences for r in results) / sentences, 4)
        if sentences
        else 0.0,
        "abstention.precision": round(sum(not r.gold_answerable for r in abstained) / len(abstained), 4)
        if abstained
        else 0.0,
        "abstention.recall": round(sum(not r.answerable for r in unans) / len(unans), 4) if unans else 0.0,
        "latency_ms.p50": _pct([r.latency_ms for r in results], 0.5),
        "latency_ms.p95": _pct([r.latency_ms for r in results], 0.95),
        "retrieval.recall@3": _mean([r.recall_at["3"] for r in ans]),
        "answer.answered_share_of_answerable": _mean([float(r.answerable) for r in ans]),
        "citations.gold_document_share": round(
            sum(r.citation_correct_doc for r in answered) / max(1, sum(r.citations for r in answered)), 4
        ),
        **headline_by_group(results),
        "by_domain": _groups(results, lambda r: r.domain),
        "by_lang": _groups(results, lambda r: r.lang),
        "by_kind": _groups(results, lambda r: r.kind),
        "config": {
            "name": config.name,
            "embedder": s.embedder,
            "retrieval": config.retrieval,
            "generator": config.generator,
            "index": s.index,
            "k": config.k,
            "abstain_threshold": {
                "english": s.abstain_threshold or assistant.extractive.model.groups["english"].threshold,
                "other": s.abstain_threshold_other or assistant.extractive.model.groups["other"].threshold,
            },
            "judge": JUDGE,
        },
    }
    return metrics


def _share(values: Sequence[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _group_figures(rows: Sequence[QuestionResult]) -> dict:
    ans = [r for r in rows if r.gold_answerable]
    unans = [r for r in rows if not r.gold_answerable]
    kp = [r for r in rows if r.keypoint_recall is not None]
    out = {
        "n": len(rows),
        "answerable": len(ans),
        "right_answer": _share([bool(r.right_answer) for r in ans if r.right_answer is not None]),
        "answered": _share([r.answerable for r in ans]),
        "recall@5": _share([bool(r.recall_at["5"]) for r in ans]),
        "abstained": _share([not r.answerable for r in unans]),
    }
    if kp:
        out["keypoint_recall"] = _mean([r.keypoint_recall or 0.0 for r in kp])
        out["keypoint_recall_passages"] = _mean([r.keypoint_recall_passages or 0.0 for r in kp])
    return out


def _groups(results: Sequence[QuestionResult], key: Callable[[QuestionResult], str]) -> dict:
    groups: dict[str, list[QuestionResult]] = {}
    for r in results:
        groups.setdefault(key(r), []).append(r)
    return {name: _group_figures(rows) for name, rows in sorted(groups.items())}


def headline_by_group(results: Sequence[QuestionResult]) -> dict:
    """The figures the answerability issue states its targets in: out-of-domain abstention,
    in-domain abstention precision and recall (everything but out-of-domain), right answers and
    gold passages in the top 5 for English and for the other languages."""
    inside = [r for r in results if r.domain != "out-of-domain"]
    abstained = [r for r in inside if not r.answerable]
    unans = [r for r in inside if not r.gold_answerable]
    ood = [r for r in results if r.domain == "out-of-domain"]
    out: dict[str, float | None] = {
        "abstention.out_of_domain": _share([not r.answerable for r in ood]),
        "abstention.in_domain_precision": _share([not r.gold_answerable for r in abstained]),
        "abstention.in_domain_recall": _share([not r.answerable for r in unans]),
    }
    for name, rows in (
        ("en", [r for r in results if r.lang == "en"]),
        ("other", [r for r in results if r.lang != "en"]),
    ):
        ans = [r for r in rows if r.gold_answerable]
        out[f"answer.right_answer_{name}"] = _share(
            [bool(r.right_answer) for r in ans if r.right_answer is not None]
        )
        out[f"retrieval.recall@5_{name}"] = _share([bool(r.recall_at["5"]) for r in ans])
    kp = [r for r in results if r.keypoint_recall is not None]
    if kp:
        out["answer.keypoint_recall"] = _mean([r.keypoint_recall or 0.0 for r in kp])
        out["retrieval.keypoint_recall"] = _mean([r.keypoint_recall_passages or 0.0 for r in kp])
    return out


def write_outputs(out: Path, runs: list[tuple[dict, list[QuestionResult]]], dataset: Path) -> None:
    """metrics.json (the first configuration; all in `comparison`), results.jsonl, report.md/.html."""
    from .report import write_report

    out.mkdir(parents=True, exist_ok=True)
    main_metrics = runs[0][0]
    metrics = dict(main_metrics)
    if len(runs) > 1:
        metrics["comparison"] = [m for m, _ in runs]
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    with (out / "results.jsonl").open("w", encoding="utf-8") as fh:
        for m, results in runs:
            for r in results:
                fh.write(
                    json.dumps({"config": m["config"]["name"], **r.model_dump()}, ensure_ascii=False) + "\n"
                )
    write_report(out, runs, dataset)


# shifts tried per threshold, on the answerability model's probability
SHIFTS = {
    "english": [x / 100 for x in range(-30, 31, 2)],
    "other": [x / 100 for x in range(-30, 31, 2)],
}


def scorer_group(r: QuestionResult) -> str:
    """Which abstention threshold judged this question: English (SSTC_ABSTAIN_THRESHOLD) or
    another language (SSTC_ABSTAIN_THRESHOLD_OTHER), decided as the assistant decides it."""
    return "english" if is_english(r.question) else "other"


def _abstains(r: QuestionResult, shifts: dict[str, float]) -> bool:
    return r.confidence < shifts[scorer_group(r)]


def _figures(rows: Sequence[QuestionResult], shifts: dict[str, float]) -> tuple[int, int, int]:
    """(true abstentions, wrong abstentions, missed abstentions) with the thresholds shifted."""
    tp = sum(_abstains(r, shifts) and not r.gold_answerable for r in rows)
    fp = sum(_abstains(r, shifts) and r.gold_answerable for r in rows)
    fn = sum(not _abstains(r, shifts) and not r.gold_answerable for r in rows)
    return tp, fp, fn


def calibrate(results: Sequence[QuestionResult], group: str) -> list[tuple[float, float, float, float]]:
    """(threshold shift, abstention precision, abstention recall, share of answerable answered) over
    all questions, moving only the threshold of `group` ("english" or "other") by the shift."""
    rows = []
    for t in SHIFTS[group]:
        tp, fp, fn = _figures(results, {"english": 0.0, "other": 0.0, group: t})
        ans = [r for r in results if r.gold_answerable]
        p = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        rows.append((t, round(p, 3), round(rec, 3), round((len(ans) - fp) / len(ans), 3) if ans else 0.0))
    return rows


def cross_validate(results: Sequence[QuestionResult], folds: int = 5) -> dict:
    """Held-out abstention figures for thresholds chosen on the other folds (the pair of shifts with
    the best abstention F1 there): how much of the in-sample figure is
    owed to calibrating on the very questions it is measured on. Folds are fixed by question id."""
    ordered = sorted(results, key=lambda r: r.id)
    pairs = [{"english": e, "other": o} for e in SHIFTS["english"] for o in SHIFTS["other"]]
    tp = fp = fn = 0
    chosen = []
    for f in range(folds):
        train = [r for i, r in enumerate(ordered) if i % folds != f]
        test = [r for i, r in enumerate(ordered) if i % folds == f]

        def f1(shifts: dict[str, float], rows: Sequence[QuestionResult] = train) -> float:
            a, wrong, missed = _figures(rows, shifts)
            return 2 * a / (2 * a + wrong + missed) if a else 0.0

        # ties go to the higher thresholds (abstaining more), whatever the defaults are, so the
        # held-out figure does not lean towards the thresholds in use
        best = max(pairs, key=lambda sh: (round(f1(sh), 6), sh["english"] + sh["other"]))
        chosen.append((best["english"], best["other"]))
        a, wrong, missed = _figures(test, best)
        tp, fp, fn = tp + a, fp + wrong, fn + missed
    return {
        "folds": folds,
        "shifts": chosen,
        "precision": round(tp / (tp + fp), 3) if tp + fp else 0.0,
        "recall": round(tp / (tp + fn), 3) if tp + fn else 0.0,
    }
