"""The documents: list one or all, read a page, open a citation's page, fetch the file; and, with
the API key, add (upload) or delete one."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, HTTPException, Query, UploadFile
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from ..assistant import Assistant
from ..types import IndexedDocument
from .dependencies import AssistantDep
from .schemas import CHANGING, ONE_DOCUMENT, Message, media
from .security import require_key

MAX_PAGES = 100_000  # page numbers beyond any document, and within what the index can look up
DocId = Annotated[str, PathParam(max_length=300)]

router = APIRouter()


def _document(assistant: Assistant, doc_id: str) -> IndexedDocument:
    found = assistant.documents(doc_id)
    if not found:
        raise HTTPException(404, f"no document '{doc_id}' in index '{assistant.settings.index}'")
    return found[0]


@router.get("/api/documents", response_model=list[IndexedDocument])
def documents(assistant: AssistantDep) -> list[IndexedDocument]:
    return assistant.documents()


@router.get("/api/documents/{doc_id}", response_model=IndexedDocument, responses=ONE_DOCUMENT)
def document(doc_id: DocId, assistant: AssistantDep) -> IndexedDocument:
    return _document(assistant, doc_id)


@router.get("/api/documents/{doc_id}/pages/{n}", responses=ONE_DOCUMENT)
def page(
    doc_id: DocId, n: Annotated[int, PathParam(ge=1, le=MAX_PAGES)], assistant: AssistantDep
) -> dict[str, Any]:
    doc = _document(assistant, doc_id)
    text = assistant.page_text(doc_id, n)
    if text is None:
        raise HTTPException(404, f"document '{doc_id}' has pages 1-{doc.pages}, not {n}")
    return {"doc_id": doc_id, "page": n, "pages": doc.pages, "text": text}


@router.get(
    "/api/documents/{doc_id}/open",
    response_model=None,
    responses={
        **ONE_DOCUMENT,
        **media("text/html"),
        307: {"description": "a PDF: to its file at the page"},
    },
)
def open_page(
    doc_id: DocId,
    assistant: AssistantDep,
    page: Annotated[int, Query(ge=1, le=MAX_PAGES)] = 1,
    q: Annotated[str, Query(max_length=2000)] = "",
) -> HTMLResponse | RedirectResponse:
    """Where a citation link goes: the PDF at its page, or a page view of a text document with
    the quote highlighted."""
    doc = _document(assistant, doc_id)
    if Path(doc.path).suffix.lower() == ".pdf":
        return RedirectResponse(f"/api/documents/{doc_id}/file#page={page}", status_code=307)
    text = assistant.page_text(doc_id, page)
    if text is None:
        raise HTTPException(404, f"document '{doc_id}' has pages 1-{doc.pages}, not {page}")
    body = html.escape(text)
    quote = html.escape(q.strip())
    if quote and quote in body:
        body = body.replace(quote, f"<mark id='quote'>{quote}</mark>", 1)
    title = html.escape(doc.symbol or doc.title or doc_id)
    return HTMLResponse(
        f"<!doctype html><meta charset='utf-8'><title>{title}, p. {page}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:820px;margin:2em auto;line-height:1.5}"
        "mark{background:#fff3a3}pre{white-space:pre-wrap;font-family:inherit}</style>"
        f"<h3>{title} — page {page} of {doc.pages}</h3><pre>{body}</pre>"
    )


@router.get(
    "/api/documents/{doc_id}/file",
    response_class=FileResponse,
    responses={**ONE_DOCUMENT, **media("application/pdf", "text/plain")},
)
def file(doc_id: DocId, assistant: AssistantDep) -> FileResponse:
    doc = _document(assistant, doc_id)
    path = Path(doc.path)
    if not path.is_file():
        raise HTTPException(404, f"the file of '{doc_id}' is no longer at {path.name}")
    media_type = "application/pdf" if path.suffix.lower() == ".pdf" else "text/plain; charset=utf-8"
    return FileResponse(path, media_type=media_type, filename=path.name, content_disposition_type="inline")


@router.post("/api/documents", status_code=201, dependencies=[Depends(require_key)], responses=CHANGING)
async def upload(file: Annotated[UploadFile, File()], assistant: AssistantDep) -> dict[str, Any]:
    return await run_in_threadpool(assistant.add_upload, file.filename or "", file.file)


@router.delete(
    "/api/documents/{doc_id}",
    response_model=Message,
    dependencies=[Depends(require_key)],
    responses=CHANGING,
)
async def delete(doc_id: DocId, assistant: AssistantDep) -> Message:
    _document(assistant, doc_id)
    await run_in_threadpool(assistant.remove_document, doc_id)
    return Message(message=f"removed '{doc_id}'")
