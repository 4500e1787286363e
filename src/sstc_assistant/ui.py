"""Gradio chat UI: a thin shell over `Assistant`, with a sources panel beside the chat."""

from __future__ import annotations

import html
import re
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

import gradio as gr
from pydantic import ValidationError

from .api.security import KeyGuard, key_problem
from .assistant import Assistant
from .eligibility import THEMES, EntityType, Profile, Region, briefing
from .errors import first_line
from .retrieval import Filters
from .types import Answer, DocKind, not_indexed_note

EXAMPLES = [
    "In what year did UNOSSC initiate the Cities Project?",
    "What did BAPA+40 ask of sub-national governments?",
    "Which services does the Cities Project offer to cities?",
    "Which pilot project proposals will be prioritized?",
]
KINDS = list(get_args(DocKind))
CSS = """
.chip{display:inline-block;background:#e8eefc;color:#1d4ed8;border-radius:8px;padding:0 5px;font-size:.8em}
.src{border-left:3px solid #1d4ed8;padding:4px 10px;margin:8px 0}
.src mark{background:#fff3a3}
.abstain{color:#92400e}
"""


def render_answer(answer: Answer) -> str:
    """Chat text: markers become chips; an abstention reads differently and has none."""
    if not answer.answerable:
        return f"**{answer.answer}**\n\n_No passage answers this; the panel lists the nearest ones._"
    text = re.sub(
        r"\[(\d+)\]", r'<a class="chip" href="#src-\1">[\1]</a>', html.escape(answer.answer, quote=False)
    )
    if answer.not_indexed:  # what the quoted passages rely on that the assistant has not read
        text += f"\n\n_{html.escape(not_indexed_note(answer.not_indexed), quote=False)}_"
    return text


def _link(doc_id: str, page: int, quote: str) -> str:
    query = urllib.parse.urlencode({"page": page, "q": quote[:300]})
    return html.escape(f"/api/documents/{urllib.parse.quote(doc_id)}/open?{query}#quote")


def render_sources(answer: Answer) -> str:
    """The sources panel: human citation, the quote highlighted in its passage, a link to the page."""
    blocks = []
    if answer.answerable:
        passages = {s.chunk_id: s.text for s in answer.sources}
        for c in answer.citations:
            context = passages.get(c.chunk_id, c.quote)
            shown = html.escape(context)
            quote = html.escape(c.quote)
            shown = (
                shown.replace(quote, f"<mark>{quote}</mark>", 1)
                if quote in shown
                else f"<mark>{quote}</mark>"
            )
            page = c.pages[0] if c.pages else 1
            also = ""
            if c.also_in:
                also = (
                    "<br><small>also stated in: "
                    + "; ".join(
                        html.escape(f"{a.doc_id} p. {a.pages[0] if a.pages else '?'}") for a in c.also_in[:5]
                    )
                    + "</small>"
                )
            versions = "".join(  # the official text in the other languages, at the same paragraph
                f' · <a href="{_link(v.doc_id, v.pages[0] if v.pages else 1, "")}" target="_blank">'
                f"{html.escape(v.language)}{f' p. {v.pages[0]}' if v.pages else ''}</a>"
                for v in c.versions
            )
            blocks.append(
                f'<div class="src" id="src-{c.n}"><b>[{c.n}] {html.escape(c.human)}</b> '
                f'<a href="{_link(c.doc_id, page, c.quote)}" target="_blank">open page {page}</a>{versions}'
                f"<br>{shown}{also}</div>"
            )
    else:
        blocks.append('<p class="abstain"><b>The documents do not address this.</b> You might look at:</p>')
        for s in answer.sources[:5]:
            label = s.symbol or s.title or s.doc_id
            page = s.pages[0] if s.pages else 1
            blocks.append(
                f'<div class="src"><b>{html.escape(label)}, p. {page}</b> '
                f'<a href="{_link(s.doc_id, page, "")}" target="_blank">open</a>'
                f"<br>{html.escape(s.text[:500])}</div>"
            )
    return "\n".join(blocks)


def save_feedback(assistant: Assistant, answer: dict, rating: str, comment: str) -> None:
    """One JSON line per rating, beside those of POST /api/feedback."""
    assistant.save_feedback(
        {
            "question": answer["question"],
            "answer": answer["answer"],
            "rating": rating,
            "comment": comment[:5000],
            "source": "ui",
            "citations": answer.get("citations", []),
        }
    )


def _one_line(exc: ValueError) -> str:
    """A refusal as one line; a pydantic error lists its problems without the traceback-like dump."""
    if isinstance(exc, ValidationError):
        return "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
    return first_line(exc)


