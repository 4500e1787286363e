"""The package's public names: `from sstc_assistant import Assistant, Settings, Answer, …`, and an
`import sstc_assistant` that loads no model, vector store or web stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import sstc_assistant

HEAVY = ("torch", "sentence_transformers", "transformers", "chromadb", "gradio", "fastapi", "numpy")


def test_all_names_resolve() -> None:
    assert sorted(sstc_assistant.__all__) == sorted(["__version__", *sstc_assistant._LAZY])
    for name in sstc_assistant.__all__:
        value = getattr(sstc_assistant, name)
        assert value is not None, name
        if isinstance(value, type):
            assert value.__name__ == name  # the class itself, not a stand-in
        assert name in dir(sstc_assistant)
    exec(f"from sstc_assistant import {', '.join(sstc_assistant.__all__)}", {})


def test_unknown_names_and_submodules() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        _ = sstc_assistant.Nothing
    from sstc_assistant import launch  # a submodule, not a lazy name

    assert launch.__name__ == "sstc_assistant.launch"


def test_version(monkeypatch: pytest.MonkeyPatch) -> None:
    assert sstc_assistant.__version__[0].isdigit()
    import importlib.metadata

    def absent(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", absent)
    assert sstc_assistant._version() == "0+unknown"


def test_import_is_cheap() -> None:
    """In a fresh interpreter: the package, then two light names, import none of HEAVY."""
    src = str(Path(sstc_assistant.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    code = (
        "import json, sys; import sstc_assistant; heavy = sys.argv[1:]; "
        "first = [m for m in heavy if m in sys.modules]; "
        "sstc_assistant.Settings, sstc_assistant.Answer; "
        "print(json.dumps([sstc_assistant.__file__, first, [m for m in heavy if m in sys.modules]]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *HEAVY], env=env, capture_output=True, text=True, check=True
    )
    where, at_import, after_light_names = json.loads(done.stdout)
    assert Path(where).resolve() == Path(sstc_assistant.__file__).resolve()
    assert at_import == []
    assert after_light_names == []
