"""`sstc`: the command line. Errors a user can fix print one line, never a traceback."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import get_args

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .errors import first_line
from .settings import Settings
from .types import DocKind, human_place

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
    from .fetch import LANGUAGES

    langs = list(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    wrong = [lang for lang in langs if lang not in LANGUAGES]
    if wrong or not langs:
        raise UserError(f"--lang takes official languages ({','.join(LANGUAGES)}), not '{text}'")
    return langs


def cmd_fetch(args: argparse.Namespace) -> int:
    """Exit 1 only when nothing could be had (fetched, or there already); refusals are listed."""
    from rich.progress import DownloadColumn, TransferSpeedColumn

    from .documents import DocumentError, read_document
    from .fetch import Fetcher, FetchResult, load_manifest, summary
    from .references import cited_symbols, normalize_symbol

    settings = _settings(args)
    langs = _languages(args.lang)
    dest = Path(args.dest) if args.dest else settings.corpus_path
    symbols = [normalize_symbol(s) for s in args.symbols]
    if args.manifest:
        symbols += load_manifest(Path(args.manifest))
    if args.mandates:
        symbols += load_manifest(settings.resolve(settings.mandates_manifest))
    if not symbols and not args.cited_by:
        raise UserError(
            "nothing to fetch: name symbols, or use --manifest FILE, --mandates or --cited-by SYMBOL"
        )
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


def cmd_check(args: argparse.Namespace) -> int:
    """Exit 0 when the index is whole, 1 when degraded (or the openai generator's LLM server does
    not answer), 2 when damaged (fix: `--rebuild`)."""
    from .errors import StoreError
    from .health import IndexHealth, add_llm_server, check_index
    from .index import Index

    settings = _settings(args)
    try:
        health = check_index(Index(settings), deep=args.deep)
    except StoreError as exc:  # so unreadable it would not open: still a verdict, not a crash
        health = IndexHealth(deep=args.deep)
        health.add("damaged", first_line(exc))
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
        out.print(
            f"[bold]{n}. {human_place(h.label, h.paragraph, h.pages)}[/]  score {h.score:.3f}  [dim]{h.doc_id}[/]"
        )
        out.print(f"   {h.text[:400]}{'…' if len(h.text) > 400 else ''}")
        if h.also_in:
            out.print(f"   [dim]also stated in: {_places(h.also_in)}[/]")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from .assistant import Assistant

    settings = _settings(args)
    if args.generator:
        settings = settings.model_copy(update={"generator": args.generator})
    assistant = Assistant(settings)
    answer = assistant.ask(args.question, history=args.history or [], k=args.k, filters=_filters(args))
    if args.json:
        out.print_json(answer.model_dump_json())
        return 0
    out.print(answer.answer if answer.answerable else f"[yellow]{answer.answer}[/]")
    if answer.answerable:
        out.print()
        for c in answer.citations:
            out.print(f"[bold][{c.n}][/] {c.human}: [italic]“{c.quote}”[/]")
            if c.also_in:
                out.print(f"    [dim]also stated in: {_places(c.also_in)}[/]")
    else:
        out.print("\nYou might look at:")
        for s in answer.sources[:3]:
            out.print(
                f"  - {human_place(s.symbol or s.title or s.doc_id, s.paragraph, s.pages)}: {s.text[:200]}…"
            )
    if answer.not_indexed:
        from .types import not_indexed_note

        out.print(f"\n[yellow]{not_indexed_note(answer.not_indexed)}[/]")
    if answer.unsupported:
        out.print(f"[dim]dropped {len(answer.unsupported)} sentence(s) no passage supports[/]")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from .assistant import Assistant
    from .dataset import load_dataset
    from .evaluation import (
        EvalConfig,
        calibrate,
        cross_validate,
        derive_index,
        evaluate,
        left_out_documents,
        write_outputs,
    )

    settings = _settings(args)
    if args.generator:
        settings = settings.model_copy(update={"generator": args.generator})
    questions = load_dataset(Path(args.dataset))
    if args.limit:
        questions = questions[: args.limit]
    assistant = Assistant(settings)
    left_out = None
    if without := left_out_documents(questions):
        derived = derive_index(settings, without)
        console.print(
            f"left-out-document questions run on index '{derived.index}' "
            f"(index '{settings.index}' less {len(without)} documents)"
        )
        left_out = Assistant(derived, embedder=assistant.embedder)
    modes = ["bm25", "dense", "hybrid"] if args.compare else [args.retrieval or settings.retrieval_mode]
    if args.compare and settings.reranker_model:
        modes.append("hybrid+rerank")
    elif args.compare:
        console.print("hybrid+rerank skipped: no reranker configured (SSTC_RERANKER_MODEL)")
    default = args.retrieval or settings.retrieval_mode
    modes.sort(key=lambda m: m != default)  # the configuration under test comes first
    runs = []
    for mode in modes:
        config = EvalConfig(name=f"{mode}/{settings.generator}", retrieval=mode, generator=settings.generator)
        with Progress(
            TextColumn(f"{config.name:<24}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=args.quiet,
        ) as bar:
            task = bar.add_task("eval", total=len(questions))
            metrics, results = evaluate(
                assistant,
                questions,
                config,
                progress=lambda done, total, task=task: bar.update(task, completed=done),
                left_out=left_out,
            )
        runs.append((metrics, results))
    out_dir = Path(args.out)
    write_outputs(out_dir, runs, Path(args.dataset))
    from .report import HEADLINE

    for metrics, _ in runs:
        out.print(
            f"[bold]{metrics['config']['name']}[/]: "
            + ", ".join(
                f"{label} {metrics[key]:.3f}" if "latency" not in key else f"{label} {metrics[key]:.0f}"
                for key, label in HEADLINE
            )
        )
    main = runs[0][0]
    groups = [
        ("out-of-domain abstention", "abstention.out_of_domain"),
        ("in-domain abstention P", "abstention.in_domain_precision"),
        ("in-domain abstention R", "abstention.in_domain_recall"),
        ("right answer en", "answer.right_answer_en"),
        ("right answer other languages", "answer.right_answer_other"),
        ("gold passage in top 5 en", "retrieval.recall@5_en"),
        ("gold passage in top 5 other", "retrieval.recall@5_other"),
        ("keypoint recall (answer)", "answer.keypoint_recall"),
        ("keypoint recall (passages)", "retrieval.keypoint_recall"),
    ]
    out.print(", ".join(f"{label} {main[key]:.3f}" for label, key in groups if main.get(key) is not None))
    if args.calibrate:
        for group, setting in (
            ("english", "SSTC_ABSTAIN_THRESHOLD"),
            ("other", "SSTC_ABSTAIN_THRESHOLD_OTHER"),
        ):
            out.print(
                f"shift   abstain-P  abstain-R  answered-share   (shift = change to {setting}, {group} questions)"
            )
            for t, p, r, kept in calibrate(runs[0][1], group):
                out.print(f"{t:+6.3f}  {p:9.3f}  {r:9.3f}  {kept:14.3f}")
        cv = cross_validate(runs[0][1])
        out.print(
            f"{cv['folds']}-fold cross-validated (both shifts chosen on the other folds by abstention F1): "
            f"held-out abstention P {cv['precision']:.3f} / R {cv['recall']:.3f}; "
            f"shifts (English, other) {cv['shifts']}"
        )
    out.print(f"wrote {out_dir}/metrics.json, results.jsonl, report.md, report.html")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .server import build_app

    settings = _settings(args)
    host, port = args.host or settings.host, args.port or settings.port
    console.print(f"Loading index '{settings.index}' and the models …")
    app = build_app(settings)
    console.print(
        f"[bold green]SSTC Assistant[/] on http://{host}:{port}/  (API docs: http://{host}:{port}/api/docs)"
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0


def _places(locations) -> str:
    return "; ".join(human_place(loc.doc_id, loc.paragraph, loc.pages) for loc in locations[:5])


def _add_filter_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--doc", action="append", metavar="DOC_ID", help="only this document (repeatable)")
    p.add_argument("--kind", action="append", choices=get_args(DocKind), help="only this kind of document")
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

    p = add("search", cmd_search, "show the passages that best match a query")
    p.add_argument("query")
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--mode", choices=["bm25", "dense", "hybrid"], help="retrieval mode")
    p.add_argument("--json", action="store_true")
    _add_filter_args(p)

    p = add("ask", cmd_ask, "answer a question with citations, or say the documents do not")
    p.add_argument("question")
    p.add_argument("--k", type=int, help="passages to retrieve (default SSTC_TOP_K)")
    p.add_argument("--json", action="store_true", help="print the answer object (DESIGN.md)")
    p.add_argument("--generator", choices=["extractive", "llamacpp", "openai"])
    p.add_argument(
        "--history",
        action="append",
        metavar="EARLIER_QUESTION",
        help="an earlier question of the conversation, for follow-ups (repeatable)",
    )
    _add_filter_args(p)

    p = add("serve", cmd_serve, "start the REST API (/api) and the chat UI (/)")
    p.add_argument("--host", help="default 127.0.0.1 (SSTC_HOST)")
    p.add_argument("--port", type=int, help="default 8000 (SSTC_PORT)")

    p = add("eval", cmd_eval, "run the QA benchmark over a question set and write a report")
    p.add_argument("--dataset", default="eval/questions.jsonl")
    p.add_argument(
        "--out", default="out/eval", help="folder for metrics.json, results.jsonl, report.md/.html"
    )
    p.add_argument("--generator", choices=["extractive", "llamacpp", "openai"])
    p.add_argument("--retrieval", choices=["bm25", "dense", "hybrid", "hybrid+rerank"])
    p.add_argument("--limit", type=int, help="only the first N questions")
    p.add_argument("--compare", action="store_true", help="also run the other retrieval modes, one table")
    p.add_argument("--calibrate", action="store_true", help="print an abstention-threshold sweep")
    p.add_argument("--quiet", "-q", action="store_true")
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

    from .catalog import CatalogError
    from .errors import StoreError

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


if __name__ == "__main__":
    sys.exit(main())
