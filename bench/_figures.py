"""How every benchmark reports: one aligned `name  value` line per figure, and the same figures as
JSON when `--json FILE` is given (CI keeps them)."""

from __future__ import annotations

import json
from pathlib import Path


def print_figures(figures: dict[str, object], json_path: Path | None) -> None:
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    if json_path:
        json_path.write_text(json.dumps(figures, indent=2), encoding="utf-8")
