"""Commands that build and inspect the index: ingest, fetch, docs, check."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..settings import Settings
from .common import AddCommand, UserError, console, out, settings_for


def cmd_ingest(args: argparse.Namespace) -> int:
    from ..ingest import ingest

    settings = settings_for(args)
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

        def waiting() -> None:  # printed even with --quiet: it says why nothing moves
            console.print(
                f"waiting up to {settings.writer_wait_seconds:g} s for index '{settings.index}' "
                "(another process is writing) …"
            )

        report = ingest(
            settings,
            paths,
            rebuild=args.rebuild,
            prune=not args.no_prune,
            progress=progress,
            lock_wait=settings.writer_wait_seconds,
            on_wait=waiting,
        )
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


def _languages(text: str) -> list[str]:
    from ..fetch import LANGUAGES

    langs = list(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    wrong = [lang for lang in langs if lang not in LANGUAGES]
    if wrong or not langs:
        raise UserError(f"--lang takes official languages ({','.join(LANGUAGES)}), not '{text}'")
    return langs


def _symbols(args: argparse.Namespace, settings: Settings) -> list[str]:
    """The symbols to fetch as named: on the command line, in a manifest, the mandates."""
    from ..fetch import load_manifest
    from ..references import normalize_symbol

    symbols = [normalize_symbol(s) for s in args.symbols]
    if args.manifest:
        symbols += load_manifest(Path(args.manifest))
    if args.mandates:
        symbols += load_manifest(settings.resolve(settings.mandates_manifest))
    if not symbols and not args.cited_by:
        raise UserError(
            "nothing to fetch: name symbols, or use --manifest FILE, --mandates or --cited-by SYMBOL"
        )
    return symbols


def cmd_fetch(args: argparse.Namespace) -> int:
    """Exit 1 only when nothing could be had (fetched, or there already); refusals are listed."""
    from rich.progress import DownloadColumn, TransferSpeedColumn

    from ..documents import DocumentError, read_document
    from ..fetch import Fetcher, FetchResult, summary
    from ..references import cited_symbols

    settings = settings_for(args)
    langs = _languages(args.lang)
    dest = Path(args.dest) if args.dest else settings.corpus_path
    symbols = _symbols(args, settings)
    results: list[FetchResult] = []
    with (
        Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=console,
            disable=args.quiet,
            transient=True,
        ) as bar,
        Fetcher(settings) as fetcher,
    ):
        tasks: dict[str, int] = {}

        def progress(label: str, done: int, total: int | None) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label[:28], total=total)
            bar.update(tasks[label], completed=done, total=total)

        fetcher.progress = progress

        def report(result: FetchResult) -> FetchResult:
            colour = {"fetched": "green", "present": "dim", "refused": "yellow", "failed": "red"}[
                result.status
            ]
            bar.console.print(f"[{colour}]{result.line()}[/]")
            return result

        for source in args.cited_by or []:
            citing = report(fetcher.fetch(source, langs[0], dest))
            results.append(citing)
            if not citing.ok:
                continue
            try:
                parsed = read_document(Path(citing.path or ""))
            except DocumentError as exc:
                raise UserError(f"cannot read {citing.symbol} to see what it cites: {exc.reason}") from exc
            cited = cited_symbols("\n".join(p.text for p in parsed.pages), exclude=[citing.symbol])
            bar.console.print(f"{citing.symbol} cites {len(cited)} documents: {', '.join(cited) or 'none'}")
            symbols += cited
        for symbol in dict.fromkeys(symbols):
            for lang in langs:
                results.append(report(fetcher.fetch(symbol, lang, dest)))
    console.print(f"{summary(results)} (in {dest})")
    had = [r for r in results if r.ok]
    if not had:
        console.print("[red]error:[/] nothing could be fetched")
        return 1
    if args.no_ingest:
        return 0
    ingest_args = argparse.Namespace(
        paths=[r.path for r in had],
        index=args.index,
        embedder=None,
        rebuild=False,
        no_prune=True,
        json=False,
        quiet=args.quiet,
    )
    cmd_ingest(ingest_args)
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from ..assistant import Assistant

    settings = settings_for(args)
    docs = Assistant(settings).documents()
    if args.json:
        out.print_json(json.dumps([d.model_dump() for d in docs]))
        return 0
    table = Table(title=f"index '{settings.index}': {len(docs)} documents")
    for col in ("doc_id", "symbol", "title", "kind", "date", "pages", "chunks"):
        table.add_column(col, overflow="fold", max_width=60 if col == "title" else None)
    for d in docs:
        table.add_row(d.doc_id, d.symbol, d.title, d.kind, d.date, str(d.pages), str(d.chunks))
    out.print(table)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Exit 0 when the index is whole, 1 when degraded (or the openai generator's LLM server does
    not answer), 2 when damaged (fix: `--rebuild`)."""
    from ..assistant import Assistant
    from ..health import add_llm_server

    settings = settings_for(args)
    health = Assistant(settings).health(deep=args.deep)  # an index that would not open is damaged
    add_llm_server(health, settings)
    if args.json:
        out.print_json(health.model_dump_json())
    else:
        colour = {"ok": "green", "degraded": "yellow", "damaged": "red"}[health.status]
        vectors = "?" if health.vectors is None else health.vectors
        out.print(
            f"index '{settings.index}': [{colour}]{health.status}[/] — {health.documents} documents, "
            f"{health.chunks} chunks, {health.passages} passages, {vectors} vectors"
            f"{' (an ingest is running)' if health.writing else ''}{' (deep check)' if args.deep else ''}"
        )
        for problem in health.problems:
            out.print(f"  - {problem}")
    return {"ok": 0, "degraded": 1, "damaged": 2}[health.status]


def add_commands(add: AddCommand) -> None:
    p = add("ingest", cmd_ingest, "parse, chunk, embed and index documents (idempotent)")
    p.add_argument("paths", nargs="*", help="files or folders (default: corpus/ and SSTC_EXTRA_CORPUS_DIRS)")
    p.add_argument("--rebuild", action="store_true", help="delete the index and build it anew")
    p.add_argument("--no-prune", action="store_true", help="keep documents whose files were removed")
    p.add_argument("--embedder", choices=["minilm", "e5"], help="embedding model (default SSTC_EMBEDDER)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--quiet", "-q", action="store_true", help="no progress bar; only problems and the summary"
    )

    p = add(
        "fetch", cmd_fetch, "download UN documents by symbol from the Official Document System, then ingest"
    )
    p.add_argument("symbols", nargs="*", metavar="SYMBOL", help="UN document symbols, e.g. A/RES/79/236")
    p.add_argument("--lang", default="en", help="comma-separated official languages (en,fr,es,ru,ar,zh)")
    p.add_argument("--dest", help="folder to save into (default: the corpus, SSTC_CORPUS_DIR)")
    p.add_argument(
        "--manifest", metavar="FILE", help="symbols from a file: TOML [[mandate]] entries or one a line"
    )
    p.add_argument(
        "--mandates",
        action="store_true",
        help="the South-South cooperation mandates (SSTC_MANDATES_MANIFEST)",
    )
    p.add_argument(
        "--cited-by", action="append", metavar="SYMBOL", help="also what this document cites (repeatable)"
    )
    p.add_argument("--no-ingest", action="store_true", help="only download")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars")

    p = add("docs", cmd_docs, "list indexed documents")
    p.add_argument("--json", action="store_true")

    p = add("check", cmd_check, "is the index whole? (missing or orphan vectors, stale BM25, damage)")
    p.add_argument("--deep", action="store_true", help="compare every passage, not a sample (slower)")
    p.add_argument("--json", action="store_true")
