"""Query latency benchmark: p50/p95 of retrieve, generate and total for the default pipeline over
the evaluation questions (model and index load measured separately).

    .venv/bin/python bench/query.py --index eval           # after `sstc ingest corpus ../shared/un-docs --index eval`
    .venv/bin/python bench/query.py --index default --limit 20
    .venv/bin/python bench/query.py --index eval --dataset eval/generated/test.jsonl --kinds policy,multi-doc
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from _figures import print_figures

from sstc_assistant.assistant import Assistant
from sstc_assistant.dataset import load_dataset
from sstc_assistant.metrics import percentile
from sstc_assistant.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index", default="eval")
    parser.add_argument("--dataset", type=Path, default=ROOT / "eval" / "questions.jsonl")
    parser.add_argument("--limit", type=int)
    parser.add_argument(
        "--kinds", help="only these kinds of question, comma-separated (e.g. policy,multi-doc)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="passes over the questions")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    questions = load_dataset(args.dataset)
    if args.kinds:
        wanted = {k.strip() for k in args.kinds.split(",")}
        questions = [q for q in questions if q.kind in wanted]
        if not questions:
            parser.error(f"no question of kind {args.kinds} in {args.dataset}")
    questions = questions[: args.limit]
    t0 = time.perf_counter()
    assistant = Assistant(Settings(home=ROOT, index=args.index))
    assistant.search("warm-up", k=1)
    assistant.ask("warm-up question about cities")
    load_ms = (time.perf_counter() - t0) * 1000
    timings: dict[str, list[float]] = {"retrieve": [], "generate": [], "total": []}
    for _ in range(args.repeat):
        for q in questions:
            answer = assistant.ask(q.question, history=q.history)
            for key in timings:
                timings[key].append(answer.timings_ms[key])
    figures = {
        "index": args.index,
        "kinds": args.kinds or "all",
        "questions": len(questions) * args.repeat,
        "load_ms": round(load_ms),
    }
    for key, values in timings.items():
        figures[f"{key}_p50_ms"] = round(percentile(values, 0.5), 1)
        figures[f"{key}_p95_ms"] = round(percentile(values, 0.95), 1)
    print_figures(figures, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
