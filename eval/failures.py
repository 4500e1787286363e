"""Where answerable questions are lost: a benchmark run's results.jsonl, counted by stage.

    python eval/failures.py out/dev/results.jsonl

Stages, for each answerable question with a gold answer:
  right                 answered, and the answer holds a gold answer
  wrong, gold passage   answered from the top passages, one of which is gold: the wrong sentence won
  wrong, no gold        answered, but no gold passage in the top 5: retrieval missed it
  abstained, gold       "the documents do not say" though a gold passage was in the top 5
  abstained, no gold    abstained, and no gold passage in the top 5
Read the dev split's figures, not the test split's question by question (README: Evaluation).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path


def stage(r: dict) -> str:
    gold = r["first_relevant_rank"] is not None and r["first_relevant_rank"] <= 5
    if r["answerable"]:
        if r["right_answer"]:
            return "right"
        return "wrong, gold passage" if gold else "wrong, no gold"
    return "abstained, gold" if gold else "abstained, no gold"


def main(path: str) -> None:
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r["gold_answerable"] and r["right_answer"] is not None]
    for group in ("en", "other"):
        part = [r for r in rows if (r["lang"] == "en") == (group == "en")]
        if not part:
            continue
        counts = Counter(stage(r) for r in part)
        print(f"{group}: {len(part)} answerable questions with a gold answer")
        for name in (
            "right",
            "wrong, gold passage",
            "wrong, no gold",
            "abstained, gold",
            "abstained, no gold",
        ):
            print(f"  {name:<20} {counts[name]:>4}  {counts[name] / len(part):.3f}")
        by_kind = Counter((r["kind"], stage(r)) for r in part)
        kinds = sorted({k for k, _ in by_kind})
        print(
            "  by kind: "
            + "; ".join(
                f"{k} right {by_kind[(k, 'right')]}/{sum(v for (kk, _), v in by_kind.items() if kk == k)}"
                for k in kinds
            )
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "out/dev/results.jsonl")
