"""`sstc`: the command line. Errors a user can fix print one line, never a traceback.

The commands live by what they work on: `corpus` (ingest, fetch, docs, check), `questions` (search,
ask, serve) and `evaluate` (eval); each registers its own options."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence

from ..errors import first_line
from . import corpus, evaluate, questions
from .common import UserError, console

__all__ = ["UserError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sstc", description="SSTC Assistant: answers from South-South cooperation mandates, cited."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        p.add_argument("--index", help="index name (a folder under indexes/); default from SSTC_INDEX")
        return p

    corpus.add_commands(add)
    questions.add_commands(add)
    evaluate.add_commands(add)
    return parser


def _problems(exc) -> str:
    """A pydantic error as one line: `field: problem; ...`."""
    parts = []
    for e in exc.errors():
        where = ".".join(map(str, e["loc"]))
        what = str(e["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {what}" if where else what)
    return "; ".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    args = build_parser().parse_args(argv)
    from pydantic import ValidationError

    from ..catalog import CatalogError
    from ..errors import StoreError

    try:
        return args.func(args)
    except (UserError, StoreError, CatalogError, ValueError, ValidationError) as exc:
        msg = first_line(exc)
        if isinstance(exc, ValidationError):
            msg = _problems(exc)
        console.print(f"[red]error:[/] {msg}")
        return 2
    except KeyboardInterrupt:
        console.print("interrupted")
        return 130
    except OSError as exc:
        console.print(f"[red]error:[/] {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
        return 2
