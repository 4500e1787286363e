"""Knowledge that is data, not code: word lists and patterns in `data/*.json`, each with its source.

Cue words in six languages, States, names of outcome documents, stopwords: kept as data so they
can be reviewed, extended and traced without reading the rules that use them.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"


@cache
def lexicon(name: str) -> dict[str, Any]:
    """`data/<name>.json`, read once."""
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def alternation(patterns: list[str], flags: int = re.IGNORECASE, **fill: str) -> re.Pattern[str]:
    """One regular expression from a list of alternatives; `{name}` placeholders are filled."""
    parts = []
    for pattern in patterns:
        for key, value in fill.items():
            pattern = pattern.replace("{" + key + "}", value)
        parts.append(pattern)
    return re.compile("|".join(parts), flags)