def upload_document(
    assistant: Assistant,
    path: str | None,
    key: str | None,
    *,
    guard: KeyGuard | None = None,
    client: str = "unknown",
) -> str:
    """The UI's way to add a document: the API key and every check of POST /api/documents, and
    the same one-line reasons. The key is compared, never shown or logged; with `guard`, failed
    keys spend the budget of the client's address that the API spends too."""
    if not path:
        return "⚠️ choose a file first"
    authorization = f"Bearer {key}" if key else None
    if guard is not None:
        refused = guard.check(client, authorization)
    else:
        refused = key_problem(assistant.settings.api_key, authorization)
    if refused is not None:
        if refused.status == 403:
            return "⚠️ adding documents is disabled: start the server with SSTC_API_KEY set"
        if refused.status == 429:
            return f"⚠️ {refused.message}"
        return "⚠️ missing or wrong API key"
    file = Path(path)
    try:
        with file.open("rb") as fh:
            outcome = assistant.add_upload(file.name, fh)
    except ValueError as exc:
        return f"⚠️ {_one_line(exc)}"
    finally:
        file.unlink(missing_ok=True)  # Gradio's copy; the corpus keeps its own
    return f"Added **{outcome['doc_id']}**: {outcome['pages']} page(s), {outcome['chunks']} passage(s)."


@dataclass
class AskPanel:
    """The components of the Ask tab that its events read or write."""

    chat: gr.Chatbot
    box: gr.Textbox
    doc_filter: gr.Dropdown
    filters: list[gr.components.Component]  # documents, kinds, year from, year to
    new_file: gr.File
    key_box: gr.Textbox
    add: gr.Button
    added: gr.Markdown
    rating: gr.Radio
    comment: gr.Textbox
    send: gr.Button
    copy_box: gr.Textbox
    sources: gr.HTML


def build_ui(assistant: Assistant, guard: KeyGuard | None = None) -> gr.Blocks:
    """The chat UI; `guard` is the API's, so wrong keys typed here count against the same budget."""
    guard = guard or KeyGuard.for_settings(assistant.settings)
    docs = [d.doc_id for d in assistant.documents()]

    with gr.Blocks(title="SSTC Assistant", analytics_enabled=False) as demo:
        gr.Markdown(
            "## SSTC Assistant\nAnswers from the South-South cooperation mandates and the Cities Project "
            "documents, every sentence cited."
        )
        last = gr.State(None)
        with gr.Tab("Ask"), gr.Row():
            panel = _ask_panel(docs)
        panel.box.submit(
            _responder(assistant),
            [panel.box, panel.chat, *panel.filters],
            [panel.chat, panel.box, panel.sources, panel.copy_box, last],
            concurrency_limit=assistant.settings.ui_concurrency,
        )
        feedback, feedback_with_comment = _feedback_handlers(assistant)
        panel.chat.like(feedback, [last], None)
        panel.send.click(
            feedback_with_comment, [panel.rating, panel.comment, last], [panel.rating, panel.comment]
        )
        panel.add.click(
            _uploader(assistant, guard),
            [panel.new_file, panel.key_box],
            [panel.added, panel.new_file, panel.doc_filter],
            concurrency_limit=1,
        )
        _briefing_tab(assistant)
    return demo


def _ask_panel(docs: list[str]) -> AskPanel:
    """The Ask tab's two columns: the conversation with its filters, upload box and feedback
    beside the sources panel."""
    with gr.Column(scale=3):
        chat = gr.Chatbot(
            label="Conversation",
            height=520,
            buttons=["copy", "copy_all"],
            sanitize_html=True,
            elem_id="chat",
        )
        box = gr.Textbox(
            placeholder="Ask about South-South cooperation mandates…",
            show_label=False,
            elem_id="question",
            submit_btn=True,
        )
        gr.Examples(EXAMPLES, inputs=box)
        with gr.Accordion("Filters", open=False):
            doc_filter = gr.Dropdown(docs, multiselect=True, label="Documents")
            kind_filter = gr.CheckboxGroup(KINDS, label="Kinds")
            with gr.Row():
                year_from = gr.Number(label="Year from", precision=0)
                year_to = gr.Number(label="Year to", precision=0)
        with gr.Accordion("Add a document", open=False):
            new_file = gr.File(label="PDF, text or HTML file", type="filepath", elem_id="new-file")
            key_box = gr.Textbox(label="API key", type="password", elem_id="api-key")
            add = gr.Button("Add to the documents", elem_id="add-document")
            added = gr.Markdown(elem_id="upload-result")
        with gr.Row():
            rating = gr.Radio(["up", "down"], label="Was this answer useful?", elem_id="rating")
            comment = gr.Textbox(label="Comment (optional)", elem_id="comment", scale=3)
            send = gr.Button("Send feedback", elem_id="send-feedback")
        copy_box = gr.Textbox(
            label="Answer with citations (plain text, to paste into a memo)",
            lines=4,
            buttons=["copy"],
            elem_id="plain",
        )
    with gr.Column(scale=2):
        sources = gr.HTML("<p>Sources of the answer appear here.</p>", elem_id="sources")
    return AskPanel(
        chat=chat,
        box=box,
        doc_filter=doc_filter,
        filters=[doc_filter, kind_filter, year_from, year_to],
        new_file=new_file,
        key_box=key_box,
        add=add,
        added=added,
        rating=rating,
        comment=comment,
        send=send,
        copy_box=copy_box,
        sources=sources,
    )


