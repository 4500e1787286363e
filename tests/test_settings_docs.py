"""README's settings table against `Settings`: one row per field, named as the environment names it,
stating the field's default. No model, no index: the fast loop runs it.

How a row writes a default: backticks are ignored, and so is a closing parenthesis, which says
what the value means (`0 (= CPU cores)`, `– (calibrated)`). `None` and an empty list are written
as a dash. Numbers compare as numbers (`1` is 1.0), paths as paths (`corpus/` is `corpus`, and
the row means it relative to `SSTC_HOME`), anything else as its exact text. A default computed
when the settings are made is written in words; `COMPUTED` holds those words and the function
that computes it, and the test checks both.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr

from sstc_assistant.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"
ROW = re.compile(r"^\| `SSTC_([A-Z0-9_]+)` \| ([^|]*) \| .+ \|$")
UNSET = {"–", "-", "", "None"}
COMPUTED: dict[str, tuple[str, Callable[[], object]]] = {"home": ("current directory", Path.cwd)}


def settings_table() -> tuple[dict[str, str], list[str]]:
    """The table under `## Settings`: each field name with its default cell, and the rows that
    are not one `SSTC_*` variable, a default and a meaning (or repeat a variable)."""
    section = README.read_text(encoding="utf-8").split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    assert lines[:2] == ["| variable | default | meaning |", "|---|---|---|"], lines[:2]
    rows: dict[str, str] = {}
    bad: list[str] = []
    for line in lines[2:]:
        m = ROW.match(line)
        if m is None or m[1].lower() in rows:
            bad.append(line)
        else:
            rows[m[1].lower()] = m[2].strip()
    return rows, bad


def written(cell: str) -> str | None:
    value = re.sub(r"\s*\([^()]*\)$", "", cell).replace("`", "").strip()
    return None if value in UNSET else value


def states(cell: str, default: object) -> bool:
    value = written(cell)
    if default is None or default == []:
        return value is None
    if value is None:
        return False
    if isinstance(default, bool):
        return value == str(default).lower()
    if isinstance(default, int | float):
        try:
            return float(value) == default
        except ValueError:
            return False
    if isinstance(default, Path):
        return Path(value) == default
    return value == str(default)


def test_every_setting_has_a_row() -> None:
    rows, _ = settings_table()
    missing = [f"SSTC_{name.upper()}" for name in Settings.model_fields if name not in rows]
    assert not missing, f"README.md's settings table has no row for {', '.join(missing)}"


def test_every_row_is_one_setting() -> None:
    rows, bad = settings_table()
    assert not bad, (
        "rows that are not one `SSTC_*` variable | default | meaning (or repeat one):\n" + "\n".join(bad)
    )
    unknown = [f"SSTC_{name.upper()}" for name in rows if name not in Settings.model_fields]
    assert not unknown, f"rows for variables Settings does not read: {', '.join(unknown)}"


def test_rows_state_the_defaults() -> None:
    rows, _ = settings_table()
    wrong = []
    for name, field in Settings.model_fields.items():
        if name not in rows:
            continue  # test_every_setting_has_a_row says so
        if name in COMPUTED:
            words, factory = COMPUTED[name]
            if field.default_factory != factory or rows[name] != words:
                wrong.append(f"SSTC_{name.upper()}: {rows[name]!r}, computed by {field.default_factory}")
            continue
        default = field.get_default(call_default_factory=True)
        if not states(rows[name], default):
            wrong.append(f"SSTC_{name.upper()}: README says {rows[name]!r}, the default is {default!r}")
    assert not wrong, "\n".join(wrong)


def test_fields_are_read_from_their_row_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """No field has an alias, so `SSTC_<NAME>` is what the environment sets."""
    assert Settings.model_config["env_prefix"] == "SSTC_"
    aliased = [n for n, f in Settings.model_fields.items() if f.alias or f.validation_alias]
    assert not aliased
    for var, value, name, expected in [
        ("SSTC_TOP_K", "7", "top_k", 7),
        ("SSTC_ANSWER_LIST_NEIGHBOURS", "2", "answer_list_neighbours", 2),
        ("SSTC_HNSW_MAX_NEIGHBORS", "16", "hnsw_max_neighbors", 16),
        ("SSTC_MODEL_CACHE_DIR", "/tmp/models", "model_cache_dir", Path("/tmp/models")),
        ("SSTC_OPENAI_API_KEY", "k", "openai_api_key", SecretStr("k")),
    ]:
        monkeypatch.setenv(var, value)
        assert getattr(Settings(_env_file=None), name) == expected, var


@pytest.mark.parametrize(
    ("cell", "default", "expected"),
    [
        ("`corpus/`", Path("corpus"), True),
        ("1", 1.0, True),
        ("0 (= CPU cores)", 0, True),
        ("– (calibrated)", None, True),
        ("–", [], True),
        ("0.9", 0.95, False),
        ("`e5`", "minilm", False),
        ("–", 0, False),
        ("`indexes/`", Path("corpus"), False),
    ],
)
def test_how_defaults_are_read(cell: str, default: object, expected: bool) -> None:
    assert states(cell, default) is expected
