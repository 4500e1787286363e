"""Several people at once: the UI's answer event runs concurrently, not one at a time."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor


def test_answer_event_allows_concurrent_users(corpus_assistant) -> None:
    from sstc_assistant.ui import build_ui

    demo = build_ui(corpus_assistant)
    limits = {fn.api_name: fn.concurrency_limit for fn in demo.fns.values()}
    # Gradio's default of 1 per event would queue every user behind one slow answer
    assert limits["respond"] == corpus_assistant.settings.ui_concurrency >= 2
    assert limits["brief"] == corpus_assistant.settings.ui_concurrency


def test_two_simultaneous_chats(served_ui) -> None:
    from gradio_client import Client

    questions = [
        "In what year did UNOSSC initiate the Cities Project?",
        "Which pilot project proposals will be prioritized?",
    ]

    def chat(question: str):
        client = Client(served_ui.url, verbose=False, analytics_enabled=False, download_files=False)
        return client.predict(question, [], [], [], None, None, api_name="/respond")

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(chat, questions)
    assert (
        "2017" in first[0][-1]["content"][0]["text"]
        if isinstance(first[0][-1]["content"], list)
        else "2017" in first[0][-1]["content"]
    )
    assert "prioritized" in str(second[0][-1]["content"])
