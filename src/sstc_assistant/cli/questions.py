"""Commands that answer: search, ask, and serve (the REST API and the chat UI)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, get_args

from ..types import DocKind, human_place
from .common import AddCommand, console, out, places, settings_for

if TYPE_CHECKING:
    from ..retrieval import Filters


def _filters(args: argparse.Namespace) -> Filters:
    from ..retrieval import Filters

    return Filters(
        doc_ids=args.doc or [],
        kinds=args.kind or [],
        symbols=args.symbol or [],
        year_from=args.year_from,
        year_to=args.year_to,
    )


def cmd_search(args: argparse.Namespace) -> int:
    from ..assistant import Assistant

    assistant = Assistant(settings_for(args))
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
            out.print(f"   [dim]also stated in: {places(h.also_in)}[/]")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from ..assistant import Assistant

    settings = settings_for(args)
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
                out.print(f"    [dim]also stated in: {places(c.also_in)}[/]")
    else:
        out.print("\nYou might look at:")
        for s in answer.sources[:3]:
            out.print(
                f"  - {human_place(s.symbol or s.title or s.doc_id, s.paragraph, s.pages)}: {s.text[:200]}…"
            )
    if answer.not_indexed:
        from ..types import not_indexed_note

        out.print(f"\n[yellow]{not_indexed_note(answer.not_indexed)}[/]")
    if answer.unsupported:
        out.print(f"[dim]dropped {len(answer.unsupported)} sentence(s) no passage supports[/]")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from ..server import build_app

    settings = settings_for(args)
    host, port = args.host or settings.host, args.port or settings.port
    console.print(f"Loading index '{settings.index}' and the models …")
    app = build_app(settings)
    console.print(
        f"[bold green]SSTC Assistant[/] on http://{host}:{port}/  (API docs: http://{host}:{port}/api/docs)"
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0


def _add_filter_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--doc", action="append", metavar="DOC_ID", help="only this document (repeatable)")
    p.add_argument("--kind", action="append", choices=get_args(DocKind), help="only this kind of document")
    p.add_argument("--symbol", action="append", help="only the document with this UN symbol")
    p.add_argument("--year-from", type=int)
    p.add_argument("--year-to", type=int)


def add_commands(add: AddCommand) -> None:
    p = add("search", cmd_search, "show the passages that best match a query")
    p.add_argument("query")
    p.add_argument("--k", type=int, help="passages to show (default SSTC_TOP_K)")
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
