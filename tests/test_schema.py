"""Schemathesis against the app's own OpenAPI schema (in process, over ASGI): generated valid and
invalid requests to every operation must never get a 5xx, and every response must be one the
schema declares (status code, content type, body shape). Bounded: few examples per operation."""

from __future__ import annotations

import re
import time
import traceback

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from pydantic import SecretStr
from schemathesis import GenerationMode

from sstc_assistant.api import create_app
from sstc_assistant.assistant import Assistant

pytestmark = pytest.mark.slow

SECRET = "sk-schema-5d1c-NEVER-SHOW"
MODEL_PATHS = {"/api/ask", "/api/ask/stream", "/api/briefing", "/v1/chat/completions"}  # seconds each


@pytest.fixture(scope="module")
def api_schema(corpus_assistant: Assistant, tmp_path_factory: pytest.TempPathFactory):
    """The real corpus index, read-only: schemathesis does not know the key, so it cannot change it."""
    tmp = tmp_path_factory.mktemp("schema")
    own = corpus_assistant.settings.model_copy(
        update={
            "rate_limit_per_minute": 0,
            "api_key": SecretStr(SECRET),
            "feedback_path": tmp / "feedback.jsonl",
        }
    )
    assistant = Assistant(own, embedder=corpus_assistant.embedder)
    assistant.ask("warm-up: which services does the project offer?")  # load every model first, as serve does
    app = create_app(assistant)
    return schemathesis.openapi.from_asgi("/api/openapi.json", app)


def _meets_rules_json_schema_cannot_state(case) -> bool:
    """Cross-field rules the API enforces with a 422 that a schema cannot express: years in order,
    and a chat request with a user message that has text."""
    body = case.body if isinstance(case.body, dict) else {}
    filters = body.get("filters") if isinstance(body.get("filters"), dict) else {}
    start, end = filters.get("year_from"), filters.get("year_to")
    if isinstance(start, int | float) and isinstance(end, int | float) and start > end:
        return False
    if case.operation.path == "/v1/chat/completions":
        users = [m for m in body.get("messages", []) if isinstance(m, dict) and m.get("role") == "user"]
        content = users[-1].get("content") if users else None
        # text left once control characters are out, as the server reads it (clean_question)
        return isinstance(content, str) and re.sub(r"[\x00-\x1f\x7f-\x9f]", "", content).strip() != ""
    return True


def _run(operation, mode: GenerationMode, examples: int) -> str | None:
    """Hypothesis over one operation; the first failure as text (no shrinking: bounded time)."""

    strategy = operation.as_strategy(generation_mode=mode)
    if mode is GenerationMode.POSITIVE:
        strategy = strategy.filter(_meets_rules_json_schema_cannot_state)

    @given(case=strategy)
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case) -> None:
        response = case.call_and_validate(timeout=60)  # a shared 2-core machine may be slow
        assert response.status_code < 500
        assert SECRET not in response.text

    try:
        check()
    except Unsatisfiable:  # nothing in this operation can be made invalid (no parameters, free strings)
        return None
    except (Exception, BaseExceptionGroup) as exc:  # a schemathesis FailureGroup or an assertion
        details = "".join(traceback.format_exception(exc))
        return f"{operation.label} [{mode.value}]: {details[-4000:]}"
    return None


def test_api_matches_its_schema(api_schema) -> None:
    """(schemathesis' pytest plugin does not run under pytest 9 yet, so operations are driven here)"""
    failures, started = [], time.monotonic()
    for result in api_schema.get_all_operations():
        operation = result.ok()
        costly = operation.path in MODEL_PATHS
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failure = _run(operation, mode, 4 if costly else 12)
            if failure:
                failures.append(failure)
    assert not failures, "\n\n".join(failures)
    assert time.monotonic() - started < 300
