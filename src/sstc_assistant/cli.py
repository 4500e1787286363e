"""`sstc`: the command line. Errors a user can fix print one line, never a traceback."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .settings import Settings

console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


class UserError(Exception):
    """Raised for conditions the user can act on; printed as `error: ...`."""


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    if getattr(args, "index", None):
        overrides["index"] = args.index
    if getattr(args, "embedder", None):
        overrides["embedder"] = args.embedder
    return Settings(**overrides)


def cmd_ingest(args: argparse.Namespace) -> int:
    from .ingest import ingest

    settings = _settings(args)
    paths = [Path(p) for p in args.paths] if args.paths else None
    quiet = args.quiet
    if not quiet:
        console.print(f"[bold]Ingesting[/] into index '{settings.index}' with embedder {settings.embedder} …")
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=quiet,
        transient=False,
    ) as bar:
        task = bar.add_task("files", total=None)

        def progress(name: str, done: int, total: int) -> None:
            bar.update(task, total=total, completed=done, description=f"files {name[:40]:<40}")

        report = ingest(settings, paths, rebuild=args.rebuild, prune=not args.no_prune, progress=progress)
    if args.json:
        out.print_json(report.model_dump_json())
    else:
        counts = {
            s: len(report.by_status(s)) for s in ("added", "updated", "unchanged", "skipped", "removed")
        }
        if not quiet or counts["skipped"]:
            for f in report.by_status("skipped"):
                console.print(f"[yellow]skipped[/] {f.path}: {f.reason}")
        console.print(
            f"{counts['added']} added, {counts['updated']} updated, {counts['unchanged']} unchanged, "
            f"{counts['skipped']} skipped, {counts['removed']} removed; "
            f"{report.chunks_added} chunks added ({report.vectors_added} new passages, "
            f"{report.duplicates_merged} duplicates merged) in {report.seconds:.1f} s"
        )
        if report.recovered_pending:
            console.print(f"recovered from an interrupted run: {', '.join(report.recovered_pending)}")
    if not report.ingested_any:
        console.print("[red]error:[/] nothing could be ingested")
        return 1
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from .index import Index

    index = Index(_settings(args))
    docs = index.documents()
    if args.json:
        out.print_json(json.dumps([d.model_dump() for d in docs]))
        return 0
    table = Table(title=f"index '{index.settings.index}': {len(docs)} documents")
    for col in ("doc_id", "symbol", "title", "kind", "date", "pages", "chunks"):
        table.add_column(col, overflow="fold", max_width=60 if col == "title" else None)
    for d in docs:
        table.add_row(d.doc_id, d.symbol, d.title, d.kind, d.date, str(d.pages), str(d.chunks))
    out.print(table)
    return 0


def _filters(args: argparse.Namespace):
    from .retrieval import Filters

    return Filters(
        doc_ids=args.doc or [],
        kinds=args.kind or [],
        symbols=args.symbol or [],
        year_from=args.year_from,
        year_to=args.year_to,
    )


def cmd_search(args: argparse.Namespace) -> int:
    from .assistant import Assistant

    assistant = Assistant(_settings(args))
    hits = assistant.search(args.query, k=args.k, mode=args.mode, filters=_filters(args))
    if args.json:
        out.print_json(json.dumps([h.model_dump() for h in hits]))
        return 0
    if not hits:
        console.print("no passages found")
        return 0
    for n, h in enumerate(hits, 1):
        where = f"p. {h.pages[0]}" if len(h.pages) == 1 else f"pp. {h.pages[0]}-{h.pages[-1]}"
        para = f", para. {h.paragraph}" if h.paragraph else ""
        out.print(f"[bold]{n}. {h.label}{para}, {where}[/]  score {h.score:.3f}  [dim]{h.doc_id}[/]")
        out.print(f"   {h.text[:400]}{'…' if len(h.text) > 400 else ''}")
        if h.also_in:
            places = "; ".join(f"{loc.doc_id} p. {loc.pages[0]}" for loc in h.also_in[:5])
            out.print(f"   [dim]also stated in: {places}[/]")
    return 0


def _add_filter_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--doc", action="append", metavar="DOC_ID", help="only this document (repeatable)")
    p.add_argument("--kind", action="append", help="only this kind: resolution, sg-report, …")
    p.add_argument("--symbol", action="append", help="only the document with this UN symbol")
    p.add_argument("--year-from", type=int)
    p.add_argument("--year-to", type=int)


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

    p = add("ingest", cmd_ingest, "parse, chunk, embed and index documents (idempotent)")
    p.add_argument("paths", nargs="*", help="files or folders (default: corpus/ and SSTC_EXTRA_CORPUS_DIRS)")
    p.add_argument("--rebuild", action="store_true", help="delete the index and build it anew")
    p.add_argument("--no-prune", action="store_true", help="keep documents whose files were removed")
    p.add_argument("--embedder", choices=["minilm", "e5"], help="embedding model (default SSTC_EMBEDDER)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--quiet", "-q", action="store_true", help="no progress bar; only problems and the summary"
    )

    p = add("docs", cmd_docs, "list indexed documents")
    p.add_argument("--json", action="store_true")

    p = add("search", cmd_search, "show the passages that best match a query")
    p.add_argument("query")
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--mode", choices=["bm25", "dense", "hybrid"], help="retrieval mode")
    p.add_argument("--json", action="store_true")
    _add_filter_args(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    args = build_parser().parse_args(argv)
    from pydantic import ValidationError

    from .catalog import CatalogError
    from .index import StoreError

    try:
        return args.func(args)
    except (UserError, StoreError, CatalogError, ValueError, ValidationError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, ValidationError):
            msg = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        console.print(f"[red]error:[/] {msg}")
        return 2
    except KeyboardInterrupt:
        console.print("interrupted")
        return 130
    except OSError as exc:
        console.print(f"[red]error:[/] {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
        return 2


if __name__ == "__main__":
    sys.exit(main())
