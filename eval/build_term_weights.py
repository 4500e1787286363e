#!/usr/bin/env python3
"""Count in how many passages of the evaluation index each (stemmed) word stands:
src/sstc_assistant/data/term_weights.json, the word rarity the answerability features use.

    .venv/bin/python eval/build_term_weights.py --index eval

The evaluation index is `corpus/` + `../shared/un-docs` (README, Quality): about 13,000 passages of
UN text. Words in fewer than MIN_DF passages are left out (they count as rare, as unseen words do).
Only text statistics are taken: no question, answer or label of any split.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sstc_assistant.answerability import WEIGHTS_PATH, TermWeights  # noqa: E402
from sstc_assistant.index import Index  # noqa: E402
from sstc_assistant.settings import Settings  # noqa: E402

MIN_DF = 3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", default="eval")
    parser.add_argument("--out", default=str(WEIGHTS_PATH))
    args = parser.parse_args()
    index = Index(Settings(home=ROOT, index=args.index))
    weights = TermWeights.count(index.passage_texts())
    kept = {t: n for t, n in sorted(weights.df.items()) if n >= MIN_DF}
    data = {
        "about": "In how many passages each stemmed content word (questions.content_terms) stands; "
        "normalised IDF for the answerability features. Words in fewer than "
        f"{MIN_DF} passages are left out and count as rare.",
        "source": f"the passages of index '{args.index}' (corpus/ + ../shared/un-docs), counted by "
        "eval/build_term_weights.py",
        "passages": weights.n,
        "df": kept,
    }
    Path(args.out).write_text(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
    )
    print(
        f"{weights.n} passages, {len(weights.df)} words, {len(kept)} kept (df >= {MIN_DF}); wrote {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
