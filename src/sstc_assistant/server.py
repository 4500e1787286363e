"""The served application: REST API under /api and the Gradio UI at /, over one Assistant."""

from __future__ import annotations

import logging
import os

from fastapi import FastAPI

from .assistant import Assistant
from .embeddings import set_model_threads
from .settings import Settings


def build_app(settings: Settings | None = None, assistant: Assistant | None = None) -> FastAPI:
    """Load the index and models once, then mount the UI on the API app."""
    settings = assistant.settings if assistant else settings or Settings()
    set_model_threads(settings.serve_threads)  # before any model loads
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    from .api import create_app
    from .api.security import KeyGuard
    from .ui import CSS, build_ui

    assistant = assistant or Assistant(settings)
    for note in assistant.recover():  # a killed predecessor's half-done work, before serving
        logging.getLogger("sstc").warning("index '%s': %s", assistant.settings.index, note)
    assistant.documents()
    assistant.ask("warm-up: which services does the project offer?")  # load every model now
    # one budget of failed API keys per client address, whether they are sent to the API or the UI
    guard = KeyGuard.for_settings(assistant.settings)
    app = create_app(assistant, guard)
    ui = build_ui(assistant, guard).queue(default_concurrency_limit=assistant.settings.ui_concurrency)
    return gr.mount_gradio_app(
        app,
        ui,
        path="/",
        css=CSS,
        footer_links=["api"],
        max_file_size=int(assistant.settings.max_file_mb * 1e6),  # the UI's upload box, like the API's
    )