def _responder(assistant: Assistant) -> Callable[..., Iterator[tuple]]:
    """The handler of a question: (chat, box, sources, plain text, answer state) as it progresses."""

    def respond(message, history, docs_sel, kinds_sel, y_from, y_to):
        """Yields the verified answer sentence by sentence, then the sources panel."""
        history = history or []
        turns = [
            m["content"] for m in history if m.get("role") == "user" and isinstance(m.get("content"), str)
        ]
        asked = [*history, {"role": "user", "content": message}]
        yield asked, "", "<p>Searching the documents…</p>", "", None
        try:
            filters = Filters(
                doc_ids=docs_sel or [],
                kinds=kinds_sel or [],
                year_from=int(y_from) if y_from else None,
                year_to=int(y_to) if y_to else None,
            )
            answer = assistant.ask(message, history=turns, filters=filters)
        except ValueError as exc:
            reason = _one_line(exc)
            yield [*asked, {"role": "assistant", "content": f"⚠️ {reason}"}], "", gr.update(), "", None
            return
        rendered = render_answer(answer)
        if answer.answerable:
            shown = ""
            for part in re.split(r"(?<=</a>)\s+(?=[^<\s])", rendered):
                shown = f"{shown} {part}".strip()
                yield [*asked, {"role": "assistant", "content": shown}], "", gr.update(), "", None
        yield (
            [*asked, {"role": "assistant", "content": rendered}],
            "",
            render_sources(answer),
            answer.plain_text(),
            answer.model_dump(),
        )

    return respond


def _feedback_handlers(assistant: Assistant) -> tuple[Callable[..., None], Callable[..., tuple]]:
    """A thumb on an answer in the chat, and a rating with a comment from the form below it."""

    def feedback(data: gr.LikeData, state):
        if state:
            save_feedback(assistant, state, "up" if data.liked else "down", "")

    def feedback_with_comment(rating_v, comment_v, state):
        if not state or not rating_v:
            return gr.update(), gr.update(value="Ask a question and pick up or down first.")
        save_feedback(assistant, state, rating_v, comment_v or "")
        return gr.update(value=None), gr.update(value="", placeholder="Thank you: feedback saved.")

    return feedback, feedback_with_comment


def _uploader(assistant: Assistant, guard: KeyGuard) -> Callable[..., tuple]:
    """The handler of the upload box: its message, an emptied file box, the documents refreshed."""

    def add_document(path, key, request: gr.Request):
        client = request.client.host if request and request.client else "unknown"
        message = upload_document(assistant, path, key, guard=guard, client=client)
        choices = [d.doc_id for d in assistant.documents()]
        return message, None, gr.update(choices=choices)

    return add_document


def _briefing_tab(assistant: Assistant) -> None:
    """The "Join the Cities Project" tab: a cited briefing for a prospective partner."""
    with gr.Tab("Join the Cities Project"):
        gr.Markdown(
            "Describe your city or institution: the briefing says what the documents say about "
            "entities like yours, with citations, and says so where they say nothing."
        )
        with gr.Row():
            region = gr.Dropdown(list(get_args(Region)), label="Region", value="Africa", elem_id="region")
            entity = gr.Dropdown(
                list(get_args(EntityType)), label="Type", value="municipal government", elem_id="entity"
            )
        themes = gr.CheckboxGroup(THEMES, label="Themes of interest", elem_id="themes")
        go = gr.Button("Brief me", variant="primary", elem_id="brief")
        report = gr.Markdown(elem_id="briefing")

        def brief(region_v, entity_v, themes_v):
            profile = Profile(region=region_v, entity_type=entity_v, themes=themes_v or [])
            return briefing(assistant, profile).markdown()

        go.click(
            brief, [region, entity, themes], [report], concurrency_limit=assistant.settings.ui_concurrency
        )
