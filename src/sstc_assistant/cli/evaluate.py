"""`sstc eval`: the QA benchmark over a question set, with its report and headline figures."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..settings import Settings
from .common import AddCommand, console, out, settings_for

if TYPE_CHECKING:
    from ..dataset import QuestionResult

Run = tuple[dict[str, Any], list["QuestionResult"]]  # a configuration's metrics and per-question results


def cmd_eval(args: argparse.Namespace) -> int:
    from ..assistant import Assistant
    from ..dataset import load_dataset
    from ..evaluation import EvalConfig, derive_index, evaluate, left_out_documents, write_outputs

    settings = settings_for(args)
    if args.generator:
        settings = settings.model_copy(update={"generator": args.generator})
    questions = load_dataset(Path(args.dataset))
    if args.limit:
        questions = questions[: args.limit]
    assistant = Assistant(settings)
    left_out = None
    if without := left_out_documents(questions):
        derived = derive_index(settings, without)
        console.print(
            f"left-out-document questions run on index '{derived.index}' "
            f"(index '{settings.index}' less {len(without)} documents)"
        )
        left_out = Assistant(derived, embedder=assistant.embedder)
    runs: list[Run] = []
    for mode in _modes(args, settings):
        config = EvalConfig(name=f"{mode}/{settings.generator}", retrieval=mode, generator=settings.generator)
        with Progress(
            TextColumn(f"{config.name:<24}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=args.quiet,
        ) as bar:
            task = bar.add_task("eval", total=len(questions))
            metrics, results = evaluate(
                assistant,
                questions,
                config,
                progress=lambda done, total, task=task: bar.update(task, completed=done),
                left_out=left_out,
            )
        runs.append((metrics, results))
    out_dir = Path(args.out)
    write_outputs(out_dir, runs, Path(args.dataset))
    _print_figures(runs)
    if args.calibrate:
        _print_calibration(runs[0][1])
    out.print(f"wrote {out_dir}/metrics.json, results.jsonl, report.md, report.html")
    return 0


def _modes(args: argparse.Namespace, settings: Settings) -> list[str]:
    """The retrieval configurations to run, the one under test first."""
    modes = ["bm25", "dense", "hybrid"] if args.compare else [args.retrieval or settings.retrieval_mode]
    if args.compare and settings.reranker_model:
        modes.append("hybrid+rerank")
    elif args.compare:
        console.print("hybrid+rerank skipped: no reranker configured (SSTC_RERANKER_MODEL)")
    default = args.retrieval or settings.retrieval_mode
    modes.sort(key=lambda m: m != default)  # the configuration under test comes first
    return modes


def _print_figures(runs: list[Run]) -> None:
    """The headline figures of every run, then the groups of the first one."""
    from ..report import HEADLINE

    for metrics, _ in runs:
        out.print(
            f"[bold]{metrics['config']['name']}[/]: "
            + ", ".join(
                f"{label} {metrics[key]:.3f}" if "latency" not in key else f"{label} {metrics[key]:.0f}"
                for key, label in HEADLINE
            )
        )
    main = runs[0][0]
    groups = [
        ("out-of-domain abstention", "abstention.out_of_domain"),
        ("in-domain abstention P", "abstention.in_domain_precision"),
        ("in-domain abstention R", "abstention.in_domain_recall"),
        ("right answer en", "answer.right_answer_en"),
        ("right answer other languages", "answer.right_answer_other"),
        ("gold passage in top 5 en", "retrieval.recall@5_en"),
        ("gold passage in top 5 other", "retrieval.recall@5_other"),
        ("keypoint recall (answer)", "answer.keypoint_recall"),
        ("keypoint recall (passages)", "retrieval.keypoint_recall"),
    ]
    out.print(", ".join(f"{label} {main[key]:.3f}" for label, key in groups if main.get(key) is not None))


def _print_calibration(results: list[QuestionResult]) -> None:
    """An abstention-threshold sweep per question group, and the cross-validated choice."""
    from ..evaluation import calibrate, cross_validate

    for group, setting in (
        ("english", "SSTC_ABSTAIN_THRESHOLD"),
        ("other", "SSTC_ABSTAIN_THRESHOLD_OTHER"),
    ):
        out.print(
            f"shift   abstain-P  abstain-R  answered-share   (shift = change to {setting}, {group} questions)"
        )
        for t, p, r, kept in calibrate(results, group):
            out.print(f"{t:+6.3f}  {p:9.3f}  {r:9.3f}  {kept:14.3f}")
    cv = cross_validate(results)
    out.print(
        f"{cv['folds']}-fold cross-validated (both shifts chosen on the other folds by abstention F1): "
        f"held-out abstention P {cv['precision']:.3f} / R {cv['recall']:.3f}; "
        f"shifts (English, other) {cv['shifts']}"
    )


def add_commands(add: AddCommand) -> None:
    p = add("eval", cmd_eval, "run the QA benchmark over a question set and write a report")
    p.add_argument("--dataset", default="eval/questions.jsonl")
    p.add_argument(
        "--out", default="out/eval", help="folder for metrics.json, results.jsonl, report.md/.html"
    )
    p.add_argument("--generator", choices=["extractive", "llamacpp", "openai"])
    p.add_argument("--retrieval", choices=["bm25", "dense", "hybrid", "hybrid+rerank"])
    p.add_argument("--limit", type=int, help="only the first N questions")
    p.add_argument("--compare", action="store_true", help="also run the other retrieval modes, one table")
    p.add_argument("--calibrate", action="store_true", help="print an abstention-threshold sweep")
    p.add_argument("--quiet", "-q", action="store_true")
