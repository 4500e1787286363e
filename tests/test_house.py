"""The house rules of issue 14, checked on the source itself: units small enough for a newcomer
to read, and front ends that go through the Assistant façade, never the index beneath it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "sstc_assistant"
FRONT_ENDS = [SRC / "api", SRC / "cli", SRC / "ui.py"]
LIMITS = {"module": 500, "class": 300, "function": 80}


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _too_long(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    out = []
    if (n := source.count("\n")) > LIMITS["module"]:
        out.append(f"{path.name}: module of {n} lines")
    for node in ast.walk(ast.parse(source)):
        kind = (
            "class"
            if isinstance(node, ast.ClassDef)
            else "function"
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            else None
        )
        if kind and (n := node.end_lineno - node.lineno + 1) > LIMITS[kind]:
            out.append(f"{path.name}:{node.lineno} {kind} {node.name} of {n} lines")
    return out


def test_no_unit_is_longer_than_the_house_allows() -> None:
    assert _modules(), "no source found"
    assert [msg for path in _modules() for msg in _too_long(path)] == []


def test_the_size_check_sees_a_long_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(LIMITS["function"] + 1))
    long = tmp_path / "long.py"
    long.write_text(f"def f():\n{body}\n", encoding="utf-8")
    assert _too_long(long) == [f"long.py:1 function f of {LIMITS['function'] + 2} lines"]


@pytest.mark.parametrize("front_end", FRONT_ENDS, ids=lambda p: p.name)
def test_front_ends_go_through_the_assistant(front_end: Path) -> None:
    files = sorted(front_end.rglob("*.py")) if front_end.is_dir() else [front_end]
    assert files, f"{front_end} not found"
    reaching = re.compile(r"from \.+index import|import sstc_assistant\.index|\bassistant\.index\b")
    offenders = [
        f"{f.name}: {m.group(0)}" for f in files for m in reaching.finditer(f.read_text(encoding="utf-8"))
    ]
    assert offenders == []
